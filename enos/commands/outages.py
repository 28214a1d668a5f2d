"""enos outages: a timeline of service outages, restarts and upgrades, to the second."""

from __future__ import annotations

import datetime as _dt
import json
from pathlib import Path
from typing import Any

import click

from enos.commands.common import Options, pass_options


def _zone(name: str | None) -> _dt.tzinfo:
    if not name:
        zone = _dt.datetime.now().astimezone().tzinfo
        assert zone is not None
        return zone
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    from enos.errors import UsageError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise UsageError(f"--tz {name[:60]!r} is not a time zone",
                         "give an IANA name such as UTC or Europe/Paris") from None


@click.command("outages")
@click.option("--out", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="Output format.")
@click.option("--log", "files", multiple=True, type=click.Path(path_type=Path),
              metavar="FILE", help="Read this log (MySQL, MariaDB, RabbitMQ, OpenStack) "
                                   "instead of the experiment's; repeat for several.")
@click.option("--tz", "zone", metavar="ZONE",
              help="Time zone of the times logs write without one, and of the output "
                   "(default: this machine's).")
@pass_options
def command(opts: Options, out: str, files: tuple[Path, ...], zone: str | None) -> None:
    """Show when each service was unreachable, how long, why, and which clients saw errors:
    from the monitoring's one-second probes, the servers' logs, the supervisors' histories
    and the faults enos injected. With --log, only the files given (no experiment needed)."""
    from enos import outages

    tz = _zone(zone)
    if files:
        found = outages.of_files(list(files), tz)
    else:
        exp = opts.experiment("outages")
        found = outages.of_experiment(exp, tz)
    timeline = outages.merge(found)
    data = outages.to_json(timeline, tz)
    if out == "json":
        click.echo(json.dumps(data, indent=2))
        return
    _print(data, found.notes)
    if not files:
        opts.next_step("'enos outages --out json' for the evidence in full; 'enos fault' "
                       "injects one; 'enos backup' archives the logs")


def _clock(iso: str | None) -> str:
    return iso[11:23] if iso else "(open)"


def _print(data: dict[str, Any], notes: list[str]) -> None:
    for note in notes:
        click.secho(note, fg="yellow")
    rows = data["outages"]
    click.echo(f"{len(rows)} outage(s)")
    if rows:
        click.echo(f"  {'start':<12} {'end':<12} {'seconds':>8}  {'service':<16} "
                   f"{'host':<14} cause")
    for o in rows:
        secs = "open" if o["seconds"] is None else f"{o['seconds']:.1f}"
        click.echo(f"  {o['start'][:10]} {_clock(o['start'])} -> {_clock(o['end'])} "
                   f"{secs:>8}  {o['service']:<16} {o['host'] or '-':<14} {o['cause']}")
        if o["clients"]:
            click.echo(f"      clients with errors: {', '.join(o['clients'])}")
        for line in o["evidence"][:3]:
            click.echo(f"      {line[:160]}")
    if data["restarts"]:
        click.echo(f"{len(data['restarts'])} restart(s)")
        for r in data["restarts"]:
            click.echo(f"  {r['at'][:10]} {_clock(r['at'])}  {r['service']:<16} "
                       f"{r['host'] or '-'}")
    if data["upgrades"]:
        click.echo(f"{len(data['upgrades'])} upgrade(s)")
        for u in data["upgrades"]:
            click.echo(f"  {u['at'][:10]} {_clock(u['at'])}  {u['service']:<16} "
                       f"{u['from']} -> {u['to']}")
