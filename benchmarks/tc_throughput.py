"""Throughput through the delay and loss backend, and the CPU the backend uses.

A local testbed of two groups (grp1: 2 hosts, grp2: 1 host); the constraint grp1 <-> grp2
asks 1gbit and DELAY each way (no loss); iperf3 runs from a grp1 host to the grp2 host for
--duration seconds, with 1 and 4 parallel streams. Printed per delay: the throughput (median
of --runs), the packets per second leaving the sender's interface, and the CPU the delay line
processes of both hosts used, as a share of one core and per 10 000 packets/s (packets of the
data direction on the sender plus the acknowledgements on the receiver). With netem (or
--rate-only) no process runs: the CPU column is empty. Needs root; removes its testbed.

    python benchmarks/tc_throughput.py [--delays 1 50] [--duration 10] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

from _tc import cpu_seconds, delay_line_pids, enos, hosts, in_ns, testbed, write

TOPOLOGY = {"grp1": {"local": {"control": 1, "network": 1}}, "grp2": {"local": {"compute": 1}}}
PORT = 5231


def constraints(delay_ms: float, backend: str) -> dict[str, Any]:
    return {"enable": True, "default_delay": f"{delay_ms:g}ms", "default_rate": "1gbit",
            "default_loss": "0%", "backend": backend}


def tx_packets(host: dict[str, Any]) -> int:
    out = in_ns(host, "cat", "/sys/class/net/eth0/statistics/tx_packets").stdout
    return int(out.strip() or 0)


def run(src: dict[str, Any], dst: dict[str, Any], streams: int,
        duration: float) -> tuple[float, float, float | None]:
    """Throughput (bit/s), packets/s (sender's data plus receiver's acknowledgements), and
    delay line CPU (cores)."""
    pids = delay_line_pids(src) + delay_line_pids(dst)
    cpu0, t0 = cpu_seconds(pids), time.monotonic()
    p0 = tx_packets(src) + tx_packets(dst)
    proc = in_ns(src, "iperf3", "-c", dst["addresses"]["network_interface"], "-p", str(PORT),
                 "-t", f"{duration:g}", "-P", str(streams), "-J")
    seconds = time.monotonic() - t0
    pps = (tx_packets(src) + tx_packets(dst) - p0) / seconds
    cpu = (cpu_seconds(pids) - cpu0) / seconds if pids else None
    data = json.loads(proc.stdout)
    return float(data["end"]["sum_received"]["bits_per_second"]), pps, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delays", type=float, nargs="+", default=[1, 50])
    parser.add_argument("--duration", type=float, default=10)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--backend", default="auto", choices=["auto", "netem", "userspace"])
    parser.add_argument("--rate-only", action="store_true", help="no delay: rates alone")
    args = parser.parse_args()
    with testbed(TOPOLOGY, constraints(args.delays[0], args.backend)) as cwd:
        machines = sorted(hosts(cwd), key=lambda h: h["alias"])
        src = next(h for h in machines if h["groups"][0] == "grp1")
        dst = next(h for h in machines if h["groups"][0] == "grp2")
        server = in_ns(dst, "sh", "-c", f"iperf3 -s -p {PORT} -D -I /tmp/enos-bench-iperf3-"
                                        f"{dst['extra']['netns']}.pid")
        pidfile = Path(f"/tmp/enos-bench-iperf3-{dst['extra']['netns']}.pid")
        try:
            print(f"{'each way':>8}  {'streams':>7}  {'Mbit/s':>7}  {'packets/s':>9}  "
                  f"{'delay line CPU':>14}  {'per 10k pps':>11}  backend  runs (Mbit/s)",
                  flush=True)
            for delay in args.delays:
                write(cwd, TOPOLOGY, constraints(delay, args.backend))
                enos(cwd, "tc", *(["--rate-only"] if args.rate_only else []))
                state = json.loads((cwd / "current" / "state.json").read_text())
                used = ", ".join(sorted(set(state["phases"]["tc"].get("backends", {})
                                            .values()))) or "?"
                for streams in (1, 4):
                    rows = [run(src, dst, streams, args.duration) for _ in range(args.runs)]
                    rate = statistics.median(r[0] for r in rows)
                    pps = statistics.median(r[1] for r in rows)
                    cpus = [r[2] for r in rows if r[2] is not None]
                    cpu = statistics.median(cpus) if cpus else None
                    cpu_text = f"{100 * cpu:.0f}% core" if cpu is not None else "-"
                    per = f"{cpu / (pps / 10_000):.2f} core" if cpu is not None and pps else "-"
                    print(f"{delay:>6g}ms  {streams:>7}  {rate / 1e6:>7.0f}  {pps:>9.0f}  "
                          f"{cpu_text:>14}  {per:>11}  {used:<8} "
                          f"{' '.join(f'{r[0] / 1e6:.0f}' for r in rows)}", flush=True)
        finally:
            if server.returncode == 0 and pidfile.exists():
                in_ns(dst, "kill", pidfile.read_text().strip())
            pidfile.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
