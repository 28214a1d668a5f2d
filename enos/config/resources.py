"""What to acquire: ``resources``, ``topology`` and ``provider.resources``, and static hosts.

Three ways to describe machines, all normalized to a list of :class:`MachineSpec`:

- basic: ``resources: {LABEL: {ROLE: COUNT}}`` where LABEL is a cluster, VM size or flavor;
  the ``local`` provider also takes ``resources: {ROLE: COUNT}``;
- topology: ``topology: {GROUP: {LABEL: {ROLE: COUNT}}}``, GROUP may be a range ``grp[2-4]``;
- advanced (g5k, vagrant, vmong5k): ``provider.resources: {machines: [...], networks: [...]}``
  where each machine has ``role``/``roles``, ``nodes``/``number``, ``cluster``/``flavor``/
  ``flavour``, ``networks`` or ``primary_network`` + ``secondary_networks``.

The ``static`` provider lists the hosts of each role instead: ``resources: {ROLE: [HOST]}``,
usually through YAML aliases to a ``hosts:`` section. Its networks are ``provider.networks``,
or the older ``provider.network`` + ``provider.eths`` form, both normalized here.

Whatever the syntax, the machines must carry the roles control, network and compute.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from enos.config.checks import Checker, join, type_name
from enos.config.ranges import MAX_GROUPS, RangeError, expand_group
from enos.config.spec import MachineSpec
from enos.model import BASE_ROLES, NETWORK_INTERFACE, NEUTRON_EXTERNAL_INTERFACE

if TYPE_CHECKING:
    from enos.providers.base import Provider

NETWORK_KEYS = ("roles", "role", "cidr", "gateway", "dns", "start", "end", "extra_ips", "extra")
HOST_KEYS = ("address", "alias", "user", "keyfile", "port", "extra")
ADVANCED_KEYS = ("machines", "networks")
MACHINE_KEYS = (
    "role", "roles", "nodes", "number", "cluster", "flavor", "flavour", "flavour_desc",
    "networks", "primary_network", "secondary_networks", "min",
)
_LABEL_KEYS = ("cluster", "flavor", "flavour")
_CONSUMED = ("role", "roles", "nodes", "number", "networks", "primary_network",
             "secondary_networks")


@dataclass
class Layout:
    """The machines (or static hosts) a file asks for, and its topology groups."""

    machines: list[MachineSpec] = field(default_factory=list)
    static_hosts: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    groups: list[str] = field(default_factory=list)


def read_machines(data: dict[str, Any], provider: Provider, ck: Checker) -> Layout:
    """The machines ``data`` (whose ``provider`` is already merged) asks a testbed for."""
    advanced = data["provider"].get("resources")
    has_resources = "resources" in data
    has_topology = "topology" in data
    local = provider.takes_role_counts
    example = provider.example()

    layout = Layout()
    if advanced is not None:
        if has_resources or has_topology:
            other = "resources" if has_resources else "topology"
            raise ck.error(other, f"both provider.resources and {other} describe the machines",
                           f"keep one of them: remove `{other}:` or `provider.resources:`")
        layout.machines = _advanced(advanced, ck)
        where = "provider.resources.machines"
    elif has_topology:
        if has_resources:
            ck.warn("resources", "both topology and resources are given: the topology is used "
                    "and resources is ignored")
        layout.machines, layout.groups = _topology(data["topology"], local, example, ck)
        where = "topology"
    elif has_resources:
        if data["resources"] is None:
            raise ck.error("resources", "resources is empty", f"write e.g. {example}")
        rsc = ck.mapping(data["resources"], "resources", example)
        layout.machines = _basic(rsc, "resources", None, local, example, ck)
        where = "resources"
    else:
        raise ck.error("", "no resources: the file does not say which machines to use",
                       f"add e.g. {example}")
    check_roles(layout, where, example, ck)
    return layout


def _name(value: Any, key: str, ck: Checker, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise ck.error(key, f"expected {what}, got {type_name(value)}",
                       f"use a name made of letters for {what}")
    return value


def check_roles(layout: Layout, where: str, example: str, ck: Checker) -> None:
    have = {role for spec in layout.machines for role in spec.roles}
    have |= {role for role, hosts in layout.static_hosts.items() if hosts}
    missing = [role for role in BASE_ROLES if role not in have]
    if missing:
        plural = "s" if len(missing) > 1 else ""
        raise ck.error(
            where, f"no machine has the role{plural} {', '.join(missing)}",
            "every deployment needs at least one control, one network and one compute "
            f"machine, e.g. {example}",
        )


# -- basic syntax and topology ------------------------------------------------------------
def _basic(
    mapping: dict[Any, Any], key: str, group: str | None, local: bool, example: str,
    ck: Checker,
) -> list[MachineSpec]:
    """``{LABEL: {ROLE: COUNT}}`` (and ``{ROLE: COUNT}`` for the local provider)."""
    out: list[MachineSpec] = []
    for label, value in mapping.items():
        lkey = join(key, label)
        if isinstance(value, dict):
            name = _name(label, lkey, ck, "a label (cluster, size or flavor)")
            if not value:
                raise ck.error(lkey, f"no role under '{name}'",
                               f"write the number of machines of each role, e.g. {example}")
            for role, count in value.items():
                rkey = join(lkey, role)
                role = _name(role, rkey, ck, "a role name")
                out.append(MachineSpec([role], ck.count(count, rkey), label=name, group=group))
        elif local and isinstance(value, int) and not isinstance(value, bool):
            role = _name(label, lkey, ck, "a role name")
            out.append(MachineSpec([role], ck.count(value, lkey), label=None, group=group))
        elif local:
            raise ck.error(lkey, "expected a number of machines (ROLE: COUNT) or a mapping of "
                           f"role -> number (LABEL: {{ROLE: COUNT}}), got {type_name(value)}",
                           f"write e.g. {example}")
        else:
            raise ck.error(
                lkey, f"expected a mapping of role -> number of machines, got {type_name(value)}",
                f"the basic syntax is LABEL: {{ROLE: COUNT}}, e.g. {example}; only the local "
                "provider takes ROLE: COUNT directly",
            )
    return out


def _topology(
    value: Any, local: bool, example: str, ck: Checker
) -> tuple[list[MachineSpec], list[str]]:
    topo = ck.mapping(value, "topology", "`topology: {grp1: {paravance: {control: 1}}}`")
    if not topo:
        raise ck.error("topology", "the topology has no group",
                       "write `topology: {grp1: {LABEL: {control: 1, ...}}}`")
    machines: list[MachineSpec] = []
    groups: list[str] = []
    origin: dict[str, str] = {}
    for name, content in topo.items():
        gkey = join("topology", name)
        name = _name(name, gkey, ck, "a group name")
        try:
            expanded = expand_group(name)
        except RangeError as exc:
            raise ck.error(gkey, str(exc), exc.hint) from None
        if len(origin) + len(expanded) > MAX_GROUPS:
            raise ck.error(gkey, f"the topology has more than {MAX_GROUPS} groups",
                           f"describe at most {MAX_GROUPS} groups")
        for group in expanded:
            if group in origin:
                by = f"'{origin[group]}'" + (f" and '{name}'" if origin[group] != name else "")
                raise ck.error(gkey, f"group '{group}' is defined twice (by {by})",
                               "give each group once")
            origin[group] = name
        if not isinstance(content, dict) or not content:
            raise ck.error(gkey, f"expected the machines of group '{name}', got "
                           f"{type_name(content)}", "write e.g. `grp1: {paravance: {control: 1}}`")
        for group in expanded:
            groups.append(group)
            machines.extend(_basic(content, gkey, group, local, example, ck))
    return machines, groups


# -- advanced syntax -----------------------------------------------------------------------
def _roles_of(entry: dict[Any, Any], key: str, ck: Checker) -> list[str]:
    if "role" in entry and "roles" in entry:
        raise ck.error(join(key, "roles"), "both role and roles are given",
                       "keep one: `role: compute` or `roles: [compute, network]`")
    if "role" in entry:
        return [ck.string(entry["role"], join(key, "role"), "a role name")]
    if "roles" in entry:
        roles = ck.strings(entry["roles"], join(key, "roles"), "role names")
        if not roles:
            raise ck.error(join(key, "roles"), "no role given", "write `roles: [compute]`")
        return roles
    raise ck.error(key, "no role given", "add `role: compute` or `roles: [compute, network]`")


def _advanced(value: Any, ck: Checker) -> list[MachineSpec]:
    key = "provider.resources"
    adv = ck.mapping(value, key, "`resources: {machines: [...], networks: [...]}`")
    ck.known_keys(adv, key, ADVANCED_KEYS, warn=True)

    ids: dict[str, list[str]] = {}
    network_roles: set[str] = set()
    if adv.get("networks") is not None:
        nkey = join(key, "networks")
        for index, item in enumerate(ck.listing(adv["networks"], nkey)):
            ikey = join(nkey, index)
            if isinstance(item, str):
                network_roles.add(item)
                continue
            net = ck.mapping(item, ikey, "`{id: int-net, role: network_interface}` or a role")
            roles = _roles_of(net, ikey, ck)
            network_roles.update(roles)
            if "id" in net:
                ident = ck.text(net["id"], join(ikey, "id"), "a network id")
                if ident in ids:
                    raise ck.error(join(ikey, "id"), f"network id '{ident}' is given twice",
                                   "give each network its own id")
                ids[ident] = roles

    mkey = join(key, "machines")
    if adv.get("machines") is None:
        raise ck.error(key, "no machines in provider.resources",
                       "add `machines: [{role: control, cluster: NAME, nodes: 1}, ...]`")
    entries = ck.listing(adv["machines"], mkey, "`[{role: control, nodes: 1}]`")
    if not entries:
        raise ck.error(mkey, "the list of machines is empty",
                       "add `- {role: control, nodes: 1}` and the like")
    out: list[MachineSpec] = []
    for index, item in enumerate(entries):
        ikey = join(mkey, index)
        entry = ck.mapping(item, ikey, "`{role: control, nodes: 1, cluster: paravance}`")
        ck.known_keys(entry, ikey, MACHINE_KEYS)
        roles = _roles_of(entry, ikey, ck)
        if "nodes" in entry and "number" in entry:
            raise ck.error(join(ikey, "number"), "both nodes and number are given",
                           "keep one of them")
        count_key = "nodes" if "nodes" in entry else "number"
        number = ck.count(entry[count_key], join(ikey, count_key)) if count_key in entry else 1
        label_key = next((k for k in _LABEL_KEYS if k in entry), None)
        label = ck.string(entry[label_key], join(ikey, label_key)) if label_key else None
        for other in _LABEL_KEYS:  # a second label key (cluster and flavour) is a name too
            if other in entry and other != label_key:
                ck.string(entry[other], join(ikey, other), "a name")
        if "flavour_desc" in entry:
            _flavour_desc(entry["flavour_desc"], join(ikey, "flavour_desc"), ck)
        networks = _machine_networks(entry, ikey, ids, network_roles, ck)
        extra = {k: v for k, v in entry.items() if k not in _CONSUMED and k != label_key}
        out.append(MachineSpec(roles, number, label=label, networks=networks, extra=extra))
    return out


def _flavour_desc(value: Any, key: str, ck: Checker) -> None:
    desc = ck.mapping(value, key, "`{core: 4, mem: 4096}`")
    for name in ("core", "mem"):
        if name not in desc:
            raise ck.error(key, f"flavour_desc has no '{name}'",
                           "write `flavour_desc: {core: 4, mem: 4096}` (mem in MiB)")
        ck.integer(desc[name], join(key, name), 1)


def _machine_networks(
    entry: dict[Any, Any], key: str, ids: dict[str, list[str]], roles: set[str], ck: Checker
) -> list[str]:
    """The network roles of a machine entry; network ids are resolved to their roles."""
    if "networks" in entry:
        if "primary_network" in entry or "secondary_networks" in entry:
            raise ck.error(join(key, "networks"),
                           "networks and primary_network/secondary_networks are both given",
                           "keep one form")
        names = [(n, join(key, f"networks.{i}")) for i, n in
                 enumerate(ck.strings(entry["networks"], join(key, "networks")))]
    else:
        names = []
        if entry.get("primary_network") is not None:
            pkey = join(key, "primary_network")
            names.append((ck.string(entry["primary_network"], pkey, "a network id"), pkey))
        if entry.get("secondary_networks") is not None:
            skey = join(key, "secondary_networks")
            names.extend((n, join(skey, i)) for i, n in
                         enumerate(ck.strings(entry["secondary_networks"], skey)))
    out: list[str] = []
    for name, nkey in names:
        if name in ids:
            resolved = ids[name]
        elif ids and name not in roles:
            raise ck.error(nkey, f"no network with id '{name}' in provider.resources.networks",
                           f"known ids: {', '.join(ids)}")
        else:
            resolved = [name]
        out.extend(role for role in resolved if role not in out)
    return out


# -- networks ------------------------------------------------------------------------------
def network(value: Any, key: str, ck: Checker, default_roles: list[str] | None = None
            ) -> dict[str, Any]:
    """One network mapping (cidr, roles, gateway, dns, start, end, extra_ips), checked."""
    import ipaddress

    net = ck.mapping(value, key, "`{cidr: 10.0.0.0/24, roles: [network_interface]}`")
    ck.known_keys(net, key, NETWORK_KEYS, warn=True)
    out = dict(net)
    if "role" in net or "roles" in net:
        out["roles"] = _roles_of(net, key, ck)
        out.pop("role", None)
    elif default_roles is not None:
        out["roles"] = list(default_roles)
    else:
        raise ck.error(key, "the network has no roles",
                       "add `roles: [network_interface]` (or neutron_external_interface)")
    if net.get("cidr") is None:
        raise ck.error(key, "the network has no cidr", "add `cidr: 192.168.0.0/24`")
    cidr_key = join(key, "cidr")
    cidr = ck.string(net["cidr"], cidr_key, "a network address such as 192.168.0.0/24")
    try:
        subnet = ipaddress.ip_network(cidr, strict=False)
    except ValueError as exc:
        raise ck.error(cidr_key, f"not a network address: {exc}",
                       "write it as ADDRESS/PREFIX, e.g. 192.168.0.0/24") from None
    addresses = {}
    for name in ("gateway", "start", "end"):
        if net.get(name) is not None:
            addresses[name] = _address(net[name], join(key, name), ck)
            out[name] = str(addresses[name])
    if ("start" in addresses and "end" in addresses
            and addresses["start"].version != addresses["end"].version):
        raise ck.error(join(key, "end"), f"the pool starts with an IPv{addresses['start'].version}"
                       f" address and ends with an IPv{addresses['end'].version} one",
                       "give start and end of the same IP version, in the cidr")
    if "start" in addresses and "end" in addresses and addresses["start"] > addresses["end"]:
        raise ck.error(join(key, "end"), f"the pool ends ({out['end']}) before it starts "
                       f"({out['start']})", "swap start and end")
    for name, address in addresses.items():
        if address.version != subnet.version or address not in subnet:
            ck.warn(join(key, name), f"{address} is not in {cidr}")
    if net.get("dns") is not None:
        dns = net["dns"]
        out["dns"] = ck.string(dns, join(key, "dns"), "a DNS server address") \
            if not isinstance(dns, list) else ck.strings(dns, join(key, "dns"), "DNS servers")
    if net.get("extra_ips") is not None:
        ekey = join(key, "extra_ips")
        items = ck.strings(net["extra_ips"], ekey, "addresses")
        out["extra_ips"] = [str(_address(ip, join(ekey, i), ck)) for i, ip in enumerate(items)]
    if net.get("extra") is not None:
        ck.mapping(net["extra"], join(key, "extra"))
    return out


def _address(value: Any, key: str, ck: Checker) -> Any:
    import ipaddress

    text = ck.string(value, key, "an IP address")
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        raise ck.error(key, f"'{text}' is not an IP address",
                       "write an address such as 192.168.0.1") from None


def networks(value: Any, key: str, ck: Checker) -> list[dict[str, Any]]:
    """A list of networks, one of which carries network_interface."""
    items = ck.listing(value, key, "`[{cidr: 10.0.0.0/24, roles: [network_interface]}]`")
    out = [network(item, join(key, index), ck) for index, item in enumerate(items)]
    if not any(NETWORK_INTERFACE in net["roles"] for net in out):
        raise ck.error(key, f"no network has the role {NETWORK_INTERFACE}",
                       f"add `{NETWORK_INTERFACE}` to the roles of the network the hosts "
                       "reach each other on")
    return out


def static_networks(user: dict[str, Any], ck: Checker) -> None:
    """Normalize the static provider's networks in ``user`` (its ``provider:`` mapping).

    The older form ``network: {cidr, gateway, dns, start, end, extra_ips}`` with
    ``eths: [IFACE, IFACE]`` becomes one network with both roles network_interface and
    neutron_external_interface; ``eths`` is kept as given (the interface names, in that order).
    """
    if "eths" in user and user["eths"] is not None:
        eths = ck.strings(user["eths"], "provider.eths", "interface names")
        if not 1 <= len(eths) <= 2:
            raise ck.error("provider.eths", f"expected one or two interface names, got "
                           f"{len(eths)}", "write `eths: [eth1, eth2]` (network_interface, "
                           "neutron_external_interface)")
        user["eths"] = eths
    if "network" in user:
        if "networks" in user:
            raise ck.error("provider.network", "both network and networks are given",
                           "keep `networks:` (a list of networks with their roles)")
        net = network(user.pop("network"), "provider.network", ck,
                      default_roles=[NETWORK_INTERFACE, NEUTRON_EXTERNAL_INTERFACE])
        user["networks"] = [net]
    elif user.get("networks") is not None:
        user["networks"] = networks(user["networks"], "provider.networks", ck)
    else:
        raise ck.error("provider", "the static provider needs the networks its hosts are on",
                       "add under provider: `networks: [{cidr: 192.168.0.0/24, roles: "
                       "[network_interface], gateway: ..., dns: ..., start: ..., end: ...}]`")


# -- static hosts --------------------------------------------------------------------------
def static_hosts(value: Any, user: str, cwd: Path, ck: Checker, key: str = "resources",
                 group: str | None = None) -> dict[str, list[dict[str, Any]]]:
    """``{ROLE: [HOST, ...]}`` or ``{ROLE: HOST}``: the hosts of each role, checked. With a
    ``group`` (a topology group), each host entry records it under ``group``."""
    rsc = ck.mapping(value, key, "`{control: [{address: 10.0.0.1}]}`")
    out: dict[str, list[dict[str, Any]]] = {}
    for role, hosts in rsc.items():
        rkey = join(key, role)
        role = _name(role, rkey, ck, "a role name")
        if isinstance(hosts, dict):
            hosts = [hosts]
        if not isinstance(hosts, list):
            raise ck.error(rkey, f"expected the hosts of role '{role}', got "
                           f"{type_name(hosts)}",
                           "the static provider lists hosts: `control: [{address: 10.0.0.1}]`, "
                           "`control: {address: 10.0.0.1}` or `control: [*id001]` with an "
                           "anchor in `hosts:`")
        if not hosts:
            raise ck.error(rkey, f"no host for role '{role}'", "list at least one host")
        out[role] = [_host(host, join(rkey, i), user, cwd, ck) for i, host in enumerate(hosts)]
        if group is not None:
            for entry in out[role]:
                entry["group"] = group
    return out


def _host(value: Any, key: str, user: str, cwd: Path, ck: Checker) -> dict[str, Any]:
    host = ck.mapping(value, key, "`{address: 10.0.0.1, alias: node-1, user: root}`")
    unknown = ck.known_keys(host, key, HOST_KEYS)
    if host.get("address") is None:
        raise ck.error(key, "the host has no address", "add `address: IP_OR_NAME`")
    address = ck.text(host["address"], join(key, "address"), "an address")
    extra = dict(ck.mapping(host["extra"], join(key, "extra"))) if host.get("extra") else {}
    extra.update({name: host[name] for name in unknown})
    keyfile = None
    if host.get("keyfile") is not None:
        kkey = join(key, "keyfile")
        text = ck.string(host["keyfile"], kkey, "a path to a private key")
        try:
            path = Path(text).expanduser()
            path = path if path.is_absolute() else cwd / path
            exists = len(str(path)) < 4000 and path.exists()
        except (RuntimeError, OSError) as exc:
            raise ck.error(kkey, f"cannot use the key path: {exc}",
                           "write the path without '~USER', and shorter") from None
        if not exists:
            ck.warn(kkey, f"no key file at {path} (yet)")
        keyfile = str(path)
    return {
        "address": address,
        "alias": ck.text(host["alias"], join(key, "alias"), "a name")
        if host.get("alias") is not None else address,
        "user": ck.string(host["user"], join(key, "user"), "a user name")
        if host.get("user") is not None else user,
        "keyfile": keyfile,
        "port": ck.integer(host["port"], join(key, "port"), 1, 65535)
        if host.get("port") is not None else 22,
        "extra": extra,
    }
