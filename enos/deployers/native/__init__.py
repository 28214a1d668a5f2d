"""The ``native`` deployer: OpenStack services as supervised processes, installed from PyPI.

On each host of the inventory, following its Kolla-style service groups (mariadb, rabbitmq,
memcached, keystone, glance-api, placement-api, nova-api, nova-conductor, nova-scheduler,
nova-compute, neutron-server), the playbooks in ``playbooks/`` install Debian's MariaDB,
RabbitMQ and memcached, one OpenStack virtualenv pinned by ``files/constraints/SERIES.txt``
(built once per machine and release under ``/var/cache/enos``), write every configuration,
state and log under the host's ``enos_root``, and run every service under
``enos/supervisor.py`` inside the host's network namespace, bound to the host's
``enos_address``. Nova uses the fake virt
driver; Neutron's ML2 binds every port with the ``enos_bind_all`` mechanism driver
(``files/enos_ml2``), so no agent is needed.

Configuration (``deployer:`` in reservation.yaml)::

    deployer:
      type: native
      release: 2026.2      # the OpenStack series (see RELEASES); the newest by default
      fake_computes: 1     # nova-compute services per compute host
      nodes_per_compute: 1 # fake nodes (hypervisors) per nova-compute service
      api_workers: 2       # uwsgi processes per API
      vip: 172.29.3.254    # the APIs' virtual address with several API hosts (else chosen)
      horizon: true        # the dashboard on the first host of the horizon group (control)

With several hosts in an API group (keystone, glance-api, placement-api, nova-api,
neutron-server: ``control: 2``), the APIs run on each of them and HAProxy + keepalived (Debian's
packages, supervised) on each put one virtual address in front of them, as Kolla does: the
catalog, admin-openrc and clouds.yaml use it. The VIP is ``deployer.vip``, else Kolla's
``kolla.kolla_internal_vip_address``, else the first free address of the network_interface
network (see :func:`choose_vip`). MariaDB, RabbitMQ and memcached stay on the first host of
their groups.

The release can also be given as the original Enos does, for Kolla: ``kolla_ref:
stable/2025.2`` or Kolla's ``openstack_release: 2025.2`` (under ``kolla:`` or at the top level);
see :func:`find_release`.
"""

from __future__ import annotations

import gzip
import io
import ipaddress
import json
import os
import secrets
import subprocess
import tarfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import yaml

from enos.deployers.base import ACTIONS, Deployer, Endpoint
from enos.errors import EnosError, did_you_mean
from enos.utils import cache
from enos.utils.cache import cache_dir
from enos.utils.fs import atomic_write, atomic_write_json, write_private

if TYPE_CHECKING:
    from enos.ansible.runner import HostFailure
    from enos.config.checks import Checker
    from enos.config.spec import Config
    from enos.experiment import Experiment
    from enos.model import Host, Network
    from enos.output import Output

HERE = Path(__file__).parent
FILES = HERE / "files"
PLAYBOOKS = HERE / "playbooks"
CONSTRAINTS_DIR = FILES / "constraints"

# The OpenStack series the native deployer ships tested constraints for
# (files/constraints/SERIES.txt), newest first: the first is the default.
RELEASES: dict[str, str] = {
    "2026.2": "keystone 30, glance 33, placement 16, nova 34, neutron 29",
    "2026.1": "keystone 29, glance 32, placement 15, nova 33, neutron 28",
    "2025.2": "keystone 28, glance 31, placement 14, nova 32, neutron 27",
}
DEFAULT_RELEASE = next(iter(RELEASES))
# Kolla's name of its development branch: the newest release here.
ALIASES = {"master": DEFAULT_RELEASE}

# What differs between releases in the playbooks' templates, which read
# ``enos_native.settings.NAME``: the defaults, and per release only what it changes. Empty: the
# three releases run with the same templates, the ML2 driver and helpers unchanged (each was
# deployed and booted a server). A release needing, say, another WSGI module adds it here.
SETTINGS: dict[str, Any] = {}
RELEASE_SETTINGS: dict[str, dict[str, Any]] = {}

# What the virtualenv is installed from (versions come from the release's constraints file).
PACKAGES = [
    "keystone", "glance", "openstack-placement", "nova", "neutron", "python-openstackclient",
    "openstacksdk", "uwsgi", "PyMySQL", "python-memcached", "pymemcache", "horizon",
]

DEFAULT_CONFIG: dict[str, Any] = {
    "type": "native",
    "release": None,
    "fake_computes": 1,
    "nodes_per_compute": 1,
    "api_workers": 2,
    "region": "RegionOne",
    "vip": None,
    "horizon": True,
}

