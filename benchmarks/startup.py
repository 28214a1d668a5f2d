"""Start-up time of `enos --help`, `enos help up` and `enos info` (median of N runs).

Usage: python benchmarks/startup.py [RUNS]   (needs root for the `enos info` part: it brings
up a 3-host local testbed once, then times `enos info` on it, then destroys it)
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from _common import fmt, median_of, timed

ENOS = shutil.which("enos") or "enos"
RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 15

for argv in (["--help"], ["help", "up"], ["--version"]):
    med, values = median_of(RUNS, lambda a=argv: timed([ENOS, *a]))
    print(f"enos {' '.join(argv):<12} median {med:.3f} s over {RUNS} runs ({fmt(values)})")

with tempfile.TemporaryDirectory(prefix="enos-bench-") as tmp:
    cwd = Path(tmp)
    (cwd / "reservation.yaml").write_text(
        "provider:\n  type: local\n  networks:\n"
        "    - {roles: [network_interface], cidr: 172.28.200.0/24}\n"
        "    - {roles: [neutron_external_interface], cidr: 172.28.201.0/24}\n"
        "resources: {control: 1, network: 1, compute: 1}\n")
    subprocess.run([ENOS, "-q", "up"], cwd=cwd, check=True, stdin=subprocess.DEVNULL)
    try:
        for argv in (["info"], ["info", "--out", "json"]):
            med, values = median_of(RUNS, lambda a=argv: timed([ENOS, *a], cwd))
            print(f"enos {' '.join(argv):<12} median {med:.3f} s over {RUNS} runs "
                  f"({fmt(values)})")
    finally:
        subprocess.run([ENOS, "-q", "destroy", "--hard"], cwd=cwd, check=False)
print("target: under 0.3 s (the original Enos takes about 2.5 s for `enos help`)")
