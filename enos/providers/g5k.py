"""Provider ``g5k``: Grid'5000 bare-metal nodes reserved through OAR, on python-grid5000.

``enos up``:

1. reads the credentials as python-grid5000 does (``~/.python-grid5000.yaml``: ``username``,
   ``password``, optional ``uri``, ``verify_ssl``, ``timeout``; ``G5K_CONFIG`` names another
   file); a missing file or key, or credentials the API refuses, is an error naming the file;
2. finds the site of each cluster of ``resources`` (``/sites``, ``/sites/{site}/clusters``);
3. per site, reuses the job recorded in the experiment's state, else a waiting or running job
   of the user with the same ``job_name``, else submits one (``/sites/{site}/jobs``: OAR
   resources ``{cluster='NAME'}/nodes=N+...``, ``walltime``, ``queue``, ``reservation``,
   ``types: [job_type]``); its id is saved in state.json before anything waits for it;
4. waits (bounded, with progress) for the job to run, then reads its ``assigned_nodes``;
5. with ``job_type: deploy``, deploys ``env_name`` with Kadeploy (``/sites/{site}/deployments``,
   the user's public key for root) and waits for it; the deployment is reused on a rerun when
   it succeeded on the same nodes; ``allow_classic_ssh``: no deployment, the user logs in;
6. reads each node's primary interface and address in the reference API
   (``/sites/{site}/clusters/{cluster}/nodes/{node}``: its mounted, enabled adapter) and gives
   every network role that interface (KaVLAN networks are refused: not built).

Hosts are reached through the Grid'5000 access machine (``provider.gateway``, default
``access.grid5000.fr``, as the Grid'5000 user; ``gateway: none`` when enos runs inside
Grid'5000). ``enos destroy --hard`` deletes the experiment's jobs, and only them.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import os
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from enos.config.spec import machine_aliases
from enos.errors import ConfigError, EnosError, NotBuiltError
from enos.model import NETWORK_INTERFACE, NEUTRON_EXTERNAL_INTERFACE, Host, Resources
from enos.providers.base import Gateway, Provider

if TYPE_CHECKING:
    from enos.config.checks import Checker
    from enos.config.spec import Config
    from enos.experiment import Experiment
    from enos.output import Output

JOB_TYPES = ("deploy", "allow_classic_ssh")
_WALLTIME = re.compile(r"^\d{1,4}(:[0-5]\d){0,2}$")

CONF_ENV = "G5K_CONFIG"
CONF_NAME = ".python-grid5000.yaml"
CONF_KEYS = ("uri", "username", "password", "verify_ssl", "timeout", "sslcert", "sslkey",
             "ssluser")
ACCESS = "access.grid5000.fr"
# OAR's job states: still to start, started, over.
PENDING = ("waiting", "hold", "toLaunch", "toAckReservation", "launching", "toError")
RUNNING = "running"
OVER = ("terminated", "error", "finishing", "canceled")
# How long to wait for a job to start (after its reservation date, if any) and for a deployment.
JOB_TIMEOUT = 1800.0
DEPLOY_TIMEOUT = 1800.0
POLL_FIRST, POLL_MAX = 0.5, 10.0
PROGRESS_EVERY = 60.0
# A job's command: the nodes stay reserved for the walltime.
SLEEP = "sleep 31536000"
PUBLIC_KEYS = ("id_ed25519.pub", "id_ecdsa.pub", "id_rsa.pub")


def check_walltime(section: dict[str, Any], ck: Checker) -> None:
    """``walltime``: hours, or HH:MM, or HH:MM:SS (as OAR reads it)."""
    value = section.get("walltime")
    if value is None:
        return
    text = ck.text(value, "provider.walltime", "a duration such as 02:00:00")
    if not _WALLTIME.match(text):
        raise ck.error("provider.walltime", f"'{text}' is not a walltime",
                       "write HH:MM:SS, e.g. walltime: '02:00:00' (quoted)")
    section["walltime"] = text


def check_reservation(section: dict[str, Any], ck: Checker) -> None:
    """``reservation``: empty (now) or a start date ``YYYY-MM-DD HH:MM:SS``."""
    value = section.get("reservation")
    if value in (None, ""):
        return
    text = ck.text(value, "provider.reservation", "a start date")
    try:
        _dt.datetime.strptime(text.strip(), "%Y-%m-%d %H:%M:%S")
    except ValueError:
        raise ck.error("provider.reservation", f"'{text}' is not a start date",
                       "write `reservation: '2026-12-01 19:00:00'` (local time of the site), "
                       "or remove it to start now") from None


def check_gateway(section: dict[str, Any], ck: Checker) -> None:
    """``gateway``: the SSH jump host (``user@host``, ``host`` or ``host:port``), or none."""
    value = section.get("gateway")
    if value in (None, False, "", "none"):
        if "gateway" in section:
            section["gateway"] = "none"
        return
    text = ck.text(value, "provider.gateway", "an SSH host such as access.grid5000.fr")
    if not re.match(r"^([\w.-]+@)?[\w.-]+(:\d{1,5})?$", text):
        raise ck.error("provider.gateway", f"'{text}' is not an SSH host",
                       "write `gateway: access.grid5000.fr` (or `user@host:port`), or "
                       "`gateway: none` when enos runs inside Grid'5000")
    section["gateway"] = text


DEFAULTS: dict[str, Any] = {
    "job_name": "Enos",
    "walltime": "02:00:00",
    "env_name": "debian9-x64-nfs",
    "reservation": "",
    "job_type": "deploy",
    "queue": "default",
}


# -- credentials and the API --------------------------------------------------------------------
def conf_path() -> Path:
    return Path(os.environ.get(CONF_ENV) or Path.home() / CONF_NAME).expanduser()


def read_conf() -> tuple[dict[str, Any], Path]:
    """python-grid5000's configuration, checked: a :class:`ConfigError` names what is wrong."""
    import yaml

    from enos.utils.fs import UnreadableFile, read_bounded

    path = conf_path()
    hint = (f"write {path} (mode 0600) with `username: LOGIN` and `password: PASSWORD` (and "
            "`uri:` for another API), as python-grid5000 reads it; G5K_CONFIG names another "
            "file")
    try:
        text = read_bounded(path, 64 * 1024, what="Grid'5000 credentials")
    except UnreadableFile as exc:
        raise ConfigError(f"no Grid'5000 credentials: {exc.message}", source=str(path),
                          hint=hint) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"not YAML: {str(exc).splitlines()[0]}", source=str(path),
                          hint=hint) from None
    if not isinstance(data, dict):
        raise ConfigError("not a mapping of python-grid5000's keys", source=str(path), hint=hint)
    for key in data:
        if key not in CONF_KEYS:
            raise ConfigError(f"unknown key '{key}'", source=str(path), key=str(key),
                              hint=f"python-grid5000's keys: {', '.join(CONF_KEYS)}")
    needed = ("username",) if data.get("sslcert") else ("username", "password")
    for key in needed:
        if not isinstance(data.get(key), str) or not data[key]:
            raise ConfigError(f"'{key}' is missing or not a string", source=str(path), key=key,
                              hint=hint)
    return data, path


