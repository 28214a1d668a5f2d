#!/usr/bin/env python3
"""Time the native deployer on the local testbed and measure what it costs.

Prints, for fresh experiments of 3 hosts (control, network, compute):

- cold: seconds from `enos deploy` to the first ACTIVE server, without an OpenStack
  virtualenv (a new cache directory: the virtualenv is built, pip's own cache is left as
  the machine has it, Debian packages as installed);
- warm: the same with the virtualenv and the schema snapshots in place (the usual case), and
  `enos os` run again three times on the deployed cloud (nothing to change);
- memory: resident (RSS) and proportional (PSS) memory of the control plane, of one compute;
- scale: one compute host with N fake nova-computes: seconds until all are schedulable;
- hypervisors: one compute host with H fake hypervisors, --per-service nodes per nova-compute
  (``nodes_per_compute``; 1000 = 10 services of 100 nodes), each H on its own cloud: the
  deployment's time, the services apart from the nodes (RPC load grows with the first, the
  scheduler's work with the second), the compute host's and the control plane's memory, and
  the boot rate Rally measures (NovaServers.boot_and_delete_server, --boots at --concurrency,
  through `enos bench`).

Medians when --runs > 1. Needs root; removes every testbed it makes. Examples:
    python benchmarks/native_deploy.py --cold --warm --scale 100
    python benchmarks/native_deploy.py --hypervisors 1 100 1000 --per-service 100
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml
from _common import enos_ok as enos
from _common import memory_mib as memory
from _common import tree

from enos.report import data

ENOS = shutil.which("enos") or "enos"

BOOT = r"""
import json, time
import openstack
conn = openstack.connect(cloud="enos")
start = time.monotonic()
image = conn.image.find_image("cirros.uec", ignore_missing=False)
flavor = conn.compute.find_flavor("m1.tiny", ignore_missing=False)
net = conn.network.find_network("private", ignore_missing=False)
server = conn.compute.create_server(name="bench-vm", image_id=image.id, flavor_id=flavor.id,
                                    networks=[{"uuid": net.id}])
conn.compute.wait_for_server(server, status="ACTIVE", wait=600, interval=0.5)
active = time.monotonic() - start
hyps = len(list(conn.compute.hypervisors()))
print(json.dumps({"boot": active, "hypervisors": hyps}))
"""








def host_memory(root: Path, prefix: str | None = None) -> tuple[float, float]:
    path = root / "supervisor" / "status.json"
    if not path.exists():  # no service on this host
        return 0.0, 0.0
    status = json.loads(path.read_text())
    pids: list[int] = []
    for name, prog in status["programs"].items():
        if prog.get("pid") and (prefix is None or name.startswith(prefix)):
            pids += tree(int(prog["pid"]))
    return memory(pids)


RALLY_BOOTS = """---
NovaServers.boot_and_delete_server:
-
  args: {flavor: {name: m1.tiny}, image: {name: cirros.uec}, auto_assign_nic: true}
  runner: {type: constant, times: {{times}}, concurrency: {{concurrency}}}
  context:
    users: {tenants: 1, users_per_tenant: 1}
    network: {start_cidr: "10.2.0.0/24", networks_per_tenant: 1}
    quotas:
      nova: {instances: -1, cores: -1, ram: -1}
      neutron: {network: -1, port: -1}