# Tags `enos os --tags` accepts.
TAGS = ["mariadb", "rabbitmq", "memcached", "keystone", "glance", "placement", "nova", "neutron",
        "horizon"]

# Inventory groups the deployment needs at least one host in.
REQUIRED_GROUPS = [
    "mariadb", "rabbitmq", "memcached", "keystone", "glance-api", "placement-api", "nova-api",
    "nova-conductor", "nova-scheduler", "nova-compute", "neutron-server",
]

PASSWORDS = [
    "admin", "rabbitmq", "keystone_db", "glance_db", "placement_db", "nova_db", "neutron_db",
    "glance", "placement", "nova", "neutron", "horizon_secret_key",
]

SERVICE_PORTS = {
    "keystone": ("keystone", 5000, "/v3"),
    "glance": ("glance-api", 9292, ""),
    "placement": ("placement-api", 8778, ""),
    "nova": ("nova-api", 8774, "/v2.1"),
    "neutron": ("neutron-server", 9696, ""),
}

# Horizon's port (Kolla's), on its host's address.
HORIZON_PORT = 80

# Endpoints of the infrastructure: (name, inventory group, kind, URL).
INFRA_ENDPOINTS = [
    ("mariadb", "mariadb", "db", "mysql://{address}:3306"),
    ("rabbitmq", "rabbitmq", "mq", "amqp://{address}:5672"),
    ("memcached", "memcached", "cache", "tcp://{address}:11211"),
    ("rabbitmq", "rabbitmq", "metrics", "http://{address}:15692/metrics"),
]


def pinned(release: str = DEFAULT_RELEASE) -> dict[str, str]:
    """The versions the constraints file of ``release`` pins, by lower-case package name."""
    out = {}
    for line in constraints(release).read_text().splitlines():
        name, sep, version = line.split("#", 1)[0].strip().partition("==")
        if sep:
            out[name.strip().lower()] = version.split(";", 1)[0].strip()
    return out


def constraints(release: str = DEFAULT_RELEASE) -> Path:
    """The constraints file of ``release``: every package of its virtualenv, pinned."""
    return CONSTRAINTS_DIR / f"{release}.txt"


def release_id(release: str = DEFAULT_RELEASE) -> str:
    """A hash of what the virtualenv is made of: a new one means a new virtualenv."""
    return cache.release_id(constraints(release), PACKAGES)


def venv_path(release: str = DEFAULT_RELEASE) -> Path:
    return cache_dir() / f"openstack-{release_id(release)}"


def schemas_path(release: str = DEFAULT_RELEASE) -> Path:
    """Where the databases' schemas of ``release``, freshly migrated, are kept (one dump per
    migration step): a new deployment restores them instead of migrating."""
    return cache_dir() / f"schemas-{release_id(release)}"


def _release_name(value: Any) -> str:
    """``stable/2025.2``, ``2025.2`` (YAML may give a float) or ``master`` -> a series name."""
    text = str(value).strip()
    for prefix in ("stable/", "unmaintained/"):
        text = text.removeprefix(prefix)
    return ALIASES.get(text.lower(), text)


def find_release(data: dict[str, Any], deployer: dict[str, Any]) -> tuple[str, str, Any]:
    """``(release, key, value)``: the release a configuration's ``data`` and ``deployer:``
    section ask for, the key it was read from (dotted) and the value as written; release is ""
    when the value names no release of :data:`RELEASES`.

    Read, first found: ``deployer.release``, Kolla's ``openstack_release`` (under ``kolla:``, or
    at the top level as the original allowed), ``kolla_ref`` (``stable/2025.2``). ``master``
    is the newest release; without any, the newest.
    """
    kolla: dict[str, Any] = data["kolla"] if isinstance(data.get("kolla"), dict) else {}
    sources = [
        ("deployer.release", deployer.get("release")),
        ("kolla.openstack_release", kolla.get("openstack_release")),
        ("openstack_release", data.get("openstack_release")),
        ("kolla_ref", data.get("kolla_ref")),
    ]
    for key, value in sources:
        if value is not None:
            release = _release_name(value)
            return (release if release in RELEASES else "", key, value)
    return DEFAULT_RELEASE, "", None


def unknown_release(value: Any) -> tuple[str, str]:
    """The message and hint of an unknown release."""
    known = ", ".join(f"{r} ({what})" for r, what in RELEASES.items())
    hint = (f"known releases: {known}; {DEFAULT_RELEASE} when none is given (also written "
            f"stable/{DEFAULT_RELEASE}, or master for the newest)")
    return f"unknown OpenStack release {value!r} for the native deployer", hint


def release_of(config: Config) -> str:
    """The OpenStack series of a loaded configuration, one of :data:`RELEASES` (resolved and
    checked when the file was loaded, see :func:`check_options`)."""
    return str(config.deployer.get("release") or DEFAULT_RELEASE)