class ApiError(EnosError):
    """A failed call of the Grid'5000 API; ``code`` is its HTTP status, when it answered."""

    def __init__(self, message: str, hint: str | None = None, code: int | None = None) -> None:
        super().__init__(message, hint)
        self.code = code


class Api:
    """A python-grid5000 client whose failures are :class:`EnosError` naming what failed."""

    def __init__(self) -> None:
        self.conf, self.path = read_conf()
        self.username = str(self.conf["username"])
        try:
            from grid5000 import Grid5000
        except ImportError:
            raise EnosError("python-grid5000 is missing: the g5k provider needs it",
                            "install enos with its g5k extra: ./install.sh g5k") from None
        conf = dict(self.conf)
        conf.setdefault("timeout", 30)
        self.uri = str(conf.get("uri") or "https://api.grid5000.fr/stable")
        self.gk = Grid5000(**conf)

    @contextlib.contextmanager
    def call(self, what: str) -> Iterator[None]:
        import requests
        from grid5000.exceptions import Grid5000AuthenticationError, Grid5000Error

        try:
            yield
        except Grid5000AuthenticationError:
            raise ConfigError(f"the Grid'5000 API refused the credentials of "
                              f"'{self.username}' ({what})", source=str(self.path),
                              key="password",
                              hint="check username and password (your Grid'5000 account's)"
                              ) from None
        except Grid5000Error as exc:
            raise ApiError(f"the Grid'5000 API failed to {what}: {exc}",
                           f"API {self.uri}; rerun 'enos up' once it answers",
                           code=exc.response_code) from None
        except requests.RequestException as exc:
            raise EnosError(f"the Grid'5000 API at {self.uri} cannot be reached ({what}): "
                            f"{type(exc).__name__}",
                            "check the network (from outside Grid'5000 the API needs your "
                            "credentials), then rerun 'enos up'") from None


