"""The monitoring service without a testbed: its section, its plan, its place in info."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest
import yaml

from enos.config import load_config
from enos.deployers.base import Endpoint
from enos.errors import ConfigError
from enos.model import Host
from enos.monitoring import plan as planmod
from enos.monitoring.section import DEFAULTS, seconds

BASE = """\
provider: local
resources:
  control: 1
  network: 1
  compute: 1
enable_monitoring: true
"""


def load(tmp_path: Path, text: str):  # type: ignore[no-untyped-def]
    path = tmp_path / "reservation.yaml"
    path.write_text(textwrap.dedent(text))
    return load_config(path)


def test_section_defaults_and_values(tmp_path: Path) -> None:
    config = load(tmp_path, BASE + "monitoring:\n  retention: 2d\n  collector: network\n")
    assert config.data["enable_monitoring"] is True
    assert config.data["monitoring"] == {**DEFAULTS, "retention": "2d", "collector": "network"}
    assert seconds("1m30s") == 90 and seconds("500ms") == 0.5


@pytest.mark.parametrize("text, key, words", [
    ("monitoring:\n  scrape_interval: fast\n", "monitoring.scrape_interval", "not a duration"),
    ("monitoring:\n  retention: 10s\n", "monitoring.retention", "too short"),
    ("monitoring:\n  scrape_intervall: 1s\n", "monitoring.scrape_intervall", "did you mean"),
    ("monitoring:\n  collector: [a]\n", "monitoring.collector", "host alias or a role"),
    ("monitoring: 3\n", "monitoring", "mapping"),
])
def test_section_errors_name_file_line_and_key(tmp_path: Path, text: str, key: str,
                                               words: str) -> None:
    with pytest.raises(ConfigError) as info:
        load(tmp_path, BASE + text)
    error = info.value
    assert error.key == key and error.line is not None and error.line >= 7
    assert error.exit_code == 2
    assert words in f"{error.message} {error.hint}"


def hosts(n_compute: int = 1) -> list[Host]:
    out = []
    for i, (alias, role) in enumerate([("control-1", "control"), ("network-1", "network")]
                                      + [(f"compute-{k}", "compute")
                                         for k in range(1, n_compute + 1)]):
        out.append(Host(alias, f"10.0.0.{10 + i}", roles=[role],
                        addresses={"network_interface": f"10.0.0.{10 + i}"},
                        extra={"enos_root": f"/xp/hosts/{alias}"}))
    return out


ENDPOINTS = [
    Endpoint("keystone", "http://10.0.0.10:5000/v3", "api", "control-1"),
    Endpoint("nova", "http://10.0.0.10:8774/v2.1", "api"),  # host found by address
    Endpoint("mariadb", "mysql://10.0.0.10:3306", "db", "control-1"),
    Endpoint("rabbitmq", "amqp://10.0.0.10:5672", "mq", "control-1"),
    Endpoint("memcached", "tcp://10.0.0.10:11211", "cache", "control-1"),
    Endpoint("rabbitmq", "http://10.0.0.10:15692/metrics", "metrics", "control-1"),
]


def test_shared_machine_runs_one_exporter_of_each_on_the_collector() -> None:
    plan = planmod.build(hosts(2), ENDPOINTS, dict(DEFAULTS), shares_machine=True,
                         db_password="pw")
    assert plan.collector == "control-1"
    assert plan.prometheus == "http://10.0.0.10:9090"
    assert list(plan.hosts) == ["control-1"]
    programs = plan.hosts["control-1"].programs
    assert set(programs) == {"node-exporter", "process-exporter", "mysqld-exporter",
                             "blackbox-exporter", "prometheus"}
    for spec in programs.values():  # every process binds the host's address, never 0.0.0.0
        listen = [a for a in spec["argv"] if "listen-address" in a]
        assert listen and listen[0].endswith(tuple(f"10.0.0.10:{p}"
                                                   for p in planmod.PORTS.values()))
    jobs = {t["job"] for t in plan.targets}
    assert jobs == {"node", "process", "mysqld", "rabbitmq", "probe-http", "probe-tcp",
                    "prometheus", "blackbox"}
    probes = {(t["service"], t["host"], t["interval"]) for t in plan.targets
              if t["job"].startswith("probe")}
    assert probes == {("keystone", "control-1", "1s"), ("nova", "control-1", "1s"),
                      ("mariadb", "control-1", "1s"), ("rabbitmq", "control-1", "1s"),
                      ("memcached", "control-1", "1s")}
    # One process-exporter attributes processes of every host by enos_root or address.
    files = plan.hosts["control-1"].files
    config = yaml.safe_load(files["/xp/hosts/control-1/monitoring/etc/process-exporter.yml"]
                            ["content"])
    rules = config["process_names"]
    assert [r["name"] for r in rules] == [
        f"{h};{{{{.{m}}}}}" for h in ("control-1", "network-1", "compute-1", "compute-2")
        for m in ("Matches.svc", "Comm")]
    uwsgi = re.compile(rules[0]["cmdline"][0])
    found = uwsgi.search("nova-api uWSGI worker 1 /xp/hosts/control-1")
    assert found and found.group("svc") == "nova-api"
    assert not uwsgi.search("nova-api uWSGI worker 1 /xp/hosts/control-10")
    compute = re.compile(rules[5]["cmdline"][0])
    assert compute.search("/venv/bin/nova-compute --config-file /xp/hosts/compute-1/etc/n.conf")
    assert compute.search("/usr/bin/memcached -l 10.0.0.12 -p 11211")
    assert not compute.search("/usr/bin/memcached -l 10.0.0.120 -p 11211")
    assert not compute.search("--config-file /xp/hosts/compute-10/etc/n.conf")
    cnf = files["/xp/hosts/control-1/monitoring/etc/mysqld-exporter.cnf"]
    assert cnf["mode"] == "0600" and "password = pw" in cnf["content"]


def test_real_testbed_runs_exporters_on_every_host_and_honours_the_collector() -> None:
    section = {**DEFAULTS, "collector": "network", "scrape_interval": "2s"}
    plan = planmod.build(hosts(1), ENDPOINTS, section, shares_machine=False, db_password="x")
    assert plan.collector == "network-1"
    assert set(plan.hosts) == {"control-1", "network-1", "compute-1"}
    assert "prometheus" in plan.hosts["network-1"].programs
    assert "mysqld-exporter" in plan.hosts["control-1"].programs
    node = [t for t in plan.targets if t["job"] == "node"]
    assert sorted(t["host"] for t in node) == ["compute-1", "control-1", "network-1"]
    assert {t["interval"] for t in node} == {"2s"}
    prom = yaml.safe_load(plan.hosts["network-1"].files[
        "/xp/hosts/network-1/monitoring/etc/prometheus.yml"]["content"])
    assert prom["global"]["scrape_interval"] == "2s"
    slow = {j["job_name"]: j["scrape_interval"] for j in prom["scrape_configs"]}
    assert slow["mysqld"] == slow["rabbitmq"] == slow["process"] == "5s"
    assert slow["probe-tcp"] == slow["probe-http"] == slow["node"] == "2s"


def test_a_collector_no_host_matches_is_refused() -> None:
    with pytest.raises(planmod.PlanError, match="no host is named 'db'"):
        planmod.build(hosts(), [], {**DEFAULTS, "collector": "db"}, shares_machine=True,
                      db_password="x")


def test_monitor_role_is_the_default_collector() -> None:
    hs = hosts()
    hs.append(Host("mon-1", "10.0.0.50", roles=["monitoring"], extra={"enos_root": "/m"}))
    assert planmod.collector_of(hs, None).alias == "mon-1"
