"""The native deployer without a testbed: options, secrets, inventory checks, helpers, errors,
the host-side service helper with the real supervisor, and the playbooks' syntax."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from enos import deployers
from enos.ansible.runner import ANSIBLE_CFG, HostFailure, RunResult, _bin, failure_error
from enos.bootstrap import spec_for
from enos.config import loads_config
from enos.config.spec import Config
from enos.deployers import native
from enos.errors import ConfigError, EnosError
from enos.experiment import Experiment
from enos.model import Network, Resources

SERVICES = native.FILES / "enos_services.py"
SUPERVISOR = Path(deployers.__file__).parent.parent / "supervisor.py"


def config(tmp_path: Path, deployer: str | None = None) -> Config:
    text = "provider: local\nresources: {control: 1, network: 1, compute: 1}\n"
    if deployer is not None:
        text += f"deployer: {deployer}\n"
    return loads_config(text, tmp_path / "reservation.yaml")


# -- options (checked when the file loads) -----------------------------------------------------
def test_options_defaults_and_values(tmp_path: Path) -> None:
    assert native.options(config(tmp_path))["fake_computes"] == 1
    assert native.options(config(tmp_path, "native"))["type"] == "native"
    opts = native.options(config(tmp_path, "{type: native, fake_computes: 100, api_workers: 1}"))
    assert (opts["fake_computes"], opts["api_workers"]) == (100, 1)


@pytest.mark.parametrize("bad", ["0", "-1", "'3'", "true", "1.5", "1e20"])
def test_options_reject_bad_counts(tmp_path: Path, bad: str) -> None:
    with pytest.raises(ConfigError, match="fake_computes"):
        config(tmp_path, f"{{type: native, fake_computes: {bad}}}")


def test_nodes_per_compute(tmp_path: Path) -> None:
    assert native.options(config(tmp_path))["nodes_per_compute"] == 1
    opts = native.options(config(tmp_path, "{fake_computes: 10, nodes_per_compute: 100}"))
    assert (opts["fake_computes"], opts["nodes_per_compute"]) == (10, 100)
    for bad in ("0", "2001", "'3'", "1.5"):
        with pytest.raises(ConfigError, match="nodes_per_compute"):
            config(tmp_path, f"{{nodes_per_compute: {bad}}}")
    # At most 2000 fake nodes on one compute host: the error names the key and its line.
    with pytest.raises(ConfigError) as err:
        config(tmp_path, "\n  fake_computes: 3\n  nodes_per_compute: 700")
    assert err.value.key == "deployer.nodes_per_compute" and err.value.line == 5
    assert "2100 fake nodes per compute host, more than 2000" in err.value.message
    assert "fake_computes: 10, nodes_per_compute: 100" in (err.value.hint or "")


def render_compute_conf(nodes: int) -> dict[str, dict[str, str]]:
    """nova-compute.conf.j2 rendered as Ansible would, then read back as Nova reads it."""
    import configparser

    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(native.PLAYBOOKS / "templates"))
    text = env.get_template("nova-compute.conf.j2").render(
        compute_name="k1-c1", os_address="10.1.0.3", os_lib="/r/lib", os_region="R",
        os_transport_url="rabbit://x", os_keystone_url="http://k:5000",
        enos_passwords={"nova": "n", "placement": "p", "neutron": "q"},
        os_nodes_per_compute=str(nodes))
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(text)
    return {name: dict(parser[name]) for name in parser.sections() + ["DEFAULT"]}


def test_compute_configuration_with_several_nodes() -> None:
    one = render_compute_conf(1)
    assert one["DEFAULT"]["compute_driver"] == "fake.FakeDriver"
    assert "enos_fake_nodes" not in one and "update_resources_interval" not in one["DEFAULT"]
    many = render_compute_conf(100)
    assert many["DEFAULT"]["compute_driver"] == "enos_fake_nodes.FakeNodesDriver"
    assert many["enos_fake_nodes"]["count"] == "100"
    # Each service updates its nodes in turn: 10 s a node, between 1 min and 1 h.
    assert many["DEFAULT"]["update_resources_interval"] == "1000"
    assert render_compute_conf(3)["DEFAULT"]["update_resources_interval"] == "60"
    assert render_compute_conf(2000)["DEFAULT"]["update_resources_interval"] == "3600"


def test_options_unknown_key_and_deployer(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="fake_compute"):
        config(tmp_path, "{type: native, fake_compute: 2}")
    with pytest.raises(ConfigError, match="unknown deployer 'nativ'"):
        config(tmp_path, "{type: nativ}")
    assert isinstance(deployers.of(config(tmp_path)), native.NativeDeployer)


# -- secrets and credentials -----------------------------------------------------------------
def test_passwords_are_private_and_stable(tmp_path: Path) -> None:
    exp = Experiment(tmp_path)
    first = native.ensure_passwords(exp)
    path = native.passwords_path(exp)
    assert path.stat().st_mode & 0o777 == 0o600
    assert set(native.PASSWORDS) <= set(first) and all(len(v) >= 20 for v in first.values())
    assert len(set(first.values())) == len(first)
    os.chmod(path, 0o644)
    assert native.ensure_passwords(exp) == first
    assert path.stat().st_mode & 0o777 == 0o600


def test_credentials_files(tmp_path: Path) -> None:
    exp = Experiment(tmp_path)
    cloud = {"auth_url": "http://10.0.0.1:5000/v3", "region": "RegionOne"}
    native.write_credentials(exp, cloud, "pw")
    openrc = (tmp_path / "admin-openrc").read_text()
    assert "OS_AUTH_URL=http://10.0.0.1:5000/v3" in openrc and "OS_PASSWORD='pw'" in openrc
    for name in ("admin-openrc", "clouds.yaml"):
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o600


# -- inventory --------------------------------------------------------------------------------
INVENTORY = """
[control]
c1 ansible_host=10.0.0.2 enos_address=10.0.0.2 enos_root=/r/c1 network_interface_address=10.1.0.2
[compute]
k1 ansible_host=10.0.0.3 enos_address=10.0.0.3 enos_root=/r/k1
""" + "".join(
    f"[{g}:children]\n{'compute' if g == 'nova-compute' else 'control'}\n"
    for g in native.REQUIRED_GROUPS
)


def test_inventory_groups_and_addresses(tmp_path: Path) -> None:
    path = tmp_path / "multinode"
    path.write_text(INVENTORY)
    inv = native.read_inventory(path)
    groups = native.check_inventory(inv, path)
    assert groups["keystone"] == ["c1"] and groups["nova-compute"] == ["k1"]
    hostvars = inv["_meta"]["hostvars"]
    cloud = native.cloud_info(groups, hostvars, {**native.DEFAULT_CONFIG, "fake_computes": 3},
                              {})
    assert cloud["auth_url"] == "http://10.1.0.2:5000/v3"  # the network_interface address
    assert cloud["compute_hosts"] == ["k1-c1", "k1-c2", "k1-c3"]
    assert (cloud["compute_nodes"], cloud["nodes_per_compute"]) == (3, 1)
    cloud = native.cloud_info(groups, hostvars, {**native.DEFAULT_CONFIG, "fake_computes": 2,
                                                 "nodes_per_compute": 50}, {})
    assert cloud["compute_hosts"] == ["k1-c1", "k1-c2"] and cloud["compute_nodes"] == 100


def test_inventory_missing_group_is_named(tmp_path: Path) -> None:
    path = tmp_path / "multinode"
    path.write_text(INVENTORY.replace("[neutron-server:children]\ncontrol\n", ""))
    with pytest.raises(EnosError, match="neutron-server"):
        native.check_inventory(native.read_inventory(path), path)


# -- helpers archive ----------------------------------------------------------------------------
def test_helpers_archive_is_reproducible(tmp_path: Path) -> None:
    exp = Experiment(tmp_path)
    path = native.helpers_archive(exp)
    first = path.read_bytes()
    mtime = path.stat().st_mtime_ns
    time.sleep(0.01)
    assert native.helpers_archive(exp).read_bytes() == first
    assert path.stat().st_mtime_ns == mtime  # unchanged: not rewritten
    with tarfile.open(path) as tar:
        names = set(tar.getnames())
    assert {"supervisor.py", "enos_services.py", "install-openstack.sh",
            "openstack-constraints.txt", "enos_ml2/driver.py"} <= names


# -- error messages ------------------------------------------------------------------------------
def test_service_failure_names_host_service_and_log() -> None:
    payload = json.dumps({"enos_service_failure": "nova-api", "what": "exited again and again",
                          "log": "/r/c1/log/nova-api.log", "tail": "line 1\nImportError: x"})
    result = RunResult(returncode=2, failures=[HostFailure("c1", "The APIs are up", "failed",
                                                           payload)], log=Path("/l/a.log"))
    err = failure_error(result, "enos os", "rerun", native.describe_failure)
    assert "service nova-api on c1 did not come up" in err.message
    assert "/r/c1/log/nova-api.log" in err.message and "ImportError: x" in err.message
    assert "/l/a.log" in (err.hint or "")


# -- enos init's specification ----------------------------------------------------------------
def test_bootstrap_spec_uses_external_pool(tmp_path: Path) -> None:
    exp = Experiment(tmp_path)
    native.write_credentials(exp, {"auth_url": "http://a:5000/v3", "region": "R"}, "pw")
    exp.set_resources(Resources(networks=[
        Network(roles=["network_interface"], cidr="10.0.0.0/24", gateway="10.0.0.1"),
        Network(roles=["neutron_external_interface"], cidr="10.9.0.0/24", gateway="10.9.0.1",
                start="10.9.0.128", end="10.9.0.254"),
    ]))
    spec = spec_for(exp)
    assert spec["public"] == {"cidr": "10.9.0.0/24", "gateway": "10.9.0.1",
                              "start": "10.9.0.128", "end": "10.9.0.254", "physnet": "physnet1"}
    assert set(spec["flavors"]) == {"m1.tiny", "m1.small", "m1.medium", "m1.large", "m1.xlarge"}
    assert spec["image"]["name"] == "cirros.uec"
    exp.set_resources(Resources(networks=[Network(roles=["network_interface"],
                                                  cidr="10.0.0.0/24")]))
    with pytest.raises(EnosError, match="neutron_external_interface"):
        spec_for(exp)


# -- the host-side helper with the real supervisor ---------------------------------------------
def services(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SERVICES), "--dir", str(root / "sup"),
                           "--supervisor", str(SUPERVISOR), *args],
                          capture_output=True, text=True, timeout=120, check=False)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_services_files_apply_restart_and_failure(tmp_path: Path) -> None:
    conf = tmp_path / "etc" / "web.conf"
    port = free_port()
    files = {"dirs": [str(tmp_path / "lib")],
             "files": {str(conf): {"content": "a\n", "mode": "0600"}}}
    (tmp_path / "files.json").write_text(json.dumps(files))
    bundle = {"stage": "apis", "programs": {"web": {
        "argv": [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", port],
        "log": str(tmp_path / "log" / "web.log"), "priority": 30,
        "enos_configs": [str(conf)], "enos_check": f"http://127.0.0.1:{port}/"}}}
    (tmp_path / "apis.json").write_text(json.dumps(bundle))
    try:
        assert services(tmp_path, "files", str(tmp_path / "files.json")).stdout.endswith(
            "changed\n")
        assert conf.stat().st_mode & 0o777 == 0o600 and (tmp_path / "lib").is_dir()
        assert services(tmp_path, "files", str(tmp_path / "files.json")).stdout == "ok\n"

        first = services(tmp_path, "apply", str(tmp_path / "apis.json"))
        assert first.returncode == 0 and first.stdout.strip() == "changed", first
        pid = json.loads((tmp_path / "sup" / "status.json").read_text())["programs"]["web"]["pid"]
        again = services(tmp_path, "apply", str(tmp_path / "apis.json"))
        assert again.stdout.strip() == "ok"
        status = json.loads((tmp_path / "sup" / "status.json").read_text())
        assert status["programs"]["web"]["pid"] == pid  # unchanged: not restarted

        conf.write_text("b\n")  # a configuration change restarts the program
        assert services(tmp_path, "apply", str(tmp_path / "apis.json")).stdout.strip() == \
            "changed"
        status = json.loads((tmp_path / "sup" / "status.json").read_text())
        assert status["programs"]["web"]["pid"] != pid

        # A program that cannot start is named with its log's last lines.
        broken = {"stage": "workers", "programs": {"broken": {
            "argv": [sys.executable, "-c", "import sys; print('no database here'); sys.exit(3)"],
            "log": str(tmp_path / "log" / "broken.log"), "enos_check": "run"}}}
        (tmp_path / "workers.json").write_text(json.dumps(broken))
        bad = services(tmp_path, "apply", str(tmp_path / "workers.json"), "--timeout", "60")
        assert bad.returncode == 1
        report = json.loads(bad.stdout.strip().splitlines()[-1])
        assert report["enos_service_failure"] == "broken"
        assert report["log"].endswith("broken.log") and "no database here" in report["tail"]

        # A stage no longer listing a program stops it.
        (tmp_path / "workers.json").write_text(json.dumps({"stage": "workers", "programs": {}}))
        services(tmp_path, "apply", str(tmp_path / "workers.json"))
        status = json.loads((tmp_path / "sup" / "status.json").read_text())
        assert "broken" not in status["programs"] and "web" in status["programs"]
    finally:
        down = services(tmp_path, "down", "--purge", str(tmp_path / "lib"))
    assert down.returncode == 0
    assert not (tmp_path / "lib").exists()
    assert not (tmp_path / "sup" / "supervisor.pid").exists()


# -- playbooks ----------------------------------------------------------------------------------
@pytest.mark.parametrize("playbook", ["site.yml", "destroy.yml"])
def test_playbook_syntax(playbook: str, tmp_path: Path) -> None:
    inv = tmp_path / "multinode"
    inv.write_text(INVENTORY)
    env = {**os.environ, "ANSIBLE_CONFIG": str(ANSIBLE_CFG)}
    proc = subprocess.run(
        [_bin("ansible-playbook"), "--syntax-check", "-i", str(inv),
         str(native.PLAYBOOKS / playbook), "-e", "enos_passwords_file=/dev/null"],
        capture_output=True, text=True, env=env, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_phases_need_their_predecessor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "reservation.yaml").write_text(
        "provider:\n  type: local\nresources:\n  control: 1\n  network: 1\n  compute: 1\n")
    exp = Experiment.create(tmp_path)
    exp.mark_done("up")
    from click.testing import CliRunner

    from enos.cli import COMMANDS, cli

    monkeypatch.setitem(COMMANDS, "init", ("enos.commands.init", "Bootstrap OpenStack."))
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["init"], obj=SimpleNamespace())
    assert result.exception is not None
    assert "run 'enos os' first" in str(getattr(result.exception, "hint", ""))


def test_stop_covers_an_interrupted_deployment(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Path] = []
    monkeypatch.setattr(native, "destroy", lambda exp, opts: calls.append(exp.path))
    exp = Experiment(tmp_path)
    exp.mark_done("up")
    assert deployers.stop(exp, SimpleNamespace()) == []  # nothing was ever started
    exp.update(deployer_started="native")  # `enos os` began, then failed
    assert deployers.stop(exp, SimpleNamespace()) == ["OpenStack (native deployer)"]
    assert calls == [tmp_path] and "deployer_started" not in exp.state
    exp.mark_done("os", deployer="native")
    exp.mark_done("init")
    deployers.stop(exp, SimpleNamespace())
    assert not exp.phase_done("os") and not exp.phase_done("init") and exp.phase_done("up")
