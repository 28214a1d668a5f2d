"""End to end on the Grid'5000 API stand-in whose nodes are local testbed hosts: `enos up`
submits and waits for the job, deploys (the key reaches the nodes), Ansible reaches the nodes
over SSH; a rerun reuses the job; `enos destroy --hard` deletes it; nothing is left behind."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import needs_root, netns_names, processes_under, run_enos, unique_networks

sys.path.insert(0, str(Path(__file__).parent))
from g5k_standin import StandIn  # noqa: E402

pytest.importorskip("grid5000")


@needs_root
@pytest.mark.timeout(180)
def test_up_reuse_destroy_on_the_standin(tmp_path: Path) -> None:
    start = time.monotonic()
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f",
                    str(tmp_path / "id_ed25519")], check=True)
    standin = StandIn(clusters={"paravance": 3}, step=0.3, workdir=tmp_path / "standin",
                      nodes=True, networks=unique_networks()[:1])
    before = netns_names()
    try:
        url = standin.serve()
        (tmp_path / "g5k.yaml").write_text(f"uri: {url}\nusername: alice\npassword: secret\n")
        env = {**os.environ, "G5K_CONFIG": str(tmp_path / "g5k.yaml")}
        xp = tmp_path / "xp"
        xp.mkdir()
        (xp / "reservation.yaml").write_text(
            "provider:\n  type: g5k\n  job_name: enos-e2e\n  walltime: '00:30:00'\n"
            f"  key: {tmp_path / 'id_ed25519.pub'}\n  gateway: none\n"
            "resources:\n  paravance: {control: 1, network: 1, compute: 1}\n")

        up = run_enos("up", cwd=xp, env=env)
        assert "submitted on rennes" in up.stderr + up.stdout
        assert "3 host(s) ready" in up.stderr + up.stdout
        assert len(standin.jobs) == 1
        job = next(iter(standin.jobs.values()))
        assert job["state"] == "running" and job["name"] == "enos-e2e"
        dep = next(iter(standin.deployments.values()))
        assert dep["key"] == (tmp_path / "id_ed25519.pub").read_text().strip()
        inventory = (xp / "current" / "multinode").read_text()
        for address in standin.addresses.values():
            assert address in inventory
        # The deployed key logs in as root on a node (what Ansible did in `enos up`).
        node = standin.addresses["paravance-1.rennes.grid5000.fr"]
        ssh = subprocess.run(
            ["ssh", "-i", str(tmp_path / "id_ed25519"), "-o", "StrictHostKeyChecking=no",
             "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes",
             f"root@{node}", "ip -o -4 addr show eth0"],
            capture_output=True, text=True, timeout=30, check=False)
        assert ssh.returncode == 0 and node in ssh.stdout, ssh.stderr

        again = run_enos("up", cwd=xp, env=env)
        assert "kept" in again.stderr + again.stdout
        assert len(standin.jobs) == 1 and len(standin.deployments) == 1

        run_enos("destroy", "--hard", cwd=xp, env=env)
        assert job["state"] == "error"  # deleted, as OAR's deleted jobs end
        assert [m for m, p in standin.requests if m == "DELETE"] == ["DELETE"]
    finally:
        standin.stop()
    assert netns_names() <= before
    assert processes_under(tmp_path) == []
    assert time.monotonic() - start < 90
