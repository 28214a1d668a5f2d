"""The userspace backend on this machine's kernel: real namespaces, iptables and delay line.

Delay and loss between two groups are measured with fping against what was asked; applying
twice changes nothing; `--reset` leaves no rule (tc, iptables, nft) and no delay line in any
namespace. Kept short: one testbed of 3 hosts, about a minute.
"""

from __future__ import annotations

import json
import math
import re
import shutil
import statistics
import subprocess
from pathlib import Path
from typing import Any

import conftest
import pytest
from conftest import needs_root

pytestmark = [pytest.mark.integration, needs_root]

TOPOLOGY = {"grp1": {"local": {"control": 1, "network": 1}}, "grp2": {"local": {"compute": 1}}}
# grp1 -> grp2: 10ms and 3% loss; grp2 -> grp1: 5ms, no loss: 15ms round trip, 3% lost.
CONSTRAINTS = {
    "enable": True, "default_delay": "5ms", "default_rate": "50mbit", "default_loss": "0%",
    "backend": "userspace",
    "constraints": [{"src": "grp1", "dst": "grp2", "delay": "10ms", "loss": "3%"}],
}
PROBES = 1000


def _iptables_available() -> bool:
    return subprocess.run(["sh", "-c", "command -v iptables-restore"], capture_output=True,
                          check=False).returncode == 0


def _hosts(bed: conftest.Testbed) -> list[dict[str, Any]]:
    state = json.loads((bed.path / "current" / "state.json").read_text())
    return state["resources"]["hosts"]


def _ns(host: dict[str, Any], *argv: str) -> str:
    return subprocess.run(["ip", "netns", "exec", host["extra"]["netns"], *argv],
                          capture_output=True, text=True, check=False).stdout


def _rules(bed: conftest.Testbed) -> dict[str, str]:
    """Each host's tc rules (eth0, eth1), its mangle table and nft ruleset."""
    out = {}
    for host in _hosts(bed):
        text = ""
        for dev in ("eth0", "eth1"):
            for what in ("qdisc", "class", "filter"):
                text += _ns(host, "tc", what, "show", "dev", dev)
        text += _ns(host, "iptables-save", "-t", "mangle")
        text += _ns(host, "ip6tables-save", "-t", "mangle")
        text = re.sub(r"direct_packets_stat \d+ |\[\d+:\d+\]|^#.*$", "", text, flags=re.MULTILINE)
        out[host["alias"]] = text
    return out


def _delay_lines(bed: conftest.Testbed) -> dict[str, list[int]]:
    """The PIDs of the delay line processes running in each host's namespace."""
    out: dict[str, list[int]] = {}
    for host in _hosts(bed):
        pids = subprocess.run(["ip", "netns", "pids", host["extra"]["netns"]],
                              capture_output=True, text=True, check=False).stdout.split()
        for pid in pids:
            try:
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue
            if b"enos_delay.py" in cmd or b"tc/bin/supervisor.py" in cmd:
                out.setdefault(host["alias"], []).append(int(pid))
    return out


def _fping(src: dict[str, Any], address: str) -> list[float | None]:
    out = subprocess.run(["ip", "netns", "exec", src["extra"]["netns"], "fping", "-q", "-C",
                          str(PROBES), "-p", "5", "-t", "300", address],
                         capture_output=True, text=True, check=False).stderr
    values = out.split(":", 1)[1].split()
    return [None if v == "-" else float(v) for v in values]


def test_userspace_delay_and_loss_measured_and_reset(local_testbed) -> None:
    if not _iptables_available():
        pytest.skip("iptables is not installed (install.sh installs it)")
    bed = local_testbed(topology=TOPOLOGY, network_constraints=CONSTRAINTS)
    hosts = {h["alias"]: h for h in _hosts(bed)}

    applied = bed.enos("tc")
    assert "userspace on 3 host(s)" in applied.stderr + applied.stdout
    first, lines = _rules(bed), _delay_lines(bed)
    assert set(lines) == set(hosts), lines  # a delay line (and its supervisor) on every host
    for alias, text in first.items():
        assert "qdisc htb e05: root" in text and "netem" not in text, alias
        assert "-j NFQUEUE" in text and "-A POSTROUTING -j ENOS_TC" in text, alias
    grp1 = [a for a in hosts if a.startswith("grp1")]
    assert all("-m statistic --mode random --probability 0.0" in first[a] for a in grp1)
    assert not any("statistic" in first[a] for a in hosts if a not in grp1)

    # Applying again changes nothing: the same rules, the same delay line processes.
    bed.enos("tc")
    assert _rules(bed) == first and _delay_lines(bed) == lines

    # Round trip and loss, grp1 -> grp2, measured here against what was asked.
    src = hosts[grp1[0]]
    dst = next(h for a, h in hosts.items() if a.startswith("grp2"))
    values = _fping(src, dst["addresses"]["network_interface"])
    got = [v for v in values if v is not None]
    median = statistics.median(got)
    assert abs(median - 15) <= max(1.0, 0.05 * 15), median
    p, n = 0.03, len(values)
    lost = (n - len(got)) / n
    assert abs(lost - p) <= 2.576 * math.sqrt(p * (1 - p) / n) + 1 / n, lost

    # enos tc --test judges delay, loss and rate, and says which backend each host used.
    proc = bed.enos("tc", "--test", "--out", "json", "--probes", "50", "--duration", "3",
                    check=False)
    report = json.loads(proc.stdout)
    assert set(report["backends"].values()) == {"userspace"}
    for pair in report["pairs"]:
        assert pair["backends"] == {"src": "userspace", "dst": "userspace"}
        assert pair["verdict"]["rtt"] == "ok", pair
        assert pair["verdict"]["loss"] == "ok", pair
        assert pair["verdict"]["rate"] == "ok", pair
    assert "userspace on" in (bed.path / "current" / "tc_test" / "latest" /
                              "report.md").read_text()

    # enos report carries the measurement: asked against measured per pair, and the backends.
    bed.enos("report")
    doc = json.loads((bed.path / "current" / "report" / "report.json").read_text())
    (test,) = doc["tc"]
    assert set(test["backends"].values()) == {"userspace"}
    assert len(test["rows"]) == len(report["pairs"])
    row = dict(zip(test["header"], test["rows"][0], strict=True))
    assert row["rtt asked"].endswith("ms") and row["verdict"] == "ok", row
    md = (bed.path / "current" / "report" / "report.md").read_text()
    assert "| rtt asked |" in md and ": userspace" in md

    # --reset: no rule in any namespace (tc, iptables, nft), no delay line alive.
    pids = [pid for group in lines.values() for pid in group]
    bed.enos("tc", "--reset")
    for alias, text in _rules(bed).items():
        assert "e05:" not in text and "ENOS_TC" not in text and "NFQUEUE" not in text, alias
        if shutil.which("nft"):
            assert "ENOS_TC" not in _ns(hosts[alias], "nft", "list", "ruleset"), alias
    assert not _delay_lines(bed)
    assert not [pid for pid in pids if Path(f"/proc/{pid}").exists()]
