"""enos info: what the current experiment holds."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from enos.commands.common import Options, pass_options


def describe(exp: Any) -> dict[str, Any]:
    """The experiment as one mapping: the shape ``enos info --out json`` prints."""
    from enos import services

    resources = exp.resources
    rsc: dict[str, list[dict[str, Any]]] = {}
    groups: dict[str, list[str]] = {}
    networks: list[dict[str, Any]] = []
    if resources is not None:
        for role, hosts in sorted(resources.by_role().items()):
            rsc[role] = [h.to_dict() for h in hosts]
        groups = {g: [h.alias for h in hs] for g, hs in sorted(resources.by_group().items())}
        networks = [dict(n.to_dict(), pool_size=n.pool_size()) for n in resources.networks]
    state = exp.state
    service_info = services.info(exp)
    return {
        "resultdir": str(exp.path),
        "config_file": state.get("config_file"),
        "provider": state.get("provider"),
        "phases": state.get("phases", {}),
        "rsc": rsc,
        "groups": groups,
        "networks": networks,
        "inventory": str(exp.inventory_path) if exp.inventory_path.exists() else None,
        "cloud": state.get("cloud"),
        "config": state.get("config", {}),
        # The dashboard (Horizon): its URL and the user to log in as (the password is
        # OS_PASSWORD of the 0600 admin-openrc, never printed).
        "dashboard": dashboard(state.get("cloud")),
        "services": service_info,
        # The monitoring service's info has a key of its own (Prometheus' URL, its targets).
        "monitoring": service_info.get("monitoring"),
    }


def dashboard(cloud: Any) -> dict[str, str] | None:
    """``{"url", "user"}`` of the cloud's dashboard, or None without one."""
    board = (cloud or {}).get("dashboard") if isinstance(cloud, dict) else None
    if not isinstance(board, dict) or not board.get("url"):
        return None
    return {"url": str(board["url"]), "user": str(board.get("user") or "admin")}


def echo_dashboard(board: dict[str, str] | None, openrc: Path) -> None:
    """The dashboard's line: its URL, the user, where the password is (never the password)."""
    if board:
        click.echo(f"dashboard:  {board['url']} (Horizon; user {board['user']}, password: "
                   f"OS_PASSWORD in {openrc})")


@click.command("info")
@click.option("--out", type=click.Choice(["text", "json", "yaml"]), default="text",
              show_default=True, help="Output format.")
@pass_options
def command(opts: Options, out: str) -> None:
    """Show what the current experiment holds: hosts by role with address, user and key,
    networks, phases done, the merged configuration and the result directory.

    \b
    Example: ssh -l root $(enos info --out json | jq -r '.rsc.control[0].address')
    """
    exp = opts.experiment("info")
    data = describe(exp)
    if out == "json":
        click.echo(json.dumps(data, indent=2, sort_keys=True))
        return
    if out == "yaml":
        import yaml

        click.echo(yaml.safe_dump(data, sort_keys=True), nl=False)
        return
    click.echo(f"experiment: {data['resultdir']}")
    click.echo(f"config:     {data['config_file']}")
    click.echo(f"provider:   {data['provider']}")
    phases = ", ".join(f"{p} ({i.get('at', '?')})" for p, i in data["phases"].items())
    click.echo(f"phases:     {phases or 'none'}")
    if not data["rsc"]:
        click.echo("hosts:      none (run 'enos up')")
    for role, hosts in data["rsc"].items():
        click.echo(f"{role}:")
        for h in hosts:
            key = f" key={h['keyfile']}" if h.get("keyfile") else ""
            click.echo(f"  {h['alias']:<20} {h['address']:<16} user={h['user']}{key}")
    if data["groups"]:
        click.echo("groups:")
        for g, aliases in data["groups"].items():
            click.echo(f"  {g}: {', '.join(aliases)}")
    for net in data["networks"]:
        click.echo(f"network {','.join(net['roles'])}: {net['cidr']} gateway {net['gateway']} "
                   f"free pool {net['start']}..{net['end']}")
    if data["inventory"]:
        click.echo(f"inventory:  {data['inventory']}")
    cloud = data["cloud"] or {}
    if cloud:
        release = f" {cloud['release']}" if cloud.get("release") else ""
        click.echo(f"openstack:  {cloud.get('deployer', '?')}{release} at {cloud.get('auth_url')}")
        if cloud.get("compute_hosts"):
            click.echo(f"computes:   {computes_line(cloud)}")
        if cloud.get("vip"):
            click.echo(f"vip:        {cloud['vip']} (HAProxy and keepalived on "
                       f"{', '.join(cloud.get('lb_hosts') or [])})")
    echo_dashboard(data["dashboard"], exp.path / "admin-openrc")
    if data["monitoring"]:
        mon = data["monitoring"]
        click.echo(f"prometheus: {mon['prometheus']} (every {mon['scrape_interval']})")
        for t in mon["targets"]:
            host = t.get("host") or t.get("exporter_host")
            where = f" on {host}" if host else ""
            click.echo(f"  {t['job']:<12} {t['target']}{where}")


def computes_line(cloud: dict[str, Any]) -> str:
    """``3 nova-compute services, 300 hypervisors (100 per service)``: services and nodes apart,
    since the RPC load grows with the first and the scheduler's work with the second."""
    services = len(cloud.get("compute_hosts") or [])
    per = int(cloud.get("nodes_per_compute") or 1)
    nodes = int(cloud.get("compute_nodes") or services * per)
    line = f"{services} nova-compute service{'s' if services != 1 else ''}, {nodes} hypervisor"
    return line + ("s" if nodes != 1 else "") + (f" ({per} per service)" if per > 1 else "")
