"""Monitoring, events, `enos status`, `enos logs` and the dashboard (Horizon in a real browser)
on ONE local cloud with monitoring on.

The module's fixture deploys three hosts (control, network, compute in two topology groups)
with `enable_monitoring: true`, shared by every test here, and destroys them at the end.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import netns_names, processes_under, run_enos, unique_networks

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(os.geteuid() != 0, reason="the local testbed needs root"),
]

ENOS = shutil.which("enos") or "enos"
TOPOLOGY = {"grp1": {"local": {"control": 1, "network": 1}}, "grp2": {"local": {"compute": 1}}}
CONSTRAINTS = {"enable": True, "default_delay": "0ms", "default_rate": "1gbit",
               "default_loss": "0%"}


class Cloud:
    def __init__(self, path: Path) -> None:
        self.path = path

    @property
    def exp(self) -> Path:
        return (self.path / "current").resolve()

    def enos(self, *args: str, check: bool = True,
             timeout: float = 600) -> subprocess.CompletedProcess[str]:
        return run_enos(*args, cwd=self.path, check=check, timeout=timeout)

    def state(self) -> dict[str, Any]:
        return json.loads((self.exp / "state.json").read_text())

    def host(self, role: str) -> dict[str, Any]:
        """The host of a role (aliases carry the topology group: grp1-control-1)."""
        return next(h for h in self.state()["resources"]["hosts"] if role in h["roles"])

    def alias(self, role: str) -> str:
        return str(self.host(role)["alias"])

    def prometheus(self) -> str:
        return str(json.loads(self.enos("info", "--out", "json").stdout)["monitoring"]
                   ["prometheus"])

    def query(self, expr: str) -> list[dict[str, Any]]:
        url = f"{self.prometheus()}/api/v1/query?query={urllib.parse.quote(expr)}"
        with urllib.request.urlopen(url, timeout=10) as resp:
            return list(json.loads(resp.read())["data"]["result"])

    def events(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in (self.exp / "events.jsonl").read_text()
                .splitlines()]


@pytest.fixture(scope="module")
def cloud() -> Iterator[Cloud]:
    path = Path(tempfile.mkdtemp(prefix="enos-monitoring-test-"))
    doc = {
        "provider": {"type": "local", "networks": unique_networks()},
        "topology": TOPOLOGY,
        "network_constraints": CONSTRAINTS,
        "enable_monitoring": True,
        "monitoring": {"retention": "1d"},
    }
    (path / "reservation.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    bed = Cloud(path)
    namespaces: list[str] = []
    try:
        out = bed.enos("deploy", timeout=1500)
        assert "Prometheus on grp1-control-1" in out.stdout + out.stderr
        namespaces = [h["extra"]["netns"] for h in bed.state()["resources"]["hosts"]]
        yield bed
    finally:
        exp = bed.exp if (path / "current").exists() else None
        done = bed.enos("destroy", "--hard", check=False)
        assert done.returncode == 0, done.stderr
        if exp is not None:
            assert not processes_under(exp), processes_under(exp)
        assert not set(namespaces) & netns_names()
        shutil.rmtree(path, ignore_errors=True)


def test_every_target_is_up_and_listed_by_info(cloud: Cloud) -> None:
    info = json.loads(cloud.enos("info", "--out", "json").stdout)["monitoring"]
    control = cloud.host("control")["address"]
    assert info["prometheus"] == f"http://{control}:9090"
    jobs = {t["job"] for t in info["targets"]}
    assert {"node", "process", "mysqld", "rabbitmq", "probe-http", "probe-tcp",
            "prometheus"} <= jobs
    probed = {t["service"] for t in info["targets"] if t["job"].startswith("probe")}
    assert {"keystone", "glance", "placement", "nova", "neutron", "mariadb", "rabbitmq",
            "memcached"} <= probed
    deadline = time.monotonic() + 60
    while True:
        with urllib.request.urlopen(f"{info['prometheus']}/api/v1/targets", timeout=10) as r:
            active = json.loads(r.read())["data"]["activeTargets"]
        down = [(t["labels"]["job"], t["scrapeUrl"], t["lastError"]) for t in active
                if t["health"] != "up"]
        if not down and len(active) == len(info["targets"]):
            break
        assert time.monotonic() < deadline, down
        time.sleep(2)
    text = cloud.enos("info").stdout
    assert f"prometheus: http://{control}:9090" in text


SERVER = r"""
import json, sys
import openstack
conn = openstack.connect(cloud="enos")
if sys.argv[1] == "create":
    server = conn.compute.create_server(
        name=sys.argv[2], flavor_id=conn.compute.find_flavor("m1.tiny", ignore_missing=False).id,
        image_id=conn.image.find_image("cirros.uec", ignore_missing=False).id,
        networks=[{"uuid": conn.network.find_network("private", ignore_missing=False).id}])
    print(json.dumps({"status": conn.compute.wait_for_server(server, wait=300).status}))
