"""The ``network_constraints`` section of reservation.yaml, checked once when the file loads.

:func:`check` normalizes the section (booleans, ``symetric`` as ``symmetric``, lists) and checks
its groups against the topology; the network emulation service then reads its units
(:func:`enos.netem.constraints.matrix_of`) at load too, so ``enos validate`` refuses whatever
``enos tc`` would.
"""

from __future__ import annotations

from typing import Any

from enos.config.checks import Checker, join
from enos.config.ranges import RangeError, expand_group

KEY = "network_constraints"
CONSTRAINTS_KEYS = ("enable", "default_delay", "default_rate", "default_loss", "constraints",
                    "except", "networks", "backend")
CONSTRAINT_KEYS = ("src", "dst", "delay", "rate", "loss", "symmetric", "symetric", "network")
# How close an unknown key must be to a known one to be reported as a typo.
STRICT = 0.6
_DEFAULTS_EXAMPLE = {"default_delay": "25ms", "default_rate": "100mbit", "default_loss": "0%"}


def check(value: Any, groups: list[str], ck: Checker) -> dict[str, Any]:
    """Check the network constraints against the topology groups.

    Unit values (``25ms``, ``1gbit``, ``0.1%``) are kept as text here and read by
    :func:`enos.netem.constraints.matrix_of`; ``src``/``dst``/``except`` are kept as written
    (``grp[2-4]``).
    """
    key = "network_constraints"
    nc = dict(ck.mapping(value, key, "`network_constraints: {enable: true, default_delay: "
                         "25ms, default_rate: 100mbit, default_loss: 0%}`"))
    ck.known_keys(nc, key, CONSTRAINTS_KEYS, warn=True, cutoff=STRICT)
    enable = ck.boolean(nc["enable"], join(key, "enable")) if nc.get("enable") is not None \
        else True
    out: dict[str, Any] = {"enable": enable}
    for name, example in _DEFAULTS_EXAMPLE.items():
        if nc.get(name) is not None:
            out[name] = ck.text(nc[name], join(key, name), "a value such as " + example)
        elif enable:
            raise ck.error(key, f"'{name}' is missing",
                           f"add `{name}: {example}` under network_constraints: (the three "
                           "default_* values are mandatory when enable is true)")
    out["constraints"] = []
    if nc.get("constraints") is not None:
        ckey = join(key, "constraints")
        entries = ck.listing(nc["constraints"], ckey, "`[{src: grp1, dst: grp2, delay: 10ms}]`")
        out["constraints"] = [_constraint(item, join(ckey, i), groups, ck)
                              for i, item in enumerate(entries)]
    out["except"] = []
    if nc.get("except") is not None:
        ekey = join(key, "except")
        names = ck.strings(nc["except"], ekey, "group names")
        for index, name in enumerate(names):
            _groups_of(name, join(ekey, index), groups, ck)
        out["except"] = names
    if nc.get("networks") is not None:
        names = ck.strings(nc["networks"], join(key, "networks"),
                           "network roles, or `networks: all`")
        if not names:
            raise ck.error(join(key, "networks"), "expected a list of network roles",
                           "write e.g. `networks: [network_interface, "
                           "neutron_external_interface]`, or `networks: all`")
        out["networks"] = names
    if nc.get("backend") is not None:
        from enos.netem.constraints import BACKENDS

        out["backend"] = ck.choice(nc["backend"], join(key, "backend"), BACKENDS)
    _warn_bytes(out, ck)
    for name, item in nc.items():
        out.setdefault(name, item)
    return out


def _warn_bytes(out: dict[str, Any], ck: Checker) -> None:
    """``100mbps`` is bytes per second, as tc reads it: almost always meant as megabits."""
    from enos.netem.units import bytes_rate_note

    key = "network_constraints"
    rates = [(join(key, "default_rate"), out.get("default_rate"))] + [
        (join(join(join(key, "constraints"), i), "rate"), c.get("rate"))
        for i, c in enumerate(out["constraints"])]
    for rkey, rate in rates:
        note = bytes_rate_note(rate) if rate is not None else None
        if note:
            ck.warn(rkey, note)


def _constraint(value: Any, key: str, groups: list[str], ck: Checker) -> dict[str, Any]:
    entry = ck.mapping(value, key, "`{src: grp1, dst: grp2, delay: 10ms, symmetric: true}`")
    ck.known_keys(entry, key, CONSTRAINT_KEYS, warn=True, cutoff=STRICT)
    out = dict(entry)
    for end in ("src", "dst"):
        if entry.get(end) is None:
            raise ck.error(key, f"the constraint has no '{end}'",
                           f"add `{end}: GROUP` (a topology group or a range such as grp[2-4])")
        out[end] = ck.string(entry[end], join(key, end), "a group name")
        _groups_of(out[end], join(key, end), groups, ck)
    for name in ("delay", "rate", "loss"):
        if entry.get(name) is not None:
            out[name] = ck.text(entry[name], join(key, name))
    if entry.get("network") is not None:
        out["network"] = ck.string(entry["network"], join(key, "network"), "one network role")
    symmetric = None
    for spelling in ("symmetric", "symetric"):
        if entry.get(spelling) is not None:
            flag = ck.boolean(entry[spelling], join(key, spelling))
            if symmetric is not None and flag != symmetric:
                raise ck.error(join(key, spelling), "symmetric and symetric disagree",
                               "keep `symmetric:` only")
            symmetric = flag
    out.pop("symetric", None)
    out["symmetric"] = bool(symmetric)
    return out


_known_cache: list[tuple[list[str], frozenset[str]]] = []


def _known_groups(groups: list[str]) -> frozenset[str]:
    """``groups`` as a set, built once per list (a file may hold thousands of constraints)."""
    if not _known_cache or _known_cache[0][0] is not groups:
        _known_cache[:] = [(groups, frozenset(groups))]
    return _known_cache[0][1]


def _groups_of(name: str, key: str, groups: list[str], ck: Checker) -> list[str]:
    try:
        names = expand_group(name)
    except RangeError as exc:
        raise ck.error(key, str(exc), exc.hint) from None
    known = _known_groups(groups)
    for group in names:
        if group not in known:
            if not groups:
                hint = ("network constraints apply between topology groups: describe the "
                        "machines under `topology:` instead of `resources:`")
            else:
                hint = f"groups of the topology: {', '.join(groups)}"
            raise ck.error(key, f"no group '{group}' in the topology", hint)
    return names
