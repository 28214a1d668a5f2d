"""Wall time of a small boot-and-list `enos bench`, and enos's own time around Rally.

    python benchmarks/bench_overhead.py [-e EXPDIR] [--times 4] [--concurrency 2] [--runs 1]
    python benchmarks/bench_overhead.py --dummy      # Rally's Dummy scenario, no cloud needed

The first form runs `enos bench` (the command line, as a user would) on the experiment EXPDIR
(default: ./current), whose cloud must be deployed and initialised (`enos deploy`), with the
original's nova-boot-list-cc.yml. The second runs the same machinery in-process on Rally's
Dummy scenario, with a Rally environment without any cloud.

Prints the wall time, the time inside `rally task start` (Rally's own run of the task), and
the rest: enos's overhead (start-up, workload expansion, Rally database/environment checks,
reports, summaries), per run and in total.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from enos.bench.samples import WORKLOAD

ENOS = (
    "import sys, enos.cli as c; "
    "c.COMMANDS.setdefault('bench', ('enos.commands.bench', 'Run a workload.')); "
    "c.main(sys.argv[1:])"
)

DUMMY = """---
Dummy.dummy:
-
  args: {sleep: 0.1}
  runner: {type: constant, times: {{times}}, concurrency: {{concurrency}}}
  sla: {failure_rate: {max: 0}}
"""


def workload(directory: Path, scenario: str, args: argparse.Namespace) -> None:
    directory.mkdir(parents=True)
    concurrency = ", ".join(str(args.concurrency) for _ in range(args.runs))
    (directory / "run.yml").write_text(
        "rally:\n"
        f"  args:\n    concurrency: [{concurrency}]\n    times: [{args.times}]\n"
        "  scenarios:\n"
        f"    - name: overhead\n      file: {scenario}\n")


def summary(bench_dir: Path, stamp: str, wall: float) -> None:
    index = json.loads((bench_dir / "sessions" / f"{stamp}.json").read_text())
    tool = 0.0
    print(f"{'run':<50} {'wall':>8} {'rally':>8} {'load':>8} {'enos':>8}  status")
    for entry in index["runs"]:
        record = json.loads((bench_dir / entry["id"] / "run.json").read_text())
        load = sum(w.get("load_duration") or 0 for w in record.get("workloads", []))
        tool += record["tool_seconds"]
        print(f"{entry['id']:<50} {record['seconds']:8.2f} {record['tool_seconds']:8.2f} "
              f"{load:8.2f} {record['seconds'] - record['tool_seconds']:8.2f}  "
              f"{record['status']} ({record['iterations']} it, {record['failures']} failed)")
    print(f"setup (Rally venv/database/environment/cloud check): "
          f"{index['setup_seconds']:.2f}s")
    print(f"wall time: {wall:.2f}s; inside 'rally task start': {tool:.2f}s; "
          f"enos overhead: {wall - tool:.2f}s ({100 * (wall - tool) / wall:.0f}%)")


def real(args: argparse.Namespace) -> int:
    exp = Path(args.env or "current").resolve()
    if not (exp / "admin-openrc").exists():
        print(f"no deployed cloud in {exp}: run 'enos deploy' first, or pass -e EXPDIR",
              file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        wl = Path(tmp) / "workload"
        workload(wl, "nova-boot-list-cc.yml", args)
        shutil.copy(WORKLOAD / "nova-boot-list-cc.yml", wl)
        start = time.monotonic()
        proc = subprocess.run([sys.executable, "-c", ENOS, "-q", "bench", "--workload",
                               str(wl), "-e", str(exp)], check=False)
        wall = time.monotonic() - start
    stamp = (exp / "bench" / "latest").read_text().strip()
    summary(exp / "bench", stamp, wall)
    return proc.returncode


def dummy(args: argparse.Namespace) -> int:
    from enos.bench import rally, session
    from enos.bench import workload as workload_mod
    from enos.experiment import Experiment

    rally.ensure_venv(print)
    with tempfile.TemporaryDirectory() as tmp:
        wl = Path(tmp) / "workload"
        workload(wl, "dummy.yml", args)
        (wl / "dummy.yml").write_text(DUMMY)
        exp = Experiment(Path(tmp) / "xp")
        exp.path.mkdir()
        start = time.monotonic()
        result = session.execute(exp, workload_mod.load(wl), quiet=True, say=lambda _m: None,
                                 echo=lambda _m: None, credentials={})
        wall = time.monotonic() - start
        summary(exp.path / "bench", result.stamp, wall)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-e", "--env", help="experiment directory (default: ./current)")
    parser.add_argument("--times", type=int, default=4)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--runs", type=int, default=1, help="runs of the same task")
    parser.add_argument("--dummy", action="store_true",
                        help="Rally's Dummy scenario without a cloud")
    args = parser.parse_args()
    return dummy(args) if args.dummy else real(args)


if __name__ == "__main__":
    sys.exit(main())