def settings(release: str) -> dict[str, Any]:
    """The templates' per-release variables of ``release``."""
    return {**SETTINGS, **RELEASE_SETTINGS.get(release, {})}


def python(config: Config | None = None, env: Experiment | None = None) -> Path:
    """The OpenStack virtualenv's python (it has openstacksdk): the deployed one's, else the
    configuration's release's."""
    venv = ((env.state.get("cloud") or {}).get("venv") if env is not None else None)
    if venv:
        return Path(venv) / "bin" / "python"
    release = release_of(config) if config is not None else DEFAULT_RELEASE
    return venv_path(release) / "bin" / "python"


# Bounds of the whole-number options: (low, high).
BOUNDS = {"fake_computes": (1, 1000), "nodes_per_compute": (1, 2000), "api_workers": (1, 64)}
# Fake nodes one compute host may serve (fake_computes x nodes_per_compute): each service of a
# host updates its nodes in turn, and 2000 already take most of this machine's two cores.
MAX_NODES_PER_HOST = 2000


def check_options(section: dict[str, Any], data: dict[str, Any], ck: Checker) -> dict[str, Any]:
    """The ``deployer:`` section (without ``type``) checked, defaults merged: the only place
    the native deployer's options are declared and checked. ``release`` is resolved here
    (see :func:`find_release`), so later phases read ``config.deployer['release']``."""
    ck.known_keys(section, "deployer", DEFAULT_CONFIG, cutoff=0.6)
    unknown = [k for k in section if k not in DEFAULT_CONFIG]
    if unknown:
        raise ck.error(f"deployer.{unknown[0]}", f"unknown key '{unknown[0]}' for the native "
                       "deployer", f"known keys: {', '.join(k for k in DEFAULT_CONFIG)}")
    out = {k: v for k, v in DEFAULT_CONFIG.items() if k != "type"}
    for key, value in section.items():
        if key == "type" or value is None:
            continue
        if key in BOUNDS:
            out[key] = ck.integer(value, f"deployer.{key}", *BOUNDS[key])
        elif key == "horizon":
            out[key] = ck.boolean(value, f"deployer.{key}")
        elif key == "vip":
            continue  # read with kolla_internal_vip_address below
        else:
            out[key] = ck.text(value, f"deployer.{key}", "a name")
    release, key, value = find_release(data, out)
    if not release:
        message, hint = unknown_release(value)
        raise ck.error(key, message, hint)
    out["release"] = release
    check_nodes(out, ck)
    vip, vip_key = find_vip(data, section)
    if vip is not None:
        out["vip"] = check_vip_syntax(vip, vip_key, ck)
    return out


def check_nodes(options: dict[str, Any], ck: Checker) -> None:
    """At most :data:`MAX_NODES_PER_HOST` fake nodes per compute host."""
    services, nodes = int(options["fake_computes"]), int(options["nodes_per_compute"])
    if services * nodes > MAX_NODES_PER_HOST:
        raise ck.error("deployer.nodes_per_compute",
                       f"fake_computes x nodes_per_compute is {services * nodes} fake nodes per "
                       f"compute host, more than {MAX_NODES_PER_HOST}",
                       "give more hosts to the compute role, or fewer nodes: e.g. 1000 "
                       "hypervisors on one host are fake_computes: 10, nodes_per_compute: 100")


def compute_names(groups: dict[str, list[str]], options: dict[str, Any]) -> list[str]:
    """The nova-compute services (their ``host``): ``fake_computes`` per compute host, named
    after the host (``compute-1``, or ``compute-1-c1``.. with several)."""
    n = int(options["fake_computes"])
    out: list[str] = []
    for host in groups["nova-compute"]:
        out += [host] if n == 1 else [f"{host}-c{i}" for i in range(1, n + 1)]
    return out


# -- load balancer (several hosts in an API group) -------------------------------------------
# With several hosts in one of these groups, HAProxy and keepalived run on every host of them
# and the APIs are reached at one virtual address (VIP).
API_GROUPS = ["keystone", "glance-api", "placement-api", "nova-api", "neutron-server"]


def find_vip(data: dict[str, Any], deployer: dict[str, Any]) -> tuple[Any, str]:
    """``(value, key)``: the VIP the configuration gives, as written, and the (dotted) key it
    was read from: ``deployer.vip``, else Kolla's ``kolla.kolla_internal_vip_address`` (as the
    original Enos passed it to Kolla); ``(None, "")`` without one."""
    kolla: dict[str, Any] = data["kolla"] if isinstance(data.get("kolla"), dict) else {}
    for key, value in (("deployer.vip", deployer.get("vip")),
                       ("kolla.kolla_internal_vip_address",
                        kolla.get("kolla_internal_vip_address"))):
        if value is not None:
            return value, key
    return None, ""


