"""How exactly `enos tc` enforces delay and loss, measured with fping on a local testbed.

Part 1, the documentation's example: grp1 -> grp[2-4] 10ms symmetric, 1gbit, 0% loss; 25ms,
100mbit and 0.1% loss elsewhere (so 20ms and 50ms round trips, 0.2% round-trip loss between
grp2, grp3 and grp4). Every host pings one host of every other group, --probes each (all at
once), and the script prints, per ordered pair of groups, the median and 99th percentile of the
round trip next to what was asked, and the loss next to its 99% binomial interval.
Targets: median within max(1ms, 5%), p99 within +3ms, loss inside the interval. fping prints
round trips of 100ms and more to the millisecond.

Part 2: one delay for every pair (1, 50, 100, 200ms each way, no loss), --short-probes each.

The backend is what `enos tc` chooses on this kernel (netem where it exists, else the
userspace delay line); --backend forces one. Needs root; removes its testbed.

    python benchmarks/tc_accuracy.py [--probes 20000] [--short-probes 1000] [--delays 1 50 100 200]
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from _tc import enos, group_of, hosts, in_ns, testbed, write

TOPOLOGY = {"grp1": {"local": {"control": 1, "network": 1}},
            "grp[2-4]": {"local": {"compute": 1}}}


def example(backend: str) -> dict[str, Any]:
    return {"enable": True, "default_delay": "25ms", "default_rate": "100mbit",
            "default_loss": "0.1%", "backend": backend,
            "constraints": [{"src": "grp1", "dst": "grp[2-4]", "delay": "10ms", "rate": "1gbit",
                             "loss": "0%", "symmetric": True}]}


def uniform(delay_ms: float, backend: str) -> dict[str, Any]:
    return {"enable": True, "default_delay": f"{delay_ms:g}ms", "default_rate": "1gbit",
            "default_loss": "0%", "backend": backend}


def ping_all(cwd: Path, probes: int, period_ms: int,
             timeout_ms: int) -> dict[tuple[str, str], list[float | None]]:
    """Every group's first host pings the first host of every other group, all at once."""
    firsts: dict[str, dict[str, Any]] = {}
    for h in sorted(hosts(cwd), key=lambda h: h["alias"]):
        firsts.setdefault(group_of(h), h)

    def run(src: dict[str, Any]) -> dict[tuple[str, str], list[float | None]]:
        targets = {h["addresses"]["network_interface"]: g for g, h in firsts.items()
                   if h is not src}
        proc = in_ns(src, "fping", "-q", "-C", str(probes), "-p", str(period_ms), "-i", "1",
                     "-t", str(timeout_ms), *targets)
        out = {}
        for line in proc.stderr.splitlines():
            addr, _, values = line.partition(" : ")
            if addr.strip() in targets:
                out[(group_of(src), targets[addr.strip()])] = [
                    None if v == "-" else float(v) for v in values.split()]
        return out

    result: dict[tuple[str, str], list[float | None]] = {}
    with ThreadPoolExecutor(max_workers=len(firsts)) as pool:
        for part in pool.map(run, firsts.values()):
            result.update(part)
    return result


def interval(p: float, n: int) -> tuple[float, float]:
    """The 99% interval of a binomial proportion (Wilson)."""
    z = 2.576
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (0.0 if p == 0 else max(0.0, centre - half)), centre + half


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(0.99 * len(ordered)) - 1)]


def report(results: dict[tuple[str, str], list[float | None]],
           asked: dict[tuple[str, str], tuple[float, float]]) -> int:
    """Print one row per pair; the number of pairs off target."""
    off = 0
    print(f"{'pair':<13} {'rtt asked':>9} {'median':>8} {'p99':>8}  {'ok':<3} "
          f"{'loss asked':>10} {'lost':>7} {'99% interval':>17}  ok  probes")
    for pair in sorted(results):
        values = results[pair]
        rtt, loss = asked[pair]
        got = [v for v in values if v is not None]
        n = len(values)
        med, high = statistics.median(got), p99(got)
        rtt_ok = abs(med - rtt) <= max(1.0, 0.05 * rtt) and high <= rtt + 3
        lost = (n - len(got)) / n
        lo, hi = interval(loss / 100, n)
        loss_ok = lo <= lost <= hi
        off += (not rtt_ok) + (not loss_ok)
        print(f"{pair[0] + ' -> ' + pair[1]:<13} {rtt:>7.1f}ms {med:>6.2f}ms {high:>6.2f}ms  "
              f"{'yes' if rtt_ok else 'NO':<3} {loss:>9.3f}% {100 * lost:>6.3f}% "
              f"[{100 * lo:.3f}%, {100 * hi:.3f}%]  {'yes' if loss_ok else 'NO':<3} {n}")
    return off


def backends(cwd: Path) -> str:
    import json

    data = json.loads((cwd / "current" / "state.json").read_text())
    used = data.get("phases", {}).get("tc", {}).get("backends", {})
    return ", ".join(sorted(set(used.values()))) or "?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--probes", type=int, default=20000)
    parser.add_argument("--short-probes", type=int, default=1000)
    parser.add_argument("--delays", type=float, nargs="*", default=[1, 50, 100, 200])
    parser.add_argument("--backend", default="auto", choices=["auto", "netem", "userspace"])
    args = parser.parse_args()
    off = 0
    with testbed(TOPOLOGY, example(args.backend)) as cwd:
        enos(cwd, "tc")
        print(f"== the documentation's example, {args.probes} probes per pair, every 4ms "
              f"(backend: {backends(cwd)})", flush=True)
        start = time.monotonic()
        results = ping_all(cwd, args.probes, 4, 400)
        asked = {}
        for a, b in results:
            inside = "grp1" in (a, b)
            asked[(a, b)] = (20.0 if inside else 50.0, 0.0 if inside else 100 * (1 - 0.999**2))
        off += report(results, asked)
        print(f"({time.monotonic() - start:.0f}s)\n", flush=True)
        for delay in args.delays:
            write(cwd, TOPOLOGY, uniform(delay, args.backend))
            enos(cwd, "tc")
            period = 10
            print(f"== {delay:g}ms each way between every pair of groups, {args.short_probes} "
                  f"probes per pair, every {period}ms (backend: {backends(cwd)})", flush=True)
            results = ping_all(cwd, args.short_probes, period, int(4 * delay + 200))
            off += report(results, {pair: (2 * delay, 0.0) for pair in results})
            print(flush=True)
    print(f"{off} figure(s) off target")


if __name__ == "__main__":
    main()