else:
    server = conn.compute.find_server(sys.argv[2], ignore_missing=False)
    conn.compute.delete_server(server)
    conn.compute.wait_for_delete(server, wait=120)
"""


def _server(cloud: Cloud, action: str, name: str) -> str:
    python = Path(cloud.state()["cloud"]["venv"]) / "bin" / "python"
    proc = subprocess.run([str(python), "-c", SERVER, action, name], capture_output=True,
                          text=True, timeout=400, check=False,
                          env={**os.environ, "OS_CLIENT_CONFIG_FILE":
                               str(cloud.exp / "clouds.yaml")})
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def test_dashboard_in_a_real_browser(cloud: Cloud, tmp_path: Path) -> None:
    """Horizon (on by default) in headless Chromium: the login page, admin's login, the
    project's instances (with a server made here), images and networks pages, without a
    console error nor an HTTP answer >= 500; `enos ssh-tunnel` forwards it and Prometheus;
    its configuration and log are in the control host's backup, its secret key redacted."""
    from browser import CHROMEDRIVER, CHROMIUM, Browser

    info = json.loads(cloud.enos("info", "--out", "json").stdout)
    control = cloud.host("control")
    assert info["dashboard"] == {"url": f"http://{control['address']}/", "user": "admin"}
    assert f"dashboard:  http://{control['address']}/" in cloud.enos("info").stdout
    status = [r for r in json.loads(cloud.enos("status", "--out", "json").stdout)
              if r["service"] == "horizon"]
    assert [(r["host"], r["running"]) for r in status] == [(control["alias"], True)]
    tunnel = json.loads(cloud.enos("ssh-tunnel", "--out", "json").stdout)
    forwarded = {f["name"]: f for f in tunnel["forwards"]}
    assert tunnel["direct"] and {"horizon", "prometheus", "keystone", "nova"} <= set(forwarded)
    assert forwarded["horizon"]["local_port"] == 8080

    if CHROMIUM is None or CHROMEDRIVER is None:
        pytest.skip("Debian's chromium and chromium-driver are not installed")
    password = next(line.split("=", 1)[1].strip("'") for line in
                    (cloud.exp / "admin-openrc").read_text().splitlines()
                    if line.startswith("export OS_PASSWORD="))
    name = f"dashboard-vm-{os.getpid()}"
    assert json.loads(_server(cloud, "create", name).splitlines()[-1])["status"] == "ACTIVE"
    try:
        with Browser(info["dashboard"]["url"]) as browser:
            visits = {"login page": browser.visit("/auth/login/", "Log in")}
            browser.fill({"#id_username": "admin", "#id_password": password}, "#loginBtn")
            browser.wait_idle()
            visits["login"] = browser.report()
            assert "/auth/login" not in visits["login"].url, browser.text()[:500]
            for page, path, text in (("instances", "/project/instances/", name),
                                     ("images", "/project/images/", "cirros.uec"),
                                     ("networks", "/project/networks/", "private")):
                try:
                    visits[page] = browser.visit(path, text)
                finally:
                    browser.screenshot(tmp_path / f"horizon-{page}.png")
            # Services not deployed have no panel (Horizon reads the catalog).
            for absent in ("/project/volumes/", "/project/containers/", "/admin/volumes/"):
                assert not browser.driver.find_elements("css selector", f'a[href="{absent}"]')
            assert browser.driver.find_elements("css selector", 'a[href="/project/images/"]')
        for page, visit in visits.items():
            assert not visit.errors and not visit.server_errors, (page, visit)
    finally:
        _server(cloud, "delete", name)

    cloud.enos("backup")
    archive = cloud.exp / "backup" / f"{control['alias']}.tar.gz"
    names = subprocess.run(["tar", "-tzf", str(archive)], capture_output=True, text=True,
                           check=True).stdout.split()
    settings = next(n for n in names if n.endswith("etc/horizon/local/local_settings.py"))
    assert any(n.endswith("log/horizon.log") for n in names)
    text = subprocess.run(["tar", "-xzOf", str(archive), settings], capture_output=True,
                          text=True, check=True).stdout
    assert "OPENSTACK_KEYSTONE_URL" in text and 'SECRET_KEY = "<redacted>"' in text


