"""Provider ``local``: hosts made of Linux network namespaces on this machine.

Each host is a network namespace with one veth per network role (``eth0`` on the
``network_interface`` network, ``eth1`` on ``neutron_external_interface``...), each plugged into
a bridge of the root namespace that holds the network's gateway address. A default route goes
through the first network's gateway. Every host runs its own sshd on its address, all of them
under one supervisor per experiment, and accepts the experiment's key. Downstream, a local host
looks like any other host reached over SSH.

Hosts share this machine's filesystem: each one gets a private root directory
(``<experiment>/hosts/<alias>``, the ``enos_root`` host variable) for whatever a deployer writes.

Names are derived from a short id of the experiment directory, so two experiments on one
machine never share a namespace or a bridge; their address ranges must differ
(``provider.networks``).
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from enos.config import resources as res
from enos.config.spec import machine_aliases
from enos.errors import EnosError
from enos.model import Host, Network, Resources
from enos.providers.base import Provider
from enos.utils.fs import atomic_write, write_private

if TYPE_CHECKING:
    from enos.config.checks import Checker
    from enos.config.spec import Config
    from enos.experiment import Experiment
    from enos.output import Output

DEFAULTS: dict[str, Any] = {
    # The networks the hosts are attached to, one bridge each. Host addresses are taken from
    # the start of the range, the upper half is left free for VIPs and floating IPs.
    "networks": [
        {"roles": ["network_interface"], "cidr": "172.29.0.0/22"},
        {"roles": ["neutron_external_interface"], "cidr": "172.29.8.0/22"},
    ],
    "user": "root",
}

SSHD = "/usr/sbin/sshd"
# A local host's root logs in like a fresh machine's: the shell start-up files of this
# machine's root (``~/.bashrc``, ``~/.profile``: a developer's pyenv, conda, prompt...) are
# hidden, in the sshd's own mount namespace, behind the distribution's defaults. Every Ansible
# task is a non-interactive ``bash -c`` that sources ``~/.bashrc`` when run by sshd; on a
# shared filesystem whatever that file runs is shared by every host, and one stale lock of it
# (``pyenv rehash`` killed with a host) made each SSH command wait a minute.
SHELL_FILES = (".bashrc", ".profile", ".bash_profile", ".bash_login")
FRESH_SHELL = """for f in {files}; do
  [ -e "$HOME/$f" ] || continue
  if [ -e "/etc/skel/$f" ]; then src="/etc/skel/$f"; else src=/dev/null; fi
  mount --bind "$src" "$HOME/$f" || echo "enos: $HOME/$f stays visible to the host" >&2
