"""Provider ``static``: machines that already exist, given by address, user and key.

``resources`` lists, per role, the hosts (usually YAML anchors into a ``hosts:`` section), or
``topology`` lists them per group and role (``{grp1: {control: HOST}, grp2: {compute: [HOST,
HOST]}}``) for network constraints between groups; a role names one host or a list.
``provider.networks`` gives the networks (cidr, gateway, dns, start..end free pool, roles), or
the older ``provider.network`` + ``provider.eths`` form.
Interface names come from the ``kolla`` section (``network_interface``,
``neutron_external_interface``) or from ``provider.eths``, when given. Other keys of a host
entry (``ansible_python_interpreter``, ``enos_root``...) become its host variables.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from enos.config import resources as res
from enos.config.checks import join
from enos.model import NETWORK_INTERFACE, NEUTRON_EXTERNAL_INTERFACE, Host, Network, Resources
from enos.providers.base import Provider

if TYPE_CHECKING:
    from enos.config.checks import Checker
    from enos.config.resources import Layout
    from enos.config.spec import Config
    from enos.experiment import Experiment
    from enos.output import Output

EXAMPLE = "`resources: {control: [{address: 10.0.0.1}], network: [...], compute: [...]}`"


def _interfaces(config: Config) -> dict[str, str]:
    kolla = config.data.get("kolla") or {}
    eths = config.provider.get("eths") or []
    out: dict[str, str] = {}
    for n, role in enumerate((NETWORK_INTERFACE, NEUTRON_EXTERNAL_INTERFACE)):
        if kolla.get(role):
            out[role] = str(kolla[role])
        elif n < len(eths):
            out[role] = str(eths[n])
    return out


def _layout(data: dict[str, Any], cwd: Path, ck: Checker) -> Layout:
    if data["provider"].get("resources") is not None:
        raise ck.error("provider.resources", "the static provider has no advanced syntax",
                       "list the hosts of each role under the top-level `resources:`")
    user = data["provider"].get("user") or "root"
    layout = res.Layout()
    if "topology" in data:
        if "resources" in data:
            ck.warn("resources", "both topology and resources are given: the topology is used "
                    "and resources is ignored")
        topo = ck.mapping(data["topology"], "topology",
                          "`topology: {grp1: {control: {address: 10.0.0.1}}, grp2: ...}`")
        if not topo:
            raise ck.error("topology", "the topology has no group",
                           "write `topology: {grp1: {control: {address: 10.0.0.1}}}`")
        for group, roles in topo.items():
            gkey = join("topology", group)
            if not isinstance(group, str) or not group or "[" in group:
                raise ck.error(gkey, f"'{group}' is not a group name for listed hosts",
                               "give each group of the static provider its own name (ranges "
                               "such as grp[2-4] are for testbeds that acquire machines)")
            for role, hosts in res.static_hosts(roles, user, cwd, ck, gkey, group).items():
                layout.static_hosts.setdefault(role, []).extend(hosts)
            layout.groups.append(group)
        where = "topology"
    elif "resources" in data:
        layout.static_hosts = res.static_hosts(data["resources"], user, cwd, ck)
        where = "resources"
    else:
        raise ck.error("", "no resources: the static provider needs the hosts of each role",
                       f"add {EXAMPLE}, or `topology:` with the hosts of each group")
    res.check_roles(layout, where, EXAMPLE, ck)
    return layout


def _init(config: Config) -> Resources:
    """The hosts as given: nothing to acquire, only to describe."""
    interfaces = _interfaces(config)
    hosts: dict[str, Host] = {}
    for role, entries in config.static_hosts.items():
        for entry in entries:
            alias = str(entry.get("alias") or entry["address"])
            host = hosts.get(alias)
            if host is None:
                keyfile = entry.get("keyfile")
                if keyfile:
                    keyfile = str((config.cwd / Path(str(keyfile)).expanduser()).resolve())
                host = Host(
                    alias=alias,
                    address=str(entry["address"]),
                    user=str(entry.get("user", "root")),
                    keyfile=keyfile,
                    port=int(entry.get("port", 22)),
                    interfaces=dict(interfaces),
                    addresses={NETWORK_INTERFACE: str(entry["address"])},
                    extra={"enos_root": "/var/lib/enos", **(entry.get("extra") or {})},
                )
                hosts[alias] = host
            if role not in host.roles:
                host.roles.append(role)
            group = entry.get("group")
            if group and group not in host.groups:
                host.groups.append(group)
    networks = []
    for raw in config.provider.get("networks") or []:
        roles = raw.get("roles") or []
        networks.append(Network(
            roles=[roles] if isinstance(roles, str) else list(roles),
            cidr=str(raw["cidr"]),
            gateway=raw.get("gateway"),
            dns=raw.get("dns"),
            start=raw.get("start"),
            end=raw.get("end"),
            extra_ips=list(raw.get("extra_ips") or []),
        ))
    return Resources(hosts=list(hosts.values()), networks=networks)


class StaticProvider(Provider):
    """Existing machines: nothing to acquire, only to describe; nothing to release."""

    label = "role (the static provider lists hosts per role)"
    defaults: ClassVar[dict[str, Any]] = {"networks": []}
    keys = ("network", "eths", "user")

    def check_section(self, section: dict[str, Any], ck: Checker) -> None:
        res.static_networks(section, ck)

    def read_layout(self, data: dict[str, Any], cwd: Path, ck: Checker) -> Layout:
        return _layout(data, cwd, ck)

    def example(self) -> str:
        return EXAMPLE

    def init(self, config: Config, exp: Experiment, out: Output,
             force: bool = False) -> Resources:
        return _init(config)
