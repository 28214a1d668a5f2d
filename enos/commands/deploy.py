"""enos deploy: enos up, then enos os, then enos init."""

from __future__ import annotations

import time

import click

from enos.commands.common import Options, pass_options


@click.command("deploy")
@click.option("--force-deploy", is_flag=True,
              help="Release the experiment's machines first and start from fresh ones.")
@click.option("-t", "--tags", metavar="TAGS",
              help="Only these services for the 'os' step (see 'enos os --help').")
@click.option("--pull", is_flag=True, hidden=True, help="Accepted for compatibility.")
@click.pass_context
@pass_options
def command(opts: Options, ctx: click.Context, force_deploy: bool, tags: str | None,
            pull: bool) -> None:
    """Acquire the machines, deploy OpenStack and bootstrap it: up + os + init."""
    from enos.commands import up
    from enos.commands.init import run_init
    from enos.commands.os import _tags, run_os

    start = time.monotonic()
    ctx.invoke(up.command, force_deploy=force_deploy)
    exp = opts.experiment("deploy")
    with exp.locked("deploy"):
        run_os(opts, _tags(tags))
        run_init(opts)
    opts.say(f"enos deploy: done in {time.monotonic() - start:.1f}s", fg="green")
    opts.next_step(f"'source {exp.path}/admin-openrc' and use the openstack CLI, "
                   "or 'enos bench' to run the workload")