done
exec "$@"
"""
FIRST_HOST_OFFSET = 10  # .1 is the gateway; hosts start at .10


MIN_PREFIX, MAX_PREFIX = 16, 28


def check_networks(section: dict[str, Any], ck: Checker) -> None:
    """``provider.networks``: IPv4 ranges of /16 to /28, one with network_interface, each
    role once, no overlap. Normalized in place (by :func:`enos.config.resources.networks`)."""
    key = "provider.networks"
    if "networks" not in section:
        return
    nets = res.networks(section["networks"], key, ck)
    if not nets:
        raise ck.error(key, "no network given", "remove provider.networks to use the defaults")
    seen_roles: set[str] = set()
    parsed: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
    for i, raw in enumerate(nets):
        nkey = f"{key}.{i}"
        net = ipaddress.ip_network(str(raw["cidr"]), strict=False)
        if str(net) != str(raw["cidr"]).strip():
            raise ck.error(f"{nkey}.cidr", f"{raw['cidr']} has host bits set",
                           f"write the network address: {net}")
        if net.version != 4 or not MIN_PREFIX <= net.prefixlen <= MAX_PREFIX:
            raise ck.error(f"{nkey}.cidr", f"{net} is not an IPv4 range of /{MIN_PREFIX} to "
                           f"/{MAX_PREFIX}", "use e.g. 172.29.0.0/22")
        twice = seen_roles & set(raw["roles"])
        if twice:
            raise ck.error(f"{nkey}.roles", f"role(s) {', '.join(sorted(twice))} given twice",
                           "give each network role to one network")
        seen_roles |= set(raw["roles"])
        for j, other in enumerate(parsed):
            if net.overlaps(other):
                raise ck.error(f"{nkey}.cidr", f"{net} overlaps {other} ({key}.{j})",
                               "give each network its own range")
        parsed.append(net)
    section["networks"] = nets


def _host_ip(net: ipaddress.IPv4Network, n: int) -> ipaddress.IPv4Address:
    """The ``n``-th usable address of ``net`` (0 is the gateway), by arithmetic."""
    return net.network_address + 1 + n


def _networks(config: Config) -> list[Network]:
    """The networks of the (checked) provider section, with their gateway and free pool."""
    out: list[Network] = []
    for raw in config.provider["networks"]:
        net = ipaddress.ip_network(str(raw["cidr"]))
        assert isinstance(net, ipaddress.IPv4Network)
        usable = net.num_addresses - 2
        out.append(Network(
            roles=[str(r) for r in raw["roles"]],
            cidr=str(net),
            gateway=str(_host_ip(net, 0)),
            dns=raw.get("dns"),
            start=str(raw.get("start") or _host_ip(net, usable // 2)),
            end=str(raw.get("end") or _host_ip(net, usable - 1)),
        ))
    return out


# -- names --------------------------------------------------------------------------------------
def experiment_id(env: Experiment) -> str:
    return hashlib.sha1(str(env.path).encode()).hexdigest()[:6]


def _names(eid: str, index: int, n_nets: int) -> dict[str, Any]:
    return {
        "netns": f"enos-{eid}-{index}",
        "veths": [f"e{eid}{n}h{index}" for n in range(n_nets)],
    }


def _bridge(eid: str, n: int) -> str:
    return f"eb{eid}{n}"


def _aliases(config: Config) -> list[tuple[str, list[str], str | None]]:
    """(alias, roles, group) for every machine (see :func:`enos.config.spec.machine_aliases`)."""
    return [(alias, list(spec.roles), spec.group)
            for alias, spec in machine_aliases(config.machines)]


# -- running ip -----------------------------------------------------------------------------------
def _run(*argv: str, check: bool = True, inp: str | None = None) -> subprocess.CompletedProcess:
    proc = subprocess.run(list(argv), input=inp, capture_output=True, text=True, check=False)
    if check and proc.returncode != 0:
        raise EnosError(
            f"'{' '.join(argv[:6])}{' ...' if len(argv) > 6 else ''}' failed: "
            f"{(proc.stderr or proc.stdout).strip()}",
            "the local provider needs root and the iproute2 tools (run install.sh)",
        )
    return proc


def _quoted(path: Path) -> str:
    """A path as the alias of a link (at most 255 bytes, no quote or newline)."""
    text = str(path).replace('"', "?").replace("\n", "?").replace("\\", "?")
    return text[-(255 - len(ALIAS_PREFIX)):]


def _ip_batch(lines: list[str]) -> None:
    if lines:
        _run("ip", "-batch", "-", inp="\n".join(lines) + "\n")


def existing_netns() -> set[str]:
    out = _run("ip", "netns", "list", check=False).stdout
    return {line.split()[0] for line in out.splitlines() if line.strip()}


def _existing_links() -> set[str]:
    out = _run("ip", "-o", "link", "show", check=False).stdout
    names = set()
    for line in out.splitlines():
        parts = line.split(":", 2)
        if len(parts) > 1:
            names.add(parts[1].strip().split("@")[0])
    return names


# A bridge's alias names the experiment that owns it (``ip link`` shows it as ``alias``).
ALIAS_PREFIX = "enos experiment "


def _routes(own_bridges: set[str]) -> list[tuple[ipaddress.IPv4Network, str, str]]:
    """This machine's IPv4 routes that are not ours: (range, route line, holder), the holder
    being the experiment directory an enos bridge's alias names, or ''."""
    holders: dict[str, str] = {}
    for line in _run("ip", "-o", "link", "show", check=False).stdout.splitlines():
        if f"alias {ALIAS_PREFIX}" in line:
            name = line.split(":", 2)[1].strip().split("@")[0]
            holders[name] = line.split(f"alias {ALIAS_PREFIX}", 1)[1].split("\\")[0].strip()
    out = []
    for line in _run("ip", "-o", "-4", "route", "show", check=False).stdout.splitlines():
        parts = line.split()
        if not parts or parts[0] == "default":
            continue
        dev = parts[parts.index("dev") + 1] if "dev" in parts else ""
        if dev in own_bridges:
            continue
        try:
            route = ipaddress.ip_network(parts[0], strict=False)
        except ValueError:
            continue
        if isinstance(route, ipaddress.IPv4Network):
            out.append((route, line.strip(), holders.get(dev, "")))
    return out