def check_vip_syntax(value: Any, key: str, ck: Checker) -> str:
    """An explicit VIP must be an IPv4 address (its network is checked by :func:`choose_vip`
    once the testbed's networks are known)."""
    try:
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise ValueError(value)
        return str(ipaddress.IPv4Address(value.strip() if isinstance(value, str) else value))
    except ValueError:
        raise ck.error(key, f"{value!r} is not an IPv4 address",
                       "give an unused address of the network_interface network (e.g. "
                       "172.29.3.254), or remove the key: the first address of its free pool "
                       "is taken") from None


def lb_hosts(groups: dict[str, list[str]]) -> list[str]:
    """The hosts of HAProxy and keepalived: every host of the API groups, in inventory order,
    when one API group has several hosts; none otherwise (one API host is reached directly)."""
    if not any(len(groups.get(g) or []) > 1 for g in API_GROUPS):
        return []
    out: list[str] = []
    for group in API_GROUPS:
        out += [h for h in groups.get(group) or [] if h not in out]
    return out


def choose_vip(network: Network | None, used: set[str], explicit: str | None) -> str:
    """The VIP of the APIs: ``explicit``, checked to be a host address of ``network`` that no
    host and not the gateway uses; else the first address of the network's free pool
    (``start``..``end``, then ``extra_ips``) that no host uses. Raises :class:`VipError`."""
    if explicit:
        if network is None:
            return explicit
        net = ipaddress.ip_network(network.cidr, strict=False)
        addr = ipaddress.ip_address(explicit)
        if addr not in net:
            raise VipError(f"the VIP {explicit} is not in the network_interface network "
                           f"{network.cidr}", _vip_hint(network))
        if net.num_addresses > 2 and addr in (net.network_address, net.broadcast_address):
            raise VipError(f"the VIP {explicit} is the network or broadcast address of "
                           f"{network.cidr}", _vip_hint(network))
        if explicit == network.gateway or explicit in used:
            who = "the gateway" if explicit == network.gateway else "a host"
            raise VipError(f"the VIP {explicit} is the address of {who} of {network.cidr}",
                           _vip_hint(network))
        return explicit
    if network is not None:
        candidates: list[int | str] = []
        if network.start and network.end:
            first = int(ipaddress.ip_address(network.start))
            last = int(ipaddress.ip_address(network.end))
            # Bounded: at most this many hosts and the gateway can be in the way.
            candidates = list(range(first, min(last, first + len(used) + 1) + 1))
        for value in [*candidates, *network.extra_ips]:
            free = str(ipaddress.ip_address(value))
            if free not in used and free != network.gateway:
                return free
    where = f"the network_interface network {network.cidr}" if network else \
        "the testbed (it describes no network_interface network)"
    raise VipError(f"no free address for the APIs' VIP in {where}",
                   "give one under deployer.vip (an unused address of that network)")


def _vip_hint(network: Network) -> str:
    pool = f" (its free pool: {network.start}..{network.end})" if network.start else ""
    return (f"give an unused address of {network.cidr}{pool}, or remove the key: the first "
            "free address is taken")


class VipError(EnosError):
    """The VIP cannot be used (see :func:`choose_vip`)."""


def resolve_vip(config: Config, exp: Experiment, hostvars: dict[str, Any]) -> str:
    """The VIP of this deployment; a problem with an explicit one names its file and line."""
    from enos.model import NETWORK_INTERFACE

    resources = exp.resources
    network = resources.network(NETWORK_INTERFACE) if resources is not None else None
    used = {host_address(hv) for hv in hostvars.values() if hv.get("enos_address")}
    used |= {str(hv["enos_address"]) for hv in hostvars.values() if hv.get("enos_address")}
    explicit = options(config).get("vip")
    try:
        return choose_vip(network, used, str(explicit) if explicit else None)
    except VipError as exc:
        if not explicit:
            raise
        deployer = config.data.get("deployer")
        _value, key = find_vip(config.data, deployer if isinstance(deployer, dict) else {})
        raise config.error(key or "deployer.vip", exc.message, exc.hint) from None


def program_names() -> list[str]:
    """The supervised services of a deployment, as ``playbooks/programs.yml`` declares them
    (nova-compute is added per compute host)."""
    programs = yaml.safe_load((PLAYBOOKS / "programs.yml").read_text())
    names = [name for key, table in programs.items() if key.endswith("_programs")
             for name in table]
    return [*names, "nova-compute"]


