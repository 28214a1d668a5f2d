"""Plug-ins from other packages: a testbed, a deployer and a service join through entry points.

The packages under tests/plugins/ are installed with pip into a throwaway virtualenv that sees
enos's own environment (a .pth file), then the real `enos` runs with them: none of them needed
a change in enos.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from conftest import needs_root, netns_names, run_enos, unique_networks

PLUGINS = Path(__file__).parent / "plugins"


def make_venv(venv: Path, *packages: str) -> Path:
    """A virtualenv that sees enos's environment (a .pth file) and holds ``packages``,
    installed by pip as any package is (their entry points in their dist-info)."""
    subprocess.run(["/usr/bin/python3", "-m", "venv", "--without-pip", str(venv)], check=True)
    site = subprocess.run([str(venv / "bin" / "python"), "-c",
                           "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    enos_site = sysconfig.get_paths()["purelib"]
    Path(site, "enos-env.pth").write_text(f"import site; site.addsitedir({enos_site!r})\n")
    # Built from copies, so that the build leaves nothing in the source tree.
    sources = venv.parent / f"{venv.name}-sources"
    for name in packages:
        shutil.copytree(PLUGINS / name, sources / name)
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-index",
                    "--no-build-isolation", "--target", site,
                    *(str(sources / name) for name in packages)], check=True)
    return venv


@pytest.fixture(scope="module")
def plugin_venv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A virtualenv holding the three demo plug-ins, beside enos's environment."""
    yield make_venv(tmp_path_factory.mktemp("plugins") / "venv", "enos-demo-testbed",
                    "enos-demo-deployer", "enos-demo-service")


def enos(venv: Path, *args: str, cwd: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    # Ansible's commands come from enos's own environment.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    proc = subprocess.run([str(venv / "bin" / "python"), "-m", "enos", *args], cwd=cwd,
                          capture_output=True, text=True, env=env, timeout=300,
                          stdin=subprocess.DEVNULL, check=False)
    if check and proc.returncode != 0:
        pytest.fail(f"enos {' '.join(args)} exited {proc.returncode}\n{proc.stdout}\n"
                    f"{proc.stderr}")
    return proc


def reservation(path: Path, **extra: object) -> None:
    doc = {
        "provider": {"type": "demo", "networks": unique_networks(), "prefix": "xp"},
        "resources": {"small": {"control": 1, "compute": 1, "network": 1}},
        "deployer": {"type": "demo", "greeting": "bonjour"},
        "demo_probe": {"enable": True, "label": "kernels"},
        **extra,
    }
    path.mkdir(parents=True, exist_ok=True)
    (path / "reservation.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))


def test_plugins_validate_with_their_own_keys(plugin_venv: Path, tmp_path: Path) -> None:
    reservation(tmp_path)
    out = enos(plugin_venv, "validate", cwd=tmp_path)
    assert "provider: demo    deployer: demo" in out.stdout
    # Each plug-in checks its own section, with the file's line and key.
    text = (tmp_path / "reservation.yaml").read_text()
    (tmp_path / "reservation.yaml").write_text(text.replace("prefix: xp", "prefix: x-y"))
    bad = enos(plugin_venv, "validate", cwd=tmp_path, check=False)
    assert bad.returncode == 2 and "[provider.prefix]" in bad.stderr and "x-y" in bad.stderr
    (tmp_path / "reservation.yaml").write_text(text.replace("enable: true", "enable: maybe"))
    bad = enos(plugin_venv, "validate", cwd=tmp_path, check=False)
    assert bad.returncode == 2 and "[demo_probe.enable]" in bad.stderr
    (tmp_path / "reservation.yaml").write_text(text.replace("greeting:", "greting:"))
    bad = enos(plugin_venv, "validate", cwd=tmp_path, check=False)
    assert bad.returncode == 2 and "did you mean 'greeting'" in bad.stderr
    # Without the plug-ins, the same file names what is missing.
    (tmp_path / "reservation.yaml").write_text(text)
    plain = run_enos("validate", cwd=tmp_path, check=False)
    assert plain.returncode == 2 and "unknown provider 'demo'" in plain.stderr
    assert "Traceback" not in plain.stderr


@needs_root
@pytest.mark.integration
def test_up_os_backup_destroy_with_plugins(plugin_venv: Path, tmp_path: Path) -> None:
    reservation(tmp_path)
    up = enos(plugin_venv, "up", cwd=tmp_path)
    assert "demo testbed: 3 host(s)" in up.stdout + up.stderr
    info = json.loads(enos(plugin_venv, "info", "--out", "json", cwd=tmp_path).stdout)
    hosts = [h for role in info["rsc"].values() for h in role]
    assert {h["extra"]["demo_prefix"] for h in hosts} == {"xp"}
    enos(plugin_venv, "os", cwd=tmp_path)
    control = info["rsc"]["control"][0]
    page = subprocess.run(["curl", "-s", f"http://{control['address']}:8999/index.html"],
                          capture_output=True, text=True, check=False)
    assert page.stdout.strip() == f"bonjour from {control['alias']}"
    info = json.loads(enos(plugin_venv, "info", "--out", "json", cwd=tmp_path).stdout)
    assert info["services"]["demo_probe"]["label"] == "kernels"
    assert set(info["services"]["demo_probe"]["hosts"]) == {h["alias"] for h in hosts}
    assert info["phases"]["os"]["deployer"] == "demo"

    enos(plugin_venv, "backup", cwd=tmp_path)
    backup = Path(info["resultdir"]) / "backup"
    with tarfile.open(backup / "demo_probe.tar.gz") as tar:
        assert "demo_probe/kernels.json" in tar.getnames()
    with tarfile.open(backup / f"{control['alias']}.tar.gz") as tar:
        assert "etc/demo/index.html" in tar.getnames()
    with tarfile.open(backup / "experiment.tar.gz") as tar:
        assert not any(n.startswith("experiment/demo_probe") for n in tar.getnames())

    down = enos(plugin_venv, "destroy", cwd=tmp_path)
    assert "demo_probe" in down.stdout and "OpenStack (demo deployer)" in down.stdout
    gone = subprocess.run(["curl", "-s", "-m", "2", f"http://{control['address']}:8999/"],
                          capture_output=True, text=True, check=False)
    assert gone.returncode != 0
    assert not (Path(info["resultdir"]) / "demo_probe").exists()

    state = json.loads((Path(info["resultdir"]) / "state.json").read_text())
    ns_id = state["resources"]["provider_state"]["id"]
    enos(plugin_venv, "destroy", "--hard", cwd=tmp_path)
    assert not [n for n in netns_names() if n.startswith(f"enos-{ns_id}-")]


def test_a_name_registered_twice_is_refused(tmp_path: Path) -> None:
    clash = make_venv(tmp_path / "clash-venv", "enos-demo-clash")
    (tmp_path / "reservation.yaml").write_text("resources: {control: 1, network: 1, "
                                               "compute: 1}\n")
    proc = enos(clash, "validate", cwd=tmp_path, check=False)
    assert proc.returncode == 2, proc.stderr
    assert "two packages register the provider 'local'" in proc.stderr
    assert "enos-demo-clash" in proc.stderr and "Traceback" not in proc.stderr
    # `enos --help` reads no entry point: it still answers.
    assert enos(clash, "--help", cwd=tmp_path).returncode == 0
