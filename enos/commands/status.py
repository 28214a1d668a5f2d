"""enos status: every service of the cloud and of the services, per host."""

from __future__ import annotations

import json

import click

from enos.commands.common import Options, pass_options


@click.command("status")
@click.option("--out", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="Output format.")
@pass_options
def command(opts: Options, out: str) -> None:
    """Show every service per host: running or not, since when, restarts, the address it
    listens on and the last error line of its log. Exits 1 when one is not running."""
    from enos.status import collect

    exp = opts.experiment("status")
    rows = collect(exp)
    if out == "json":
        click.echo(json.dumps(rows, indent=2, sort_keys=True))
    else:
        if not rows:
            click.echo(f"nothing runs on the hosts of {exp.path.name} (run 'enos os')")
        for row in rows:
            state = str(row["state"])
            since = f" since {row['since']}" if row.get("since") else ""
            restarts = f", {row['restarts']} restart(s)" if row.get("restarts") else ""
            listen = str(row.get("listen") or "-")
            click.secho(f"{row['host']:<14} {row['service']:<20} {state:<9} {listen:<22}"
                        f"{since}{restarts}", fg=None if row.get("running") else "red")
            if row.get("last_error"):
                click.echo(f"{'':<14} last error: {row['last_error']}")
    if any(not r.get("running") for r in rows):
        raise SystemExit(1)