def _check_routes(networks: list[Network], own_bridges: set[str]) -> None:
    """Refuse a range that overlaps a route of this machine that is not ours, naming the
    experiment that holds it when it is one."""
    for route, line, holder in _routes(own_bridges):
        for net in networks:
            if ipaddress.ip_network(net.cidr).overlaps(route):
                who = f"the experiment {holder}" if holder else \
                    "a network of this machine (not an enos experiment's)"
                raise EnosError(
                    f"the local network {net.cidr} ({', '.join(net.roles)}) overlaps the route "
                    f"'{line}' of {who}",
                    "give this experiment other ranges under provider.networks"
                    + (f", or destroy that experiment ('enos -e {holder} destroy --hard')"
                       if holder else ""),
                )


# The default ranges are moved, pair after pair, until one is free: 16 places in 172.29/16,
# then as many in 172.28/16 ... 172.20/16.
DEFAULT_PLACES = 160


def _free_defaults(networks: list[Network], own_bridges: set[str]) -> list[Network]:
    """The default networks moved to the first place no route of this machine overlaps."""
    routes = [route for route, _line, _holder in _routes(own_bridges)]
    for place in range(DEFAULT_PLACES):
        shift = -(place // 16) * 65536 + (place % 16) * 16 * 256
        moved = []
        for net in networks:
            cidr = ipaddress.IPv4Network(net.cidr)
            new = ipaddress.IPv4Network((int(cidr.network_address) + shift, cidr.prefixlen))
            moved.append(Network(
                roles=net.roles, cidr=str(new), gateway=str(_host_ip(new, 0)), dns=net.dns,
                start=str(ipaddress.IPv4Address(int(ipaddress.IPv4Address(net.start or 0))
                                                + shift)),
                end=str(ipaddress.IPv4Address(int(ipaddress.IPv4Address(net.end or 0))
                                              + shift))))
        if not any(ipaddress.IPv4Network(m.cidr).overlaps(r) for m in moved for r in routes):
            return moved
    raise EnosError("no free place for the default local networks on this machine (other "
                    "experiments hold them all)",
                    "give ranges under provider.networks, or destroy other experiments")


# -- keys ---------------------------------------------------------------------------------------
def ensure_keys(env: Experiment) -> Path:
    """The experiment's SSH client key pair and host key, created once with mode 0600."""
    keys = env.keys_dir
    keys.mkdir(mode=0o700, parents=True, exist_ok=True)
    keys.chmod(0o700)
    for name in ("id_ed25519", "ssh_host_ed25519_key"):
        if not (keys / name).exists():
            tmp = keys / f".{name}.tmp"
            for leftover in (tmp, tmp.with_name(tmp.name + ".pub")):
                leftover.unlink(missing_ok=True)
            _run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"enos-{name}",
                 "-f", str(tmp))
            (tmp.with_name(tmp.name + ".pub")).replace(keys / f"{name}.pub")
            tmp.chmod(0o600)
            tmp.replace(keys / name)
    # The experiment's key, plus the keys of the user running enos, so that a plain
    # `ssh -l root ADDRESS` works as on other testbeds.
    pubs = [(keys / "id_ed25519.pub").read_text().strip()]
    for own in sorted((Path.home() / ".ssh").glob("id_*.pub")):
        try:
            pubs.append(own.read_text().strip())
        except OSError:
            continue
    write_private(keys / "authorized_keys", "\n".join(pubs) + "\n")
    return keys / "id_ed25519"