def options_of_state(exp: Experiment) -> dict[str, Any]:
    """The deployer options the experiment was deployed with (its recorded configuration)."""
    section = (exp.state.get("config") or {}).get("deployer") or {}
    out = {**DEFAULT_CONFIG, **(section if isinstance(section, dict) else {})}
    # The release actually deployed, should the file have changed since.
    out["release"] = (exp.state.get("cloud") or {}).get("release") or out["release"]
    return out


def options(config: Config) -> dict[str, Any]:
    """The ``deployer:`` section of a loaded configuration (checked when it was loaded)."""
    return {**DEFAULT_CONFIG, **config.deployer}


# -- secrets --------------------------------------------------------------------------------
def passwords_path(env: Experiment) -> Path:
    return env.path / "passwords.yml"


def ensure_passwords(env: Experiment) -> dict[str, str]:
    """The experiment's generated passwords (created once, mode 0600)."""
    path = passwords_path(env)
    current: dict[str, str] = {}
    if path.exists():
        data = yaml.safe_load(path.read_text()) or {}
        current = dict(data.get("enos_passwords") or {})
    missing = [k for k in PASSWORDS if not current.get(k)]
    exposed = path.exists() and path.stat().st_mode & 0o077 != 0
    if missing or exposed:
        for key in missing:
            current[key] = secrets.token_urlsafe(18).replace("-", "x").replace("_", "y")
        text = "# Generated by enos; the services of this experiment use them.\n"
        text += yaml.safe_dump({"enos_passwords": current}, default_flow_style=False)
        write_private(path, text)
    return current


# -- inventory ------------------------------------------------------------------------------
def read_inventory(path: Path) -> dict[str, Any]:
    """``ansible-inventory --list`` of the experiment's inventory."""
    from enos.ansible.runner import ANSIBLE_CFG, _bin

    env = dict(os.environ)
    env.setdefault("ANSIBLE_CONFIG", str(ANSIBLE_CFG))
    proc = subprocess.run(
        [_bin("ansible-inventory"), "-i", str(path), "--list"],
        capture_output=True, text=True, env=env, check=False,
    )
    if proc.returncode != 0:
        raise EnosError(f"cannot read the inventory {path}: {proc.stderr.strip()[-500:]}",
                        "fix the inventory, or rerun 'enos up' to write it again")
    data: dict[str, Any] = json.loads(proc.stdout)
    return data


def group_hosts(inv: dict[str, Any], group: str) -> list[str]:
    """Hosts of ``group`` and of its children, in inventory order."""
    out: list[str] = []
    node = inv.get(group) or {}
    for host in node.get("hosts", []):
        if host not in out:
            out.append(host)
    for child in node.get("children", []):
        for host in group_hosts(inv, child):
            if host not in out:
                out.append(host)
    return out


def check_inventory(inv: dict[str, Any], path: Path) -> dict[str, list[str]]:
    groups = {g: group_hosts(inv, g) for g in REQUIRED_GROUPS}
    empty = [g for g, hosts in groups.items() if not hosts]
    if empty:
        raise EnosError(
            f"the inventory {path} has no host in group(s) {', '.join(empty)}",
            "give a host the role control (and network, compute) in reservation.yaml, or add "
            "the groups to your inventory file, then run 'enos up' again",
        )
    hostvars = inv.get("_meta", {}).get("hostvars", {})
    for host in sorted({h for hosts in groups.values() for h in hosts}):
        for var in ("enos_root", "enos_address"):
            if not hostvars.get(host, {}).get(var):
                raise EnosError(
                    f"host {host} of the inventory {path} has no '{var}' variable",
                    "the native deployer needs each host's root directory (enos_root) and "
                    "address on network_interface (enos_address); rerun 'enos up'",
                )
    return groups


# -- deploy ---------------------------------------------------------------------------------
def helpers_archive(env: Experiment, release: str = DEFAULT_RELEASE) -> Path:
    """The files every host gets (supervisor, helpers, constraints, ML2 driver), as one
    reproducible archive, so that an unchanged set costs one checksum per host."""
    from enos import supervisor

    members = [
        (Path(supervisor.__file__), "supervisor.py", 0o755),
        (FILES / "enos_services.py", "enos_services.py", 0o755),
        (FILES / "enos_catalog.py", "enos_catalog.py", 0o644),
        (FILES / "enos_computes.py", "enos_computes.py", 0o644),
        (FILES / "enos_compute_pool.py", "enos_compute_pool.py", 0o644),
        (FILES / "enos_schema.py", "enos_schema.py", 0o644),
        (FILES / "enos_cells.py", "enos_cells.py", 0o644),
        (FILES / "nova_drivers" / "enos_fake_nodes.py", "nova_drivers/enos_fake_nodes.py", 0o644),
        (cache.ENSURE_VENV, "ensure-venv.sh", 0o755),
        (FILES / "install-openstack.sh", "install-openstack.sh", 0o755),
        (FILES / "install-packages.sh", "install-packages.sh", 0o755),
        (FILES / "install-horizon.sh", "install-horizon.sh", 0o755),
        (constraints(release), "openstack-constraints.txt", 0o644),
        (FILES / "enos_ml2" / "__init__.py", "enos_ml2/__init__.py", 0o644),
        (FILES / "enos_ml2" / "driver.py", "enos_ml2/driver.py", 0o644),
    ]
    raw = io.BytesIO()
    with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz, \
            tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for src, name, mode in members:
            data = src.read_bytes()
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), mode, 0
            tar.addfile(info, io.BytesIO(data))
    path = env.path / "native" / "helpers.tar.gz"
    if not path.exists() or path.read_bytes() != raw.getvalue():
        atomic_write(path, raw.getvalue())
    return path


