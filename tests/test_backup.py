"""enos backup on an experiment directory laid out as the local testbed and native deployer
leave it: archives per host and per source, manifest, redaction, incremental reruns."""

from __future__ import annotations

import hashlib
import io
import json
import os
import sqlite3
import tarfile
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from enos import backup
from enos.backup.redact import REDACTED, Redactor
from enos.cli import cli
from enos.experiment import Experiment
from enos.model import Host, Resources

GENERATED = "Zq0xRk1vYlh2TmpDcWx5"  # a generated password (passwords.yml)
ADMIN = "adminSecret-42x"
SERVICE = "svcPass-from-conf"  # only in a host's configuration file
RABBIT = "rabbitPW77"
SECRETS = [GENERATED, ADMIN, SERVICE, RABBIT]


def make_experiment(tmp_path: Path) -> Experiment:
    exp = Experiment(tmp_path / "enos_xp")
    exp.path.mkdir()
    (tmp_path / "reservation.yaml").write_text("provider: local\nresources: {control: 1}\n")
    hosts = []
    for alias in ("control-0", "compute-0"):
        root = exp.path / "hosts" / alias
        (root / "log").mkdir(parents=True)
        (root / "etc" / "nova").mkdir(parents=True)
        (root / "lib" / "mysql").mkdir(parents=True)
        (root / "supervisor" / "programs").mkdir(parents=True)
        (root / "log" / "nova-compute.log").write_text(
            f"2026-01-01 INFO nova connecting to rabbit://openstack:{RABBIT}@10.0.0.1:5672/\n"
            f"2026-01-01 DEBUG nova password was {SERVICE} oops\n")
        (root / "etc" / "nova" / "nova.conf").write_text(
            "[DEFAULT]\n"
            f"transport_url = rabbit://openstack:{RABBIT}@10.0.0.1:5672/\n"
            "[database]\n"
            f"connection = mysql+pymysql://nova:{GENERATED}@10.0.0.1/nova?charset=utf8\n"
            "[keystone_authtoken]\n"
            f"password = {SERVICE}\n"
            "auth_type = password\n")
        (root / "lib" / "mysql" / "ibdata1").write_bytes(b"\0" * 1000)
        (root / "supervisor" / "programs" / "nova.json").write_text('{"argv": ["nova"]}\n')
        hosts.append(Host(alias=alias, address="10.0.0.1", roles=["control"],
                          extra={"enos_root": str(root)}))
    (exp.path / "hosts" / "control-0" / "log" / "nova-api.log").write_text("GET /v2.1 200\n")
    exp.update(provider="local", config_file=str(tmp_path / "reservation.yaml"),
               config={"provider": {"type": "local"}})
    exp.set_resources(Resources(hosts=hosts))
    exp.mark_done("up")
    (exp.path / "multinode").write_text("[control]\ncontrol-0\n")
    (exp.path / "passwords.yml").write_text(f"enos_passwords:\n  nova_db: {GENERATED}\n")
    (exp.path / "admin-openrc").write_text(
        f"export OS_AUTH_URL=http://10.0.0.1:5000/v3\nexport OS_PASSWORD='{ADMIN}'\n")
    (exp.path / "clouds.yaml").write_text(
        f"clouds:\n  enos:\n    auth:\n      password: {ADMIN}\n")
    (exp.path / "keys").mkdir()
    (exp.path / "keys" / "id_rsa").write_text("-----BEGIN OPENSSH PRIVATE KEY-----\n")
    (exp.path / "logs").mkdir()
    (exp.path / "logs" / "ansible-enos_os.log").write_text("ok\n")
    bench = exp.path / "bench"
    run = bench / "20260101-000000-01-rally-boot-and-list-servers"
    run.mkdir(parents=True)
    (run / "run.json").write_text(json.dumps({"type": "rally", "status": "ok"}))
    (run / "report.html").write_text("<html>report</html>\n")
    (run / "results.json").write_text("{}\n")
    (bench / "rally.conf").write_text(f"[database]\nconnection = sqlite:///{bench}/rally.db\n")
    db = sqlite3.connect(bench / "rally.db")
    db.execute("CREATE TABLE envs (uuid TEXT, spec TEXT, n INTEGER)")
    db.execute("INSERT INTO envs VALUES ('u1', ?, 3)",
               (json.dumps({"openstack": {"admin": {"password": ADMIN}}}),))
    db.commit()
    db.close()
    return exp


def members(path: Path) -> dict[str, bytes]:
    out = {}
    with tarfile.open(path) as tar:
        for m in tar.getmembers():
            f = tar.extractfile(m)
            if f is not None:
                out[m.name] = f.read()
    return out


def sqlite_text(blob: bytes) -> str:
    with tempfile.NamedTemporaryFile(suffix=".db") as tmp:
        tmp.write(blob)
        tmp.flush()
        db = sqlite3.connect(tmp.name)
        rows = db.execute("SELECT spec FROM envs").fetchall()
        db.close()
    return json.dumps(rows)


