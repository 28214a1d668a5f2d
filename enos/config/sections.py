"""The smaller sections of reservation.yaml: deployer, registry, network_constraints, patches.

Each function takes the section as YAML gave it and returns it normalized (booleans as
booleans, ``symetric`` as ``symmetric``, one-item lists as lists), or raises a ConfigError.
"""

from __future__ import annotations

from typing import Any

from enos.config.checks import Checker, join
from enos.config.ranges import RangeError, expand_group

# deployer type -> the options it understands
DEPLOYERS: dict[str, tuple[str, ...]] = {
    "native": ("fake_computes", "api_workers", "region"),
    "kolla": (),
}
REGISTRY_TYPES = ("none", "internal", "external")
REGISTRY_KEYS = ("type", "ceph", "ceph_keyring", "ceph_id", "ceph_rbd", "ceph_mon_host", "ip",
                 "port")
CEPH_KEYS = ("ceph_keyring", "ceph_id", "ceph_rbd", "ceph_mon_host")
CONSTRAINTS_KEYS = ("enable", "default_delay", "default_rate", "default_loss", "constraints",
                    "except", "networks")
CONSTRAINT_KEYS = ("src", "dst", "delay", "rate", "loss", "symmetric", "symetric", "network")
PATCH_KEYS = ("name", "src", "dst", "enabled")
# How close an unknown key must be to a known one to be reported as a typo.
STRICT = 0.6
_DEFAULTS_EXAMPLE = {"default_delay": "25ms", "default_rate": "100mbit", "default_loss": "0%"}


def default_deployer(provider: str) -> str:
    """``native`` on the local testbed, ``kolla`` elsewhere."""
    return "native" if provider == "local" else "kolla"


def deployer(value: Any, provider: str, ck: Checker) -> dict[str, Any]:
    """``native``, ``kolla`` or ``{type: native, fake_computes: 2, ...}`` -> a mapping."""
    if value is None:
        return {"type": default_deployer(provider)}
    if isinstance(value, str):
        return {"type": ck.choice(value, "deployer", DEPLOYERS)}
    mapping = ck.mapping(value, "deployer", "`deployer: native` or `deployer: {type: native}`")
    out = dict(mapping)
    kind = out.get("type")
    out["type"] = default_deployer(provider) if kind is None else ck.choice(
        kind, "deployer.type", DEPLOYERS
    )
    ck.known_keys(out, "deployer", ("type", *DEPLOYERS[out["type"]]), cutoff=STRICT)
    if out.get("fake_computes") is not None:
        out["fake_computes"] = ck.integer(out["fake_computes"], "deployer.fake_computes", 1)
    return {"type": out.pop("type"), **out}


def registry(value: Any, ck: Checker) -> dict[str, Any]:
    """The docker registry mirror: none, internal (optionally on Ceph) or external."""
    if value is None:
        return {"type": "none"}
    if isinstance(value, str):
        return {"type": ck.choice(value, "registry", REGISTRY_TYPES)}
    mapping = ck.mapping(value, "registry", "`registry: {type: internal}`")
    ck.known_keys(mapping, "registry", REGISTRY_KEYS, warn=True, cutoff=STRICT)
    out = dict(mapping)
    if out.get("type") is None:
        raise ck.error("registry", "the registry has no type",
                       f"add `type: none` (or {', '.join(REGISTRY_TYPES[1:])})")
    kind = ck.choice(out["type"], "registry.type", REGISTRY_TYPES)
    if kind == "internal":
        out["ceph"] = ck.boolean(out["ceph"], "registry.ceph") \
            if out.get("ceph") is not None else False
        if out["ceph"]:
            for key in CEPH_KEYS:
                if out.get(key) is None:
                    raise ck.error("registry", f"a registry on Ceph needs '{key}'",
                                   f"add `{key}: ...` under registry:, or set `ceph: false`")
            for key in CEPH_KEYS[:-1]:
                out[key] = ck.text(out[key], f"registry.{key}")
            out["ceph_mon_host"] = ck.strings(out["ceph_mon_host"], "registry.ceph_mon_host",
                                              "monitor addresses")
        if out.get("port") is not None:
            out["port"] = ck.integer(out["port"], "registry.port", 1, 65535)
    elif kind == "external":
        for key in ("ip", "port"):
            if out.get(key) is None:
                raise ck.error("registry", f"an external registry needs '{key}'",
                               "add `ip: ADDRESS` and `port: 5000` under registry:")
        out["ip"] = ck.text(out["ip"], "registry.ip", "an address")
        out["port"] = ck.integer(out["port"], "registry.port", 1, 65535)
    return {"type": out.pop("type"), **out}


def network_constraints(value: Any, groups: list[str], ck: Checker) -> dict[str, Any]:
    """Check the network constraints against the topology groups.

    Unit values (``25ms``, ``1gbit``, ``0.1%``) are kept as text; the network emulation
    checks them. ``src``/``dst``/``except`` are kept as written (``grp[2-4]``): expand them
    with :func:`enos.config.expand_groups`.
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
    for name, item in nc.items():
        out.setdefault(name, item)
    return out


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


def patches(value: Any, ck: Checker) -> list[dict[str, Any]]:
    """``patches: [{name, src, dst, enabled}]``; ``enabled`` defaults to true."""
    if value is None:
        return []
    entries = ck.listing(value, "patches", "`[{name: ..., src: ..., dst: ..., enabled: yes}]`")
    out = []
    for index, item in enumerate(entries):
        key = join("patches", index)
        patch = dict(ck.mapping(item, key, "`{name: ..., src: FILE, dst: PATH}`"))
        ck.known_keys(patch, key, PATCH_KEYS, warn=True, cutoff=STRICT)
        for name in ("src", "dst"):
            if patch.get(name) is None:
                raise ck.error(key, f"the patch has no '{name}'",
                               "a patch replaces the file dst (in the deployer's code) by src")
            patch[name] = ck.string(patch[name], join(key, name), "a path")
        if patch.get("name") is not None:
            patch["name"] = ck.text(patch["name"], join(key, "name"))
        patch["enabled"] = ck.boolean(patch["enabled"], join(key, "enabled")) \
            if patch.get("enabled") is not None else True
        out.append(patch)
    return out

