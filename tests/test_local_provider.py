"""The local testbed for real: namespaces, bridges, sshd, Ansible over SSH, destroy."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import time
from pathlib import Path

import pytest
from conftest import link_names, needs_root, netns_names, run_enos

pytestmark = [pytest.mark.integration, needs_root]

BASIC = {"resources": {"paravance": {"control": 1, "network": 1, "compute": 1}}}


def _ansible(bed_path: Path, playbook: str) -> None:
    from enos.ansible.runner import run_playbook

    run_playbook(playbook, bed_path / "current" / "multinode", quiet=True)


def _sshd_pids(bed_path: Path) -> list[int]:
    status = json.loads((bed_path / "current" / "supervisor" / "status.json").read_text())
    return [p["pid"] for p in status["programs"].values() if p["pid"]]


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_three_hosts_up_reach_info_destroy(local_testbed) -> None:
    bed = local_testbed(**BASIC)
    info = bed.info()
    assert sorted(info["rsc"]) == ["compute", "control", "network"]
    control = info["rsc"]["control"][0]
    assert control["user"] == "root"
    key = Path(control["keyfile"])
    assert key.stat().st_mode & 0o777 == 0o600
    assert Path(info["resultdir"]) == (bed.path / "current").resolve()
    assert Path(info["resultdir"]).name.startswith("enos_")

    # The tutorial's pipeline works: the address from jq, then plain ssh to it.
    addr = subprocess.run(
        "enos info --out json | jq -r '.rsc.control[0].address'", shell=True, cwd=bed.path,
        capture_output=True, text=True, check=True,
    ).stdout.strip()
    assert addr == control["address"]

    def ssh(command: str) -> str:
        return subprocess.run(
            ["ssh", "-i", str(key), "-o", "StrictHostKeyChecking=no", "-o",
             "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes", f"root@{addr}", command],
            capture_output=True, text=True, check=True, timeout=30,
        ).stdout

    assert addr in ssh("ip -o -4 addr show eth0")

    # A host's root logs in like a fresh machine's: this machine's shell start-up files (a
    # developer's pyenv or conda, which every SSH command would otherwise run) are not run;
    # the distribution's defaults stand in for them, and this machine's stay as they were.
    home = Path.home()
    mine = {f: (home / f).read_bytes() for f in (".bashrc", ".profile") if (home / f).exists()}
    seen = ssh("for f in .bashrc .profile; do [ -e ~/$f ] && echo $f $(md5sum < ~/$f); done")
    for name, data in mine.items():
        skel = Path("/etc/skel") / name
        expected = hashlib.md5(skel.read_bytes() if skel.exists() else b"").hexdigest()
        assert f"{name} {expected}" in seen, seen
        assert (home / name).read_bytes() == data

    # Ansible reaches every host; every host reaches every other on both networks.
    _ansible(bed.path, "ping.yml")

    # The inventory: role groups with hosts and their variables, service groups after them.
    inv = (bed.path / "current" / "multinode").read_text()
    assert "[control]" in inv and "[nova-compute:children]" in inv
    assert f"ansible_host={addr}" in inv and "network_interface=eth0" in inv
    assert "neutron_external_interface=eth1" in inv

    # A rerun converges on the same hosts.
    before = bed.info()["rsc"]
    bed.enos("up")
    assert bed.info()["rsc"] == before

    eid = json.loads((bed.path / "current" / "state.json").read_text())[
        "resources"]["provider_state"]["id"]
    pids = _sshd_pids(bed.path)
    assert len(pids) == 3 and all(_alive(p) for p in pids)
    bed.enos("destroy", "--hard")
    assert not [n for n in netns_names() if n.startswith(f"enos-{eid}-")]
    assert not [n for n in link_names() if eid in n]
    assert not [p for p in pids if _alive(p)]
    again = bed.enos("destroy", "--hard")
    assert again.returncode == 0
    assert bed.info()["rsc"] == {}


def test_twenty_hosts_in_groups(local_testbed) -> None:
    bed = local_testbed(topology={
        "grp1": {"paravance": {"control": 1, "network": 1}},
        "grp[2-4]": {"paravance": {"compute": 6}},
    })
    info = bed.info()
    assert sum(len(v) for v in info["rsc"].values()) == 20
    assert sorted(info["groups"]) == ["grp1", "grp2", "grp3", "grp4"]
    assert len(info["groups"]["grp3"]) == 6
    assert len({h["address"] for hs in info["rsc"].values() for h in hs}) == 20
    _ansible(bed.path, "ping.yml")
    inv = (bed.path / "current" / "multinode").read_text()
    assert "[grp3]" in inv


def test_custom_inventory_dedicated_conductor(local_testbed, tmp_path: Path) -> None:
    from enos.ansible.inventory import DEFAULT_TEMPLATE

    template = DEFAULT_TEMPLATE.read_text().replace(
        "[nova-conductor:children]\nnova", "[nova-conductor:children]\nconductor-node")
    bed = local_testbed(up=False, resources={"paravance": {
        "control": 1, "network": 1, "compute": 1, "conductor-node": 1}},
        inventory="inventories/mine")
    (bed.path / "inventories").mkdir()
    (bed.path / "inventories" / "mine").write_text(template)
    bed.enos("up")
    out = subprocess.run(
        [str(Path(os.sys.executable).parent / "ansible"), "-i", "current/multinode",
         "nova-conductor", "--list-hosts"],
        cwd=bed.path, capture_output=True, text=True, check=True).stdout
    assert "conductor-node-1" in out and "control-1" not in out


def test_second_command_is_refused_while_locked(local_testbed) -> None:
    from enos.experiment import Experiment

    bed = local_testbed(**BASIC)
    exp = Experiment((bed.path / "current").resolve())
    with exp.locked("up"):
        proc = bed.enos("destroy", "--hard", check=False)
    assert proc.returncode != 0
    assert "another enos command (enos up" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert bed.info()["rsc"]  # nothing was destroyed


def test_force_deploy_starts_from_fresh_hosts(local_testbed) -> None:
    bed = local_testbed(**BASIC)
    pids = _sshd_pids(bed.path)
    marker = Path(bed.info()["rsc"]["compute"][0]["extra"]["enos_root"]) / "marker"
    marker.write_text("x")
    bed.enos("up", "--force-deploy")
    time.sleep(0.2)
    assert not [p for p in pids if _alive(p)]
    assert set(_sshd_pids(bed.path)).isdisjoint(pids)


def test_unreachable_host_is_named(tmp_path: Path) -> None:
    (tmp_path / "reservation.yaml").write_text(
        "provider:\n  type: static\n  networks:\n    - cidr: 127.0.0.0/8\n"
        "      roles: [network_interface]\n"
        "resources:\n"
        "  control: [{address: 127.0.0.1, alias: ghost, port: 1, user: root}]\n"
        "  network: [{address: 127.0.0.1, alias: ghost, port: 1, user: root}]\n"
        "  compute: [{address: 127.0.0.1, alias: ghost, port: 1, user: root}]\n")
    proc = run_enos("up", cwd=tmp_path, check=False)
    assert proc.returncode != 0
    assert "ghost" in proc.stderr and "unreachable" in proc.stderr
    assert "enos up" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_phase_before_up_says_what_to_run(tmp_path: Path) -> None:
    proc = run_enos("info", cwd=tmp_path, check=False)
    assert proc.returncode != 0
    assert "run 'enos up' first" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_overlapping_range_is_refused(local_testbed) -> None:
    first = local_testbed(**BASIC)
    nets = json.loads((first.path / "current" / "state.json").read_text())["config"][
        "provider"]["networks"]
    second = local_testbed(up=False, provider={"networks": nets}, **BASIC)
    proc = second.enos("up", check=False)
    assert proc.returncode != 0
    assert "overlaps" in proc.stderr and "provider.networks" in proc.stderr


def test_static_provider_on_existing_machines(local_testbed, tmp_path: Path) -> None:
    """Machines that exist (here: hosts of a local testbed) described to the static provider."""
    import yaml

    machines = local_testbed(**BASIC)
    info = machines.info()
    hosts = {h["alias"]: h for hs in info["rsc"].values() for h in hs}
    net = info["networks"][0]
    static = tmp_path / "static"
    static.mkdir()
    doc = {
        "provider": {"type": "static", "networks": [{
            "cidr": net["cidr"], "gateway": net["gateway"], "dns": "8.8.8.8",
            "start": net["start"], "end": net["end"], "roles": ["network_interface"]}]},
        "kolla": {"network_interface": "eth0"},
        "resources": {
            role: [{"address": h["address"], "alias": f"s-{h['alias']}", "user": "root",
                    "keyfile": h["keyfile"],
                    "ansible_python_interpreter": "/usr/bin/python3"} for h in hs]
            for role, hs in info["rsc"].items()},
    }
    (static / "reservation.yaml").write_text(yaml.safe_dump(doc))
    run_enos("up", cwd=static)
    sinfo = json.loads(run_enos("info", "--out", "json", cwd=static).stdout)
    assert sinfo["provider"] == "static"
    assert {h["address"] for hs in sinfo["rsc"].values() for h in hs} == {
        h["address"] for h in hosts.values()}
    _ansible(static, "ping.yml")
    run_enos("destroy", "--hard", cwd=static)
    # Static machines are not ours: they are still there and reachable.
    _ansible(machines.path, "ping.yml")


def test_destroy_stops_what_still_runs_in_the_hosts(local_testbed) -> None:
    """A process left inside a host (an interrupted deployment) does not survive --hard."""
    bed = local_testbed(**BASIC)
    host = bed.info()["rsc"]["compute"][0]
    proc = subprocess.Popen(
        ["ip", "netns", "exec", host["extra"]["netns"], "sleep", "600"],
        start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.3)
        assert _alive(proc.pid)
        bed.enos("destroy", "--hard")
        proc.wait(timeout=15)
        assert not _alive(proc.pid)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_default_ranges_of_two_experiments_differ_and_a_taken_one_names_its_holder(
        tmp_path: Path) -> None:
    """Two experiments with the default networks get free places of them; an explicit range
    another experiment holds is refused with that experiment's directory."""
    beds = [tmp_path / "a", tmp_path / "b", tmp_path / "c"]
    for bed in beds:
        bed.mkdir()
    basic = {"provider": {"type": "local"}, **BASIC}
    try:
        cidrs = []
        for bed in beds[:2]:
            (bed / "reservation.yaml").write_text(json.dumps(basic))
            run_enos("up", cwd=bed)
            state = json.loads((bed / "current" / "state.json").read_text())
            cidrs.append([n["cidr"] for n in state["resources"]["networks"]])
        assert cidrs[0] != cidrs[1] and not set(cidrs[0]) & set(cidrs[1])
        # A rerun keeps the experiment's place.
        run_enos("up", cwd=beds[0])
        state = json.loads((beds[0] / "current" / "state.json").read_text())
        assert [n["cidr"] for n in state["resources"]["networks"]] == cidrs[0]

        taken = {**basic, "provider": {"type": "local", "networks": [
            {"roles": ["network_interface"], "cidr": cidrs[0][0]}]}}
        (beds[2] / "reservation.yaml").write_text(json.dumps(taken))
        refused = run_enos("up", cwd=beds[2], check=False)
        holder = (beds[0] / "current").resolve()
        assert refused.returncode != 0 and "Traceback" not in refused.stderr
        assert f"the experiment {holder}" in refused.stderr, refused.stderr
        assert f"enos -e {holder} destroy --hard" in refused.stderr
    finally:
        for bed in beds:
            if (bed / "current").exists():
                run_enos("destroy", "--hard", cwd=bed, check=False)
