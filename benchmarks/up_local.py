"""Wall time and memory of `enos up` on the local provider (medians of N runs per size).

Each run starts from nothing (fresh experiment directory, address ranges no route of this
machine uses) and ends with `enos destroy --hard`, whose time is printed too; a rerun of
`enos up` on the existing hosts (the idempotent path) is timed in each run. Memory: the peak
RSS of the largest process of `enos up` (enos, or one of Ansible's), and what the testbed
keeps running afterwards (the hosts' sshds and their supervisor: PSS, /proc/PID/smaps_rollup),
also per host. The load average before each size is printed: the machine may be shared.

Usage: python benchmarks/up_local.py [--sizes 3 20 100] [--runs 3]   (root)
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

ENOS = shutil.which("enos") or "enos"


def run(cwd: Path, *args: str) -> tuple[float, float]:
    """`enos ARGS` in ``cwd``: (wall seconds, peak RSS in MiB of its largest process)."""
    start = time.perf_counter()
    proc = subprocess.Popen([ENOS, *args], cwd=cwd, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        err = proc.stderr.read().decode() if proc.stderr else ""
        raise SystemExit(f"enos {' '.join(args)} failed ({proc.returncode}):\n{err}")
    if proc.stderr:
        proc.stderr.close()
    return seconds, usage.ru_maxrss / 1024


def pss_mib(pids: set[int]) -> float:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


def testbed_pids(experiment: Path) -> set[int]:
    """The processes of the testbed: those in the hosts' namespaces, and the supervisor."""
    pids: set[int] = set()
    names = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True,
                           check=False).stdout.split("\n")
    import hashlib

    eid = hashlib.sha1(str(experiment).encode()).hexdigest()[:6]
    for line in names:
        ns = line.split(" ")[0]
        if ns.startswith(f"enos-{eid}-"):
            out = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True,
                                 check=False).stdout
            pids |= {int(p) for p in out.split() if p.isdigit()}
    pidfile = experiment / "supervisor" / "supervisor.pid"
    if pidfile.exists():
        pids.add(int(pidfile.read_text().strip()))
    return pids


def one_run(n: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="enos-bench-up-") as tmp:
        cwd = Path(tmp)
        (cwd / "reservation.yaml").write_text(  # free ranges picked by the local provider
            f"provider: local\nresources: {{control: 1, network: 1, compute: {n - 2}}}\n")
        try:
            up, rss = run(cwd, "-q", "up")
            testbed = pss_mib(testbed_pids((cwd / "current").resolve()))
            rerun, _ = run(cwd, "-q", "up")
        finally:
            down, _ = run(cwd, "-q", "destroy", "--hard")
    return {"up": up, "rerun": rerun, "down": down, "rss": rss, "testbed": testbed}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[3, 20, 100])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(f"enos up on local hosts, medians of {args.runs} runs")
    for n in args.sizes:
        load = Path("/proc/loadavg").read_text().split()[0]
        runs = [one_run(n) for _ in range(args.runs)]

        def med(key: str, runs: list[dict[str, float]] = runs) -> float:
            return statistics.median(r[key] for r in runs)

        ups = ", ".join(f"{r['up']:.2f}" for r in runs)
        print(f"{n:>3} hosts: enos up {med('up'):.2f} s ({ups}); rerun {med('rerun'):.2f} s; "
              f"destroy --hard {med('down'):.2f} s; peak RSS {med('rss'):.0f} MiB; testbed "
              f"{med('testbed'):.0f} MiB PSS ({med('testbed') / n:.1f} MiB a host); "
              f"load before {load}", flush=True)


if __name__ == "__main__":
    main()