def _extravars(env: Experiment, opts: dict[str, Any], reconfigure: bool, vip: str = "",
               lb: list[str] | None = None, horizon_host: str = "") -> dict[str, Any]:
    release = str(opts["release"])
    return {
        "enos_native": {
            "venv": str(venv_path(release)),
            "schemas": str(schemas_path(release)),
            "release": release_id(release),
            "openstack_release": release,
            "settings": settings(release),
            "helpers": str(helpers_archive(env, release)),
            "packages": PACKAGES,
            "fake_computes": int(opts["fake_computes"]),
            "nodes_per_compute": int(opts.get("nodes_per_compute") or 1),
            "api_workers": int(opts["api_workers"]),
            "region": str(opts["region"]),
            "reconfigure": reconfigure,
            # Several API hosts: HAProxy and keepalived on ``lb_hosts``, the APIs at ``vip``.
            "vip": vip,
            "lb_hosts": lb or [],
            # The dashboard: its host (see horizon_host), on or off (off: its stage emptied).
            "horizon": bool(opts.get("horizon", True)),
            "horizon_host": horizon_host,
            # Names its static files' directory: collected again when its settings change.
            "horizon_static": horizon_static_id(),
        },
        "enos_passwords_file": str(passwords_path(env)),
    }


def _run(playbook: str, env: Experiment, extravars: dict[str, Any], *, title: str,
         tags: list[str] | None, quiet: bool, verbosity: int, hint: str) -> Any:
    from enos.ansible.runner import run_playbook

    return run_playbook(
        PLAYBOOKS / playbook, env.inventory_path, extravars=extravars, tags=tags, title=title,
        log_dir=env.path / "logs", quiet=quiet, verbosity=verbosity, retry_hint=hint,
        describe=describe_failure,
    )


def describe_failure(failure: HostFailure) -> str | None:
    """A service that did not come up (``enos_services.py`` prints it as one JSON line):
    the host, the service, its log and the log's last lines."""
    for text in (failure.msg, getattr(failure, "stdout", "")):
        for line in reversed(str(text or "").splitlines()):
            if line.startswith("{") and "enos_service_failure" in line:
                try:
                    parsed = json.loads(line)
                except ValueError:
                    return None
                tail = "\n".join("    " + ln for ln in str(parsed.get("tail") or "").splitlines())
                return (f"service {parsed['enos_service_failure']} on {failure.host} did not "
                        f"come up ({parsed.get('what')}); log: {parsed.get('log')}"
                        + (f"\n  last lines of the log:\n{tail}" if tail else ""))
    return None


def deploy(config: Config, env: Experiment, opts: Output, tags: list[str] | None = None,
           reconfigure: bool = False) -> dict[str, Any]:
    """Deploy (or converge) OpenStack on the experiment's inventory; return the cloud info."""
    native = options(config)
    inventory = env.inventory_path
    if not inventory.exists():
        raise EnosError(f"the inventory {inventory} does not exist", "run 'enos up' first")
    inv = read_inventory(inventory)
    groups = check_inventory(inv, inventory)
    hostvars = inv.get("_meta", {}).get("hostvars", {})
    passwords = ensure_passwords(env)
    # Hosts sharing this machine use its cache: the virtualenv is this experiment's too.
    release = str(native.get("release") or DEFAULT_RELEASE)
    cache.mark_used(venv_path(release), env.path)
    cache.mark_used(schemas_path(release), env.path)
    lb = lb_hosts(groups)
    vip = resolve_vip(config, env, hostvars) if lb else ""
    dashboard = horizon_host(inv, groups)
    _run("site.yml", env, _extravars(env, native, reconfigure, vip, lb, dashboard),
         title="enos os", tags=tags, quiet=opts.quiet, verbosity=opts.verbosity,
         hint="fix the cause, then run 'enos os' again (it resumes where it failed)")
    cloud = cloud_info(groups, hostvars, native, passwords, vip, lb)
    if native.get("horizon", True) and dashboard:
        cloud["dashboard"] = dashboard_info(dashboard, hostvars)
    write_credentials(env, cloud, passwords["admin"])
    return cloud


