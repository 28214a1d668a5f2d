"""The native deployer end to end on a real local testbed.

`enos deploy` on three hosts (control, network, compute; two fake computes of three fake nodes
each), a server booted with openstacksdk from the OpenStack virtualenv to ACTIVE, listed and
deleted; `enos os` again changes nothing; the computes restarted keep their nodes; `enos
destroy --hard` leaves no process and no namespace.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import netns_names, processes_under, unique_networks

from enos import deployers
from enos.deployers import native
from enos.experiment import Experiment
from enos.output import Plain

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(os.geteuid() != 0, reason="the local testbed needs root"),
]

ENOS = shutil.which("enos") or "enos"

BOOT = r"""
import json, sys, time
import openstack
conn = openstack.connect(cloud="enos")
image = conn.image.find_image("cirros.uec", ignore_missing=False)
flavor = conn.compute.find_flavor("m1.tiny", ignore_missing=False)
net = conn.network.find_network("private", ignore_missing=False)
start = time.monotonic()
server = conn.compute.create_server(name="enos-test-vm", image_id=image.id,
                                    flavor_id=flavor.id, networks=[{"uuid": net.id}])
server = conn.compute.wait_for_server(server, status="ACTIVE", wait=300)
boot = time.monotonic() - start
listed = [s.name for s in conn.compute.servers()]
conn.compute.delete_server(server)
conn.compute.wait_for_delete(server, wait=120)
hosts = sorted(s.host for s in conn.compute.services(binary="nova-compute") if s.state == "up")
print(json.dumps({"boot": boot, "listed": listed, "status": server.status, "hosts": hosts,
                  "node": server.hypervisor_hostname}))
"""

# The hypervisors ({"list": [[name, id], ...]}), once all of them are up (or after 120 s).
HYPERVISORS = r"""
import json, time
import openstack
conn = openstack.connect(cloud="enos")
for _ in range(240):
    found = list(conn.compute.hypervisors(details=True))
    if found and all(h.state == "up" for h in found):
        break
    time.sleep(0.5)