def _chosen(config: Config, networks: list[Network], previous: Resources | None,
            own_bridges: set[str]) -> list[Network]:
    """The networks given, else the default ones the experiment has, else the first free
    place of the defaults."""
    if "networks" in config.raw.get("provider", {}):
        return networks
    if previous is not None and previous.networks:
        return list(previous.networks)
    return _free_defaults(networks, own_bridges)


# -- the provider interface ---------------------------------------------------------------------
def init(config: Config, env: Experiment, force: bool = False, progress: Any = None) -> Resources:
    """Create (or repair) the namespaces, bridges, veths, addresses and sshds of the hosts."""
    if shutil.which(SSHD) is None and not Path(SSHD).exists():
        raise EnosError(f"{SSHD} is missing: local hosts run their own sshd",
                        "install openssh-server (install.sh does)")
    eid = experiment_id(env)
    networks = _networks(config)
    machines = _aliases(config)
    previous = env.resources
    if force and previous is not None:
        destroy(config, env, previous)
        previous = None

    bridges = [_bridge(eid, n) for n in range(len(networks))]
    links = _existing_links()
    networks = _chosen(config, networks, previous, set(bridges))
    _check_routes(networks, set(bridges))
    key = ensure_keys(env)

    # Reuse the addresses of hosts that exist already, so a rerun converges on the same hosts.
    prev_hosts = {h.alias: h for h in previous.hosts} if previous else {}
    cidrs = [ipaddress.IPv4Network(n.cidr) for n in networks]
    for n, net in enumerate(networks):
        pool_start = int(ipaddress.IPv4Address(net.start or 0))
        if int(_host_ip(cidrs[n], FIRST_HOST_OFFSET - 1 + len(machines))) > pool_start:
            raise EnosError(
                f"{len(machines)} hosts do not fit below the free pool of {net.cidr}",
                "use a larger cidr under provider.networks",
            )

    batch: list[str] = []
    for n, br in enumerate(bridges):
        if br not in links:
            batch.append(f"link add {br} type bridge")
        gw = networks[n].gateway
        prefix = ipaddress.ip_network(networks[n].cidr).prefixlen
        batch.append(f"addr replace {gw}/{prefix} dev {br}")
        batch.append(f'link set {br} alias "{ALIAS_PREFIX}{_quoted(env.path)}"')
        batch.append(f"link set {br} up")
    _ip_batch(batch)

    existing = existing_netns()
    hosts: list[Host] = []
    batch = []
    per_ns: list[tuple[str, list[str]]] = []
    for index, (alias, roles, group) in enumerate(machines):
        names = _names(eid, index, len(networks))
        ns = names["netns"]
        root = env.path / "hosts" / alias
        root.mkdir(parents=True, exist_ok=True)
        host = Host(
            alias=alias,
            address=str(_host_ip(cidrs[0], FIRST_HOST_OFFSET - 1 + index)),
            user=str(config.provider.get("user", "root")),
            keyfile=str(key),
            roles=roles,
            groups=[group] if group else [],
            extra={"netns": ns, "enos_root": str(root)},
        )
        if ns not in existing:
            _run("ip", "netns", "add", ns)
        ns_cmds = ["link set lo up"]
        for n, net in enumerate(networks):
            iface = f"eth{n}"
            addr = str(_host_ip(cidrs[n], FIRST_HOST_OFFSET - 1 + index))
            prefix = ipaddress.ip_network(net.cidr).prefixlen
            for role in net.roles:
                host.interfaces[role] = iface
                host.addresses[role] = addr
            veth = names["veths"][n]
            if veth not in links:
                batch.append(f"link add {veth} type veth peer name {iface} netns {ns}")
            batch.append(f"link set {veth} master {bridges[n]} up")
            ns_cmds.append(f"addr replace {addr}/{prefix} dev {iface}")
            ns_cmds.append(f"link set {iface} up")
        ns_cmds.append(f"route replace default via {networks[0].gateway} dev eth0")
        per_ns.append((ns, ns_cmds))
        hosts.append(host)
        if alias in prev_hosts and prev_hosts[alias].address != host.address:
            raise EnosError(
                f"host {alias} had address {prev_hosts[alias].address}, now {host.address}: "
                "the resources changed since 'enos up'",
                "run 'enos up --force-deploy' to start from fresh machines",
            )
    _ip_batch(batch)
    for ns, cmds in per_ns:
        _run("ip", "-n", ns, "-batch", "-", inp="\n".join(cmds) + "\n")
        if progress:
            progress(1)

    _start_sshds(env, hosts)
    return Resources(
        hosts=hosts,
        networks=networks,
        provider_state={"id": eid, "bridges": bridges},
    )