def horizon_host(inv: dict[str, Any], groups: dict[str, list[str]]) -> str:
    """The host of the dashboard: the first of the inventory's ``horizon`` group (enos's
    inventory puts the control hosts in it), else the first Keystone host."""
    return (group_hosts(inv, "horizon") or groups.get("keystone") or [""])[0]


def horizon_static_id() -> str:
    """The digest of Horizon's settings template: its compressed static files match them."""
    import hashlib

    data = (PLAYBOOKS / "templates" / "horizon_settings.py.j2").read_bytes()
    return hashlib.sha256(data).hexdigest()[:12]


def dashboard_info(host: str, hostvars: dict[str, Any]) -> dict[str, str]:
    """``cloud.json``'s ``dashboard``: Horizon's URL, the user to log in as, its host. The
    password is admin-openrc's (mode 0600), never written here."""
    port = "" if HORIZON_PORT == 80 else f":{HORIZON_PORT}"
    return {"url": f"http://{host_address(hostvars[host])}{port}/", "user": "admin",
            "host": host}


def host_address(hostvars: dict[str, Any]) -> str:
    """A host's address on the network_interface network (what its services bind)."""
    return str(hostvars.get("network_interface_address") or hostvars["enos_address"])


def cloud_info(groups: dict[str, list[str]], hostvars: dict[str, Any], native: dict[str, Any],
               passwords: dict[str, str], vip: str = "",
               lb: list[str] | None = None) -> dict[str, Any]:
    endpoints = {}
    for service, (group, port, suffix) in SERVICE_PORTS.items():
        address = vip or host_address(hostvars[groups[group][0]])
        endpoints[service] = f"http://{address}:{port}{suffix}"
    computes = compute_names(groups, native)
    n = int(native["fake_computes"])
    release = str(native.get("release") or DEFAULT_RELEASE)
    hosts = sorted({h for members in groups.values() for h in members})
    return {
        "deployer": "native",
        "release": release,
        "release_id": release_id(release),
        # Where each service group runs and each host's address (status, logs, monitoring).
        "groups": groups,
        "addresses": {h: host_address(hostvars[h]) for h in hosts},
        "venv": str(venv_path(release)),
        "auth_url": endpoints["keystone"],
        "region": native["region"],
        "endpoints": endpoints,
        "compute_hosts": computes,
        "fake_computes": n,
        # The hypervisors: nodes_per_compute per service, named <service>-n1.. when several.
        "nodes_per_compute": int(native.get("nodes_per_compute") or 1),
        "compute_nodes": len(computes) * int(native.get("nodes_per_compute") or 1),
        # Several API hosts: the VIP the APIs are reached at, HAProxy and keepalived's hosts.
        **({"vip": vip, "lb_hosts": list(lb or [])} if vip else {}),
    }


def write_credentials(env: Experiment, cloud: dict[str, Any], admin_password: str) -> None:
    """``admin-openrc`` and ``clouds.yaml`` (cloud ``enos``) in the experiment dir, mode 0600."""
    openrc = (
        "# Source this file to use the openstack CLI as admin on this experiment's cloud.\n"
        f"export OS_AUTH_URL={cloud['auth_url']}\n"
        "export OS_USERNAME=admin\n"
        f"export OS_PASSWORD='{admin_password}'\n"
        "export OS_PROJECT_NAME=admin\n"
        "export OS_USER_DOMAIN_NAME=Default\n"
        "export OS_PROJECT_DOMAIN_NAME=Default\n"
        f"export OS_REGION_NAME={cloud['region']}\n"
        "export OS_IDENTITY_API_VERSION=3\n"
        "export OS_INTERFACE=public\n"
        f"export PATH={Path(cloud.get('venv') or venv_path()) / 'bin'}:$PATH\n"
    )
    write_private(env.path / "admin-openrc", openrc)
    clouds = {"clouds": {"enos": {
        "auth": {
            "auth_url": cloud["auth_url"], "username": "admin", "password": admin_password,
            "project_name": "admin", "user_domain_name": "Default",
            "project_domain_name": "Default",
        },
        "region_name": cloud["region"],
        "interface": "public",
        "identity_api_version": 3,
    }}}
    write_private(env.path / "clouds.yaml", yaml.safe_dump(clouds, default_flow_style=False))
    atomic_write_json(env.path / "cloud.json", cloud)


