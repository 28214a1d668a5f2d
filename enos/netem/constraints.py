"""From ``network_constraints`` to the rule of every ordered pair of topology groups.

The semantics are the original Enos's:

- every ordered pair of distinct groups gets the defaults (``default_delay``, ``default_rate``,
  ``default_loss``), except pairs that involve a group listed under ``except``;
- hosts of one group talk without constraint, unless a constraint names the group as both
  ``src`` and ``dst``;
- each entry of ``constraints`` overrides the keys it gives (``delay``, ``rate``, ``loss``)
  for every pair of its ``src`` and ``dst`` (group names or ranges such as ``grp[2-4]``), and
  for the reverse pairs too when ``symmetric`` (or ``symetric``) is true; a later entry wins
  over an earlier one; an entry that only touches excluded groups changes nothing;
- a rule is enforced on the egress of its source group's hosts: the delay between two groups
  as ``ping`` sees it is the sum of both directions (symmetric 10ms: 20ms round trip).

Which networks carry the rules: ``network_constraints.networks`` lists network roles
(default ``[network_interface]``; ``all`` means every network of the host); a constraint's
``network`` key (one role) restricts that constraint's pairs to that network.

How delay and loss are enforced: ``network_constraints.backend`` is ``auto`` (the default:
netem where the host's kernel has it, else the userspace delay line), ``netem`` or
``userspace``; the choice is made per host by the probe of ``enos tc``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from enos.config.ranges import RangeError, expand_group
from enos.model import NETWORK_INTERFACE
from enos.netem.units import (
    ErrorFactory,
    human_delay,
    human_loss,
    human_rate,
    parse_delay,
    parse_loss,
    parse_rate,
)

if TYPE_CHECKING:
    from enos.config.spec import Config

KEY = "network_constraints"
ALL_NETWORKS = "all"
DEFAULT_NETWORKS = (NETWORK_INTERFACE,)
AUTO, NETEM, USERSPACE = "auto", "netem", "userspace"
BACKENDS = (AUTO, NETEM, USERSPACE)


@dataclass(frozen=True)
class Rule:
    """What the egress of one group towards another gets.

    ``networks`` is None for the default networks, else the network roles the rule is
    restricted to (a constraint's ``network``).
    """

    delay_ms: float
    rate_bps: int
    loss_pct: float
    networks: tuple[str, ...] | None = None

    @property
    def needs_netem(self) -> bool:
        return self.delay_ms > 0 or self.loss_pct > 0

    def describe(self) -> str:
        return (f"delay {human_delay(self.delay_ms)}, rate {human_rate(self.rate_bps)}, "
                f"loss {human_loss(self.loss_pct)}")


@dataclass
class Matrix:
    """The rule of every ordered pair of groups that carries one.

    ``groups``: the topology groups taking part (without the excluded ones), in file order.
    ``networks``: the default network roles (or ``["all"]``).
    ``notes``: entries that changed nothing, and why.
    """

    enable: bool
    groups: list[str] = field(default_factory=list)
    excluded: list[str] = field(default_factory=list)
    rules: dict[tuple[str, str], Rule] = field(default_factory=dict)
    networks: list[str] = field(default_factory=lambda: list(DEFAULT_NETWORKS))
    notes: list[str] = field(default_factory=list)
    backend: str = AUTO

    def rule(self, src: str, dst: str) -> Rule | None:
        return self.rules.get((src, dst))

    def rtt_ms(self, a: str, b: str) -> float | None:
        """The round-trip delay between two groups: both directions' delays."""
        there, back = self.rules.get((a, b)), self.rules.get((b, a))
        if there is None and back is None:
            return None
        return (there.delay_ms if there else 0.0) + (back.delay_ms if back else 0.0)

    def to_list(self) -> list[dict[str, Any]]:
        return [
            {"src_group": s, "dst_group": d, "delay_ms": r.delay_ms, "rate_bps": r.rate_bps,
             "loss_pct": r.loss_pct, "networks": list(r.networks) if r.networks else None}
            for (s, d), r in self.rules.items()
        ]

    @classmethod
    def from_list(cls, items: list[dict[str, Any]], networks: list[str]) -> Matrix:
        """The matrix recorded in the experiment's state by ``enos tc``."""
        out = cls(enable=True, networks=list(networks))
        for item in items:
            for g in (item["src_group"], item["dst_group"]):
                if g not in out.groups:
                    out.groups.append(g)
            nets = item.get("networks")
            out.rules[(item["src_group"], item["dst_group"])] = Rule(
                float(item["delay_ms"]), int(item["rate_bps"]), float(item["loss_pct"]),
                tuple(nets) if nets else None)
        return out


def _groups(name: str) -> list[str]:
    """The groups of a name or range the section check has already checked."""
    try:
        return expand_group(name)
    except RangeError:  # pragma: no cover - refused when the file was loaded
        return []


def _networks(value: Any) -> list[str]:
    if value is None:
        return list(DEFAULT_NETWORKS)
    names = [value] if isinstance(value, str) else list(value)
    if ALL_NETWORKS in names:
        return [ALL_NETWORKS]
    return list(dict.fromkeys(names))


def build_matrix(config: Config) -> Matrix:
    """The group matrix of ``config``'s network constraints, computed when the file was
    loaded; a ConfigError when the file has no such section."""
    matrix = config.parsed.get(KEY)
    if matrix is None:
        raise config.error(
            "", "the file has no network_constraints section",
            "add `network_constraints: {enable: true, default_delay: 25ms, default_rate: "
            "100mbit, default_loss: 0%}` and describe the machines under `topology:`")
    assert isinstance(matrix, Matrix)
    return matrix


def matrix_of(  # noqa: C901 - the original's semantics, rule by rule, in file order
        nc: dict[str, Any], groups: list[str], error: ErrorFactory) -> Matrix:
    """The matrix of a section :func:`enos.netem.section.check` normalized: units are read
    here (a ConfigError through ``error`` names the key), pairs are computed."""
    enable = bool(nc.get("enable", True))
    networks = _networks(nc.get("networks"))
    backend = str(nc.get("backend") or AUTO)  # checked by enos.netem.section.check
    if not enable:
        return Matrix(enable=False, networks=networks, backend=backend)
    if not groups:
        raise error(KEY, "network constraints apply between topology groups, and the file "
                    "has none", "describe the machines under `topology:` instead of "
                    "`resources:`")
    default = Rule(
        parse_delay(nc["default_delay"], f"{KEY}.default_delay", error),
        parse_rate(nc["default_rate"], f"{KEY}.default_rate", error),
        parse_loss(nc["default_loss"], f"{KEY}.default_loss", error),
    )
    excluded: list[str] = []
    for name in nc.get("except") or []:
        for g in _groups(str(name)):
            if g not in excluded:
                excluded.append(g)

    entries = nc.get("constraints") or []
    expanded: list[tuple[int, list[str], list[str], dict[str, Any]]] = []
    self_groups: set[str] = set()
    for i, entry in enumerate(entries):
        key = f"{KEY}.constraints.{i}"
        srcs = _groups(str(entry["src"]))
        dsts = _groups(str(entry["dst"]))
        over: dict[str, Any] = {}
        if entry.get("delay") is not None:
            over["delay_ms"] = parse_delay(entry["delay"], f"{key}.delay", error)
        if entry.get("rate") is not None:
            over["rate_bps"] = parse_rate(entry["rate"], f"{key}.rate", error)
        if entry.get("loss") is not None:
            over["loss_pct"] = parse_loss(entry["loss"], f"{key}.loss", error)
        if entry.get("network") is not None:
            over["networks"] = (str(entry["network"]),)
        sym = bool(entry.get("symmetric", entry.get("symetric", False)))
        self_groups |= {s for s in srcs if s in dsts}
        expanded.append((i, srcs, dsts, {"over": over, "sym": sym}))

    members = [g for g in groups if g not in excluded]
    matrix = Matrix(enable=True, groups=members, excluded=excluded, networks=networks,
                    backend=backend)
    for a in members:
        for b in members:
            if a != b or a in self_groups:
                matrix.rules[(a, b)] = default

    for i, srcs, dsts, spec in expanded:
        pairs = [(s, d) for s in srcs for d in dsts]
        if spec["sym"]:
            pairs += [(d, s) for s, d in pairs if s != d]
        touched = 0
        for pair in pairs:
            rule = matrix.rules.get(pair)
            if rule is None:
                continue
            matrix.rules[pair] = replace(rule, **spec["over"])
            touched += 1
        if not touched:
            matrix.notes.append(
                f"{KEY}.constraints.{i} ({entries[i]['src']} -> {entries[i]['dst']}) applies "
                f"to no pair: its groups are all under except")
    return matrix