# -- what to ask for ------------------------------------------------------------------------------
def clusters_wanted(config: Config) -> dict[str, int]:
    """Nodes per cluster, in the order of the file."""
    out: dict[str, int] = {}
    for spec in config.machines:
        if not spec.label:
            raise ConfigError("a machine of provider g5k names no cluster", key="resources",
                              source=str(config.path),
                              hint="write `resources: {paravance: {control: 1, ...}}`, or "
                              "`cluster:` in each provider.resources.machines entry")
        out[spec.label] = out.get(spec.label, 0) + spec.number
    return out


def job_spec(provider: dict[str, Any], counts: dict[str, int]) -> dict[str, Any]:
    """The body of ``POST /sites/{site}/jobs`` for ``counts`` nodes per cluster of one site."""
    resources = "+".join(f"{{cluster='{name}'}}/nodes={n}" for name, n in counts.items())
    spec: dict[str, Any] = {
        "name": str(provider.get("job_name") or DEFAULTS["job_name"]),
        "resources": f"{resources},walltime={provider.get('walltime') or DEFAULTS['walltime']}",
        "command": SLEEP,
        "types": [str(provider.get("job_type") or DEFAULTS["job_type"])],
    }
    queue = provider.get("queue")
    if queue and queue != "default":
        spec["queue"] = str(queue)
    if provider.get("reservation"):
        spec["reservation"] = str(provider["reservation"]).strip()
    return spec


def kavlan_asked(config: Config) -> list[str]:
    adv = config.provider.get("resources") or {}
    nets = adv.get("networks") if isinstance(adv, dict) else None
    return [str(n.get("id") or n.get("role")) for n in nets or []
            if isinstance(n, dict) and str(n.get("type", "")).lower().startswith("kavlan")]


def public_key(config: Config) -> tuple[Path, Path]:
    """The user's key pair: ``provider.key`` (the public key), else ~/.ssh/id_*.pub."""
    given = config.provider.get("key")
    if given:
        pub = (config.cwd / Path(str(given)).expanduser()).resolve()
        candidates = [pub]
    else:
        candidates = [Path.home() / ".ssh" / name for name in PUBLIC_KEYS]
    for pub in candidates:
        if pub.is_file():
            return pub, pub.with_suffix("")
    raise ConfigError("no SSH public key for the Grid'5000 nodes", source=str(config.path),
                      key="provider.key",
                      hint="give `key: ~/.ssh/id_ed25519.pub` (its private key beside it), or "
                      "create one with ssh-keygen")


def node_cluster(node: str) -> str:
    """``paravance-12.rennes.grid5000.fr`` -> ``paravance``."""
    return node.split(".", 1)[0].rsplit("-", 1)[0]


# -- waiting --------------------------------------------------------------------------------------
def wait(what: str, poll: Callable[[], str], done: Callable[[str], bool],
         failed: Callable[[str], bool], timeout: float, out: Output, hint: str) -> str:
    """Poll until ``done(state)``; ``failed(state)`` or ``timeout`` s raise an error."""
    start = time.monotonic()
    delay, last, said = POLL_FIRST, "", start
    while True:
        state = poll()
        if done(state):
            if last and last != state:
                out.say(f"  {what}: {state} after {time.monotonic() - start:.0f}s")
            return state
        if failed(state):
            raise EnosError(f"{what} ended in state '{state}'", hint)
        now = time.monotonic()
        if state != last or now - said >= PROGRESS_EVERY:
            out.say(f"  {what}: {state} ({now - start:.0f}s)")
            last, said = state, now
        if now - start > timeout:
            raise EnosError(f"{what} is still '{state}' after {timeout:.0f}s", hint)
        time.sleep(min(delay, max(0.1, timeout - (now - start))))
        delay = min(delay * 2, POLL_MAX)