def destroy(env: Experiment, opts: Output) -> None:
    """Stop every service (computes, then control services, then infrastructure), drop state."""
    if not env.inventory_path.exists():
        return
    _run("destroy.yml", env, {}, title="enos destroy (OpenStack)", tags=None,
         quiet=opts.quiet, verbosity=opts.verbosity,
         hint="fix the cause, then run 'enos destroy' again")
    for name in ("admin-openrc", "clouds.yaml", "cloud.json"):
        (env.path / name).unlink(missing_ok=True)


def _supervisor_dir(host: Host) -> Path:
    """The supervisor of a host's OpenStack services (``os_sup_dir`` of the playbooks)."""
    return Path(str(host.extra.get("enos_root") or "/var/lib/enos")) / "supervisor"


class NativeDeployer(Deployer):
    """OpenStack as supervised processes from PyPI (see the module's documentation)."""

    options: ClassVar[dict[str, Any]] = {k: v for k, v in DEFAULT_CONFIG.items() if k != "type"}
    tags = tuple(TAGS)
    real_instances = False  # Nova's fake virt driver

    def check_section(self, section: dict[str, Any], data: dict[str, Any],
                      ck: Checker) -> dict[str, Any]:
        return check_options(section, data, ck)

    def deploy(self, config: Config, exp: Experiment, out: Output,
               tags: list[str] | None = None, reconfigure: bool = False) -> dict[str, Any]:
        return deploy(config, exp, out, tags=tags, reconfigure=reconfigure)

    def destroy(self, exp: Experiment, out: Output) -> None:
        destroy(exp, out)

    def python(self, exp: Experiment) -> Path:
        return python(None, exp)

    def services(self, exp: Experiment) -> list[str]:
        return program_names()

    def control(self, exp: Experiment, service: str, action: str, out: Output,
                hosts: list[str] | None = None,
                pause: float | None = None) -> dict[str, dict[str, Any]]:
        """Act on one supervised service through its hosts' supervisors (see the contract)."""
        if service not in program_names():
            raise EnosError(f"the native deployer has no service '{service}'",
                            did_you_mean(service, program_names())
                            or f"services: {', '.join(program_names())}")
        if action not in ACTIONS:
            raise EnosError(f"unknown action '{action}'", f"use {', '.join(ACTIONS)}")
        from enos.ansible.runner import run_playbook

        result = run_playbook(
            PLAYBOOKS / "control.yml", exp.inventory_path, limit=",".join(hosts) if hosts
            else None, title=f"{action} {service}", log_dir=exp.path / "logs",
            extravars={**_extravars(exp, options_of_state(exp), False),
                       "enos_control_service": service, "enos_control_action": action,
                    **({"enos_control_pause": round(pause, 3)} if pause else {})},
            quiet=out.quiet, verbosity=out.verbosity,
            retry_hint=f"check the hosts, then {action} {service} again")
        return {host: dict(facts["enos_control"]) for host, facts in result.facts.items()
                if isinstance(facts.get("enos_control"), dict)}

    def versions(self, exp: Experiment) -> dict[str, str]:
        cloud = exp.state.get("cloud") or {}
        release = str(cloud.get("release") or "")
        if not release or not constraints(release).is_file():
            return {}
        pins = pinned(release)
        out = {"openstack": release}
        for package in PACKAGES:
            if package.lower() in pins:
                out[package] = pins[package.lower()]
        return out

    def status(self, exp: Experiment) -> list[dict[str, Any]]:
        from enos import status

        resources = exp.resources
        if resources is None:
            return []
        return status.rows(resources.hosts, _supervisor_dir, self.name,
                           local=status.shares_machine(exp))

    def endpoints(self, exp: Experiment) -> list[Endpoint]:
        try:
            cloud = json.loads((exp.path / "cloud.json").read_text())
        except (OSError, ValueError):
            return []
        groups, addresses = cloud.get("groups") or {}, cloud.get("addresses") or {}
        by_address = {a: h for h, a in addresses.items()}
        out = []
        for name, url in sorted((cloud.get("endpoints") or {}).items()):
            host = by_address.get(url.split("//", 1)[-1].split(":", 1)[0])
            out.append(Endpoint(name, url, "api", host, SERVICE_PORTS[name][0]
                                if name in SERVICE_PORTS else None))
        dashboard = cloud.get("dashboard") or {}
        if dashboard.get("url"):
            out.append(Endpoint("horizon", str(dashboard["url"]), "ui", dashboard.get("host"),
                                "horizon"))
        # The infrastructure, on the first host of its group (the one running it), and
        # RabbitMQ's metrics.
        for name, group, kind, url in INFRA_ENDPOINTS:
            for host in (groups.get(group) or [])[:1]:
                address = addresses.get(host)
                if address:
                    out.append(Endpoint(name, url.format(address=address), kind, host,
                                        name))
        return out

