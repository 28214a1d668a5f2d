"""enos backup through Ansible (the path of remote hosts) on real local-testbed hosts.

The local testbed's hosts are reachable over SSH like any static host; forcing the Ansible
path on them checks the shipped playbook: packing on the host, fetching, unpacking, redacting,
and that it gives the same archive content as reading the files in place.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import unique_networks

from enos import backup
from enos.experiment import Experiment

pytestmark = pytest.mark.integration

ENOS = (
    "import sys, enos.cli as c; "
    "c.COMMANDS.setdefault('backup', ('enos.commands.backup', 'Back up.')); "
    "c.main(sys.argv[1:])"
)


def enos(*args: str, cwd: Path, timeout: int = 900) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", ENOS, *args], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout, check=False)


def contents(path: Path) -> dict[str, bytes]:
    with tarfile.open(path) as tar:
        return {m.name: tar.extractfile(m).read()  # type: ignore[union-attr]
                for m in tar.getmembers() if m.isfile()}


@pytest.fixture
def local_experiment() -> Iterator[Experiment]:
    where = Path(tempfile.mkdtemp(prefix="eb", dir="/tmp"))  # short: unix socket paths
    net0, net1 = (n["cidr"] for n in unique_networks())
    (where / "reservation.yaml").write_text(
        "provider:\n  type: local\n  networks:\n"
        f"    - {{roles: [network_interface], cidr: {net0}}}\n"
        f"    - {{roles: [neutron_external_interface], cidr: {net1}}}\n"
        "resources:\n  control: 1\n  network: 1\n  compute: 1\n")
    up = enos("up", cwd=where)
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        yield Experiment(where / "current")
    finally:
        enos("destroy", "--hard", cwd=where)
        shutil.rmtree(where, ignore_errors=True)


def test_fetch_with_ansible_matches_local_read(local_experiment: Experiment,
                                               tmp_path: Path) -> None:
    exp = local_experiment
    resources = exp.resources
    assert resources is not None
    secret = "s3cretFromConf"
    for host in resources.hosts:
        root = Path(host.extra["enos_root"])
        (root / "etc" / "nova").mkdir(parents=True, exist_ok=True)
        (root / "etc" / "nova" / "nova.conf").write_text(f"[x]\npassword = {secret}\n")
        (root / "log").mkdir(exist_ok=True)
        (root / "log" / "nova-compute.log").write_text(f"INFO started, pw {secret}\n")

    by_ansible = backup.backup(exp, tmp_path / "via-ansible", fetch="ansible",
                               say=lambda _m: None, quiet=True)
    in_place = backup.backup(exp, tmp_path / "in-place", fetch="local", say=lambda _m: None)
    assert by_ansible.warnings == []
    hosts = sorted(h.alias for h in resources.hosts)
    assert sorted(a.host for a in by_ansible.archives if a.kind == "host") == hosts
    for alias in hosts:
        a = contents(tmp_path / "via-ansible" / f"{alias}.tar.gz")
        b = contents(tmp_path / "in-place" / f"{alias}.tar.gz")
        assert a.keys() == b.keys()
        assert a["log/nova-compute.log"] == b["log/nova-compute.log"]
        assert secret.encode() not in a["etc/nova/nova.conf"]
        assert secret.encode() not in a["log/nova-compute.log"]
    assert in_place.written == len(in_place.archives)
    # The playbook cleaned up after itself on the hosts.
    assert not any(Path(f"/tmp/enos-backup-{alias}.tar.gz").exists() for alias in hosts)
