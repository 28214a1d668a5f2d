"""From the group matrix to the rules of each host.

On every host, on the interface of every network the constraints cover, the egress gets:

- a root HTB qdisc with the handle ``e05:`` (enos's mark: reset removes only this handle), whose
  unclassified traffic leaves unshaped;
- one HTB class per destination group, at the rule's rate (``ceil`` = ``rate``: no borrowing),
  with an explicit ``quantum`` so that tc has nothing to warn about, and a burst of 1ms of
  the rate;
- with the netem backend, under it a netem qdisc with the rule's delay and loss (none when both
  are zero, or when delay and loss are left out with ``--rate-only``);
- one u32 filter per address the hosts of the destination group have on that interface's
  network.

With the userspace backend (kernels without netem), the HTB classes and filters are the same
and delay and loss are enforced by netfilter, in the chain ``ENOS_TC`` of the mangle table
(jumped to from ``POSTROUTING``), one pair of rules per interface and destination address:

- loss: ``-m statistic --mode random --probability P -j DROP``;
- delay: ``-j NFQUEUE --queue-num N --queue-bypass``, one queue per destination group: the
  delay line (``files/enos_delay.py``, supervised on the host) copies each packet, drops it,
  and sends the copy once the rule's delay has passed, with the mark ``0xe05`` that the
  chain's first rule lets through.

A host's rate towards a group is shared by its flows towards every host of that group.
The tc rules of one host are one ``tc -batch`` script, its netfilter rules one
``iptables-restore`` script per IP version.
"""

from __future__ import annotations

import ipaddress
import math
from dataclasses import dataclass, field
from typing import Any

from enos.errors import EnosError
from enos.model import NETWORK_INTERFACE, Host, Resources
from enos.netem.constraints import ALL_NETWORKS, AUTO, USERSPACE, Matrix, Rule
from enos.netem.units import tc_loss, tc_rate, tc_time

ROOT = "e05"  # handle of enos's root qdisc on a shaped interface
FIRST_CLASS = 0x10
LEAF_BASE = 0x100
MIN_QUANTUM, MAX_QUANTUM = 1600, 200_000
# Bytes a class may send at once: 1ms worth of its rate (tc's default, a few hundred
# microseconds, undershoots fast rates when the stack hands over 64KB segments).
MIN_BURST = 1600
# netem holds the packets of one delay: size its queue for the rate, with room to spare.
MIN_NETEM_LIMIT = 1000
PACKET = 1500
CHAIN = "ENOS_TC"  # enos's netfilter chain (mangle table) with the userspace backend
MARK = 0xE05  # the mark of the packets the delay line sends (enos_delay.MARK)
QUEUE_BASE = 0xE000  # NFQUEUE number of a destination group: QUEUE_BASE + its class minor
NONE = "none"  # the backend of a host whose rules carry neither delay nor loss
USERSPACE_PIECES = ("iptables", "statistic", "nfqueue", "python3")


@dataclass
class TcClass:
    """The rule towards one destination group; ``addresses``: per interface, the addresses the
    group's hosts have on that interface's network."""

    dst_group: str
    minor: int
    rule: Rule
    devices: list[str]
    addresses: dict[str, list[str]]

    @property
    def queue(self) -> int:
        return QUEUE_BASE + self.minor


