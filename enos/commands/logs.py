"""enos logs: a service's log, from any host, followed live with -f."""

from __future__ import annotations

import subprocess
from pathlib import Path

import click

from enos.commands.common import Options, pass_options


@click.command("logs")
@click.argument("service")
@click.option("--host", metavar="HOST", help="The host (default: the only one running it, "
                                              "else the first).")
@click.option("-n", "--lines", default=20, show_default=True, help="Last lines to print.")
@click.option("-f", "--follow", is_flag=True, help="Keep printing what is appended.")
@pass_options
def command(opts: Options, service: str, host: str | None, lines: int, follow: bool) -> None:
    """Print the last lines of SERVICE's log (a name 'enos status' shows: keystone,
    nova-compute-compute-1, prometheus...); with -f, follow it until interrupted."""
    from enos import status
    from enos.errors import EnosError, did_you_mean

    exp = opts.experiment("logs")
    rows = [r for r in status.collect(exp) if r.get("log")]
    names = sorted({str(r["service"]) for r in rows})
    match = [r for r in rows if r["service"] == service]
    if not match:
        raise EnosError(f"no service '{service}' on the hosts of {exp.path.name}",
                        did_you_mean(service, names) or f"services: {', '.join(names)}")
    if host:
        hosts = [str(r["host"]) for r in match]
        match = [r for r in match if r["host"] == host]
        if not match:
            raise EnosError(f"service {service} does not run on {host}",
                            f"it runs on {', '.join(hosts)}")
    row = match[0]
    path = str(row["log"])
    if status.shares_machine(exp):
        try:
            status.follow(Path(path), lines, forever=follow, echo=click.echo)
        except KeyboardInterrupt:
            return
        return
    resources = exp.resources
    assert resources is not None
    target = next(h for h in resources.hosts if h.alias == row["host"])
    argv = ["tail", "-n", str(lines), *(["-F"] if follow else []), path]
    try:
        subprocess.run(status.ssh_argv(target, argv), check=False)
    except KeyboardInterrupt:
        return
