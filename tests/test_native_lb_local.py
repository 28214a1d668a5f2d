"""Several API hosts on a real local testbed: HAProxy and keepalived in front of the APIs.

`enos deploy` with two control hosts; the catalog and the credentials name the VIP, which one
host holds; MariaDB and RabbitMQ run on the first control host only. The APIs of the host
holding the VIP are stopped (`enos fault`): the cloud still answers through the VIP. Then that
host's HAProxy and keepalived are stopped: the VIP moves to the other host and the cloud still
answers. `enos destroy --hard` leaves no process and no namespace.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import netns_names, processes_under, unique_networks

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(os.geteuid() != 0, reason="the local testbed needs root"),
]

ENOS = shutil.which("enos") or "enos"
APIS = ["keystone", "glance-api", "placement-api", "nova-api", "neutron-server"]


def enos(*args: str, cwd: Path, timeout: int = 1500) -> subprocess.CompletedProcess[str]:
    return subprocess.run([ENOS, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, check=False, stdin=subprocess.DEVNULL)


def ok(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout + proc.stderr


def holders(hosts: list[dict[str, Any]], vip: str) -> list[str]:
    """The hosts whose interfaces carry the VIP."""
    out = []
    for host in hosts:
        addrs = subprocess.run(["ip", "-n", host["extra"]["netns"], "-4", "-o", "addr"],
                               capture_output=True, text=True, check=False).stdout
        if f" {vip}/" in addrs:
            out.append(host["alias"])
    return out


def openstack(expdir: Path, venv: str, *args: str) -> str:
    proc = subprocess.run(
        [str(Path(venv) / "bin" / "openstack"), "--os-cloud", "enos", *args, "-f", "json"],
        cwd=expdir, capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, "OS_CLIENT_CONFIG_FILE": str(expdir / "clouds.yaml")})
    assert proc.returncode == 0, f"openstack {' '.join(args)}: {proc.stderr[-2000:]}"
    return proc.stdout


class Probe(threading.Thread):
    """GET a URL every 0.1 s; the windows in which it failed."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url, self.stopping, self.gaps = url, threading.Event(), []
        self.requests = 0

    def run(self) -> None:
        failing: float | None = None
        while not self.stopping.is_set():
            now = time.monotonic()
            self.requests += 1
            try:
                with urllib.request.urlopen(self.url, timeout=3) as resp:
                    good = resp.status < 500
            except urllib.error.HTTPError as exc:
                good = exc.code < 500
            except OSError:
                good = False
            if not good and failing is None:
                failing = now
            elif good and failing is not None:
                self.gaps.append(round(now - failing, 2))
                failing = None
            time.sleep(max(0.0, 0.1 - (time.monotonic() - now)))
        if failing is not None:
            self.gaps.append(round(time.monotonic() - failing, 2))


def test_two_control_hosts_survive_losing_apis_and_the_vip_holder(workdir: Path) -> None:
    doc = {
        "provider": {"type": "local", "networks": unique_networks()},
        "resources": {"control": 2, "network": 1, "compute": 1},
        "deployer": {"type": "native"},
    }
    (workdir / "reservation.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    namespaces: list[str] = []
    expdir: Path | None = None
    probe: Probe | None = None
    try:
        start = time.monotonic()
        ok(enos("deploy", cwd=workdir))
        deploy_seconds = time.monotonic() - start
        expdir = (workdir / "current").resolve()
        state = json.loads((expdir / "state.json").read_text())
        hosts = state["resources"]["hosts"]
        namespaces = [h["extra"]["netns"] for h in hosts]
        controls = [h for h in hosts if "control" in h["roles"]]
        cloud = state["cloud"]
        vip = cloud["vip"]
        # The VIP: the first address of the network_interface network's free pool.
        net = next(n for n in state["resources"]["networks"]
                   if "network_interface" in n["roles"])
        assert vip == net["start"]
        assert cloud["lb_hosts"] == ["control-1", "control-2"]
        assert cloud["auth_url"] == f"http://{vip}:5000/v3"
        assert all(url.startswith(f"http://{vip}:") for url in cloud["endpoints"].values())
        assert f"OS_AUTH_URL=http://{vip}:5000/v3" in (expdir / "admin-openrc").read_text()
        catalog = json.loads(openstack(expdir, cloud["venv"], "endpoint", "list"))
        assert {e["URL"].split("/")[2].split(":")[0] for e in catalog} == {vip}
        assert f"vip:        {vip}" in ok(enos("info", cwd=workdir))

        # Each control host runs the APIs (on its own address) and the load balancer; the
        # infrastructure runs on the first one only.
        programs = {}
        for host in controls:
            status = json.loads((Path(host["extra"]["enos_root"]) / "supervisor" /
                                 "status.json").read_text())["programs"]
            programs[host["alias"]] = set(status)
            assert all(p["state"] == "running" for p in status.values()), status
            assert {*APIS, "haproxy", "keepalived"} <= set(status)
        assert {"mariadb", "rabbitmq", "memcached"} <= programs["control-1"]
        assert not {"mariadb", "rabbitmq", "memcached"} & programs["control-2"]
        first = holders(controls, vip)
        assert len(first) == 1, first

        probe = Probe(f"http://{vip}:5000/v3")
        probe.start()

        # 1. The APIs of the host holding the VIP stop: its HAProxy sends to the other host.
        for service in APIS:
            ok(enos("fault", "stop", service, "--host", first[0], cwd=workdir))
        openstack(expdir, cloud["venv"], "token", "issue")
        json.loads(openstack(expdir, cloud["venv"], "server", "list"))
        json.loads(openstack(expdir, cloud["venv"], "network", "list"))
        api_gaps = list(probe.gaps)

        # 2. That host's HAProxy stops: keepalived's check fails, the VIP moves; then its
        # keepalived stops too.
        moved_from = time.monotonic()
        ok(enos("fault", "stop", "haproxy", "--host", first[0], cwd=workdir))
        deadline = time.monotonic() + 30
        while holders(controls, vip) in ([], first) and time.monotonic() < deadline:
            time.sleep(0.05)
        failover = time.monotonic() - moved_from
        ok(enos("fault", "stop", "keepalived", "--host", first[0], cwd=workdir))
        second = holders(controls, vip)
        assert len(second) == 1 and second != first, (first, second)
        openstack(expdir, cloud["venv"], "token", "issue")
        servers = json.loads(openstack(expdir, cloud["venv"], "server", "list"))
        assert isinstance(servers, list)
        probe.stopping.set()
        probe.join(10)
        print(f"deploy with 2 control hosts: {deploy_seconds:.1f} s; VIP moved "
              f"{first[0]} -> {second[0]} in {failover:.1f} s (fault command included); "
              f"probe: {probe.requests} requests, failed windows {probe.gaps} (APIs stopped: "
              f"{api_gaps})")
        # Outages through the VIP stay short: at most the moves of the VIP.
        assert sum(probe.gaps) < 10, probe.gaps
    finally:
        if probe is not None:
            probe.stopping.set()
        destroyed = enos("destroy", "--hard", cwd=workdir)
        leftover_ns = set(namespaces) & netns_names()
        leftover = processes_under(workdir)
        assert destroyed.returncode == 0, destroyed.stdout + destroyed.stderr
        assert not leftover_ns, leftover_ns
        assert not leftover, leftover
