"""The native deployer's load balancer without a testbed: which hosts run HAProxy and
keepalived, the VIP's choice (free pool, explicit, Kolla's key), its errors (file, line,
exit 2), the credentials and endpoints at the VIP, the public pool without the VIP, and the
HAProxy configuration checked by HAProxy itself."""

from __future__ import annotations

import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest

from enos.bootstrap import spec_for
from enos.config import load_config
from enos.deployers import native
from enos.errors import ConfigError, EnosError
from enos.experiment import Experiment
from enos.model import Network, Resources

NET = Network(roles=["network_interface"], cidr="172.29.0.0/22", gateway="172.29.0.1",
              start="172.29.2.0", end="172.29.3.254")
HOSTS = {"172.29.0.10", "172.29.0.11", "172.29.0.12"}
SINGLE = {g: ["control-1"] for g in native.API_GROUPS}


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "reservation.yaml"
    path.write_text(textwrap.dedent(text))
    return path


# -- which hosts --------------------------------------------------------------------------
def test_one_host_per_api_group_has_no_load_balancer() -> None:
    assert native.lb_hosts(SINGLE) == []
    assert native.lb_hosts({**SINGLE, "nova-compute": ["c1", "c2"]}) == []


def test_several_api_hosts_all_run_the_load_balancer() -> None:
    groups = {g: ["control-1", "control-2"] for g in native.API_GROUPS}
    assert native.lb_hosts(groups) == ["control-1", "control-2"]
    # Only one group with two hosts: every API host fronts them, in inventory order.
    assert native.lb_hosts({**SINGLE, "nova-api": ["api-1", "control-1"]}) == [
        "control-1", "api-1"]


# -- the VIP ------------------------------------------------------------------------------
def test_vip_is_the_first_free_address_of_the_pool() -> None:
    assert native.choose_vip(NET, HOSTS, None) == "172.29.2.0"
    # Deterministic, and never a host's address nor the gateway.
    assert native.choose_vip(NET, HOSTS | {"172.29.2.0"}, None) == "172.29.2.1"
    net = Network(roles=["network_interface"], cidr="10.0.0.0/24", gateway="10.0.0.5",
                  start="10.0.0.5", end="10.0.0.6")
    assert native.choose_vip(net, set(), None) == "10.0.0.6"
    with pytest.raises(EnosError, match="no free address"):
        native.choose_vip(net, {"10.0.0.6"}, None)
    # The static provider's single free addresses.
    extra = Network(roles=["network_interface"], cidr="10.0.0.0/24", extra_ips=["10.0.0.99"])
    assert native.choose_vip(extra, set(), None) == "10.0.0.99"
    with pytest.raises(EnosError, match="deployer.vip"):
        native.choose_vip(Network(roles=["network_interface"], cidr="10.0.0.0/24"), set(),
                          None)
    with pytest.raises(EnosError, match="describes no network_interface"):
        native.choose_vip(None, set(), None)


def test_explicit_vip_is_checked_against_the_network() -> None:
    assert native.choose_vip(NET, HOSTS, "172.29.3.200") == "172.29.3.200"
    assert native.choose_vip(None, HOSTS, "10.1.2.3") == "10.1.2.3"  # nothing to check
    for bad, words in [("10.0.0.1", "not in the network_interface network"),
                       ("172.29.0.0", "network or broadcast"),
                       ("172.29.3.255", "network or broadcast"),
                       ("172.29.0.1", "the gateway"), ("172.29.0.11", "a host")]:
        with pytest.raises(native.VipError, match=words) as info:
            native.choose_vip(NET, HOSTS, bad)
        assert "172.29.2.0..172.29.3.254" in str(info.value.hint)


@pytest.mark.parametrize("value", ["'172.29.300.1'", "vip", "true", "[1, 2]", "'::1'"])
def test_vip_option_must_be_an_ipv4_address(tmp_path: Path, value: str) -> None:
    path = write(tmp_path, f"""\
        provider: local
        resources: {{control: 2, network: 1, compute: 1}}
        deployer:
          type: native
          vip: {value}
        """)
    with pytest.raises(ConfigError, match="is not an IPv4 address") as info:
        load_config(path)
    error = info.value
    assert (error.line, error.key, error.exit_code) == (5, "deployer.vip", 2)
    assert error.source is not None and error.source.endswith("reservation.yaml")


def test_kolla_internal_vip_address_is_honoured(tmp_path: Path) -> None:
    path = write(tmp_path, """\
        provider: local
        resources: {control: 2, network: 1, compute: 1}
        kolla:
          kolla_internal_vip_address: 172.29.3.9
        """)
    assert native.options(load_config(path))["vip"] == "172.29.3.9"
    bad = write(tmp_path, """\
        provider: local
        resources: {control: 2, network: 1, compute: 1}
        kolla:
          enable_heat: 'no'
          kolla_internal_vip_address: nope
        """)
    with pytest.raises(ConfigError) as info:
        load_config(bad)
    assert (info.value.line, info.value.key) == (5, "kolla.kolla_internal_vip_address")
    # deployer.vip wins over Kolla's key.
    both = write(tmp_path, """\
        provider: local
        resources: {control: 2, network: 1, compute: 1}
        deployer: {type: native, vip: 172.29.3.7}
        kolla: {kolla_internal_vip_address: 172.29.3.9}
        """)
    assert native.options(load_config(both))["vip"] == "172.29.3.7"


