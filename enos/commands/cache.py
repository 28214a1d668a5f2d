"""enos cache: what this machine's cache holds (virtualenvs, images), and pruning it."""

from __future__ import annotations

import json

import click

from enos.commands.common import Options, pass_options


def _size(n: float) -> str:
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"


@click.group("cache")
def command() -> None:
    """Show or prune the machine's cache ($ENOS_CACHE_DIR, default /var/cache/enos): the
    pinned virtualenvs of OpenStack and Rally, and the images enos init uploads."""


@command.command("list")
@click.option("--out", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="Output format.")
@pass_options
def list_(opts: Options, out: str) -> None:
    """Each entry: its size, when an experiment last used it, and the experiments (still on
    disk) that used it."""
    from enos.utils import cache

    found = cache.entries()
    if out == "json":
        click.echo(json.dumps(found, indent=2))
        return
    if not found:
        click.echo(f"the cache {cache.cache_dir()} is empty")
        return
    for entry in found:
        state = "" if entry["complete"] else "  (incomplete)"
        click.echo(f"{entry['name']:<26} {_size(entry['bytes']):>10}  last used "
                   f"{entry['last_used'] or 'never (by this version)'}{state}")
        for path in entry["experiments"]:
            click.echo(f"  used by {path}")
    total = sum(int(e["bytes"]) for e in found)
    click.echo(f"{len(found)} entries, {_size(total)} in {cache.cache_dir()}")
    opts.next_step("'enos cache prune' removes what no experiment on disk uses")


@command.command("prune")
@click.option("--all", "everything", is_flag=True,
              help="Remove every entry, even those experiments use (rebuilt when needed).")
@click.option("--dry-run", is_flag=True, help="Say what would be removed; remove nothing.")
@pass_options
def prune(opts: Options, everything: bool, dry_run: bool) -> None:
    """Remove the entries that no experiment still on disk uses (--all: every entry). An entry
    being built is left alone."""
    from enos.utils import cache

    removed = cache.prune(everything=everything, dry_run=dry_run)
    verb = "would remove" if dry_run else "removed"
    for entry in removed:
        opts.say(f"{verb} {entry['name']} ({_size(entry['bytes'])})")
    freed = sum(int(e["bytes"]) for e in removed)
    opts.say(f"{verb} {len(removed)} entr{'y' if len(removed) == 1 else 'ies'}, "
             f"{_size(freed)}")
    opts.next_step("'enos cache list' shows what is left; what was removed is built again "
                   "when an experiment needs it")
