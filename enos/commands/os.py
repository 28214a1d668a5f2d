"""enos os: deploy OpenStack on the experiment's hosts."""

from __future__ import annotations

import time
from typing import Any

import click

from enos.commands.common import Options, pass_options


def _tags(value: str | None) -> list[str] | None:
    if not value:
        return None
    return [t.strip() for t in value.split(",") if t.strip()] or None


def run_os(opts: Options, tags: list[str] | None = None, reconfigure: bool = False) -> Any:
    """The ``os`` phase; the caller holds the experiment's lock."""
    from enos import deployers, services

    config = opts.load_config()
    exp = opts.experiment("os")
    exp.need("up", "os")
    deployer = deployers.of(config)
    deployer.require_built()
    name = deployer.name
    if tags:
        unknown = sorted(set(tags) - set(deployer.tags))
        if unknown:
            from enos.errors import EnosError

            raise EnosError(f"unknown tag(s) {', '.join(unknown)}",
                            f"tags of the {name} deployer: {', '.join(deployer.tags)}")
    start = time.monotonic()
    exp.begin("os")
    # Recorded before anything starts on the hosts, so that 'enos destroy' stops what a failed
    # or interrupted run left behind.
    exp.update(deployer_started=name)
    what = f" (only {', '.join(tags)})" if tags else ""
    opts.say(f"enos os: deploying OpenStack with the {name} deployer{what} on {exp.path.name}")
    cloud = deployer.deploy(config, exp, opts, tags=tags, reconfigure=reconfigure)
    if not tags:
        cloud["services"] = services.deploy_enabled(config, exp, opts)
    seconds = round(time.monotonic() - start, 1)
    exp.mark_done("os", deployer=name, seconds=seconds, auth_url=cloud.get("auth_url"),
                  tags=tags or [], reconfigure=reconfigure)
    exp.update(cloud=cloud)
    opts.say(f"OpenStack is up in {seconds:.1f}s: {cloud.get('auth_url')}", fg="green")
    if not opts.quiet:
        for service, url in sorted((cloud.get("endpoints") or {}).items()):
            click.echo(f"  {service:<10} {url}")
        dashboard = cloud.get("dashboard") or {}
        if dashboard.get("url"):
            click.echo(f"  dashboard  {dashboard['url']} (user {dashboard.get('user', 'admin')})")
        computes = cloud.get("compute_hosts") or []
        if computes:
            shown = ", ".join(computes[:5]) + (f" (+{len(computes) - 5})" if len(computes) > 5
                                                else "")
            click.echo(f"  computes   {shown}")
            per = int(cloud.get("nodes_per_compute") or 1)
            if per > 1:
                click.echo(f"  hypervisors {cloud.get('compute_nodes')} ({per} per service)")
        click.echo(f"  admin-openrc and clouds.yaml: {exp.path}")
    return cloud


@click.command("os")
@click.option("--reconfigure", is_flag=True,
              help="Only rewrite the configurations and restart the services whose "
                   "configuration changed (no package or virtualenv check).")
@click.option("-t", "--tags", metavar="TAGS",
              help="Only these services, comma-separated (the native deployer's: mariadb, "
                   "rabbitmq, memcached, keystone, glance, placement, nova, neutron, horizon).")
@click.option("--pull", is_flag=True, hidden=True,
              help="Accepted for compatibility; the native deployer has no image to pull.")
@pass_options
def command(opts: Options, reconfigure: bool, tags: str | None, pull: bool) -> None:
    """Deploy OpenStack on the hosts of the experiment (needs 'enos up').

    Rerunning converges: configurations are rewritten, and only the services whose
    configuration changed are restarted.
    """
    exp = opts.experiment("os")
    with exp.locked("os"):
        run_os(opts, _tags(tags), reconfigure)
    opts.next_step("'enos init' adds an image, flavors and networks; then "
                   f"'source {exp.path}/admin-openrc' and use the openstack CLI")
