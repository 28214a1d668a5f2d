"""The static provider in the original's form: hosts listed per topology group, one host or a
list per role, network constraints between the groups; the Python of each host pinned."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import needs_root, run_enos

pytestmark = [needs_root, pytest.mark.integration]

TOPOLOGY = {"grp1": {"any": {"control": 1, "network": 1}}, "grp2": {"any": {"compute": 2}}}


def _entry(host: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"address": host["address"], "alias": f"s-{host['alias']}", "user": "root",
            "keyfile": host["keyfile"], **extra}


def _static_doc(info: dict[str, Any], **host_extra: Any) -> dict[str, Any]:
    rsc = info["rsc"]
    nets = [{"cidr": n["cidr"], "gateway": n["gateway"], "start": n["start"], "end": n["end"],
             "roles": n["roles"]} for n in info["networks"]]
    return {
        "provider": {"type": "static", "networks": nets},
        "kolla": {"network_interface": "eth0", "neutron_external_interface": "eth1"},
        "topology": {
            # One host per role in grp1, a list in grp2, as the original allowed.
            "grp1": {"control": _entry(rsc["control"][0], **host_extra),
                     "network": _entry(rsc["network"][0])},
            "grp2": {"compute": [_entry(h) for h in rsc["compute"]]},
        },
        "network_constraints": {
            "enable": True, "default_delay": "10ms", "default_rate": "100mbit",
            "default_loss": "0%",
            "constraints": [{"src": "grp1", "dst": "grp2", "rate": "50mbit"}],
        },
    }


def _classes(netns: str) -> str:
    return subprocess.run(["ip", "netns", "exec", netns, "tc", "class", "show", "dev", "eth0"],
                          capture_output=True, text=True, check=False).stdout


def test_static_topology_up_and_rate_only(local_testbed, tmp_path: Path) -> None:
    machines = local_testbed(topology=TOPOLOGY)
    info = machines.info()
    netns = {f"s-{h['alias']}": h["extra"]["netns"] for hs in info["rsc"].values() for h in hs}
    static = tmp_path / "static"
    static.mkdir()
    doc = _static_doc(info)
    (static / "reservation.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    checked = run_enos("validate", cwd=static)
    assert "grp1" in checked.stdout and "grp2" in checked.stdout
    try:
        run_enos("up", cwd=static)
        sinfo = json.loads(run_enos("info", "--out", "json", cwd=static).stdout)
        assert sinfo["groups"] == {"grp1": sorted(a for a in netns if "grp1" in a),
                                   "grp2": sorted(a for a in netns if "grp2" in a)}
        # The Python of each host was found once and pinned in the inventory.
        inventory = (Path(sinfo["resultdir"]) / "multinode").read_text()
        for alias in netns:
            assert f"{alias} " in inventory
            assert "ansible_python_interpreter=/usr/bin/python3" in inventory

        out = run_enos("tc", "--rate-only", cwd=static)
        assert "rates only" in out.stdout
        control = next(a for a in netns if "control" in a)
        shaped = _classes(netns[control])
        assert "rate 50Mbit" in shaped, shaped  # grp1 -> grp2
        compute = next(a for a in netns if "compute" in a)
        assert "rate 100Mbit" in _classes(netns[compute])  # grp2 -> grp1, the default
        run_enos("tc", "--reset", cwd=static)
        assert "htb" not in _classes(netns[control])
    finally:
        run_enos("destroy", "--hard", cwd=static, check=False)


def test_extra_interpreter_overrides_and_a_host_without_python_is_named(
        local_testbed, tmp_path: Path) -> None:
    machines = local_testbed(topology=TOPOLOGY)
    info = machines.info()
    static = tmp_path / "static"
    static.mkdir()
    path = static / "reservation.yaml"
    bad = _static_doc(info, extra={"ansible_python_interpreter": "/nonexistent/python3"})
    path.write_text(yaml.safe_dump(bad, sort_keys=False))
    try:
        proc = run_enos("up", cwd=static, check=False)
        alias = f"s-{info['rsc']['control'][0]['alias']}"
        assert proc.returncode != 0
        assert alias in proc.stderr and "no usable Python 3" in proc.stderr
        assert "/nonexistent/python3" in proc.stderr and "Traceback" not in proc.stderr

        # The real interpreter under another path: the override is what gets pinned.
        Path(static / "py").mkdir()
        (static / "py" / "python3").symlink_to("/usr/bin/python3")
        good = _static_doc(info, extra={"ansible_python_interpreter":
                                        str(static / "py" / "python3")})
        path.write_text(yaml.safe_dump(good, sort_keys=False))
        run_enos("up", cwd=static)
        inventory = (static / "current" / "multinode").read_text()
        line = next(ln for ln in inventory.splitlines() if ln.startswith(alias + " "))
        # sys.executable of the override (the link as given), not the system's python3.
        assert f"ansible_python_interpreter={static / 'py' / 'python3'}" in line
    finally:
        run_enos("destroy", "--hard", cwd=static, check=False)