print(json.dumps({"list": sorted([h.name, h.id] for h in found)}))
"""


def enos(*args: str, cwd: Path, timeout: int = 1500) -> subprocess.CompletedProcess[str]:
    return subprocess.run([ENOS, *args], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout, check=False, stdin=subprocess.DEVNULL)


def ok(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout + proc.stderr


def test_deploy_boot_destroy(workdir: Path) -> None:
    tmp_path = workdir
    doc = {
        "provider": {"type": "local", "networks": unique_networks()},
        "resources": {"control": 1, "network": 1, "compute": 1},
        "deployer": {"type": "native", "fake_computes": 2, "nodes_per_compute": 3},
    }
    (tmp_path / "reservation.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    namespaces: list[str] = []
    expdir: Path | None = None
    try:
        start = time.monotonic()
        out = ok(enos("deploy", cwd=tmp_path))
        deploy_seconds = time.monotonic() - start
        assert "OpenStack is up" in out and "the cloud is ready" in out
        expdir = (tmp_path / "current").resolve()
        state = json.loads((expdir / "state.json").read_text())
        namespaces = [h["extra"]["netns"] for h in state["resources"]["hosts"]]
        assert {"up", "os", "init"} <= set(state["phases"])
        for secret in ("passwords.yml", "admin-openrc", "clouds.yaml"):
            assert (expdir / secret).stat().st_mode & 0o777 == 0o600, secret

        # Every service runs in its host's namespace and binds the host's address.
        control = next(h for h in state["resources"]["hosts"] if "control" in h["roles"])
        assert state["cloud"]["auth_url"] == f"http://{control['address']}:5000/v3"
        status = json.loads((Path(control["extra"]["enos_root"]) / "supervisor" /
                             "status.json").read_text())
        assert {"mariadb", "rabbitmq", "memcached", "keystone", "glance-api", "placement-api",
                "nova-api", "neutron-server", "nova-conductor",
                "nova-scheduler"} <= set(status["programs"])
        assert all(p["state"] == "running" for p in status["programs"].values())

        # A server boots with openstacksdk from the OpenStack virtualenv, on one of the six
        # hypervisors: two nova-compute services of three nodes each.
        def sdk(script: str) -> dict[str, Any]:
            proc = subprocess.run([str(python), "-c", script], cwd=expdir, capture_output=True,
                                  text=True, timeout=600, check=False,
                                  env={**os.environ, "OS_CLIENT_CONFIG_FILE":
                                       str(expdir / "clouds.yaml")})
            assert proc.returncode == 0, proc.stderr[-3000:]
            return dict(json.loads(proc.stdout.strip().splitlines()[-1]))

        python = Path(state["cloud"]["venv"]) / "bin" / "python"
        nodes = {f"compute-1-c{c}-n{n}" for c in (1, 2) for n in (1, 2, 3)}
        assert (state["cloud"]["compute_nodes"], state["cloud"]["nodes_per_compute"]) == (6, 3)
        hypervisors = sdk(HYPERVISORS)["list"]
        assert {name for name, _ in hypervisors} == nodes and len(hypervisors) == 6, hypervisors
        result = sdk(BOOT)
        assert result["status"] == "ACTIVE"
        assert "enos-test-vm" in result["listed"]
        assert result["hosts"] == ["compute-1-c1", "compute-1-c2"]
        assert result["node"] in nodes
        assert "computes:   2 nova-compute services, 6 hypervisors (3 per service)" in ok(
            enos("info", cwd=tmp_path))

        # The databases' schemas came from this release's snapshots, or were migrated and
        # snapshotted for the next deployment.
        logs = Path(control["extra"]["enos_root"]) / "log"
        for name in ("glance", "placement", "nova", "neutron", "keystone"):
            text = (logs / f"{name}-db-sync.log").read_text()
            assert "restored" in text or "snapshot written" in text, (name, text[-2000:])
        snapshots = native.schemas_path(state["config"]["deployer"].get("release")
                                        or native.DEFAULT_RELEASE)
        assert {p.name for p in snapshots.glob("*.sql")} == {
            f"{n}.sql" for n in ("glance", "placement", "nova-api", "nova-cells", "neutron",
                                 "keystone")}
        check_schema_snapshots(control)

        # Running `enos os` again changes nothing: no service restarts.
        before = {n: p["started_at"] for n, p in status["programs"].items()}
        ok(enos("os", cwd=tmp_path))
        again = json.loads((Path(control["extra"]["enos_root"]) / "supervisor" /
                            "status.json").read_text())
        assert {n: p["started_at"] for n, p in again["programs"].items()} == before
        # ... and no compute restarted: the computes found schedulable before are not waited for.
        tasks = json.loads((expdir / "logs" / "ansible-enos_os.tasks.json").read_text())
        assert {t["status"] for t in tasks["tasks"]
                if t["task"].startswith("Wait for the computes")} == {"skipped"}
        # And `enos init` again creates nothing.
        assert "nothing to create" in ok(enos("init", cwd=tmp_path))

        # One service stopped and started again through the deployer (fault injection).
        deployer = deployers.load("native")
        exp, out = Experiment(expdir), Plain(quiet=True)
        done = deployer.control(exp, "nova-scheduler", "stop", out)
        assert {h: d["done"] for h, d in done.items()} == {
            control["alias"]: "stopped", "network-1": "absent", "compute-1": "absent"}
        status_path = Path(control["extra"]["enos_root"]) / "supervisor" / "status.json"
        assert json.loads(status_path.read_text())["programs"]["nova-scheduler"]["pid"] is None
        done = deployer.control(exp, "nova-compute", "restart", out, hosts=["compute-1"])
        assert {h: d["done"] for h, d in done.items()} == {"compute-1": "restarted"}
        deployer.control(exp, "nova-scheduler", "start", out)
        programs = json.loads(status_path.read_text())["programs"]
        assert programs["nova-scheduler"]["state"] == "running"
        # Restarted, the computes find their nodes again (same IDs, no new ones), and a server
        # still boots on them.
        assert sdk(BOOT)["node"] in nodes
        assert sdk(HYPERVISORS)["list"] == hypervisors
        # A kill is a crash: the supervisor restarts the service under a new PID.
        pid = programs["nova-scheduler"]["pid"]
        done = deployer.control(exp, "nova-scheduler", "kill", out, hosts=[control["alias"]])
        assert done[control["alias"]]["done"] == "killed"
        for _ in range(100):
            now = json.loads(status_path.read_text())["programs"]["nova-scheduler"]
            if now["pid"] not in (None, pid) and now["state"] == "running":
                break
            time.sleep(0.1)
        assert now["pid"] not in (None, pid) and now["restarts"] == 1, now
        print(f"deploy {deploy_seconds:.0f}s, boot {result['boot']:.1f}s")
    finally:
        destroyed = enos("destroy", "--hard", cwd=tmp_path)
    ok(destroyed)
    assert expdir is not None
    assert not processes_under(expdir), processes_under(expdir)
    assert not set(namespaces) & netns_names()


SCHEMA = Path(native.__file__).parent / "files" / "enos_schema.py"


def check_schema_snapshots(control: dict[str, object]) -> None:
    """enos_schema.py against the cloud's MariaDB, on scratch databases: an empty database is
    migrated then snapshotted; emptied again, it is restored without migrating; a database
    that holds tables is migrated and never snapshotted (its data is not a schema)."""
    root = Path(str(control["extra"]["enos_root"]))  # type: ignore[index]
    cnf = root / "etc" / "mysql" / "my.cnf"
    netns = ["ip", "netns", "exec", str(control["extra"]["netns"])]  # type: ignore[index]

    def sql(text: str) -> str:
        proc = subprocess.run([*netns, "mariadb", f"--defaults-file={cnf}", "--batch",
                               "--skip-column-names", "-e", text], capture_output=True,
                              text=True, check=True, timeout=60)
        return proc.stdout

    sql("CREATE DATABASE IF NOT EXISTS enos_t1; CREATE DATABASE IF NOT EXISTS enos_t2; "
        "CREATE USER IF NOT EXISTS 'enos_t'@'%' IDENTIFIED BY 'p@ss/w:rd'; "
        "GRANT ALL ON enos_t1.* TO 'enos_t'@'%'; GRANT ALL ON enos_t2.* TO 'enos_t'@'%'")
    urls = [f"mysql+pymysql://enos_t:p%40ss%2Fw%3Ard@{control['address']}/{db}?charset=utf8"
            for db in ("enos_t1", "enos_t2")]
    migrate = ("mariadb --no-defaults -h{h} -uenos_t -p'p@ss/w:rd' -e \"CREATE TABLE "
               "enos_t1.a (id INT); CREATE TABLE enos_t2.b (id INT); INSERT INTO enos_t2.b "
               "VALUES (7)\"").format(h=control["address"])
    snapshots = Path(tempfile.mkdtemp(prefix="enos-schemas-"))
    try:
        def schema(*command: str) -> str:
            args = ["python3", str(SCHEMA), "--snapshots", str(snapshots), "--name", "t",
                    "--state", str(snapshots / "state")]
            for url in urls:
                args += ["--db", url]
            proc = subprocess.run([*args, "--", *command], capture_output=True, text=True,
                                  timeout=120, check=False)
            assert proc.returncode == 0, proc.stdout + proc.stderr
            return proc.stdout.strip().splitlines()[-1]

        assert schema("sh", "-c", migrate) == "migrated, snapshot written"
        dump = snapshots / "t.sql"
        assert dump.stat().st_mode & 0o777 == 0o600 and "CREATE TABLE `b`" in dump.read_text()
        assert "p@ss" not in dump.read_text()
        sql("DROP DATABASE enos_t1; DROP DATABASE enos_t2; "
            "CREATE DATABASE enos_t1; CREATE DATABASE enos_t2")
        # Restored: the migration (which would fail) does not run.
        assert schema("false") == "restored"
        assert sql("SELECT id FROM enos_t2.b").split() == ["7"]
        assert sql("SHOW TABLES FROM enos_t1").split() == ["a"]
        # A restore interrupted (its mark left, part of the tables there) starts over.
        (snapshots / "state").mkdir(exist_ok=True)
        (snapshots / "state" / "schema-t.restoring").touch()
        sql("DROP TABLE enos_t2.b; CREATE TABLE enos_t1.partial (id INT)")
        assert schema("false") == "restored"
        assert sql("SHOW TABLES FROM enos_t1").split() == ["a"]
        assert sql("SELECT id FROM enos_t2.b").split() == ["7"]
        assert not (snapshots / "state" / "schema-t.restoring").exists()
        # Not empty: migrated (an upgrade keeps the data), the snapshot is left as it was.
        before = dump.read_bytes()
        sql("INSERT INTO enos_t2.b VALUES (8)")
        assert schema("true") == "migrated"
        assert dump.read_bytes() == before
        assert sorted(sql("SELECT id FROM enos_t2.b").split()) == ["7", "8"]
    finally:
        sql("DROP DATABASE IF EXISTS enos_t1; DROP DATABASE IF EXISTS enos_t2; "
            "DROP USER IF EXISTS 'enos_t'@'%'")
        shutil.rmtree(snapshots, ignore_errors=True)
        Path(f"{snapshots}.lock").unlink(missing_ok=True)
