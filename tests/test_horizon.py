"""The dashboard without a cloud: the native deployer's `horizon` option, its host, what
`enos info` says of it, and the lines `enos ssh-tunnel` prints on each testbed that exists
(local; static without and with a gateway). The real Horizon, in a real browser, is checked in
test_monitoring_local.py on the cloud that module deploys."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from enos import tunnel
from enos.cli import cli
from enos.config import loads_config
from enos.deployers import native
from enos.errors import ConfigError
from enos.experiment import Experiment
from enos.model import Host, Resources
from enos.providers.base import Gateway
from enos.providers.static import StaticProvider

PASSWORD = "s3cret-admin-pw"


def options(tmp_path: Path, deployer: str | None = None) -> dict[str, Any]:
    text = "provider: local\nresources: {control: 1, network: 1, compute: 1}\n"
    if deployer is not None:
        text += f"deployer: {deployer}\n"
    return native.options(loads_config(text, tmp_path / "reservation.yaml"))


# -- the option --------------------------------------------------------------------------------
def test_horizon_is_on_by_default_and_turned_off(tmp_path: Path) -> None:
    assert options(tmp_path)["horizon"] is True
    assert options(tmp_path, "{type: native}")["horizon"] is True
    for off in ("false", "no", "'off'", "0"):
        assert options(tmp_path, f"{{type: native, horizon: {off}}}")["horizon"] is False
    assert options(tmp_path, "{type: native, horizon: yes}")["horizon"] is True
    assert "horizon" in native.TAGS and "horizon" in native.program_names()


@pytest.mark.parametrize("bad", ["maybe", "3", "[true]", "{on: 1}", "1.0"])
def test_horizon_bad_value_names_the_key_and_line(tmp_path: Path, bad: str) -> None:
    with pytest.raises(ConfigError) as err:
        options(tmp_path, f"{{type: native, horizon: {bad}}}")
    assert err.value.key == "deployer.horizon" and err.value.line == 3
    assert "yes or no" in err.value.message


def test_horizon_typo_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="horizon"):
        options(tmp_path, "{type: native, horizn: false}")


# -- its host, URL and endpoint ----------------------------------------------------------------
def test_horizon_host_is_the_first_of_its_group_else_keystone() -> None:
    groups = {"keystone": ["c1", "c2"]}
    inv = {"horizon": {"hosts": ["c2"]}}
    assert native.horizon_host(inv, groups) == "c2"
    assert native.horizon_host({}, groups) == "c1"
    info = native.dashboard_info("c2", {"c2": {"enos_address": "10.0.0.3",
                                               "network_interface_address": "10.1.0.3"}})
    assert info == {"url": "http://10.1.0.3/", "user": "admin", "host": "c2"}


def cloud_exp(tmp_path: Path, provider: str = "local", dashboard: bool = True) -> Experiment:
    """An experiment whose cloud is deployed (state and cloud.json as `enos os` leaves them)."""
    path = tmp_path / "enos_20261207-120000"
    path.mkdir()
    exp = Experiment(path)
    host = Host("control-1", "10.0.0.2", roles=["control"])
    exp.set_resources(Resources(hosts=[host], networks=[]))
    cloud: dict[str, Any] = {
        "deployer": "native", "release": "2026.2", "auth_url": "http://10.0.0.2:5000/v3",
        "endpoints": {"keystone": "http://10.0.0.2:5000/v3", "nova": "http://10.0.0.2:8774/v2.1"},
        "groups": {"keystone": ["control-1"]}, "addresses": {"control-1": "10.0.0.2"},
    }
    if dashboard:
        cloud["dashboard"] = {"url": "http://10.0.0.2/", "user": "admin", "host": "control-1"}
    exp.update(provider=provider, cloud=cloud)
    exp.mark_done("os")
    (path / "cloud.json").write_text(json.dumps(cloud))
    (path / "admin-openrc").write_text(f"export OS_PASSWORD='{PASSWORD}'\n")
    return exp


def run(exp: Experiment, *args: str) -> str:
    result = CliRunner().invoke(cli, ["-e", str(exp.path), *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_endpoints_list_the_dashboard_as_a_ui(tmp_path: Path) -> None:
    exp = cloud_exp(tmp_path)
    endpoints = {e.name: e for e in native.NativeDeployer().endpoints(exp)}
    assert endpoints["horizon"].kind == "ui" and endpoints["horizon"].url == "http://10.0.0.2/"
    assert endpoints["horizon"].program == "horizon" and endpoints["horizon"].host == "control-1"


# -- enos info ---------------------------------------------------------------------------------
def test_info_shows_the_dashboard_and_where_the_password_is(tmp_path: Path) -> None:
    exp = cloud_exp(tmp_path)
    text = run(exp, "info")
    line = next(ln for ln in text.splitlines() if ln.startswith("dashboard:"))
    assert "http://10.0.0.2/" in line and "user admin" in line
    assert f"OS_PASSWORD in {exp.path / 'admin-openrc'}" in line
    data = json.loads(run(exp, "info", "--out", "json"))
    assert data["dashboard"] == {"url": "http://10.0.0.2/", "user": "admin"}
    for out in (text, run(exp, "info", "--out", "json"), run(exp, "info", "--out", "yaml")):
        assert PASSWORD not in out


def test_info_without_a_dashboard(tmp_path: Path) -> None:
    exp = cloud_exp(tmp_path, dashboard=False)
    assert "dashboard:" not in run(exp, "info")
    assert json.loads(run(exp, "info", "--out", "json"))["dashboard"] is None


# -- enos ssh-tunnel ---------------------------------------------------------------------------
TARGETS = [tunnel.Target("horizon", "ui", "http://10.0.0.2/"),
           tunnel.Target("prometheus", "ui", "http://10.0.0.2:9090"),
           tunnel.Target("keystone", "api", "http://10.0.0.2:5000/v3"),
           tunnel.Target("other", "api", "http://10.0.0.3:5000/")]


def test_forwards_take_unprivileged_distinct_local_ports() -> None:
    got = [(f.spec(), f.local_url) for f in tunnel.forwards(TARGETS)]
    assert got == [("8080:10.0.0.2:80", "http://localhost:8080/"),
                   ("9090:10.0.0.2:9090", "http://localhost:9090"),
                   ("5000:10.0.0.2:5000", "http://localhost:5000/v3"),
                   ("5001:10.0.0.3:5000", "http://localhost:5001/")]


def test_local_testbed_urls_work_here_and_forward_through_this_machine(tmp_path: Path) -> None:
    here = Gateway("lab-machine", user="alice")
    plan = tunnel.plan("xp", TARGETS[:1], None, here)
    assert plan.direct and plan.via == "this-machine"
    assert plan.command() == "ssh -N -L 8080:10.0.0.2:80 alice@lab-machine"
    assert plan.config() == ("Host enos-xp\n    HostName lab-machine\n    User alice\n"
                             "    Port 22\n    LocalForward 8080 10.0.0.2:80\n")
    exp = cloud_exp(tmp_path, "local")
    text = run(exp, "ssh-tunnel")
    assert "these URLs work here as they are" in text
    assert "  horizon   http://10.0.0.2/" in text
    assert "  nova      http://10.0.0.2:8774/v2.1" in text
    assert "-L 8080:10.0.0.2:80" in text and "LocalForward 5000 10.0.0.2:5000" in text
    assert "Host enos-20261207-120000" in text and "http://localhost:8080/" in text
    assert PASSWORD not in text and "OS_PASSWORD in" in text


def test_static_testbed_without_gateway_is_reached_from_this_machine(tmp_path: Path) -> None:
    assert StaticProvider().gateway(Resources()) is None
    exp = cloud_exp(tmp_path, "static")
    data = json.loads(run(exp, "ssh-tunnel", "--out", "json"))
    assert data["direct"] is True and data["via"] == "this-machine"
    assert [f["name"] for f in data["forwards"]] == ["horizon", "keystone", "nova"]


def test_gateway_testbed_forwards_through_it(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    gateway = Gateway("access.example.org", user="jdoe", port=2222, keyfile="/k/id_ed25519")
    plan = tunnel.plan("xp", TARGETS, gateway)
    assert not plan.direct and plan.via == "gateway"
    assert plan.command() == (
        "ssh -N -L 8080:10.0.0.2:80 -L 9090:10.0.0.2:9090 -L 5000:10.0.0.2:5000 "
        "-L 5001:10.0.0.3:5000 -p 2222 -i /k/id_ed25519 jdoe@access.example.org")
    assert plan.config().splitlines() == [
        "Host enos-xp", "    HostName access.example.org", "    User jdoe", "    Port 2222",
        "    IdentityFile /k/id_ed25519", "    LocalForward 8080 10.0.0.2:80",
        "    LocalForward 9090 10.0.0.2:9090", "    LocalForward 5000 10.0.0.2:5000",
        "    LocalForward 5001 10.0.0.3:5000"]
    # A testbed whose provider has a gateway (static, given one here) goes through it.
    monkeypatch.setattr(StaticProvider, "gateway", lambda self, resources: gateway)
    text = run(cloud_exp(tmp_path, "static"), "ssh-tunnel")
    assert "Through the testbed's gateway access.example.org" in text
    assert "these URLs work here" not in text
    assert "-p 2222 -i /k/id_ed25519 jdoe@access.example.org" in text


def test_prometheus_is_forwarded_with_monitoring(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from enos import services

    exp = cloud_exp(tmp_path, "local")
    monkeypatch.setattr(services, "info", lambda exp: {
        "monitoring": {"prometheus": "http://10.0.0.2:9090"}})
    names = [t.name for t in tunnel.targets(exp)]
    assert names == ["horizon", "prometheus", "keystone", "nova"]


def test_nothing_to_forward_before_the_cloud(tmp_path: Path) -> None:
    path = tmp_path / "enos_x"
    path.mkdir()
    exp = Experiment(path)
    exp.update(provider="local")
    assert "nothing to forward" in run(exp, "ssh-tunnel")


def test_g5k_testbed_forwards_through_the_access_machine(tmp_path: Path) -> None:
    """The g5k provider's gateway (recorded by its `enos up`: the access machine and the
    Grid'5000 user) is the tunnel's jump host."""
    exp = cloud_exp(tmp_path, "g5k")
    resources = exp.resources
    assert resources is not None
    resources.provider_state["gateway"] = {"address": "access.grid5000.fr", "user": "jdoe",
                                           "port": 22}
    exp.set_resources(resources)
    data = json.loads(run(exp, "ssh-tunnel", "--out", "json"))
    assert data["via"] == "gateway" and data["direct"] is False
    assert data["command"] == ("ssh -N -L 8080:10.0.0.2:80 -L 5000:10.0.0.2:5000 "
                               "-L 8774:10.0.0.2:8774 jdoe@access.grid5000.fr")
    text = run(exp, "ssh-tunnel")
    assert "Through the testbed's gateway access.grid5000.fr" in text
    assert "    LocalForward 8080 10.0.0.2:80" in text and "http://localhost:8080/" in text