def test_series_carry_the_host_they_belong_to(cloud: Cloud) -> None:
    control, compute = cloud.alias("control"), cloud.alias("compute")
    procs = cloud.query('namedprocess_namegroup_num_procs{service=~"nova-compute|keystone|'
                        'mariadbd|nova-api|sshd"} > 0')
    where = {(s["metric"]["service"], s["metric"]["host"]) for s in procs}
    assert {("nova-compute", compute), ("keystone", control), ("mariadbd", control),
            ("nova-api", control), ("sshd", cloud.alias("network"))} <= where, where
    probes = cloud.query('probe_success{service="keystone"}')
    assert probes and probes[0]["metric"]["host"] == control
    assert probes[0]["value"][1] == "1"
    assert cloud.query("mysql_up")[0]["value"][1] == "1"
    # One sample a second: the gaps between the probe's samples of the last 10 s (Prometheus
    # may have started a few seconds ago: wait for five samples at least).
    stamps: list[float] = []
    deadline = time.monotonic() + 30
    while len(stamps) < 5 and time.monotonic() < deadline:
        series = cloud.query('probe_success{service="keystone"}[10s]')
        stamps = [float(t) for t, _ in series[0]["values"]] if series else []
        if len(stamps) < 5:
            time.sleep(2)
    gaps = sorted(b - a for a, b in zip(stamps, stamps[1:], strict=False))
    assert len(stamps) >= 5 and gaps[len(gaps) // 2] <= 1.5, stamps


def test_events_of_deploy_and_tc(cloud: Cloud) -> None:
    cloud.enos("tc", "--rate-only")
    cloud.enos("tc", "--reset")
    events = cloud.events()
    seen = {(e["kind"], e["name"], e["detail"].get("event")) for e in events}
    for phase in ("up", "os", "init"):
        assert ("phase", phase, "start") in seen and ("phase", phase, "end") in seen
    assert ("command", "deploy", "end") in seen and ("phase", "monitor", "end") in seen
    assert {("tc", "apply", None), ("tc", "reset", None)} <= seen
    end = next(e for e in events if (e["kind"], e["name"], e["detail"].get("event"))
               == ("phase", "os", "end"))
    assert end["detail"]["seconds"] > 0
    assert dt.datetime.fromisoformat(end["at"]).tzinfo is not None
    apply = next(e for e in events if (e["kind"], e["name"]) == ("tc", "apply"))
    assert apply["detail"]["rate_only"] is True


def test_events_of_a_bench_run(cloud: Cloud) -> None:
    """A real Rally run (one boot-and-list iteration) records its start and end, with its
    task id, in events.jsonl."""
    from enos.bench.samples import WORKLOAD

    workload = cloud.path / "workload"
    workload.mkdir(exist_ok=True)
    shutil.copy(WORKLOAD / "nova-boot-list-cc.yml", workload)
    (workload / "run.yml").write_text(
        "rally:\n  args: {concurrency: [1], times: [1]}\n  scenarios:\n"
        "    - {name: boot and list, file: nova-boot-list-cc.yml}\n")
    cloud.enos("bench", "--workload", str(workload), timeout=900)
    runs = [e for e in cloud.events() if e["kind"] == "bench"]
    starts = [e for e in runs if e["detail"].get("event") == "start"]
    ends = [e for e in runs if e["detail"].get("event") == "end"]
    assert len(starts) == 1 and len(ends) == 1, runs
    assert starts[0]["name"] == ends[0]["name"]
    assert ends[0]["detail"]["status"] == "ok" and ends[0]["detail"]["task_id"], ends[0]
    seen = {(e["kind"], e["name"], e["detail"].get("event")) for e in cloud.events()}
    assert ("phase", "bench", "start") in seen and ("phase", "bench", "end") in seen


def test_status_shows_a_stopped_service(cloud: Cloud) -> None:
    rows = json.loads(cloud.enos("status", "--out", "json").stdout)
    control, compute = cloud.alias("control"), cloud.alias("compute")
    services = {(r["host"], r["service"]) for r in rows}
    assert {(control, "keystone"), (control, "prometheus"),
            (control, "node-exporter")} <= services
    assert any(h == compute and s.startswith("nova-compute") for h, s in services)
    keystone = next(r for r in rows if r["service"] == "keystone")
    assert keystone["running"] and keystone["since"] and keystone["listen"].endswith(":5000")
    root = Path(cloud.host("control")["extra"]["enos_root"])
    sup = ["python3", str(root / "bin" / "supervisor.py"), "--dir", str(root / "supervisor")]
    subprocess.run([*sup, "stop", "nova-scheduler"], check=True, capture_output=True)
    try:
        proc = cloud.enos("status", "--out", "json", check=False)
        assert proc.returncode == 1
        row = next(r for r in json.loads(proc.stdout) if r["service"] == "nova-scheduler")
        assert row["state"] == "stopped" and not row["running"]
        assert "nova-scheduler" in cloud.enos("status", check=False).stdout
    finally:
        subprocess.run([*sup, "restart", "nova-scheduler"], check=True, capture_output=True)


def test_logs_follow_shows_a_line_written_after_it_started(cloud: Cloud) -> None:
    assert cloud.enos("logs", "keystone", "-n", "3").stdout.count("\n") <= 3
    bad = cloud.enos("logs", "keystne", check=False)
    assert bad.returncode != 0 and "did you mean 'keystone'" in bad.stderr
    compute = cloud.alias("compute")
    rows = json.loads(cloud.enos("status", "--out", "json").stdout)
    row = next(r for r in rows if r["host"] == compute and
               r["service"].startswith("nova-compute"))
    log = Path(row["log"])
    proc = subprocess.Popen([ENOS, "logs", row["service"], "--host", compute, "-n", "1",
                             "-f"], cwd=cloud.path, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    seen: list[str] = []
    reader = threading.Thread(target=lambda: seen.extend(proc.stdout or []), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 60
        while not seen:  # the last line is printed: it follows from there on
            assert time.monotonic() < deadline and proc.poll() is None, "enos logs -f is mute"
            time.sleep(0.2)
        marker = f"enos-test-marker-{time.time_ns()}"
        with log.open("a") as handle:
            handle.write(marker + "\n")
        deadline = time.monotonic() + 20
        while not any(marker in line for line in seen):
            assert time.monotonic() < deadline, f"the appended line was not shown: {seen}"
            time.sleep(0.2)
    finally:
        proc.terminate()
        proc.wait(10)


def test_backup_has_a_tsdb_snapshot_and_the_events(cloud: Cloud) -> None:
    cloud.enos("backup")
    archive = cloud.exp / "backup" / "monitoring.tar.gz"
    names = subprocess.run(["tar", "-tzf", str(archive)], capture_output=True, text=True,
                           check=True).stdout.split()
    assert "events.jsonl" in names
    assert any(n.startswith("prometheus-snapshot/") and n.endswith("/index") for n in names)
    assert {"grafana/dashboard.json", "grafana/datasource.yaml",
            "grafana/annotations.json"} <= set(names)


def _outages(cloud: Cloud) -> dict[str, Any]:
    return dict(json.loads(cloud.enos("outages", "--out", "json", timeout=120).stdout))


def _probe_ok(cloud: Cloud, service: str, timeout: float = 90) -> None:
    """Wait until the probes of ``service`` succeed again (and a second more, for the sample
    that closes the outage)."""
    deadline = time.monotonic() + timeout
    while True:
        series = cloud.query(f'probe_success{{service="{service}"}}')
        if series and all(s["value"][1] == "1" for s in series):
            time.sleep(1.5)
            return
        assert time.monotonic() < deadline, f"{service} is still down: {series}"
        time.sleep(0.5)


def test_fault_stop_for_5s_is_an_outage_of_5s(cloud: Cloud) -> None:
    """`enos fault stop mariadb --for 5s` appears in `enos outages` as an outage of MariaDB
    caused by the fault, lasting 5 s give or take one scrape interval (plus MariaDB's own
    start, measured from its log)."""
    control = cloud.alias("control")
    done = cloud.enos("fault", "stop", "mariadb", "--for", "5s")
    assert f"{control}" in done.stdout and "stopped" in done.stdout, done.stdout
    _probe_ok(cloud, "mariadb")
    found = [o for o in _outages(cloud)["outages"]
             if o["service"] == "mariadb" and o["cause"] == "fault"]
    assert len(found) == 1, found
    outage = found[0]
    assert outage["host"] == control and outage["fault"] == "stop mariadb for 5s"
    # Within one scrape interval (1 s) of the 5 s, plus the time MariaDB took to start again
    # (its log: from "Starting MariaDB" to "ready for connections", to the second).
    log = (Path(cloud.host("control")["extra"]["enos_root"]) / "log" / "mariadb.log")
    stamps = [dt.datetime.strptime(" ".join(line.split()[:2]), "%Y-%m-%d %H:%M:%S")
              for line in log.read_text().splitlines()
              if "Starting MariaDB" in line or "ready for connections" in line][-2:]
    starting = (stamps[1] - stamps[0]).total_seconds()
    assert 4.0 <= outage["seconds"] <= 6.0 + starting, (outage, starting)
    assert any("enos fault stop mariadb" in e for e in outage["evidence"])
    assert any("Normal shutdown" in e for e in outage["evidence"]), outage["evidence"]
    faults = [e for e in cloud.events() if e["kind"] == "fault"]
    assert [e["detail"]["event"] for e in faults[-2:]] == ["start", "end"]
    assert 4.9 <= faults[-1]["detail"]["seconds"] <= 6.0, faults[-1]
    print(f"mariadb stopped for 5s: outage seen by probes {outage['seconds']}s")


def test_a_fault_during_a_rally_run_fails_iterations_and_recovers(cloud: Cloud) -> None:
    """A workload's fault stops MariaDB for 4 s during boot-and-list: the iterations that meet
    it fail, a later one succeeds, and the summary gives the recovery time."""
    from enos.bench.samples import WORKLOAD

    workload = cloud.path / "workload-faults"
    workload.mkdir(exist_ok=True)
    # Iterations started at a steady pace (Rally's rps runner), so that some start during the
    # fault and some after it, however fast the failing ones fail.
    task = (WORKLOAD / "nova-boot-list-cc.yml").read_text()
    task = task.replace("concurrency: {{concurrency}}", "rps: 1").replace(
        'type: "constant"', 'type: "rps"')
    assert "rps: 1" in task and 'type: "rps"' in task
    (workload / "boot-list-paced.yml").write_text(task)
    (workload / "run.yml").write_text(
        "rally:\n  args: {times: [24], sla_max_failure: [100]}\n  scenarios:\n"
        "    - name: boot and list\n      file: boot-list-paced.yml\n"
        "      faults:\n        - {at: 3s, action: stop, service: mariadb, for: 4s}\n")
    out = cloud.enos("bench", "--workload", str(workload), timeout=900, check=False)
    assert "fault stop mariadb for 4s at +3s:" in out.stdout, out.stdout + out.stderr
    run = sorted((cloud.exp / "bench").glob("*-rally-*/run.json"))[-1]
    judged = json.loads(run.read_text())["faults"]
    assert len(judged) == 1, judged
    assert judged[0]["failed_during"] >= 1, judged
    assert judged[0]["recovery_seconds"] is not None and judged[0]["recovery_seconds"] > 4
    print(f"fault during boot-and-list: {judged[0]}")
    seen = [e for e in cloud.events() if e["kind"] == "fault"]
    assert seen[-1]["detail"].get("bench") == run.parent.name
    _probe_ok(cloud, "mariadb")


def test_fault_kill_rabbitmq_is_a_crash_and_a_restart(cloud: Cloud) -> None:
    before = _outages(cloud)
    cloud.enos("fault", "kill", "rabbitmq")
    _probe_ok(cloud, "rabbitmq", timeout=120)
    # RabbitMQ's log may reach its file a little after its port answers: ask until the outage
    # is closed and its log evidence is in.
    deadline = time.monotonic() + 60
    while True:
        after = _outages(cloud)
        new = [o for o in after["outages"] if o["start"] not in
               {b["start"] for b in before["outages"]} and o["service"] == "rabbitmq"]
        evidence = [e for o in new for e in o["evidence"]]
        if (new and all(o["end"] for o in new)
                and any("Starting RabbitMQ" in e for e in evidence)):
            break
        assert time.monotonic() < deadline, new
        time.sleep(2)
    assert all(o["cause"] == "crash" for o in new), new
    assert any(o["fault"] == "kill rabbitmq" for o in new)
    assert any("without being asked to" in e for o in new for e in o["evidence"]), new
    restarts = [r for r in after["restarts"] if r not in before["restarts"]
                and r["service"] == "rabbitmq"]
    assert len(restarts) == 1, restarts
    text = cloud.enos("outages").stdout
    assert "rabbitmq" in text and "crash" in text


def test_report_of_the_monitored_cloud(cloud: Cloud, tmp_path: Path) -> None:
    """`enos report` on this cloud: the phases with each host's slowest Ansible tasks, the
    versions, the Rally runs and their fault, the outages, the metrics from Prometheus, and
    the page drawn by a real browser without a script error."""
    from browser import CHROMEDRIVER, CHROMIUM, open_page

    cloud.enos("report", timeout=300)
    out = cloud.exp / "report"
    doc = json.loads((out / "report.json").read_text())
    assert doc["versions"]["openstack"] and doc["versions"]["nova"]
    phases = {p["name"]: p for p in doc["phases"]}
    assert {"up", "os", "init", "monitor", "bench", "tc"} <= set(phases), phases.keys()
    assert phases["os"]["status"] == "ok" and phases["os"]["seconds"] > 10
    (deploy,) = [r for r in phases["os"]["ansible"] if r["title"] == "enos os"]
    assert set(deploy["slowest_tasks"]) == {h["alias"] for h in cloud.state()["resources"]
                                            ["hosts"]}
    assert all(t["seconds"] > 0 for tasks in deploy["slowest_tasks"].values() for t in tasks)

    assert len(doc["bench"]) >= 2
    faulted = [r for r in doc["bench"] if r["faults"]]
    assert faulted and faulted[-1]["faults"][0]["failed_during"] >= 1
    assert {"nova.boot_server", "nova.list_servers", "total"} <= set(doc["bench"][0]["actions"])

    services = {o["service"] for o in doc["outages"]["outages"]}
    assert {"mariadb", "rabbitmq"} <= services, services
    series = doc["metrics"]["series"]
    for name in ("cpu", "memory", "probe_latency"):
        assert series[name]["series"], name
    labelled = {s["labels"]["service"] for s in series["cpu"]["series"]}
    assert {"keystone", "nova-api"} <= labelled, labelled
    assert any(p[1] > 0 for s in series["memory"]["series"] for p in s["points"])

    if CHROMIUM is None or CHROMEDRIVER is None:
        pytest.skip("Debian's chromium and chromium-driver are not installed")
    page = open_page(out / "index.html", tmp_path / "cloud-report.png",
                     selectors=("[data-metric] canvas", "[data-cdf] canvas", ".track"))
    assert page.errors == []
    assert page.counts["[data-metric] canvas"] == 3
    assert page.counts["[data-cdf] canvas"] == len(doc["bench"])
    assert page.counts[".track"] == len(doc["outages"]["outages"])
