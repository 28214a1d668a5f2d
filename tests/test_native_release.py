"""Which OpenStack the native deployer installs: release selection from reservation.yaml
(``deployer.release``, Kolla's ``openstack_release``, ``kolla_ref``), its errors, and the
constraints file shipped per release. The last test deploys an older release for real, only
when ENOS_TEST_RELEASE is set (see its skip reason)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import pytest
import yaml
from conftest import run_enos, unique_networks

from enos.config.loader import load_config
from enos.deployers import native
from enos.errors import ConfigError
from enos.experiment import Experiment

BASE = "provider: local\nresources: {control: 1, network: 1, compute: 1}\n"
SERVICES = ["keystone", "glance", "openstack-placement", "nova", "neutron"]


def release(tmp_path: Path, text: str) -> str:
    path = tmp_path / "reservation.yaml"
    path.write_text(BASE + text)
    return native.release_of(load_config(path))


# -- selection -----------------------------------------------------------------------------------
def test_default_is_the_newest(tmp_path: Path) -> None:
    newest = max(native.RELEASES, key=lambda r: tuple(int(n) for n in r.split(".")))
    assert native.DEFAULT_RELEASE == newest
    assert release(tmp_path, "") == native.DEFAULT_RELEASE
    assert release(tmp_path, "deployer: native\n") == native.DEFAULT_RELEASE


@pytest.mark.parametrize("text, expected", [
    ("kolla_ref: stable/2025.2\n", "2025.2"),
    ("kolla_ref: 'stable/2026.1'\n", "2026.1"),
    ("kolla_ref: master\n", native.DEFAULT_RELEASE),
    ("kolla:\n  openstack_release: 2025.2\n", "2025.2"),       # a YAML float
    ("kolla:\n  openstack_release: '2026.1'\n", "2026.1"),
    ("kolla:\n  openstack_release: master\n", native.DEFAULT_RELEASE),
    ("openstack_release: 2026.1\n", "2026.1"),                  # a top-level Kolla variable
    ("deployer: {type: native, release: 2025.2}\n", "2025.2"),
    ("deployer: {type: native, release: stable/2026.1}\n", "2026.1"),
])
def test_release_is_read_as_the_original_does(tmp_path: Path, text: str, expected: str) -> None:
    assert release(tmp_path, text) == expected


def test_precedence(tmp_path: Path) -> None:
    both = "kolla_ref: stable/2025.2\nkolla:\n  openstack_release: 2026.1\n"
    assert release(tmp_path, both) == "2026.1"  # what Kolla deploys, not its branch
    assert release(tmp_path, both + "deployer: {type: native, release: 2026.2}\n") == "2026.2"


@pytest.mark.parametrize("text, key, line", [
    ("kolla_ref: stable/stein\n", "kolla_ref", 3),
    ("kolla:\n  enable_heat: 'no'\n  openstack_release: 2024.1\n", "kolla.openstack_release", 5),
    ("openstack_release: zed\n", "openstack_release", 3),
    ("deployer:\n  type: native\n  release: 2027.1\n", "deployer.release", 5),
])
def test_unknown_release_names_file_line_key_and_known(tmp_path: Path, text: str, key: str,
                                                       line: int) -> None:
    with pytest.raises(ConfigError) as err:
        release(tmp_path, text)
    assert err.value.key == key and err.value.line == line
    assert "reservation.yaml" in str(err.value.source)
    for known in native.RELEASES:
        assert known in (err.value.hint or "")


def test_find_release_on_plain_data() -> None:
    """What a loader can call with the parsed data and the deployer section alone."""
    assert native.find_release({}, {}) == (native.DEFAULT_RELEASE, "", None)
    assert native.find_release({"kolla_ref": "stable/2025.2"}, {}) == \
        ("2025.2", "kolla_ref", "stable/2025.2")
    assert native.find_release({"kolla": {"openstack_release": 2026.1}}, {"release": None}) == \
        ("2026.1", "kolla.openstack_release", 2026.1)
    assert native.find_release({}, {"release": "rocky"}) == ("", "deployer.release", "rocky")
    message, hint = native.unknown_release("rocky")
    assert "'rocky'" in message and all(r in hint for r in native.RELEASES)


def test_options_carry_the_release(tmp_path: Path) -> None:
    path = tmp_path / "reservation.yaml"
    path.write_text(BASE + "deployer: {type: native, release: 2025.2, fake_computes: 2}\n")
    opts = native.options(load_config(path))
    assert (opts["release"], opts["fake_computes"]) == ("2025.2", 2)


def test_enos_os_refuses_an_unknown_release(tmp_path: Path) -> None:
    """The command exits 2 with the file, line and known releases, and no traceback."""
    (tmp_path / "reservation.yaml").write_text(BASE + "kolla_ref: stable/2023.1\n")
    exp = Experiment.create(tmp_path)
    exp.mark_done("up")
    proc = run_enos("os", cwd=tmp_path, check=False)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "reservation.yaml" in proc.stderr and ":3" in proc.stderr
    assert "stable/2023.1" in proc.stderr and "2025.2" in proc.stderr
    assert "Traceback" not in proc.stderr


# -- what each release is made of ------------------------------------------------------------------
def pins(release: str) -> dict[str, str]:
    out = {}
    for line in native.constraints(release).read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            name, version = line.split("==")
            out[re.sub(r"[-_.]+", "-", name).lower()] = version
    return out


@pytest.mark.parametrize("release", list(native.RELEASES))
def test_each_release_pins_every_package(release: str) -> None:
    have = pins(release)
    for pkg in native.PACKAGES:
        assert re.sub(r"[-_.]+", "-", pkg).lower() in have, (release, pkg)
    # The majors RELEASES announces are the ones pinned.
    majors = dict(zip(["keystone", "glance", "placement", "nova", "neutron"],
                      re.findall(r"\d+", native.RELEASES[release].replace(".", " ")),
                      strict=True))
    for service, pkg in zip(majors, SERVICES, strict=True):
        assert have[pkg].split(".")[0] == majors[service], (release, pkg, have[pkg])
    header = native.constraints(release).read_text().split("\n", 1)[0]
    assert release in header or release == native.DEFAULT_RELEASE


def test_each_release_has_its_own_virtualenv() -> None:
    venvs = {native.venv_path(r) for r in native.RELEASES}
    assert len(venvs) == len(native.RELEASES)
    assert native.venv_path().name == f"openstack-{native.release_id()}"
    # Newer releases have newer services.
    novas = [int(pins(r)["nova"].split(".")[0]) for r in native.RELEASES]
    assert novas == sorted(novas, reverse=True)


def test_helpers_archive_ships_the_release_constraints(tmp_path: Path) -> None:
    exp = Experiment(tmp_path)
    for rel in native.RELEASES:
        with tarfile.open(native.helpers_archive(exp, rel)) as tar:
            member = tar.extractfile("openstack-constraints.txt")
            assert member is not None
            assert member.read() == native.constraints(rel).read_bytes()


def test_cloud_info_and_extravars_name_the_release(tmp_path: Path) -> None:
    opts = {**native.DEFAULT_CONFIG, "release": "2025.2"}
    extra = native._extravars(Experiment(tmp_path), opts, False)["enos_native"]
    assert extra["openstack_release"] == "2025.2"
    assert extra["venv"] == str(native.venv_path("2025.2"))
    assert extra["release"] == native.release_id("2025.2")
    assert extra["settings"] == native.settings("2025.2")


def test_python_follows_the_deployed_cloud(tmp_path: Path) -> None:
    exp = Experiment(tmp_path)
    assert native.python(None, exp) == native.venv_path() / "bin" / "python"
    exp.update(cloud={"venv": "/v/openstack-x"})
    assert native.python(None, exp) == Path("/v/openstack-x/bin/python")


def test_resolver_script_is_valid_shell() -> None:
    script = native.CONSTRAINTS_DIR / "resolve.sh"
    assert subprocess.run(["sh", "-n", str(script)], check=False).returncode == 0
    assert sys.version_info >= (3, 11)


# -- an older release on a real local testbed (not in CI: ~3 min, plus ~8 min to build the
#    release's virtualenv the first time) ---------------------------------------------------
OLDER = os.environ.get("ENOS_TEST_RELEASE")


@pytest.mark.integration
@pytest.mark.skipif(not OLDER, reason="set ENOS_TEST_RELEASE=2025.2 (or 2026.1) to deploy that "
                    "release: ENOS_TEST_RELEASE=2025.2 pytest -m integration "
                    "tests/test_native_release.py")
@pytest.mark.skipif(os.geteuid() != 0, reason="the local testbed needs root")
def test_deploy_an_older_release() -> None:
    assert OLDER in native.RELEASES, f"ENOS_TEST_RELEASE must be one of {list(native.RELEASES)}"
    workdir = Path(tempfile.mkdtemp(prefix="enos-release-test-"))
    doc = {
        "provider": {"type": "local", "networks": unique_networks()},
        "resources": {"control": 1, "network": 1, "compute": 1},
        "kolla_ref": f"stable/{OLDER}",
        "deployer": {"type": "native", "fake_computes": 2},  # the compute pool helper too
    }
    (workdir / "reservation.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    try:
        run_enos("deploy", cwd=workdir, timeout=2400)
        expdir = (workdir / "current").resolve()
        cloud = json.loads((expdir / "cloud.json").read_text())
        assert cloud["release"] == OLDER and cloud["venv"] == str(native.venv_path(OLDER))
        assert f"native {OLDER}" in run_enos("info", cwd=workdir).stdout
        nova = subprocess.run([str(Path(cloud["venv"]) / "bin" / "nova-manage"), "--version"],
                              capture_output=True, text=True, check=False)
        assert nova.stdout.strip().split(".")[0] == pins(OLDER)["nova"].split(".")[0]
        create = ("source admin-openrc && openstack server create --flavor m1.tiny "
                  "--image cirros.uec --network private --wait -f value -c status vm1")
        boot = subprocess.run(
            ["bash", "-c", create], cwd=expdir, capture_output=True, text=True, timeout=600,
            check=False)
        assert boot.stdout.strip() == "ACTIVE", boot.stdout + boot.stderr
        listing = ("source admin-openrc && openstack compute service list "
                   "--service nova-compute -f value -c Host -c State")
        hosts = subprocess.run(
            ["bash", "-c", listing], cwd=expdir, capture_output=True, text=True, timeout=120,
            check=False).stdout
        assert sorted(hosts.split()) == ["compute-1-c1", "compute-1-c2", "up", "up"], hosts
    finally:
        run_enos("destroy", "--hard", cwd=workdir, check=False, timeout=600)
        shutil.rmtree(workdir, ignore_errors=True)
