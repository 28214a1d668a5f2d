"""enos ssh-tunnel: SSH port forwarding to the experiment's dashboard, Prometheus and APIs."""

from __future__ import annotations

import json

import click

from enos.commands.common import Options, pass_options


@click.command("ssh-tunnel")
@click.option("--out", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="Output format.")
@pass_options
def command(opts: Options, out: str) -> None:
    """Print ready-to-paste SSH port forwarding (an 'ssh -L' command and a ~/.ssh/config
    stanza) to the experiment's web UIs (Horizon, Prometheus with monitoring) and public APIs,
    through the testbed's gateway when it has one. Without one (the local testbed: its hosts
    are network namespaces of this machine) the URLs work as they are here, and another
    machine forwards through this one.

    \b
    Example: enos ssh-tunnel, paste the ssh command on your laptop, open the local URLs.
    """
    from enos import tunnel

    exp = opts.experiment("ssh-tunnel")
    plan = tunnel.for_experiment(exp)
    if out == "json":
        click.echo(json.dumps(plan.to_dict(), indent=2, sort_keys=True))
        return
    if not plan.forwards:
        opts.say(f"nothing to forward: {exp.path.name} serves no dashboard or API yet "
                 "(run 'enos os')")
        return
    width = max(len(f.name) for f in plan.forwards)
    if plan.direct:
        click.echo("The hosts are reached from this machine: these URLs work here as they are.")
        for f in plan.forwards:
            click.echo(f"  {f.name:<{width}}  {f.url}")
        click.echo()
        click.echo(f"From another machine, forward them through this one ({plan.jump.address}):")
    else:
        click.echo(f"Through the testbed's gateway {plan.jump.address}:")
    click.echo()
    click.echo(f"  {plan.command()}")
    click.echo()
    click.echo("or, in ~/.ssh/config, then 'ssh -N " + plan.name + "':")
    click.echo()
    for line in plan.config().splitlines():
        click.echo(f"  {line}")
    click.echo()
    click.echo("then, on that machine:")
    for f in plan.forwards:
        click.echo(f"  {f.name:<{width}}  {f.local_url}")
    dashboard = next((f for f in plan.forwards if f.name == "horizon"), None)
    if dashboard is not None:
        click.echo(f"Horizon: user admin, password: OS_PASSWORD in {exp.path / 'admin-openrc'}")
    if any(f.kind == "api" for f in plan.forwards):
        click.echo("The APIs' catalog names the hosts' addresses: through the tunnel, give a "
                   "client the local URL (e.g. openstack --os-auth-url and --os-endpoint).")
