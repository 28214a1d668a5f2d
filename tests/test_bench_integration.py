"""The original's boot-and-list workload on a cloud deployed on this machine, then a backup.

Takes minutes: a deployment, two Rally runs, a backup, a destroy.

"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from pathlib import Path

import pytest
from conftest import unique_networks

from enos.bench.rally import read_openrc

pytestmark = [
    pytest.mark.integration,
]

DATA = Path(__file__).parent / "data" / "workload"
RESERVATION = """provider:
  type: local
  networks:
    - {{roles: [network_interface], cidr: {net0}}}
    - {{roles: [neutron_external_interface], cidr: {net1}}}
resources:
  control: 1
  network: 1
  compute: 1
deployer:
  type: native
"""
# The original's workload with small numbers: 2 runs (concurrency 1 and 2) of 3 iterations.
RUN = """rally:
  enabled: true
  args:
    concurrency:
      - 1
      - 2
    times:
      - 100
  scenarios:
    - name: boot and list servers
      enabled: true
      file: nova-boot-list-cc.yml
      args:
        sla_max_avg_duration: 30
        times: 3
"""


def enos(*args: str, cwd: Path, timeout: int) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([shutil.which("enos") or "enos", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout, check=False,
                          stdin=subprocess.DEVNULL)
    print(f"$ enos {' '.join(args)} -> {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


def names(path: Path) -> list[str]:
    with tarfile.open(path) as tar:
        return tar.getnames()


def members(path: Path) -> dict[str, bytes]:
    with tarfile.open(path) as tar:
        return {m.name: tar.extractfile(m).read()  # type: ignore[union-attr]
                for m in tar.getmembers() if m.isfile()}


def dump_sqlite(data: bytes) -> bytes:
    with tempfile.NamedTemporaryFile(suffix=".db") as tmp:
        tmp.write(data)
        tmp.flush()
        db = sqlite3.connect(tmp.name)
        try:
            return "\n".join(db.iterdump()).encode()
        finally:
            db.close()


def test_boot_and_list_then_backup(workdir: Path) -> None:
    tmp_path = workdir
    net0, net1 = (n["cidr"] for n in unique_networks())
    (tmp_path / "reservation.yaml").write_text(RESERVATION.format(net0=net0, net1=net1))
    workload = tmp_path / "workload"
    shutil.copytree(DATA, workload)
    (workload / "run.yml").write_text(RUN)
    try:
        deploy = enos("deploy", cwd=tmp_path, timeout=3600)
        assert deploy.returncode == 0, deploy.stderr[-3000:]

        bench = enos("bench", "--workload", str(workload), cwd=tmp_path, timeout=1800)
        assert bench.returncode == 0, bench.stdout[-3000:] + bench.stderr[-3000:]
        assert "FAILED SLA" not in bench.stdout
        assert "next: 'enos backup'" in bench.stdout

        expdir = (tmp_path / "current").resolve()
        runs = sorted(p for p in (expdir / "bench").iterdir() if (p / "run.json").exists())
        assert len(runs) == 2
        for run_dir in runs:
            record = json.loads((run_dir / "run.json").read_text())
            assert record["status"] == "ok", record
            assert (record["iterations"], record["failures"]) == (3, 0)
            assert record["task_id"]
            report = json.loads((run_dir / "results.json").read_text())
            (workload_result,) = report["tasks"][0]["subtasks"][0]["workloads"]
            assert workload_result["total_iteration_count"] == 3
            assert workload_result["failed_iteration_count"] == 0
            assert (run_dir / "report.html").stat().st_size > 10_000

        out = tmp_path / "benchresults"
        backed = enos("backup", "--backup_dir", str(out), cwd=tmp_path, timeout=900)
        assert backed.returncode == 0, backed.stderr[-3000:]
        host_logs = [n for archive in out.glob("*.tar.gz")
                     if archive.name not in ("experiment.tar.gz", "rally.tar.gz")
                     for n in names(archive)]
        assert "log/nova-api.log" in host_logs, host_logs
        assert any(n.startswith("log/nova-compute") for n in host_logs), host_logs
        rally_names = names(out / "rally.tar.gz")
        assert "bench/rally.db" in rally_names
        assert sum(n.endswith("/report.html") for n in rally_names) == 2
        # The admin password is nowhere in the backup (Rally's database included).
        password = read_openrc(expdir / "admin-openrc")["OS_PASSWORD"].encode()
        for archive in out.glob("*.tar.gz"):
            for name, data in members(archive).items():
                if name.endswith(".db"):
                    data = dump_sqlite(data)
                assert password not in data, (archive.name, name)
        manifest = json.loads((out / "manifest.json").read_text())
        assert {a["name"] for a in manifest["archives"]} >= {"experiment.tar.gz",
                                                              "rally.tar.gz"}
    finally:
        enos("destroy", "--hard", cwd=tmp_path, timeout=900)
