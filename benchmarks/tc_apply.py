"""Time to enforce and to remove network constraints on 10 and 50 local hosts.

Brings up a local testbed of N hosts in groups (`enos up`), then times `enos tc` (delay, rate
and loss: netem where the kernel has it, else the userspace delay line, started on every host;
`--rate-only`: the rates alone) and `enos tc --reset`, a few runs each, and prints the medians
and the backend the hosts used. Each testbed is released (`enos destroy --hard`) at the end.
Needs root.

    python benchmarks/tc_apply.py [--sizes 10 50] [--runs 3] [--rate-only]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from enos import cli

ENOS = shutil.which("enos") or "enos"
_MAIN = ("import sys; from enos import cli; "
         "cli.COMMANDS.setdefault('tc', ('enos.commands.tc', 'Network constraints.')); "
         "cli.main(sys.argv[1:])")


def enos(cwd: Path, *args: str) -> float:
    """Run `enos ARGS`; its wall time in seconds."""
    if args[0] == "tc" and "tc" not in cli.COMMANDS:
        argv = [sys.executable, "-c", _MAIN, *args]
    else:
        argv = [ENOS, *args]
    start = time.monotonic()
    proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False,
                          stdin=subprocess.DEVNULL)
    seconds = time.monotonic() - start
    if proc.returncode != 0:
        raise SystemExit(f"enos {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    return seconds


def netem_available() -> bool:
    proc = subprocess.run(["unshare", "-n", "tc", "qdisc", "add", "dev", "lo", "root", "netem",
                           "delay", "1ms"], capture_output=True, check=False)
    return proc.returncode == 0


def reservation(hosts: int) -> dict[str, object]:
    per_group = 2 if hosts <= 10 else 6
    computes = hosts - 2
    groups = computes // per_group
    return {
        "provider": {"type": "local"},  # free ranges picked by the provider
        "topology": {
            "grp1": {"local": {"control": 1, "network": 1}},
            f"grp[2-{groups + 1}]": {"local": {"compute": per_group}},
        },
        "network_constraints": {
            "enable": True, "default_delay": "25ms", "default_rate": "100mbit",
            "default_loss": "0.1%",
            "constraints": [{"src": "grp1", "dst": f"grp[2-{groups + 1}]", "delay": "10ms",
                             "rate": "1gbit", "loss": "0%", "symmetric": True}],
        },
    }


def bench(hosts: int, runs: int, extra: list[str]) -> tuple[float, list[float], list[float],
                                                            str]:
    with tempfile.TemporaryDirectory(prefix="enos-bench-tc-") as tmp:
        cwd = Path(tmp)
        (cwd / "reservation.yaml").write_text(yaml.safe_dump(reservation(hosts)))
        try:
            up = enos(cwd, "up")
            apply, reset = [], []
            used = "?"
            for _ in range(runs):
                apply.append(enos(cwd, "tc", *extra))
                state = json.loads((cwd / "current" / "state.json").read_text())
                backends = state["phases"]["tc"].get("backends", {}).values()
                used = ", ".join(sorted(set(backends))) or "?"
                reset.append(enos(cwd, "tc", "--reset"))
            return up, apply, reset, used
        finally:
            subprocess.run([ENOS, "destroy", "--hard"], cwd=cwd, capture_output=True,
                           check=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 50])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rate-only", action="store_true", help="enforce the rates alone")
    args = parser.parse_args()
    extra = ["--rate-only"] if args.rate_only else []
    mode = "rates only" if extra else (
        "delay, rate and loss (netem)" if netem_available() else
        "delay, rate and loss (this kernel has no netem: userspace delay line)")
    print(f"enos tc on local hosts, {mode}; medians of {args.runs} runs")
    print(f"{'hosts':>5}  {'apply (s)':>9}  {'reset (s)':>9}  backend    runs apply / reset")
    for n in args.sizes:
        up, apply, reset, used = bench(n, args.runs, extra)
        print(f"{n:>5}  {statistics.median(apply):>9.2f}  {statistics.median(reset):>9.2f}  "
              f"{used:<9}  "
              f"{' '.join(f'{x:.2f}' for x in apply)} / {' '.join(f'{x:.2f}' for x in reset)}"
              f"  (enos up: {up:.1f}s)", flush=True)


if __name__ == "__main__":
    main()