def test_explicit_vip_outside_the_network_names_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, """\
        provider: local
        resources: {control: 2, network: 1, compute: 1}
        deployer:
          type: native
          vip: 10.1.2.3
        """)
    config = load_config(path)
    exp = Experiment(tmp_path / "exp")
    exp.set_resources(Resources(networks=[NET]))
    hostvars = {f"h{i}": {"enos_address": a} for i, a in enumerate(sorted(HOSTS))}
    with pytest.raises(ConfigError, match="not in the network_interface network") as info:
        native.resolve_vip(config, exp, hostvars)
    assert (info.value.line, info.value.key, info.value.exit_code) == (5, "deployer.vip", 2)
    # Without one, the pool's first free address.
    plain = load_config(write(tmp_path, "provider: local\nresources: {control: 2, network: 1,"
                                        " compute: 1}\n"))
    assert native.resolve_vip(plain, exp, hostvars) == "172.29.2.0"


# -- what the cloud looks like -----------------------------------------------------------
def test_cloud_info_and_credentials_use_the_vip(tmp_path: Path) -> None:
    groups = {g: ["control-1", "control-2"] for g in native.REQUIRED_GROUPS}
    groups["nova-compute"] = ["compute-1"]
    hostvars = {"control-1": {"enos_address": "172.29.0.10"},
                "control-2": {"enos_address": "172.29.0.11"},
                "compute-1": {"enos_address": "172.29.0.12"}}
    opts = {**native.DEFAULT_CONFIG, "release": native.DEFAULT_RELEASE}
    single = native.cloud_info(groups, hostvars, opts, {})
    assert single["auth_url"] == "http://172.29.0.10:5000/v3" and "vip" not in single
    cloud = native.cloud_info(groups, hostvars, opts, {}, "172.29.2.0",
                              ["control-1", "control-2"])
    assert cloud["auth_url"] == "http://172.29.2.0:5000/v3"
    assert set(cloud["endpoints"].values()) == {
        "http://172.29.2.0:5000/v3", "http://172.29.2.0:9292", "http://172.29.2.0:8778",
        "http://172.29.2.0:8774/v2.1", "http://172.29.2.0:9696"}
    assert (cloud["vip"], cloud["lb_hosts"]) == ("172.29.2.0", ["control-1", "control-2"])
    exp = Experiment(tmp_path)
    native.write_credentials(exp, cloud, "pw")
    assert "OS_AUTH_URL=http://172.29.2.0:5000/v3" in (tmp_path / "admin-openrc").read_text()
    assert "http://172.29.2.0:5000/v3" in (tmp_path / "clouds.yaml").read_text()
    # The infrastructure is probed where it runs: the first host of its group.
    eps = native.NativeDeployer().endpoints(exp)
    assert [e.host for e in eps if e.name == "mariadb"] == ["control-1"]


def test_public_pool_leaves_the_vip_out(tmp_path: Path) -> None:
    exp = Experiment(tmp_path)
    native.write_credentials(exp, {"auth_url": "http://a:5000/v3", "region": "R"}, "pw")
    exp.set_resources(Resources(networks=[Network(
        roles=["network_interface", "neutron_external_interface"], cidr="10.9.0.0/24",
        gateway="10.9.0.1", start="10.9.0.128", end="10.9.0.254")]))
    exp.update(cloud={"vip": "10.9.0.128"})
    assert (spec_for(exp)["public"]["start"], spec_for(exp)["public"]["end"]) == (
        "10.9.0.129", "10.9.0.254")


def test_program_names_include_the_load_balancer() -> None:
    assert {"haproxy", "keepalived"} <= set(native.program_names())


@pytest.mark.skipif(shutil.which("haproxy") is None, reason="HAProxy is not installed")
def test_haproxy_accepts_the_rendered_configuration(tmp_path: Path) -> None:
    import jinja2

    template = (native.PLAYBOOKS / "templates" / "haproxy.cfg.j2").read_text()
    groups = {"keystone": ["c1", "c2"], "nova-api": ["c1", "c2"]}
    text = jinja2.Environment().from_string(template).render(
        inventory_hostname="c1", os_vip="127.0.0.99", os_address="127.0.0.1",
        os_lb_stats_port=1984, groups=groups,
        os_group_names={"keystone": "keystone", "nova_api": "nova-api"},
        hostvars={"c1": {"os_address": "127.0.0.1"}, "c2": {"os_address": "127.0.0.2"}},
        os_lb_services=[{"name": "keystone", "group": "keystone", "port": 5000,
                         "check": "/v3"},
                        {"name": "nova-api", "group": "nova_api", "port": 8774,
                         "check": "/"}])
    cfg = tmp_path / "haproxy.cfg"
    cfg.write_text(text)
    proc = subprocess.run(["haproxy", "-c", "-f", str(cfg)], capture_output=True, text=True,
                          check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "server c2 127.0.0.2:8774 check" in text
