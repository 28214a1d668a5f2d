"""Start-up time of enos commands, whole process, median of N runs; optionally side by side
with the original Enos.

Usage: python benchmarks/startup.py [RUNS] [--original PATH] [-v]

Times `enos --help`, `enos help`, `enos --version`, `enos validate` and `enos info` (exit
status ignored: only the time until the process ends counts), each in a temporary directory
holding a local reservation.yaml and no experiment. As root, it also brings up a 3-host local
testbed once and times `enos info` on it, then destroys it.

`--original PATH`: also time the original's command at PATH, e.g. installed with
`python3 -m venv /tmp/enos-orig && /tmp/enos-orig/bin/pip install enos==8.0.0`, then
`--original /tmp/enos-orig/bin/enos` (never into the project's virtualenvs). Its commands
other than --help import their libraries first, whatever they then do.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from _common import fmt, median_of

COMMANDS = [["--help"], ["help"], ["--version"], ["validate"], ["info"]]
RESERVATION = (
    "provider:\n  type: local\n  networks:\n"
    "    - {roles: [network_interface], cidr: 172.28.200.0/24}\n"
    "    - {roles: [neutron_external_interface], cidr: 172.28.201.0/24}\n"
    "resources: {control: 1, network: 1, compute: 1}\n"
)


def timed(argv: list[str], cwd: Path) -> tuple[float, int]:
    """Seconds until the process ends, and its exit status."""
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=cwd, check=False, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    return time.perf_counter() - start, proc.returncode


def measure(enos: str, argv: list[str], cwd: Path, runs: int) -> tuple[float, list[float], int]:
    codes: list[int] = []

    def once() -> float:
        seconds, code = timed([enos, *argv], cwd)
        codes.append(code)
        return seconds

    timed([enos, *argv], cwd)  # warm the page cache: every run measures the same thing
    med, values = median_of(runs, once)
    return med, values, codes[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="?", type=int, default=15)
    parser.add_argument("--original", metavar="PATH",
                        help="the original Enos's `enos` command, timed side by side")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every run's time")
    args = parser.parse_args()
    ours = shutil.which("enos") or "enos"
    tools = [("enos", ours)] + ([("original", args.original)] if args.original else [])

    print(f"whole process, median of {args.runs} runs (exit status in brackets)")
    header = f"{'command':<16}" + "".join(f"{name:>22}" for name, _ in tools)
    print(header)
    with tempfile.TemporaryDirectory(prefix="enos-bench-") as tmp:
        cwd = Path(tmp)
        (cwd / "reservation.yaml").write_text(RESERVATION)
        for argv in COMMANDS:
            cells, details = [], []
            for name, path in tools:
                med, values, code = measure(path, argv, cwd, args.runs)
                cells.append(f"{med:8.3f} s [{code}]")
                details.append(f"  {name}: {fmt(values)}")
            print(f"{'enos ' + ' '.join(argv):<16}" + "".join(f"{c:>22}" for c in cells))
            if args.verbose:
                print("\n".join(details))

    if os.geteuid() != 0:
        print("(not root: `enos info` on a real local testbed skipped)")
        return
    with tempfile.TemporaryDirectory(prefix="enos-bench-") as tmp:
        cwd = Path(tmp)
        (cwd / "reservation.yaml").write_text(RESERVATION)
        subprocess.run([ours, "-q", "up"], cwd=cwd, check=True, stdin=subprocess.DEVNULL)
        try:
            for argv in (["info"], ["info", "--out", "json"]):
                med, values, code = measure(ours, argv, cwd, args.runs)
                print(f"enos {' '.join(argv)} on a 3-host local testbed: median {med:.3f} s "
                      f"[{code}] ({fmt(values)})")
        finally:
            subprocess.run([ours, "-q", "destroy", "--hard"], cwd=cwd, check=False,
                           stdin=subprocess.DEVNULL)


if __name__ == "__main__":
    main()
