"""The vocabulary every phase shares: hosts, networks and the resources of an experiment.

A provider returns :class:`Resources`; later phases read them back from the experiment's state.
Everything here is plain data that round-trips through JSON (``to_dict``/``from_dict``).
"""

from __future__ import annotations

import ipaddress
from dataclasses import asdict, dataclass, field
from typing import Any

# Network roles as Kolla names them. ``network_interface`` carries the control plane.
NETWORK_INTERFACE = "network_interface"
NEUTRON_EXTERNAL_INTERFACE = "neutron_external_interface"

# Roles every OpenStack deployment needs at least one host for.
BASE_ROLES = ("control", "network", "compute")


@dataclass
class Host:
    """A machine enos can SSH to.

    ``interfaces`` maps a network role to the name of the interface on that network, and
    ``addresses`` maps it to the host's address there. ``extra`` carries provider-specific host
    variables (for the local provider: the namespace and the host's root directory).
    ``groups`` are the topology groups the host belongs to.
    """

    alias: str
    address: str
    user: str = "root"
    keyfile: str | None = None
    port: int = 22
    roles: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    interfaces: dict[str, str] = field(default_factory=dict)
    addresses: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Host:
        return cls(**data)


@dataclass
class Network:
    """A network of the testbed.

    ``start``..``end`` is the pool of addresses no host uses: free for VIPs and floating IPs.
    ``extra_ips`` are single free addresses (the static provider's ``extra_ips``).
    """

    roles: list[str]
    cidr: str
    gateway: str | None = None
    dns: str | None = None
    start: str | None = None
    end: str | None = None
    extra_ips: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def pool(self) -> list[str]:
        """Every free address of the network, pool range first, then ``extra_ips``."""
        out: list[str] = []
        if self.start and self.end:
            first = int(ipaddress.ip_address(self.start))
            last = int(ipaddress.ip_address(self.end))
            out = [str(ipaddress.ip_address(i)) for i in range(first, last + 1)]
        return out + [ip for ip in self.extra_ips if ip not in out]

    def pool_size(self) -> int:
        """How many addresses :meth:`pool` holds, computed without listing them."""
        size = 0
        if self.start and self.end:
            first = int(ipaddress.ip_address(self.start))
            last = int(ipaddress.ip_address(self.end))
            size = max(0, last - first + 1)
            extra = [ip for ip in self.extra_ips
                     if not first <= int(ipaddress.ip_address(ip)) <= last]
        else:
            extra = list(self.extra_ips)
        return size + len(extra)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Network:
        return cls(**data)


@dataclass
class Resources:
    """What a provider acquired: hosts (each with its roles) and networks."""

    hosts: list[Host] = field(default_factory=list)
    networks: list[Network] = field(default_factory=list)
    provider_state: dict[str, Any] = field(default_factory=dict)

    def by_role(self) -> dict[str, list[Host]]:
        """Hosts grouped by role, roles and hosts in a stable order."""
        out: dict[str, list[Host]] = {}
        for host in self.hosts:
            for role in host.roles:
                out.setdefault(role, []).append(host)
        return out

    def by_group(self) -> dict[str, list[Host]]:
        """Hosts grouped by topology group (empty without a topology)."""
        out: dict[str, list[Host]] = {}
        for host in self.hosts:
            for grp in host.groups:
                out.setdefault(grp, []).append(host)
        return out

    def host(self, alias: str) -> Host:
        for host in self.hosts:
            if host.alias == alias:
                return host
        raise KeyError(alias)

    def network(self, role: str) -> Network | None:
        for net in self.networks:
            if role in net.roles:
                return net
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "hosts": [h.to_dict() for h in self.hosts],
            "networks": [n.to_dict() for n in self.networks],
            "provider_state": self.provider_state,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Resources:
        return cls(
            hosts=[Host.from_dict(h) for h in data.get("hosts", [])],
            networks=[Network.from_dict(n) for n in data.get("networks", [])],
            provider_state=data.get("provider_state", {}),
        )
