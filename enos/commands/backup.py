"""enos backup: gather logs, configuration, benchmark results and metrics into archives."""

from __future__ import annotations

from pathlib import Path

import click

from enos.commands.common import Options, pass_options


@click.command("backup")
@click.option("--backup_dir", "--backup-dir", "backup_dir", metavar="DIR",
              help="Where to write the archives (default: <experiment>/backup/).")
@click.option("--with-secrets", is_flag=True,
              help="Keep passwords, tokens and private keys (default: redacted / left out).")
@pass_options
def command(opts: Options, backup_dir: str | None, with_secrets: bool) -> None:
    """Gather what the experiment produced into DIR, one archive per source, and a manifest.

    \b
    <alias>.tar.gz     each host: log/ (every service), etc/ (configuration), supervisor/
    experiment.tar.gz  state, reservation file, inventory, credentials files, Ansible logs
    rally.tar.gz       Rally's database, its configuration and every run's reports
    shaker.tar.gz, monitoring.tar.gz   when there are Shaker runs or monitoring data
    manifest.json      every archive and every file in it, with size and sha256

    Passwords and tokens are redacted and keys/ is left out, unless --with-secrets. Rerunning
    writes only the archives whose content changed.
    """
    from enos import backup as backup_mod

    exp = opts.experiment("backup")
    dest = Path(backup_dir).absolute() if backup_dir else backup_mod.default_dir(exp)
    with exp.locked("backup"):
        opts.say(f"enos backup: {exp.path.name} -> {dest}"
                 + (" (with secrets)" if with_secrets else ""))
        result = backup_mod.backup(exp, dest, with_secrets=with_secrets, say=opts.say,
                                   quiet=opts.quiet, verbosity=opts.verbosity)
    for warning in result.warnings:
        click.secho(f"warning: {warning}", fg="yellow", err=True)
    if not opts.quiet:
        width = max((len(a.name) for a in result.archives), default=10)
        for a in result.archives:
            click.echo(f"  {a.name:<{width}}  {a.status:<9} {_size(a.size):>9}  "
                       f"{a.files} file(s)")
    opts.say(f"{len(result.archives)} archive(s) in {dest} ({result.written} written, "
             f"{len(result.archives) - result.written} unchanged) in {result.seconds:.1f}s; "
             f"manifest: {dest / backup_mod.MANIFEST}", fg="green")
    if any(a.name == "rally.tar.gz" for a in result.archives):
        opts.next_step(f"Rally's reports: tar -xzf {dest / 'rally.tar.gz'} --wildcards "
                       "'*/report.html'; 'enos destroy' when you are done")
    else:
        opts.next_step("'enos destroy' when you are done")


def _size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"
