"""Security: services bind to their host's address, secrets stay private, backups hold none.

- every sshd of a local testbed listens on its host's experiment address only (``ss -ltnp``
  inside each namespace), never on every address;
- keys and credentials are mode 0600 (directories 0700) wherever enos writes them;
- `enos backup` without ``--with-secrets`` holds none of the secrets planted in the
  configuration files and logs of a host running something else than OpenStack.
"""

from __future__ import annotations

import io
import json
import os
import stat
import subprocess
import tarfile
from pathlib import Path

import pytest
from conftest import needs_root

from enos import backup
from enos.experiment import Experiment
from enos.model import Host, Resources

# Known secrets, each planted where a careless service would put it.
TOKEN = "tok-7Hq2LmZpX9"  # an API token in a YAML configuration file
DBPASS = "dbPw-4Rt8Yv1Q"  # a database password inside a URL
INI = "iniSecret-93kd"  # `secret_key = ...` in an INI file
ENVPW = "envPass-Zq81xx"  # `APP_PASSWORD=...` in an environment file
JSONPW = "jsonPw-55aa17"  # {"password": ...} in a JSON file
PRIVATE_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n" \
    "-----END OPENSSH PRIVATE KEY-----\n"
KEY_BODY = "b3BlbnNzaC1rZXktdjEAAAAA"
SECRETS = [TOKEN, DBPASS, INI, ENVPW, JSONPW, KEY_BODY]


def _fake_host(exp: Experiment, alias: str) -> Host:
    """A host running a web application and a database (no OpenStack at all)."""
    root = exp.path / "hosts" / alias
    etc, log = root / "etc" / "webapp", root / "log"
    etc.mkdir(parents=True)
    log.mkdir(parents=True)
    (root / "supervisor" / "programs").mkdir(parents=True)
    (etc / "app.yaml").write_text(f"listen: 10.0.0.1:8080\napi_token: {TOKEN}\n"
                                  f"database_url: postgresql://app:{DBPASS}@10.0.0.1/app\n")
    (etc / "app.ini").write_text(f"[server]\nsecret_key = {INI}\nworkers = 4\n")
    (etc / "app.env").write_text(f"APP_PASSWORD={ENVPW}\nAPP_MODE=prod\n")
    (etc / "settings.json").write_text(json.dumps({"db": {"user": "app", "password": JSONPW}}))
    (etc / "deploy_key").write_text(PRIVATE_KEY)
    (log / "webapp.log").write_text(
        f"INFO starting with token {TOKEN}\n"
        f"DEBUG connecting to postgresql://app:{DBPASS}@10.0.0.1/app\n"
        f"DEBUG loaded secret_key={INI} password={JSONPW} env {ENVPW}\n")
    (root / "supervisor" / "programs" / "webapp.json").write_text(json.dumps(
        {"argv": ["webapp", "--config", str(etc / "app.yaml")], "env": {}}))
    return Host(alias=alias, address="10.0.0.1", roles=["control"],
                extra={"enos_root": str(root)})


def _archive_text(path: Path) -> str:
    """Every member of every archive under ``path``, as text (nested archives opened too)."""
    out = []

    def read(tar: tarfile.TarFile) -> None:
        for member in tar.getmembers():
            out.append(member.name)
            handle = tar.extractfile(member)
            if handle is None:
                continue
            data = handle.read()
            if member.name.endswith((".tar.gz", ".tgz", ".tar")):
                with tarfile.open(fileobj=io.BytesIO(data)) as inner:
                    read(inner)
            out.append(data.decode(errors="replace"))

    for archive in sorted(path.rglob("*.tar.gz")):
        with tarfile.open(archive) as tar:
            read(tar)
    for other in sorted(path.rglob("*.json")):
        out.append(other.read_text(errors="replace"))
    return "\n".join(out)


def test_backup_holds_no_planted_secret(tmp_path: Path) -> None:
    exp = Experiment(tmp_path / "enos_xp")
    exp.path.mkdir()
    (tmp_path / "reservation.yaml").write_text("provider: local\nresources: {control: 1}\n")
    hosts = [_fake_host(exp, "web-1"), _fake_host(exp, "db-1")]
    exp.update(provider="local", config_file=str(tmp_path / "reservation.yaml"),
               config={"provider": {"type": "local"}})
    exp.set_resources(Resources(hosts=hosts))
    exp.mark_done("up")
    (exp.path / "keys").mkdir(mode=0o700)
    (exp.path / "keys" / "id_ed25519").write_text(PRIVATE_KEY)

    dest = tmp_path / "backup"
    backup.backup(exp, dest)
    text = _archive_text(dest)
    leaked = [s for s in SECRETS if s in text]
    assert not leaked, f"secrets in the backup: {leaked}"
    assert "app.yaml" in text and "webapp.log" in text  # the files are there, redacted

    full = tmp_path / "full"
    backup.backup(exp, full, with_secrets=True)
    assert TOKEN in _archive_text(full)
    for archive in full.rglob("*.tar.gz"):  # archives holding secrets are private
        assert stat.S_IMODE(archive.stat().st_mode) & 0o077 == 0, archive


# -- on a real local testbed --------------------------------------------------------------------
@pytest.mark.integration
@needs_root
def test_sshd_binds_the_host_address_and_keys_are_private(local_testbed) -> None:
    bed = local_testbed(resources={"control": 1, "network": 1, "compute": 1})
    info = bed.info()
    hosts = {h["alias"]: h for hosts in info["rsc"].values() for h in hosts}
    assert len(hosts) == 3
    for host in hosts.values():
        ns = host["extra"]["netns"]
        out = subprocess.run(["ip", "netns", "exec", ns, "ss", "-Hltnp"], capture_output=True,
                             text=True, check=True).stdout
        listeners = [line.split()[3] for line in out.splitlines() if line.strip()]
        assert listeners, f"nothing listens in {ns}"
        for local in listeners:
            address = local.rsplit(":", 1)[0].strip("[]")
            assert address not in ("0.0.0.0", "*", "::"), f"{ns} listens on every address"
            assert address in (host["address"], "127.0.0.1", "::1"), (ns, local)

    current = bed.path / "current"
    keys = current / "keys"
    assert stat.S_IMODE(keys.stat().st_mode) == 0o700
    for path in keys.iterdir():
        if path.name.endswith(".pub"):
            continue
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    for host in hosts.values():  # the key each host entry points to
        assert stat.S_IMODE(os.stat(host["keyfile"]).st_mode) == 0o600
    for name in ("passwords.yml", "admin-openrc", "clouds.yaml"):
        if (current / name).exists():
            assert stat.S_IMODE((current / name).stat().st_mode) == 0o600, name