@dataclass
class HostPlan:
    """The rules of one host. ``clear``: every interface whose enos rules are removed first.
    ``backend``: auto, netem or userspace (the host's probe settles auto)."""

    alias: str
    group: str | None
    devices: list[str] = field(default_factory=list)
    clear: list[str] = field(default_factory=list)
    classes: list[TcClass] = field(default_factory=list)
    backend: str = AUTO

    def delays_and_losses(self, rate_only: bool = False) -> bool:
        """Whether the rules carry a delay or a loss (what a backend enforces)."""
        return not rate_only and any(c.rule.needs_netem for c in self.classes)

    def backend_asked(self, rate_only: bool = False) -> str:
        """``none`` when nothing is to be delayed or lost, else the configured backend."""
        return self.backend if self.delays_and_losses(rate_only) else NONE

    def needs(self, rate_only: bool = False, backend: str | None = None) -> list[str]:
        """The pieces these rules use with ``backend`` (netem or userspace; default: the
        configured one, where ``auto`` counts as netem)."""
        if not self.classes:
            return []
        out = ["tc", "htb", "u32"]
        if not self.delays_and_losses(rate_only):
            return out
        backend = backend or self.backend
        if backend == USERSPACE:
            return out + self.userspace_needs()
        return out + ["netem"]

    def userspace_needs(self) -> list[str]:
        """What the userspace backend needs for these rules."""
        delay = any(c.rule.delay_ms > 0 for c in self.classes)
        loss = any(c.rule.loss_pct > 0 for c in self.classes)
        return ["iptables"] + (["statistic"] if loss else []) + (
            ["nfqueue", "python3"] if delay else [])

    def netem_needed_for(self) -> list[str]:
        """What netem (or the delay line) would carry on this host (for messages)."""
        out = []
        for c in self.classes:
            if c.rule.needs_netem:
                what = []
                if c.rule.delay_ms:
                    what.append(f"delay {c.rule.delay_ms:g}ms")
                if c.rule.loss_pct:
                    what.append(f"loss {c.rule.loss_pct:g}%")
                out.append(f"{' and '.join(what)} towards {c.dst_group}")
        return out

    def batch(self, rate_only: bool = False, netem: bool = True) -> str:
        """The ``tc -batch`` script of the host (empty when it carries no rule); without
        ``netem`` (or with ``rate_only``), the HTB classes and filters alone."""
        lines: list[str] = []
        for dev in self.devices:
            classes = [c for c in self.classes if dev in c.devices]
            if not classes:
                continue
            lines.append(f"qdisc replace dev {dev} root handle {ROOT}: htb")
            for c in classes:
                rate = c.rule.rate_bps
                quantum = max(MIN_QUANTUM, min(MAX_QUANTUM, rate // 80))
                burst = max(MIN_BURST, rate // 8 // 1000)
                cid = f"{ROOT}:{c.minor:x}"
                lines.append(f"class add dev {dev} parent {ROOT}: classid {cid} htb "
                             f"rate {tc_rate(rate)} ceil {tc_rate(rate)} burst {burst} "
                             f"cburst {burst} quantum {quantum}")
                if c.rule.needs_netem and netem and not rate_only:
                    args = []
                    if c.rule.delay_ms:
                        args.append(f"delay {tc_time(c.rule.delay_ms)}")
                    if c.rule.loss_pct:
                        args.append(f"loss {tc_loss(c.rule.loss_pct)}")
                    limit = max(MIN_NETEM_LIMIT, math.ceil(
                        rate / 8 * c.rule.delay_ms / 1000 / PACKET * 2))
                    lines.append(f"qdisc add dev {dev} parent {cid} handle "
                                 f"{LEAF_BASE + c.minor:x}: netem {' '.join(args)} "
                                 f"limit {limit}")
                for addr in c.addresses.get(dev, []):
                    if ipaddress.ip_address(addr).version == 6:
                        match = f"protocol ipv6 prio 2 u32 match ip6 dst {addr}/128"
                    else:
                        match = f"protocol ip prio 1 u32 match ip dst {addr}/32"
                    lines.append(f"filter add dev {dev} parent {ROOT}: {match} flowid {cid}")
        return "\n".join(lines) + ("\n" if lines else "")

    def iptables(self, version: int, rate_only: bool = False) -> str:
        """The ``iptables-restore --noflush`` script (IPv4 or IPv6) of the userspace backend:
        enos's chain, emptied then filled; empty when the host has no such rule."""
        rules: list[str] = []
        if not rate_only:
            for c in self.classes:
                if not c.rule.needs_netem:
                    continue
                prefix = 32 if version == 4 else 128
                for dev in c.devices:
                    for addr in c.addresses.get(dev, []):
                        if ipaddress.ip_address(addr).version != version:
                            continue
                        match = f"-A {CHAIN} -o {dev} -d {addr}/{prefix}"
                        if c.rule.loss_pct:
                            rules.append(f"{match} -m statistic --mode random --probability "
                                         f"{c.rule.loss_pct / 100:.8f} -j DROP")
                        if c.rule.delay_ms:
                            rules.append(f"{match} -j NFQUEUE --queue-num {c.queue} "
                                         "--queue-bypass")
        if not rules:
            return ""
        if any("NFQUEUE" in r for r in rules):  # what the delay line sends goes through
            rules.insert(0, f"-A {CHAIN} -m mark --mark {MARK:#x} -j RETURN")
        return "\n".join(["*mangle", f":{CHAIN} - [0:0]", *rules, "COMMIT"]) + "\n"

    def queues(self, rate_only: bool = False) -> list[str]:
        """The delay line's arguments: ``QUEUE:MILLISECONDS`` per delayed destination group."""
        if rate_only:
            return []
        return [f"{c.queue}:{c.rule.delay_ms:g}" for c in self.classes if c.rule.delay_ms > 0]

    def rule_count(self) -> int:
        return sum(len(c.devices) for c in self.classes)


def host_group(host: Host, groups: list[str]) -> str | None:
    """The topology group a host takes part in (its first one among ``groups``)."""
    for g in host.groups:
        if g in groups:
            return g
    return None


def _roles(host: Host, roles: list[str] | tuple[str, ...]) -> list[str]:
    """The network roles the rules cover on ``host`` (``all``: every role it has)."""
    if ALL_NETWORKS in roles:
        return list(host.interfaces)
    return [r for r in roles if r in host.interfaces]


def _addresses_on(host: Host, role: str) -> list[str]:
    """The addresses of ``host`` on the network of ``role``; on network_interface, also the
    one enos reaches it at when no other network has it."""
    out = []
    candidates = [host.addresses.get(role)]
    if role == NETWORK_INTERFACE and host.address not in host.addresses.values():
        candidates.append(host.address)
    for addr in candidates:
        if addr is None:
            continue
        try:
            ipaddress.ip_address(addr)
        except ValueError:
            continue  # a host name, not an address: filters need addresses
        if addr not in out:
            out.append(addr)
    return out


def _devices(host: Host, roles: list[str] | tuple[str, ...]) -> list[str]:
    if ALL_NETWORKS in roles:
        return list(dict.fromkeys(host.interfaces.values()))
    out = []
    for role in roles:
        dev = host.interfaces.get(role)
        if dev is None:
            known = ", ".join(sorted(host.interfaces)) or "none"
            raise EnosError(
                f"host {host.alias} has no interface on the network '{role}' that the network "
                f"constraints cover (its networks: {known})",
                "set `network_constraints.networks` (or the constraint's `network`) to network "
                "roles the hosts have, e.g. [network_interface]")
        if dev not in out:
            out.append(dev)
    return out


def host_plans(matrix: Matrix, resources: Resources) -> list[HostPlan]:
    """The plan of every host of ``resources`` (hosts without rules get an empty one)."""
    by_group: dict[str, list[Host]] = {}
    group_of: dict[str, str | None] = {}
    for host in resources.hosts:
        g = host_group(host, matrix.groups) if matrix.enable else None
        group_of[host.alias] = g
        if g is not None:
            by_group.setdefault(g, []).append(host)
    minor = {g: FIRST_CLASS + i for i, g in enumerate(matrix.groups)}
    plans = []
    for host in resources.hosts:
        plan = HostPlan(alias=host.alias, group=group_of[host.alias],
                        clear=list(dict.fromkeys(host.interfaces.values())),
                        backend=matrix.backend)
        src = plan.group
        if src is not None:
            for dst in matrix.groups:
                rule = matrix.rules.get((src, dst))
                targets = [h for h in by_group.get(dst, []) if h.alias != host.alias]
                if rule is None or not targets:
                    continue
                roles = _roles(host, rule.networks or matrix.networks)
                devs = _devices(host, rule.networks or matrix.networks)
                addrs: dict[str, list[str]] = {d: [] for d in devs}
                for role in roles:
                    dev = host.interfaces[role]
                    for t in targets:
                        addrs[dev] += [a for a in _addresses_on(t, role) if a not in addrs[dev]]
                plan.classes.append(TcClass(dst, minor[dst], rule, devs, addrs))
                plan.devices += [d for d in devs if d not in plan.devices]
        for dev in plan.devices:
            if dev not in plan.clear:
                plan.clear.append(dev)
        plans.append(plan)
    return plans


def host_pairs(matrix: Matrix, resources: Resources) -> list[dict[str, Any]]:
    """One object per ordered pair of hosts that carries a constraint (``--out json``)."""
    out = []
    group_of = {h.alias: host_group(h, matrix.groups) for h in resources.hosts}
    for src in resources.hosts:
        for dst in resources.hosts:
            gs, gd = group_of[src.alias], group_of[dst.alias]
            if src.alias == dst.alias or gs is None or gd is None:
                continue
            rule = matrix.rules.get((gs, gd))
            if rule is None:
                continue
            nets = list(rule.networks or matrix.networks)
            out.append({
                "src": src.alias, "dst": dst.alias, "src_group": gs, "dst_group": gd,
                "delay_ms": rule.delay_ms, "rate_bps": rule.rate_bps, "loss_pct": rule.loss_pct,
                "networks": nets,
            })
    return out