"""


def rally_boots(xp: Path, exp: Path, boots: int, concurrency: int) -> dict[str, float]:
    """`enos bench` of RALLY_BOOTS: boots per second over the run, median boot-and-delete."""
    workload = xp / "workload"
    workload.mkdir()
    (workload / "boots.yml").write_text(RALLY_BOOTS)
    (workload / "run.yml").write_text(yaml.safe_dump({"rally": {
        "args": {"times": [boots], "concurrency": [concurrency]},
        "scenarios": [{"name": "boots", "file": "boots.yml"}]}}))
    enos("bench", cwd=xp)
    its = [it for run in data.bench_runs(exp) for it in run.iterations]
    done = [it for it in its if it.error is None and it.duration is not None]
    if not done:
        raise SystemExit(f"no boot succeeded out of {len(its)}")
    span = max(it.timestamp + (it.duration or 0) for it in done) - min(it.timestamp for it in its)
    return {"rate": len(done) / span, "boot_median": statistics.median(
        it.duration or 0 for it in done), "failed": float(len(its) - len(done))}


def run_once(workdir: Path, fake_computes: int, env: dict[str, str] | None,
             measure_memory: bool, reruns: int = 0, nodes_per_compute: int = 1,
             rally: tuple[int, int] | None = None) -> dict[str, Any]:
    xp = Path(tempfile.mkdtemp(prefix="bench-", dir=workdir))
    doc = {
        "provider": {"type": "local"},  # free ranges picked by the local provider
        "resources": {"control": 1, "network": 1, "compute": 1},
        "deployer": {"type": "native", "fake_computes": fake_computes,
                     "nodes_per_compute": nodes_per_compute},
    }
    (xp / "reservation.yaml").write_text(yaml.safe_dump(doc))
    out: dict[str, Any] = {}
    try:
        start = time.monotonic()
        enos("deploy", cwd=xp, env=env)
        out["deploy"] = time.monotonic() - start
        exp = (xp / "current").resolve()
        state = json.loads((exp / "state.json").read_text())
        out["os"] = state["phases"]["os"]["seconds"]
        python = Path(state["cloud"]["venv"]) / "bin" / "python"
        proc = subprocess.run([str(python), "-c", BOOT], capture_output=True, text=True,
                              check=True, env={**os.environ,
                                               "OS_CLIENT_CONFIG_FILE": str(exp / "clouds.yaml")})
        boot = json.loads(proc.stdout.strip().splitlines()[-1])
        out["first_active"] = time.monotonic() - start
        out["boot"] = boot["boot"]
        out["hypervisors"] = boot["hypervisors"]
        if reruns:
            # `enos os` again on the deployed cloud: nothing to change (SSH connections kept).
            times = []
            for _ in range(reruns):
                begin = time.monotonic()
                enos("os", cwd=xp, env=env)
                times.append(time.monotonic() - begin)
            out["rerun"] = statistics.median(times)
        if measure_memory:
            hosts = {h["alias"]: Path(h["extra"]["enos_root"])
                     for h in state["resources"]["hosts"]}
            control = host_memory(hosts["control-1"])
            network = host_memory(hosts["network-1"])
            compute = host_memory(hosts["compute-1"], "nova-compute")
            out["control_rss"] = control[0] + network[0]
            out["control_pss"] = control[1] + network[1]
            out["compute_rss"] = compute[0] / fake_computes
            out["compute_pss"] = compute[1] / fake_computes
            out["computes_rss"], out["computes_pss"] = compute
        if rally:
            out.update(rally_boots(xp, exp, *rally))
    finally:
        subprocess.run([ENOS, "destroy", "--hard"], cwd=xp,
                       capture_output=True, check=False)
        shutil.rmtree(xp, ignore_errors=True)
    return out


def median(runs: list[dict[str, Any]], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cold", action="store_true", help="measure a cold deployment")
    parser.add_argument("--warm", action="store_true", help="measure a warm deployment")
    parser.add_argument("--scale", type=int, default=0, metavar="N",
                        help="deploy N fake computes on one host and time it")
    parser.add_argument("--hypervisors", type=int, nargs="+", default=[], metavar="H",
                        help="deploy H fake hypervisors on one host (one cloud each)")
    parser.add_argument("--per-service", type=int, default=100, metavar="M",
                        help="nodes per nova-compute service with --hypervisors")
    parser.add_argument("--boots", type=int, default=40, help="Rally boots per --hypervisors")
    parser.add_argument("--concurrency", type=int, default=4, help="Rally's concurrency")
    parser.add_argument("--runs", type=int, default=1, help="runs per measure (medians)")
    args = parser.parse_args()
    for count in args.hypervisors:
        if count > args.per_service and count % args.per_service:
            parser.error(f"--hypervisors {count} is not a multiple of --per-service "
                         f"{args.per_service}")
    if not (args.cold or args.warm or args.scale or args.hypervisors):
        args.warm = True
    workdir = Path(tempfile.mkdtemp(prefix="enos-bench-native-", dir="/root"))
    plural = "median of" if args.runs > 1 else "one run,"
    try:
        if args.cold:
            runs = []
            for _ in range(args.runs):
                cache = Path(tempfile.mkdtemp(prefix="enos-cold-cache-", dir="/var/cache"))
                try:
                    runs.append(run_once(workdir, 1, {**os.environ, "ENOS_CACHE_DIR": str(cache)},
                                         False))
                finally:
                    shutil.rmtree(cache, ignore_errors=True)
            print(f"cold deploy -> first ACTIVE server: {median(runs, 'first_active'):.0f} s "
                  f"({plural} {args.runs}; enos os {median(runs, 'os'):.0f} s, "
                  f"boot {median(runs, 'boot'):.1f} s)")
        if args.warm:
            runs = [run_once(workdir, 1, None, True, reruns=3) for _ in range(args.runs)]
            print(f"warm deploy -> first ACTIVE server: {median(runs, 'first_active'):.0f} s "
                  f"({plural} {args.runs}; enos deploy {median(runs, 'deploy'):.0f} s, "
                  f"boot {median(runs, 'boot'):.1f} s)")
            print(f"enos os again, nothing to change: {median(runs, 'rerun'):.1f} s "
                  f"(median of 3 reruns a deployment, {plural} {args.runs})")
            print(f"memory: control plane RSS {median(runs, 'control_rss'):.0f} MiB "
                  f"(PSS {median(runs, 'control_pss'):.0f} MiB); one compute RSS "
                  f"{median(runs, 'compute_rss'):.0f} MiB (PSS {median(runs, 'compute_pss'):.0f}"
                  " MiB)")
        if args.scale:
            runs = [run_once(workdir, args.scale, None, True) for _ in range(args.runs)]
            print(f"scale: {int(median(runs, 'hypervisors'))} of {args.scale} fake computes "
                  f"schedulable; enos os {median(runs, 'os'):.0f} s, enos deploy -> first "
                  f"ACTIVE server {median(runs, 'first_active'):.0f} s ({plural} {args.runs}); "
                  f"per compute RSS {median(runs, 'compute_rss'):.0f} MiB, PSS "
                  f"{median(runs, 'compute_pss'):.0f} MiB")
        for count in args.hypervisors:
            services = max(1, count // args.per_service)
            per = count // services
            runs = [run_once(workdir, services, None, True, nodes_per_compute=per,
                             rally=(args.boots, args.concurrency)) for _ in range(args.runs)]
            print(f"{count} hypervisors = {services} nova-compute service(s) x {per} node(s): "
                  f"{int(median(runs, 'hypervisors'))} schedulable; enos os "
                  f"{median(runs, 'os'):.0f} s, enos deploy -> first ACTIVE server "
                  f"{median(runs, 'first_active'):.0f} s ({plural} {args.runs})")
            print(f"  memory: the computes RSS {median(runs, 'computes_rss'):.0f} MiB (PSS "
                  f"{median(runs, 'computes_pss'):.0f} MiB), control plane RSS "
                  f"{median(runs, 'control_rss'):.0f} MiB (PSS "
                  f"{median(runs, 'control_pss'):.0f} MiB)")
            print(f"  Rally boot_and_delete_server x{args.boots} at concurrency "
                  f"{args.concurrency}: {median(runs, 'rate'):.2f} boots/s, median "
                  f"{median(runs, 'boot_median'):.1f} s, {median(runs, 'failed'):.0f} failed")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