def _supervisor_dir(env: Experiment) -> Path:
    return env.path / "supervisor"


def _supervisor(env: Experiment, action: str) -> dict[str, Any]:
    from enos import supervisor
    from enos.ansible.runner import death_signal

    # The client dies with enos: killed enos must not leave one to start sshds after a destroy.
    proc = subprocess.run(
        [sys.executable, supervisor.__file__, "--dir", str(_supervisor_dir(env)), action],
        capture_output=True, text=True, check=False,
        preexec_fn=death_signal(),
    )
    if proc.returncode not in (0, 3):
        raise EnosError(f"the supervisor of {env.path.name}'s hosts failed: "
                        f"{(proc.stderr or proc.stdout).strip()[-500:]}",
                        f"see {_supervisor_dir(env) / 'supervisor.log'}")
    try:
        return json.loads(proc.stdout)
    except ValueError:
        return {}


def _start_sshds(env: Experiment, hosts: list[Host]) -> None:
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    keys = env.keys_dir
    programs = _supervisor_dir(env) / "programs"
    programs.mkdir(parents=True, exist_ok=True)
    wanted = set()
    for host in hosts:
        root = Path(host.extra["enos_root"])
        (root / "log").mkdir(parents=True, exist_ok=True)
        spec = {
            "argv": [
                # `ip netns exec` gives the sshd a mount namespace of its own (a slave of
                # this machine's), so the bind mounts are seen by the host's sessions only.
                "sh", "-c", FRESH_SHELL.format(files=" ".join(SHELL_FILES)), "enos-host-shell",
                SSHD, "-D", "-e", "-f", "/dev/null",
                "-o", f"ListenAddress={host.address}",
                "-o", f"HostKey={keys / 'ssh_host_ed25519_key'}",
                "-o", f"AuthorizedKeysFile={keys / 'authorized_keys'}",
                "-o", f"PidFile={root / 'sshd.pid'}",
                "-o", "PermitRootLogin=prohibit-password",
                "-o", "PasswordAuthentication=no",
                "-o", "StrictModes=no",
                "-o", "UsePAM=no",
                "-o", "UseDNS=no",
                "-o", "MaxStartups=200",
                "-o", "MaxSessions=200",
                "-o", "Subsystem=sftp internal-sftp",
            ],
            "netns": host.extra["netns"],
            "env": {"HOME": _home(str(host.user))},
            "log": str(root / "log" / "sshd.log"),
            "priority": 0,
        }
        name = f"sshd-{host.alias}"
        wanted.add(name)
        path = programs / f"{name}.json"
        data = json.dumps(spec, indent=2, sort_keys=True)
        if not path.exists() or path.read_text() != data:
            atomic_write(path, data)
    for path in programs.glob("sshd-*.json"):
        if path.stem not in wanted:
            path.unlink()
    status = _supervisor(env, "up")
    failed = [n for n, p in status.get("programs", {}).items() if p.get("state") == "failed"]
    if failed:
        raise EnosError(f"sshd did not start for {', '.join(failed)}",
                        f"see {hosts[0].extra['enos_root']}/log/sshd.log")
    _wait_ports(hosts)