def test_backup_layout_manifest_and_redaction(tmp_path: Path) -> None:
    exp = make_experiment(tmp_path)
    result = backup.backup(exp, say=lambda _m: None)
    dest = exp.path / "backup"
    assert result.directory == dest
    names = sorted(a.name for a in result.archives)
    assert names == ["compute-0.tar.gz", "control-0.tar.gz", "experiment.tar.gz",
                     "rally.tar.gz"]
    assert all(a.status == "written" for a in result.archives)

    host = members(dest / "control-0.tar.gz")
    assert "log/nova-compute.log" in host and "log/nova-api.log" in host
    assert "etc/nova/nova.conf" in host and "supervisor/programs/nova.json" in host
    assert not any(n.startswith("lib/") for n in host)
    conf = host["etc/nova/nova.conf"].decode()
    assert "auth_type = password" in conf  # not a secret: kept
    assert f"password = {REDACTED}" in conf
    assert f"rabbit://openstack:{REDACTED}@10.0.0.1" in conf

    exp_files = members(dest / "experiment.tar.gz")
    assert "experiment/state.json" in exp_files and "experiment/multinode" in exp_files
    assert "experiment/reservation/reservation.yaml" in exp_files
    assert "experiment/logs/ansible-enos_os.log" in exp_files
    assert not any("keys/" in n or n.startswith("experiment/hosts/") or "/bench/" in n
                   or "/backup/" in n for n in exp_files)
    assert f"OS_PASSWORD='{REDACTED}'" in exp_files["experiment/admin-openrc"].decode()

    rally_files = members(dest / "rally.tar.gz")
    run = "bench/20260101-000000-01-rally-boot-and-list-servers"
    assert {f"{run}/report.html", f"{run}/results.json", "bench/rally.db",
            "bench/rally.conf"} <= set(rally_files)
    assert REDACTED in sqlite_text(rally_files["bench/rally.db"])

    # No secret anywhere, in any file of any archive (SQLite database included).
    for archive_path in dest.glob("*.tar.gz"):
        for name, data in members(archive_path).items():
            text = sqlite_text(data) if name.endswith(".db") else data.decode(errors="replace")
            for secret in SECRETS:
                assert secret not in text, (archive_path.name, name, secret)
            assert "PRIVATE KEY" not in text

    manifest = json.loads((dest / "manifest.json").read_text())
    assert manifest["with_secrets"] is False
    for entry in manifest["archives"]:
        path = dest / entry["name"]
        assert entry["size"] == path.stat().st_size
        assert entry["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
        content = members(path)
        assert sorted(f["path"] for f in entry["files"]) == sorted(content)
        for f in entry["files"]:
            assert f["sha256"] == hashlib.sha256(content[f["path"]]).hexdigest()
            assert f["size"] == len(content[f["path"]])
    assert not list(dest.glob(".staging-*"))


def test_rerun_writes_only_what_changed(tmp_path: Path) -> None:
    exp = make_experiment(tmp_path)
    backup.backup(exp, say=lambda _m: None)
    dest = exp.path / "backup"
    before = {p.name: p.stat().st_mtime_ns for p in dest.glob("*.tar.gz")}

    again = backup.backup(exp, say=lambda _m: None)
    assert {a.status for a in again.archives} == {"unchanged"}
    assert {p.name: p.stat().st_mtime_ns for p in dest.glob("*.tar.gz")} == before

    log = exp.path / "hosts" / "compute-0" / "log" / "nova-compute.log"
    with open(log, "a") as handle:
        handle.write("2026-01-02 INFO one more line\n")
    new_run = exp.path / "bench" / "20260102-000000-01-rally-other"
    new_run.mkdir()
    (new_run / "report.html").write_text("<html>2</html>\n")
    third = backup.backup(exp, say=lambda _m: None)
    status = {a.name: a.status for a in third.archives}
    assert status == {"compute-0.tar.gz": "written", "control-0.tar.gz": "unchanged",
                      "experiment.tar.gz": "unchanged", "rally.tar.gz": "written"}
    assert b"one more line" in members(dest / "compute-0.tar.gz")["log/nova-compute.log"]
    assert f"bench/{new_run.name}/report.html" in members(dest / "rally.tar.gz")


def test_with_secrets_keeps_them(tmp_path: Path) -> None:
    exp = make_experiment(tmp_path)
    dest = tmp_path / "benchresults"
    backup.backup(exp, dest, with_secrets=True, say=lambda _m: None)
    host = members(dest / "control-0.tar.gz")
    assert SERVICE in host["etc/nova/nova.conf"].decode()
    exp_files = members(dest / "experiment.tar.gz")
    assert "experiment/keys/id_rsa" in exp_files
    assert ADMIN in sqlite_text(members(dest / "rally.tar.gz")["bench/rally.db"])
    assert oct(os.stat(dest / "experiment.tar.gz").st_mode & 0o777) == "0o600"
    # Switching back to redaction rewrites every archive.
    result = backup.backup(exp, dest, say=lambda _m: None)
    assert {a.status for a in result.archives} == {"written"}
    assert SERVICE not in members(dest / "control-0.tar.gz")["etc/nova/nova.conf"].decode()


def test_shaker_archive_and_bench_dir_kept_out_of_experiment(tmp_path: Path) -> None:
    exp = make_experiment(tmp_path)
    run = exp.path / "bench" / "20260101-000000-02-shaker-l3"
    run.mkdir()
    (run / "run.json").write_text(json.dumps({"type": "shaker"}))
    (run / "report.html").write_text("<html>shaker</html>\n")
    backup.backup(exp, say=lambda _m: None)
    dest = exp.path / "backup"
    assert f"bench/{run.name}/report.html" in members(dest / "shaker.tar.gz")
    assert f"bench/{run.name}/report.html" not in members(dest / "rally.tar.gz")
    # The bench service archives its own directory: experiment.tar.gz leaves it out.
    assert not any(n.startswith("experiment/bench") for n in members(dest / "experiment.tar.gz"))


def test_redactor_lines() -> None:
    r = Redactor([GENERATED])
    assert r.line(f"x {GENERATED} y\n", False) == f"x {REDACTED} y\n"
    assert r.line("amqp://u:p4ss@h:5672/\n", False) == f"amqp://u:{REDACTED}@h:5672/\n"
    assert r.line("default_pass = guest123\n", True) == f"default_pass = {REDACTED}\n"
    assert r.line('  "password": "abc",\n', True) == f'  "password": "{REDACTED}",\n'
    assert r.line("export OS_PASSWORD='abc'\n", True) == f"export OS_PASSWORD='{REDACTED}'\n"
    assert r.line("memcache_secret_key: k3y\n", True) == f"memcache_secret_key: {REDACTED}\n"
    for kept in ("auth_type = password\n", "key_repository = /etc/keystone/fernet\n",
                 "password_file = /x\n", "token_provider = fernet\n", "password =\n",
                 "send_service_user_token = true\n", "admin_token: 12\n"):
        assert r.line(kept, True) == kept
    # Not a config file: key-based redaction is off (literal and URL passes stay on).
    assert r.line("password = abc\n", False) == "password = abc\n"


def test_redactor_stream_keeps_bytes() -> None:
    r = Redactor(["secret-value"])
    src = io.BytesIO(b"a secret-value \xff\xfe b\n")
    out = io.BytesIO()
    r.stream(src, out, config=False)
    assert out.getvalue() == f"a {REDACTED} ".encode() + b"\xff\xfe b\n"


def test_cli_backup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import enos.cli

    monkeypatch.setitem(enos.cli.COMMANDS, "backup", ("enos.commands.backup", "backup"))
    exp = make_experiment(tmp_path)
    monkeypatch.chdir(tmp_path)
    res = CliRunner().invoke(cli, ["backup", "--backup_dir", "benchresults", "-e",
                                   str(exp.path)])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "benchresults" / "rally.tar.gz").exists()
    assert "rally.tar.gz" in res.output and "written" in res.output
    assert "next:" in res.output
    res = CliRunner().invoke(cli, ["backup", "--backup-dir", "benchresults", "-e",
                                   str(exp.path)])
    assert res.exit_code == 0, res.output
    assert "(0 written, 4 unchanged)" in res.output