# -- the provider ---------------------------------------------------------------------------------
class G5k:
    """One ``enos up`` or ``destroy`` on Grid'5000 (the client and the experiment's state)."""

    def __init__(self, exp: Experiment, out: Output, api: Api | None = None) -> None:
        self.exp = exp
        self.out = out
        self.api = api or Api()

    # state.json's ``g5k``: {"jobs": {site: uid}, "deployments": {site: {...}}}
    def _state(self) -> dict[str, Any]:
        data = self.exp.state.get("g5k")
        return data if isinstance(data, dict) else {}

    def _save(self, key: str, value: dict[str, Any]) -> None:
        data = dict(self._state())
        data[key] = value
        self.exp.update(g5k=data)  # atomically, before anything waits

    def sites_of(self, clusters: list[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        with self.api.call("list the sites and their clusters"):
            for site in self.api.gk.sites.list():
                if all(c in found for c in clusters):
                    break
                for cluster in site.clusters.list():
                    found.setdefault(str(cluster.uid), str(site.uid))
        missing = [c for c in clusters if c not in found]
        if missing:
            raise ConfigError(f"no Grid'5000 site has the cluster(s) {', '.join(missing)}",
                              key="resources",
                              hint="check the cluster names (the hardware page of the "
                              "Grid'5000 wiki lists them)")
        return {c: found[c] for c in clusters}

    def job(self, site: str, spec: dict[str, Any]) -> Any:
        """The recorded job, else a pending or running one of the user with the same name,
        else a new one; its id is saved before returning."""
        jobs = dict(self._state().get("jobs") or {})
        with self.api.call(f"read the site {site}"):
            manager = self.api.gk.sites[site].jobs
        uid = jobs.get(site)
        if uid is not None:
            with self.api.call(f"read job {uid} on {site}"):
                job = manager.get(int(uid))
            if job.state == RUNNING or job.state in PENDING:
                self.out.say(f"job {uid} on {site} ({job.state}): kept")
                return job
            self.out.say(f"job {uid} on {site} is {job.state}: a new one is needed")
        with self.api.call(f"list the jobs on {site}"):
            found = manager.list(state="waiting,launching,running",
                                 user=self.api.username)
        same = sorted((j for j in found if getattr(j, "name", None) == spec["name"]
                       and getattr(j, "user", self.api.username) == self.api.username),
                      key=lambda j: int(j.uid))
        if same:
            job = same[0]
            with self.api.call(f"read job {job.uid} on {site}"):
                job = manager.get(int(job.uid))
            self.out.say(f"job {job.uid} '{spec['name']}' on {site} ({job.state}): reused "
                         "(a waiting or running job with this name)")
        else:
            with self.api.call(f"submit a job on {site}"):
                job = manager.create(spec)
            self.out.say(f"job {job.uid} '{spec['name']}' submitted on {site}: "
                         f"{spec['resources']}")
        jobs[site] = int(job.uid)
        self._save("jobs", jobs)
        return job

    def wait_job(self, site: str, job: Any, reservation: str) -> None:
        timeout = JOB_TIMEOUT
        if reservation:
            start = _dt.datetime.strptime(reservation.strip(), "%Y-%m-%d %H:%M:%S")
            timeout += max(0.0, (start - _dt.datetime.now()).total_seconds())

        def poll() -> str:
            with self.api.call(f"read job {job.uid} on {site}"):
                job.refresh()
            return str(job.state)

        wait(f"job {job.uid} on {site}", poll, lambda s: s == RUNNING, lambda s: s in OVER,
             timeout, self.out,
             "rerun 'enos up' to keep waiting for it (a job still pending is kept), or "
             "'enos destroy --hard' to delete it; oarstat on the site's frontend says why")

    def deploy(self, site: str, nodes: list[str], env_name: str, pubkey: str) -> None:
        """Kadeploy ``env_name`` on ``nodes`` (reused when already done on them)."""
        deps = dict(self._state().get("deployments") or {})
        manager = self.api.gk.sites[site].deployments
        known = deps.get(site) or {}
        dep = None
        if known.get("nodes") == sorted(nodes) and known.get("environment") == env_name:
            with self.api.call(f"read deployment {known['uid']} on {site}"):
                dep = manager.get(str(known["uid"]))
            if dep.status in ("error", "canceled") or (
                    dep.status == "terminated" and _failed_nodes(dep)):
                dep = None
            else:
                self.out.say(f"deployment {dep.uid} of {env_name} on {site} "
                             f"({dep.status}): kept")
        if dep is None:
            body = {"nodes": sorted(nodes), "environment": env_name, "key": pubkey}
            with self.api.call(f"deploy {env_name} on {site}"):
                dep = manager.create(body)
            self.out.say(f"deployment {dep.uid} of {env_name} on {len(nodes)} node(s) of "
                         f"{site} started")
            deps[site] = {"uid": str(dep.uid), "nodes": sorted(nodes),
                          "environment": env_name}
            self._save("deployments", deps)

        def poll() -> str:
            with self.api.call(f"read deployment {dep.uid} on {site}"):
                dep.refresh()
            return str(dep.status)

        wait(f"deployment {dep.uid} on {site}", poll, lambda s: s == "terminated",
             lambda s: s in ("error", "canceled"), DEPLOY_TIMEOUT, self.out,
             "rerun 'enos up' to deploy again (or to keep waiting)")
        failed = _failed_nodes(dep)
        if failed:
            raise EnosError(f"the deployment of {env_name} failed on {', '.join(failed)}",
                            "rerun 'enos up' to deploy again, or 'enos up --force-deploy' "
                            "for other nodes")

    def primary(self, site: str, node: str) -> tuple[str, str]:
        """(interface, address) of the node's mounted, enabled adapter (the reference API)."""
        uid = node.split(".", 1)[0]
        with self.api.call(f"read the description of {node}"):
            desc = self.api.gk.sites[site].clusters[node_cluster(node)].nodes[uid]
        adapters = getattr(desc, "network_adapters", None) or []
        for adapter in adapters:
            if adapter.get("mounted") and adapter.get("enabled", True) and \
                    not adapter.get("management") and adapter.get("ip"):
                return str(adapter.get("device") or "eth0"), str(adapter["ip"])
        return "eth0", node

    def release(self, jobs: dict[str, int] | None = None) -> list[str]:
        """Delete the experiment's jobs (only them). Safe to rerun."""
        deleted = []
        for site, uid in sorted((jobs or self._state().get("jobs") or {}).items()):
            try:
                with self.api.call(f"read job {uid} on {site}"):
                    manager = self.api.gk.sites[site].jobs
                    job = manager.get(int(uid))
                    if job.state not in OVER:
                        manager.delete(int(uid))
                        deleted.append(f"job {uid} on {site}")
            except ApiError as exc:
                if exc.code != 404:  # unknown: nothing left to delete
                    raise
        self.exp.state.pop("g5k", None)
        self.exp.save()
        return deleted


def _failed_nodes(dep: Any) -> list[str]:
    result = getattr(dep, "result", None) or {}
    return sorted(n for n, r in result.items()
                  if isinstance(r, dict) and str(r.get("state", "OK")).upper() != "OK")


def _aliases(config: Config) -> list[tuple[str, list[str], str | None, str]]:
    """(alias, roles, group, cluster) per machine, named as the local provider names them."""
    return [(alias, list(spec.roles), spec.group, str(spec.label))
            for alias, spec in machine_aliases(config.machines)]


def network_roles(config: Config) -> list[str]:
    roles: list[str] = []
    for spec in config.machines:
        roles += [r for r in spec.networks if r not in roles]
    for role in (NETWORK_INTERFACE, NEUTRON_EXTERNAL_INTERFACE):
        if role not in roles:
            roles.append(role)
    return roles


def gateway_of(config: Config, username: str) -> dict[str, Any] | None:
    text = str(config.provider.get("gateway") or ACCESS)
    if text == "none":
        return None
    user, _, rest = text.rpartition("@")
    host, _, port = rest.partition(":")
    return {"address": host, "user": user or username, "port": int(port or 22)}


def init(config: Config, exp: Experiment, out: Output, force: bool = False,
         api: Api | None = None) -> Resources:
    kavlan = kavlan_asked(config)
    if kavlan:
        raise NotBuiltError(f"KaVLAN networks ({', '.join(kavlan)}) are not built in this "
                            "version of enos",
                            "remove `type: kavlan` from provider.resources.networks: every "
                            "network role then uses the nodes' primary interface")
    g5k = G5k(exp, out, api)
    pub, private = public_key(config)
    if force:
        for line in g5k.release():
            out.say(f"deleted {line}")
    wanted = clusters_wanted(config)
    sites = g5k.sites_of(list(wanted))
    provider = config.provider
    jobs: dict[str, Any] = {}
    for site in dict.fromkeys(sites.values()):
        counts = {c: n for c, n in wanted.items() if sites[c] == site}
        jobs[site] = g5k.job(site, job_spec(provider, counts))
    for site, job in jobs.items():
        g5k.wait_job(site, job, str(provider.get("reservation") or ""))

    pools: dict[str, list[str]] = {}
    node_site: dict[str, str] = {}
    for site, job in jobs.items():
        for node in sorted(getattr(job, "assigned_nodes", None) or [], key=_natural):
            pools.setdefault(node_cluster(node), []).append(node)
            node_site[node] = site
    for cluster, n in wanted.items():
        if len(pools.get(cluster, [])) < n:
            raise EnosError(
                f"job {jobs[sites[cluster]].uid} on {sites[cluster]} holds "
                f"{len(pools.get(cluster, []))} node(s) of {cluster}, {n} are asked",
                "the job reused has other resources: 'enos up --force-deploy' replaces it, or "
                "change provider.job_name")
    deploy = provider.get("job_type", "deploy") == "deploy"
    if deploy:
        for site in jobs:
            nodes = [n for n, s in node_site.items() if s == site]
            g5k.deploy(site, nodes, str(provider.get("env_name") or DEFAULTS["env_name"]),
                       pub.read_text().strip())

    gateway = gateway_of(config, g5k.api.username)
    roles = network_roles(config)
    hosts = []
    for alias, host_roles, group, cluster in _aliases(config):
        node = pools[cluster].pop(0)
        iface, address = g5k.primary(node_site[node], node)
        extra: dict[str, Any] = {"enos_root": "/var/lib/enos", "g5k_node": node,
                                 "g5k_site": node_site[node]}
        if gateway:
            extra["ansible_ssh_common_args"] = (
                f"-o ProxyJump={gateway['user']}@{gateway['address']}:{gateway['port']}")
        hosts.append(Host(
            alias=alias, address=address,
            user="root" if deploy else g5k.api.username,
            keyfile=str(private), roles=host_roles, groups=[group] if group else [],
            interfaces=dict.fromkeys(roles, iface),
            addresses=dict.fromkeys(roles, address),
            extra=extra,
        ))
    return Resources(hosts=hosts, networks=[], provider_state={
        "jobs": {site: int(job.uid) for site, job in jobs.items()},
        "gateway": gateway,
    })


def _natural(name: str) -> tuple[str, int]:
    head = name.split(".", 1)[0]
    base, _, num = head.rpartition("-")
    return (base, int(num)) if num.isdigit() else (head, 0)


class G5kProvider(Provider):
    label = "cluster"
    example_label = "paravance"
    defaults: ClassVar[dict[str, Any]] = DEFAULTS
    keys = ("resources", "role_distribution", "key", "gateway")

    def check_section(self, section: dict[str, Any], ck: Checker) -> None:
        check_walltime(section, ck)
        check_reservation(section, ck)
        check_gateway(section, ck)
        if section.get("key") is not None:
            section["key"] = ck.text(section["key"], "provider.key",
                                     "the path of an SSH public key")
        if section.get("job_type") is not None:
            section["job_type"] = ck.choice(section["job_type"], "provider.job_type",
                                            JOB_TYPES)

    def init(self, config: Config, exp: Experiment, out: Output,
             force: bool = False) -> Resources:
        return init(config, exp, out, force=force)

    def destroy(self, config: Config | None, exp: Experiment, resources: Resources | None,
                out: Output) -> None:
        state = exp.state.get("g5k")
        jobs = state.get("jobs") if isinstance(state, dict) else None
        if not jobs and resources is not None:  # the state's own record was lost
            jobs = resources.provider_state.get("jobs")
        if not jobs:
            return
        for line in G5k(exp, out).release(dict(jobs)):
            out.say(f"deleted {line}")

    def gateway(self, resources: Resources) -> Gateway | None:
        data = resources.provider_state.get("gateway")
        if not isinstance(data, dict):
            return None
        return Gateway(address=str(data["address"]), user=str(data["user"]),
                       port=int(data.get("port", 22)))
