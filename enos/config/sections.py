"""The smaller sections of reservation.yaml that no plug-in owns: registry, patches.

Each function takes the section as YAML gave it and returns it normalized (booleans as
booleans, ``symetric`` as ``symmetric``, one-item lists as lists), or raises a ConfigError.
"""

from __future__ import annotations

from typing import Any

from enos.config.checks import Checker, join

REGISTRY_TYPES = ("none", "internal", "external")
REGISTRY_KEYS = ("type", "ceph", "ceph_keyring", "ceph_id", "ceph_rbd", "ceph_mon_host", "ip",
                 "port")
CEPH_KEYS = ("ceph_keyring", "ceph_id", "ceph_rbd", "ceph_mon_host")
PATCH_KEYS = ("name", "src", "dst", "enabled")
# How close an unknown key must be to a known one to be reported as a typo.
STRICT = 0.6


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