def test_unpack_keeps_files_inside_and_mtimes(tmp_path: Path) -> None:
    from enos.backup import _unpack

    packed = tmp_path / "h.tar.gz"
    with tarfile.open(packed, "w:gz") as tar:
        for name, data in (("log/a.log", b"a\n"), ("../evil", b"x"), ("/abs", b"y")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 1_700_000_000
            tar.addfile(info, io.BytesIO(data))
        link = tarfile.TarInfo("log/link")
        link.type = tarfile.SYMTYPE
        link.linkname = "/etc/passwd"
        tar.addfile(link)
    root = tmp_path / "root"
    root.mkdir()
    _unpack(packed, root)
    assert sorted(str(p.relative_to(root)) for p in root.rglob("*")) == ["log", "log/a.log"]
    assert (root / "log" / "a.log").stat().st_mtime == 1_700_000_000
    assert not (tmp_path / "evil").exists()


def test_volatile_runtime_files_do_not_trigger_a_rewrite(tmp_path: Path) -> None:
    exp = make_experiment(tmp_path)
    status = exp.path / "hosts" / "control-0" / "supervisor" / "status.json"
    status.write_text('{"at": 1}\n')
    backup.backup(exp, say=lambda _m: None)
    status.write_text('{"at": 2, "longer": true}\n')
    again = backup.backup(exp, say=lambda _m: None)
    assert {a.status for a in again.archives} == {"unchanged"}
    log = exp.path / "hosts" / "control-0" / "log" / "nova-api.log"
    log.write_text(log.read_text() + "GET /v2.1/servers 200\n")
    third = {a.name: a.status for a in backup.backup(exp, say=lambda _m: None).archives}
    assert third["control-0.tar.gz"] == "written"
    dest = exp.path / "backup"
    assert members(dest / "control-0.tar.gz")["supervisor/status.json"] == \
        b'{"at": 2, "longer": true}\n'
