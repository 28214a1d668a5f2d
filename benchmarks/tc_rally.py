"""Rally's boot-and-list with and without a delay between the control and compute groups.

    python benchmarks/tc_rally.py [--delay 1ms] [--times 10] [--repeat 2]

Writes a local reservation.yaml in a temporary directory (grp1: control and network, grp2:
compute; network_constraints with the delay symmetric between the groups, rate 10gbit, no
loss, backend auto: the userspace delay line on a kernel without netem), runs `enos deploy`,
then alternately `enos bench` without rules (`enos tc --reset`) and with them (`enos tc`),
``--repeat`` times each, and prints the median duration of a whole boot-and-list iteration and
of each atomic action, with and without the delay, and their difference. Everything runs
through the real `enos` command; `enos destroy --hard` at the end.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

from enos.bench.results import parse_rally_report
from enos.bench.samples import WORKLOAD


def enos(cwd: Path, *args: str) -> str:
    proc = subprocess.run(["enos", *args], cwd=cwd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        sys.exit(f"enos {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    return proc.stdout


def bench(cwd: Path, workload: Path) -> dict[str, float]:
    """Median seconds of the whole iteration ('total') and of each atomic action."""
    enos(cwd, "-q", "bench", "--workload", str(workload))
    expdir = (cwd / "current").resolve()
    stamp = (expdir / "bench" / "latest").read_text().strip()
    index = json.loads((expdir / "bench" / "sessions" / f"{stamp}.json").read_text())
    out: dict[str, float] = {}
    for entry in index["runs"]:
        report = json.loads((expdir / "bench" / entry["id"] / "results.json").read_text())
        _, workloads = parse_rally_report(report)
        for wl in workloads:
            if wl.total and wl.total.median is not None:
                out["total"] = wl.total.median
            for action in wl.actions:
                if action.median is not None and action.depth == 0:
                    out[action.name] = action.median
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delay", default="1ms", help="each way, between the two groups")
    parser.add_argument("--times", type=int, default=10, help="iterations of one bench run")
    parser.add_argument("--repeat", type=int, default=2, help="bench runs with and without")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="enos-tc-rally-") as tmp:
        cwd = Path(tmp)
        doc = {
            "provider": {"type": "local", "networks": [
                {"roles": ["network_interface"], "cidr": "172.31.232.0/24"},
                {"roles": ["neutron_external_interface"], "cidr": "172.31.233.0/24"}]},
            "topology": {"grp1": {"any": {"control": 1, "network": 1}},
                         "grp2": {"any": {"compute": 1}}},
            "network_constraints": {"enable": True, "default_delay": args.delay,
                                    "default_rate": "10gbit", "default_loss": "0%"},
        }
        (cwd / "reservation.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
        workload = cwd / "workload"
        workload.mkdir()
        shutil.copy(WORKLOAD / "nova-boot-list-cc.yml", workload)
        (workload / "run.yml").write_text(
            f"rally:\n  args: {{concurrency: [1], times: [{args.times}]}}\n  scenarios:\n"
            "    - {name: boot and list, file: nova-boot-list-cc.yml}\n")
        try:
            enos(cwd, "-q", "deploy")
            runs: dict[str, list[dict[str, float]]] = {"without": [], "with": []}
            for _ in range(args.repeat):
                enos(cwd, "-q", "tc", "--reset")
                runs["without"].append(bench(cwd, workload))
                enos(cwd, "-q", "tc")
                runs["with"].append(bench(cwd, workload))
            enos(cwd, "-q", "tc", "--reset")
        finally:
            subprocess.run(["enos", "-q", "destroy", "--hard"], cwd=cwd, check=False)
    names = sorted({n for r in runs["without"] for n in r}, key=lambda n: (n != "total", n))
    print(f"boot-and-list, {args.times} iterations a run, {args.repeat} run(s) each, delay "
          f"{args.delay} each way between control/network and compute (median seconds)")
    print(f"{'action':<28}{'without':>10}{'with':>10}{'diff':>10}{'ratio':>8}")
    for name in names:
        a = statistics.median(r[name] for r in runs["without"] if name in r)
        b = statistics.median(r[name] for r in runs["with"] if name in r)
        print(f"{name:<28}{a:10.3f}{b:10.3f}{b - a:10.3f}{b / a:8.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
