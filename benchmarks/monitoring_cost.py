"""What the monitoring stack costs: CPU (share of one core) and memory of its processes.

    python benchmarks/monitoring_cost.py [-e EXPDIR] [--windows 6] [--seconds 10]

EXPDIR (default: ./current) is a deployed experiment with the monitoring service on (`enos
deploy` with `enable_monitoring: true`, or `enos monitor`). Every process of the monitoring
supervisors (Prometheus, node-, process-, mysqld-, blackbox-exporter; the supervisors
themselves) is sampled from /proc: CPU time over each window, resident memory (RSS) and
proportional memory (PSS) at its end. Prints, per program and in total, the median over the
windows of the CPU used as a share of one core and of the whole machine, and memory in MiB and
as a share of the machine's memory.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

from _common import memory_mib, tree

TICK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def programs(exp: Path) -> dict[str, int]:
    """name@host -> pid of every monitoring program, and of each monitoring supervisor."""
    state = json.loads((exp / "state.json").read_text())
    out = {}
    for host in state["resources"]["hosts"]:
        sup = Path(host["extra"]["enos_root"]) / "monitoring" / "supervisor"
        try:
            status = json.loads((sup / "status.json").read_text())
        except (OSError, ValueError):
            continue
        out[f"supervisor@{host['alias']}"] = -int(status["pid"])  # itself, not its tree
        for name, prog in status["programs"].items():
            if prog.get("pid"):
                out[f"{name}@{host['alias']}"] = int(prog["pid"])
    return out




def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime + stime
    return total / TICK




def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-e", "--env", default="current", type=Path)
    parser.add_argument("--windows", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    exp = args.env.resolve()
    progs = programs(exp)
    if not progs:
        raise SystemExit(f"no monitoring runs in {exp} (enos monitor)")
    cores = os.cpu_count() or 1
    mem_total = int(Path("/proc/meminfo").read_text().split()[1]) * 1024
    cpu: dict[str, list[float]] = {n: [] for n in progs}
    rss: dict[str, list[float]] = {n: [] for n in progs}
    pss: dict[str, list[float]] = {n: [] for n in progs}
    for _ in range(args.windows):
        trees = {n: tree(p) if p > 0 else [-p] for n, p in progs.items()}
        before = {n: cpu_seconds(t) for n, t in trees.items()}
        start = time.monotonic()
        time.sleep(args.seconds)
        elapsed = time.monotonic() - start
        for name, pids in trees.items():
            cpu[name].append((cpu_seconds(pids) - before[name]) / elapsed)
            r, p = (v * 1024 * 1024 for v in memory_mib(pids))  # bytes
            rss[name].append(r)
            pss[name].append(p)
    print(f"{exp.name}: {len(progs)} programs, {args.windows} windows of {args.seconds:g} s, "
          f"{cores} cores, {mem_total / 2**30:.1f} GiB (medians)")
    print(f"{'program':<34} {'% of a core':>12} {'% machine':>10} {'RSS MiB':>9} "
          f"{'PSS MiB':>9}")
    for name in sorted(progs):
        c = statistics.median(cpu[name])
        print(f"{name:<34} {100 * c:>12.2f} {100 * c / cores:>10.2f} "
              f"{statistics.median(rss[name]) / 2**20:>9.1f} "
              f"{statistics.median(pss[name]) / 2**20:>9.1f}")
    totals = [sum(cpu[n][i] for n in progs) for i in range(args.windows)]
    total_rss = [sum(rss[n][i] for n in progs) for i in range(args.windows)]
    total_pss = [sum(pss[n][i] for n in progs) for i in range(args.windows)]
    c = statistics.median(totals)
    print(f"{'total':<34} {100 * c:>12.2f} {100 * c / cores:>10.2f} "
          f"{statistics.median(total_rss) / 2**20:>9.1f} "
          f"{statistics.median(total_pss) / 2**20:>9.1f}")
    print(f"memory share of the machine: {100 * statistics.median(total_pss) / mem_total:.2f} % "
          f"(PSS); CPU range over windows: {100 * min(totals):.2f} to {100 * max(totals):.2f} "
          "% of a core")


if __name__ == "__main__":
    main()
