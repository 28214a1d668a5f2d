"""Provider ``static``: machines that already exist, given by address, user and key.

``resources`` lists, per role, the hosts (usually YAML anchors into a ``hosts:`` section);
``provider.networks`` gives the networks (cidr, gateway, dns, start..end free pool, roles).
Interface names come from the ``kolla`` section (``network_interface``,
``neutron_external_interface``) or from ``provider.eths``, when given. Other keys of a host
entry (``ansible_python_interpreter``, ``enos_root``...) become its host variables.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from enos.model import NETWORK_INTERFACE, NEUTRON_EXTERNAL_INTERFACE, Host, Network, Resources

if TYPE_CHECKING:
    from enos.config.spec import Config
    from enos.experiment import Experiment

LABEL = "role (the static provider lists hosts per role)"

DEFAULT_CONFIG: dict[str, Any] = {
    "networks": [],
}


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


def init(config: Config, env: Experiment, force: bool = False, progress: Any = None) -> Resources:
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


def destroy(config: Config | None, env: Experiment, resources: Resources | None) -> None:
    """Static machines are not ours to release."""