def _home(user: str) -> str:
    import pwd

    try:
        return pwd.getpwnam(user).pw_dir
    except KeyError:
        return "/root"


def _wait_ports(hosts: list[Host], timeout: float = 20.0) -> None:
    import socket

    deadline = time.time() + timeout
    pending = list(hosts)
    while pending and time.time() < deadline:
        still = []
        for host in pending:
            try:
                with socket.create_connection((host.address, host.port), timeout=0.5):
                    pass
            except OSError:
                still.append(host)
        pending = still
        if pending:
            time.sleep(0.1)
    if pending:
        raise EnosError(
            f"sshd of {', '.join(h.alias for h in pending)} does not answer on port 22",
            f"see {pending[0].extra['enos_root']}/log/sshd.log, then rerun 'enos up'",
        )


def _stop_processes_in(namespaces: list[str], timeout: float = 10.0) -> None:
    """SIGTERM every process of these namespaces, then SIGKILL what is left after ``timeout``."""
    import os
    import signal

    pids: set[int] = set()
    for ns in namespaces:
        out = _run("ip", "netns", "pids", ns, check=False).stdout
        pids |= {int(p) for p in out.split() if p.isdigit()}
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.time() + (timeout if sig == signal.SIGTERM else 2.0)
        while pids and time.time() < deadline:
            pids = {p for p in pids if _running(p)}
            if pids:
                time.sleep(0.1)
        if not pids:
            return


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def destroy(config: Config | None, env: Experiment, resources: Resources | None) -> None:
    """Remove the sshds, namespaces, veths and bridges of the experiment. Safe to rerun."""
    sup = _supervisor_dir(env)
    if sup.exists():
        _supervisor(env, "shutdown")
        shutil.rmtree(sup / "programs", ignore_errors=True)
    eid = (resources.provider_state.get("id") if resources else None) or experiment_id(env)
    ours = [ns for ns in sorted(existing_netns()) if ns.startswith(f"enos-{eid}-")]
    # Whatever still runs inside the hosts (a deployment interrupted before it could be
    # stopped) would keep the namespaces alive: stop it, by PID, before deleting them.
    _stop_processes_in(ours)
    for ns in ours:
        _run("ip", "netns", "delete", ns, check=False)
    batch = []
    for link in _existing_links():
        if link.startswith(f"eb{eid}") or (link.startswith(f"e{eid}") and "h" in link[7:]):
            batch.append(f"link delete {link}")
    for line in batch:
        _run("ip", *line.split(), check=False)


class LocalProvider(Provider):
    """Hosts made of network namespaces on this machine (see the module's documentation)."""

    label = "any label (cluster, size or flavor names are accepted and ignored)"
    defaults: ClassVar[dict[str, Any]] = DEFAULTS
    default_deployer = "native"
    shares_machine = True
    takes_role_counts = True

    def check_section(self, section: dict[str, Any], ck: Checker) -> None:
        check_networks(section, ck)

    def validate(self, config: Config) -> None:
        """The hosts must fit below the free pool of every network."""
        count = sum(spec.number for spec in config.machines)
        for index, net in enumerate(_networks(config)):
            cidr = ipaddress.IPv4Network(net.cidr)
            room = int(ipaddress.IPv4Address(net.start or 0)) - int(
                _host_ip(cidr, FIRST_HOST_OFFSET - 1))
            if count > room:
                key = f"provider.networks.{index}" if "networks" in config.raw.get(
                    "provider", {}) else "resources"
                raise config.error(
                    key, f"{count} hosts do not fit in {net.cidr} ({room} addresses below its "
                    "free pool)", "ask for fewer machines, or give a larger cidr under "
                    "provider.networks")

    def init(self, config: Config, exp: Experiment, out: Output,
             force: bool = False) -> Resources:
        return init(config, exp, force=force)

    def destroy(self, config: Config | None, exp: Experiment, resources: Resources | None,
                out: Output) -> None:
        destroy(config, exp, resources)
