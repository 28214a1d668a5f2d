"""Wall time of `enos up` on the local provider for 3 and 20 hosts (median of N runs each).

Each run starts from nothing (fresh experiment directory) and ends with
`enos destroy --hard`, whose time is printed too. A rerun of `enos up` on existing hosts (the
idempotent path) is timed once per size.

Usage: python benchmarks/up_local.py [RUNS]   (root)
"""

from __future__ import annotations

import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from _common import fmt, timed

ENOS = shutil.which("enos") or "enos"
RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 3

for n in (3, 20):
    ups, reruns, downs = [], [], []
    for _ in range(RUNS):
        with tempfile.TemporaryDirectory(prefix="enos-bench-") as tmp:
            cwd = Path(tmp)
            (cwd / "reservation.yaml").write_text(
                "provider:\n  type: local\n  networks:\n"
                "    - {roles: [network_interface], cidr: 172.28.210.0/24}\n"
                "    - {roles: [neutron_external_interface], cidr: 172.28.211.0/24}\n"
                f"resources: {{control: 1, network: 1, compute: {n - 2}}}\n")
            ups.append(timed([ENOS, "-q", "up"], cwd))
            reruns.append(timed([ENOS, "-q", "up"], cwd))
            downs.append(timed([ENOS, "-q", "destroy", "--hard"], cwd))
    print(f"{n:>2} hosts: enos up median {statistics.median(ups):.2f} s ({fmt(ups)}); "
          f"rerun {statistics.median(reruns):.2f} s; destroy --hard "
          f"{statistics.median(downs):.2f} s")
