"""What runs where: the monitoring stack of an experiment computed from its hosts and cloud.

Pure data in, pure data out (no host is touched), so it is tested without a testbed. The plan
gives each host the programs its monitoring supervisor runs (the bundle format of
``enos_services.py``), the files they read, and the list of scrape targets ``enos info`` shows.

- Prometheus on the collector host;
- node-exporter and process-exporter: one of each per host, or ONE of each on the collector
  when the hosts share this machine's kernel and process table (the local testbed): then
  process-exporter attributes every process to its host by its command line (the host's
  ``enos_root`` or its address appears in it), its group name is ``HOST;COMMAND`` and
  Prometheus splits it into the labels ``host`` and ``service``;
- mysqld-exporter beside each MariaDB, RabbitMQ's own ``rabbitmq_prometheus`` endpoint;
- blackbox-exporter on the collector probes every API (HTTP) and MariaDB, RabbitMQ and
  memcached (TCP) at the scrape interval.

Every process binds its host's experiment address.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import yaml

from enos.deployers.base import Endpoint
from enos.model import Host

PORTS = {"prometheus": 9090, "node": 9100, "process": 9256, "mysqld": 9104, "blackbox": 9115}
BIN = {
    "prometheus": "/usr/bin/prometheus",
    "node": "/usr/bin/prometheus-node-exporter",
    "process": "/usr/bin/prometheus-process-exporter",
    "mysqld": "/usr/bin/prometheus-mysqld-exporter",
    "blackbox": "/usr/bin/prometheus-blackbox-exporter",
}
PACKAGES = {
    "prometheus": "prometheus",
    "node": "prometheus-node-exporter",
    "process": "prometheus-process-exporter",
    "mysqld": "prometheus-mysqld-exporter",
    "blackbox": "prometheus-blackbox-exporter",
}
# Program names in the monitoring supervisor (what `enos status` and `enos logs` show).
PROGRAM = {
    "prometheus": "prometheus",
    "node": "node-exporter",
    "process": "process-exporter",
    "mysqld": "mysqld-exporter",
    "blackbox": "blackbox-exporter",
}
# node-exporter collectors kept (the others cost CPU at one scrape a second for little).
NODE_COLLECTORS = ("cpu", "meminfo", "loadavg", "netdev", "diskstats", "filesystem", "stat",
                   "vmstat", "pressure", "schedstat")
MONITOR_ROLES = ("monitor", "monitoring")
DB_USER = "enos_monitor"
# Endpoint kinds probed over TCP (anything else with an http URL is probed over HTTP).
TCP_KINDS = ("db", "mq", "cache", "tcp")


@dataclass
class HostPlan:
    alias: str
    root: str  # the host's enos_root/monitoring
    address: str
    programs: dict[str, dict[str, Any]] = field(default_factory=dict)
    files: dict[str, dict[str, str]] = field(default_factory=dict)
    dirs: list[str] = field(default_factory=list)
    packages: list[str] = field(default_factory=list)
    mysql: dict[str, Any] | None = None  # {"defaults_file": ...} where a DB user is created

    def to_dict(self) -> dict[str, Any]:
        return {"alias": self.alias, "root": self.root, "address": self.address,
                "programs": self.programs, "packages": self.packages, "mysql": self.mysql,
                "bundle": {"dirs": self.dirs, "files": self.files},
                "stage": {"stage": "monitoring", "programs": self.programs}}


@dataclass
class Plan:
    collector: str
    prometheus: str  # its URL
    scrape_interval: str
    slow_scrape_interval: str
    retention: str
    hosts: dict[str, HostPlan]
    targets: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return {"collector": self.collector, "prometheus": self.prometheus,
                "scrape_interval": self.scrape_interval,
                "slow_scrape_interval": self.slow_scrape_interval,
                "retention": self.retention, "targets": self.targets,
                "hosts": {a: h.to_dict() for a, h in self.hosts.items()}}


class PlanError(ValueError):
    """The configuration names a collector no host matches."""


def address_of(host: Host) -> str:
    return host.addresses.get("network_interface") or host.address


def root_of(host: Host) -> str:
    root = host.extra.get("enos_root") or "/var/lib/enos"
    return f"{root}/monitoring"


def collector_of(hosts: list[Host], wanted: str | None) -> Host:
    """The collector host: ``wanted`` as an alias, else as a role; by default the first host
    of role monitor or monitoring, else the first control host, else the first host."""
    if not hosts:
        raise PlanError("the experiment has no host")
    if wanted:
        for host in hosts:
            if host.alias == wanted:
                return host
        for host in hosts:
            if wanted in host.roles:
                return host
        raise PlanError(f"no host is named '{wanted}' or has the role '{wanted}' "
                        f"(hosts: {', '.join(h.alias for h in hosts)})")
    for role in (*MONITOR_ROLES, "control"):
        for host in hosts:
            if role in host.roles:
                return host
    return hosts[0]


def _program(argv: list[str], log: str, check: str, configs: list[str] | None = None,
             priority: int = 10) -> dict[str, Any]:
    # Go's collector runs less often (more memory, less CPU: these heaps are small) and on
    # one thread: at one scrape a second, the runtime is a good part of an exporter's cost.
    return {"argv": argv, "log": log, "priority": priority, "stop_timeout": 10,
            "env": {"GOGC": "400", "GOMAXPROCS": "1"},
            "enos_check": check, "enos_configs": configs or []}


def process_rules(hosts: list[Host]) -> list[dict[str, Any]]:
    """process-exporter's ``process_names``: a process belongs to the host whose enos_root or
    address its command line holds; its group is ``HOST;COMMAND``."""
    rules = []
    for host in hosts:
        root = re.escape(str(host.extra.get("enos_root") or ""))
        addr = re.escape(address_of(host))
        parts = [f"(^|[ =@]){addr}([: ]|$)"]
        if host.extra.get("enos_root"):
            parts.insert(0, f"{root}(/|\\s|$)")
            # uwsgi retitles its processes "NAME uWSGI worker 1 ENOS_ROOT": name from title.
            rules.append({"name": f"{host.alias};{{{{.Matches.svc}}}}",
                          "cmdline": [f"^(?P<svc>\\S+) uWSGI .*{root}\\s*$"]})
        rules.append({"name": f"{host.alias};{{{{.Comm}}}}",
                      "cmdline": ["(" + "|".join(parts) + ")"]})
    return rules


def _blackbox_config() -> dict[str, Any]:
    return {"modules": {
        # An API answers (any status but a server error: versions, 401 without a token...).
        "http_api": {"prober": "http", "timeout": "2s", "http": {
            "preferred_ip_protocol": "ip4", "no_follow_redirects": True,
            "valid_status_codes": [200, 201, 202, 204, 300, 301, 302, 303, 307, 308, 401,
                                   403, 404]}},
        "tcp": {"prober": "tcp", "timeout": "2s", "tcp": {"preferred_ip_protocol": "ip4"}},
    }}


Labels = dict[str, str]


class _Builder:
    """Fills the host plans and the scrape jobs, one part of the stack at a time."""

    def __init__(self, hosts: list[Host], section: dict[str, Any], shares_machine: bool,
                 db_password: str) -> None:
        self.hosts = hosts
        self.collector = collector_of(hosts, section.get("collector")).alias
        self.interval = str(section["scrape_interval"])
        self.slow = str(section["slow_scrape_interval"])
        self.retention = str(section["retention"])
        self.shares_machine = shares_machine
        self.db_password = db_password
        self.by_address = {address_of(h): h.alias for h in hosts}
        self.plans = {h.alias: HostPlan(h.alias, root_of(h), address_of(h)) for h in hosts}
        self.jobs: list[dict[str, Any]] = []
        self.targets: list[dict[str, Any]] = []

    def add(self, host: str, kind: str, argv: list[str], check: str,
            configs: list[str] | None = None) -> None:
        hp = self.plans[host]
        hp.programs[PROGRAM[kind]] = _program([BIN[kind], *argv],
                                              f"{hp.root}/log/{PROGRAM[kind]}.log", check,
                                              configs, 20 if kind == "prometheus" else 10)
        if PACKAGES[kind] not in hp.packages:
            hp.packages.append(PACKAGES[kind])

    def listen(self, host: str, kind: str) -> str:
        return f"{self.plans[host].address}:{PORTS[kind]}"

    def file(self, host: str, name: str, content: str, mode: str = "0644") -> str:
        path = f"{self.plans[host].root}/etc/{name}"
        self.plans[host].files[path] = {"content": content, "mode": mode}
        return path

    def static(self, job: str, items: list[tuple[str, Labels]], every: str,
               **extra: Any) -> None:
        if not items:
            return
        configs = [{"targets": [t], "labels": labels} for t, labels in items]
        self.jobs.append({"job_name": job, "scrape_interval": every, "scrape_timeout": every,
                          "static_configs": configs, **extra})
        for t, labels in items:
            self.targets.append({"job": job, "target": t, "interval": every, **labels})

    # -- the parts -----------------------------------------------------------------------------
    def exporters(self) -> None:
        """node- and process-exporter: one for the machine, or one per host."""
        hosts = [h for h in self.hosts if h.alias == self.collector] if self.shares_machine \
            else self.hosts
        scope = "machine" if self.shares_machine else "host"
        node: list[tuple[str, Labels]] = []
        process: list[tuple[str, Labels]] = []
        for host in hosts:
            a = host.alias
            self.add(a, "node", [f"--web.listen-address={self.listen(a, 'node')}",
                                 "--collector.disable-defaults",
                                 *[f"--collector.{name}" for name in NODE_COLLECTORS]],
                     f"tcp:{self.listen(a, 'node')}")
            rules = process_rules(self.hosts if self.shares_machine else [host])
            config = self.file(a, "process-exporter.yml",
                               yaml.safe_dump({"process_names": rules}, sort_keys=False))
            # Per-thread metrics and smaps (PSS) multiply the /proc reads of every scrape.
            self.add(a, "process", [f"-web.listen-address={self.listen(a, 'process')}",
                                    f"-config.path={config}", "-threads=false",
                                    "-gather-smaps=false"],
                     f"tcp:{self.listen(a, 'process')}", [config])
            node.append((self.listen(a, "node"), {"host": a, "scope": scope}))
            process.append((self.listen(a, "process"), {"exporter_host": a, "scope": scope}))
        self.static("node", node, self.interval)
        # The group name HOST;COMMAND becomes the labels host and service.
        split = {"source_labels": ["groupname"], "regex": "([^;]+);(.*?):?"}
        # process-exporter reads /proc of every process of the machine at each scrape (7 % of
        # a core at 1 s on a loaded 2-core machine): scraped at the slow interval; its CPU
        # counters are cumulative, so rates stay exact, at a coarser grain.
        self.static("process", process, self.slow, metric_relabel_configs=[
            {**split, "target_label": "host", "replacement": "$1"},
            {**split, "target_label": "service", "replacement": "$2"},
        ])

    def infrastructure(self, endpoints: list[Endpoint]) -> None:
        """mysqld-exporter beside MariaDB, RabbitMQ's endpoint, and the probes' targets."""
        mysqld: list[tuple[str, Labels]] = []
        rabbit: list[tuple[str, Labels]] = []
        http: list[tuple[str, Labels]] = []
        tcp: list[tuple[str, Labels]] = []
        for ep in endpoints:
            host = ep.host or self.by_address.get(urlsplit(ep.url).hostname or "")
            if host not in self.plans:
                continue
            parts = urlsplit(ep.url)
            labels = {"host": host, "service": ep.name}
            if ep.kind == "db" and parts.scheme == "mysql" and self.plans[host].mysql is None:
                mysqld.append(self.mysqld(host, parts.hostname or "", parts.port or 3306,
                                          labels))
            if ep.kind == "metrics":
                rabbit.append((parts.netloc, labels))
            elif ep.kind in TCP_KINDS:
                tcp.append((parts.netloc, labels))
            elif parts.scheme in ("http", "https"):
                http.append((ep.url, labels))
        self.static("mysqld", mysqld, self.slow)
        self.static("rabbitmq", rabbit, self.slow)
        self.probes(http, tcp)

    def mysqld(self, host: str, address: str, port: int, labels: Labels) -> tuple[str, Labels]:
        cnf = self.file(host, "mysqld-exporter.cnf",
                        f"[client]\nuser = {DB_USER}\npassword = {self.db_password}\n"
                        f"host = {address}\nport = {port}\n", "0600")
        # No replica here: SHOW SLAVE STATUS would need a privilege more, for nothing.
        self.add(host, "mysqld", [f"--config.my-cnf={cnf}", "--no-collect.slave_status",
                                  f"--web.listen-address={self.listen(host, 'mysqld')}"],
                 f"tcp:{self.listen(host, 'mysqld')}", [cnf])
        self.plans[host].mysql = {"user": DB_USER, "password": self.db_password}
        return self.listen(host, "mysqld"), labels

    def probes(self, http: list[tuple[str, Labels]], tcp: list[tuple[str, Labels]]) -> None:
        """blackbox-exporter on the collector, every probe at the scrape interval."""
        c = self.collector
        blackbox = self.listen(c, "blackbox")
        config = self.file(c, "blackbox.yml", yaml.safe_dump(_blackbox_config(),
                                                             sort_keys=False))
        self.add(c, "blackbox", [f"--config.file={config}", f"--web.listen-address={blackbox}"],
                 f"tcp:{blackbox}", [config])
        relabel = [
            {"source_labels": ["__address__"], "target_label": "__param_target"},
            {"source_labels": ["__param_target"], "target_label": "instance"},
            {"target_label": "__address__", "replacement": blackbox},
        ]
        for job, module, items in (("probe-http", "http_api", http), ("probe-tcp", "tcp", tcp)):
            self.static(job, items, self.interval, metrics_path="/probe",
                        params={"module": [module]}, relabel_configs=relabel)
        self.static("blackbox", [(blackbox, {"host": c})], self.slow)

    def prometheus(self) -> str:
        c = self.collector
        root = self.plans[c].root
        listen = self.listen(c, "prometheus")
        self.static("prometheus", [(listen, {"host": c})], self.slow)
        config = self.file(c, "prometheus.yml", yaml.safe_dump({
            "global": {"scrape_interval": self.interval, "scrape_timeout": self.interval,
                       "evaluation_interval": self.slow,
                       "external_labels": {"enos_collector": c}},
            "scrape_configs": self.jobs,
        }, sort_keys=False))
        url = f"http://{listen}"
        self.add(c, "prometheus", [f"--config.file={config}", f"--storage.tsdb.path={root}/data",
                                   f"--storage.tsdb.retention.time={self.retention}",
                                   f"--web.listen-address={listen}", "--web.enable-admin-api",
                                   "--web.enable-lifecycle", "--log.level=warn"],
                 f"{url}/-/ready", [config])
        return url


def build(hosts: list[Host], endpoints: list[Endpoint], section: dict[str, Any], *,
          shares_machine: bool, db_password: str) -> Plan:
    """The plan of the monitoring stack (see the module's documentation)."""
    b = _Builder(hosts, section, shares_machine, db_password)
    b.exporters()
    b.infrastructure(endpoints)
    url = b.prometheus()
    for hp in b.plans.values():
        hp.dirs = [f"{hp.root}/etc", f"{hp.root}/log", f"{hp.root}/bin"] + (
            [f"{hp.root}/data"] if hp.alias == b.collector else [])
    return Plan(b.collector, url, b.interval, b.slow, b.retention,
                {a: hp for a, hp in b.plans.items() if hp.programs}, b.targets)
