"""enos init: bootstrap the cloud with the bare necessities."""

from __future__ import annotations

from typing import Any

import click

from enos.commands.common import Options, pass_options


def run_init(opts: Options) -> dict[str, Any]:
    """The ``init`` phase; the caller holds the experiment's lock."""
    from enos.bootstrap import bootstrap

    config = opts.load_config()
    exp = opts.experiment("init")
    exp.need("os", "init")
    exp.begin("init")
    result = bootstrap(config, exp, opts)
    exp.mark_done("init", created=len(result["created"]), seconds=result["seconds"])
    created = result["created"]
    opts.say(f"the cloud is ready in {result['seconds']:.1f}s: "
             + (f"created {', '.join(created)}" if created else "nothing to create"),
             fg="green")
    return result


@click.command("init")
@click.option("--pull", is_flag=True, hidden=True,
              help="Accepted for compatibility; the image is generated locally.")
@pass_options
def command(opts: Options, pull: bool) -> None:
    """Bootstrap OpenStack: member role, image cirros.uec, flavors m1.tiny..m1.xlarge,
    public and private networks with a router, open quotas for admin (needs 'enos os').

    Rerunning creates only what is missing.
    """
    exp = opts.experiment("init")
    with exp.locked("init"):
        run_init(opts)
    opts.next_step(f"'source {exp.path}/admin-openrc', then e.g. 'openstack server create "
                   "--image cirros.uec --flavor m1.tiny --network private vm1'; or 'enos bench'")
