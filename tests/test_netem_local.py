"""`enos tc` on the local testbed: real tc in the hosts' namespaces, measured with iperf3.

This test pins the netem backend: on a kernel without netem it checks that every host is
named and nothing changed, then enforces the rates alone. The userspace backend has its own
test (test_netem_userspace.py)."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import conftest
import pytest
import yaml
from conftest import needs_root

pytestmark = [pytest.mark.integration, needs_root]

RATE = "50mbit"
RATE_BPS = 50_000_000
TOPOLOGY = {"grp1": {"local": {"control": 1, "network": 1}}, "grp2": {"local": {"compute": 1}}}
CONSTRAINTS = {
    "enable": True, "default_delay": "25ms", "default_rate": "1gbit", "default_loss": "0.1%",
    "backend": "netem",
    "constraints": [{"src": "grp1", "dst": "grp2", "rate": RATE, "symmetric": True}],
}
def tc(bed: conftest.Testbed, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return bed.enos("tc", *args, check=check)


def _hosts(bed: conftest.Testbed) -> list[dict[str, Any]]:
    state = json.loads((bed.path / "current" / "state.json").read_text())
    return state["resources"]["hosts"]


def _rules(bed: conftest.Testbed) -> dict[str, str]:
    """Each host's qdiscs, classes and filters on eth0 and eth1, as tc shows them."""
    out = {}
    for host in _hosts(bed):
        ns = host["extra"]["netns"]
        text = ""
        for dev in ("eth0", "eth1"):
            for what in ("qdisc", "class", "filter"):
                text += subprocess.run(["tc", "-n", ns, what, "show", "dev", dev],
                                       capture_output=True, text=True, check=True).stdout
        out[host["alias"]] = re.sub(r"direct_packets_stat \d+ ", "", text)  # a counter
    return out


def _netem_available() -> bool:
    proc = subprocess.run(["unshare", "-n", "tc", "qdisc", "add", "dev", "lo", "root", "netem",
                           "delay", "1ms"], capture_output=True, check=False)
    return proc.returncode == 0


def _rate(report: dict[str, Any], src: str, dst: str) -> float:
    pair = next(p for p in report["pairs"] if (p["src_group"], p["dst_group"]) == (src, dst))
    return float(pair["measured"]["rate_bps"])


def test_rate_enforced_measured_and_reset(local_testbed) -> None:
    bed = local_testbed(topology=TOPOLOGY, network_constraints=CONSTRAINTS)
    netem = _netem_available()

    # What would be applied: one object per ordered pair of hosts across the groups.
    pairs = json.loads(tc(bed, "--dry-run", "--out", "json").stdout)
    assert len(pairs) == 4
    assert {(p["src_group"], p["dst_group"]) for p in pairs} == {("grp1", "grp2"),
                                                                 ("grp2", "grp1")}
    assert all(p["rate_bps"] == RATE_BPS and p["delay_ms"] == 25 and p["loss_pct"] == 0.1
               for p in pairs)
    assert not any("e05:" in text for text in _rules(bed).values())

    extra: list[str] = []
    if not netem:
        # Delay and loss need netem: every host is named, and none is changed.
        failed = tc(bed, check=False)
        assert failed.returncode != 0
        for host in _hosts(bed):
            assert host["alias"] in failed.stderr
        assert "netem" in failed.stderr and "--rate-only" in failed.stderr
        assert "backend netem" in failed.stderr and "backend: auto" in failed.stderr
        assert "nothing was changed" in failed.stderr
        assert not any("e05:" in text for text in _rules(bed).values())
        extra = ["--rate-only"]

    tc(bed, *extra)
    first = _rules(bed)
    for alias, text in first.items():
        assert "qdisc htb e05: root" in text, alias
        assert "rate 50Mbit ceil 50Mbit" in text, alias
        assert ("netem" in text) == netem
    # Applying again replaces the rules: the same rules, no duplicates.
    tc(bed, *extra)
    assert _rules(bed) == first

    proc = tc(bed, "--test", "--out", "json", "--duration", "3", check=False)
    report = json.loads(proc.stdout)
    for src, dst in (("grp1", "grp2"), ("grp2", "grp1")):
        measured = _rate(report, src, dst)
        assert abs(measured / RATE_BPS - 1) <= 0.10, (src, dst, measured)
    assert all(p["verdict"]["rate"] == "ok" for p in report["pairs"])
    if not netem:
        assert report["rate_only"] and report["not_exercised"]
        assert all(p["verdict"]["rtt"] == "not exercised" for p in report["pairs"])
    latest = bed.path / "current" / "tc_test" / "latest"
    table = [line for line in (latest / "report.md").read_text().splitlines()
             if line.startswith("| grp")]
    assert len(table) == 2 and all(line.endswith("| ok |") for line in table)
    assert json.loads((latest / "report.json").read_text())["pairs"]

    # --reset removes every rule; the rate goes back up.
    tc(bed, "--reset")
    assert not any("e05:" in text for text in _rules(bed).values())
    baseline = json.loads(tc(bed, "--test", "--out", "json", "--duration", "2").stdout)
    assert not baseline["constraints_applied"]
    assert _rate(baseline, "grp1", "grp2") > 2 * RATE_BPS

    # `enable: false` then `enos tc` removes them too; so does `enos destroy`.
    tc(bed, *extra)
    assert all("e05:" in text for text in _rules(bed).values())
    path = bed.path / "reservation.yaml"
    doc = yaml.safe_load(path.read_text())
    doc["network_constraints"]["enable"] = False
    path.write_text(yaml.safe_dump(doc))
    tc(bed)
    assert not any("e05:" in text for text in _rules(bed).values())

    doc["network_constraints"]["enable"] = True
    path.write_text(yaml.safe_dump(doc))
    tc(bed, *extra)
    assert all("e05:" in text for text in _rules(bed).values())
    bed.enos("destroy")
    assert not any("e05:" in text for text in _rules(bed).values())


def test_tc_needs_up(tmp_path: Path) -> None:
    (tmp_path / "reservation.yaml").write_text(yaml.safe_dump(
        {"provider": "local", "topology": TOPOLOGY, "network_constraints": CONSTRAINTS}))
    proc = tc(conftest.Testbed(tmp_path), check=False)
    assert proc.returncode != 0
    assert "enos up" in proc.stderr and "Traceback" not in proc.stderr
