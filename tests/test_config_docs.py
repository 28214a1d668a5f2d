"""Every configuration example of the original documentation validates, and means what it says."""

from __future__ import annotations

from pathlib import Path

import pytest

from enos.config import load_config, sample, sample_providers, summarize
from enos.config.spec import MachineSpec

DOCS = Path(__file__).parent / "data" / "docs"
FIXTURES = sorted(DOCS.glob("*.yaml"))


def test_every_documented_example_is_here() -> None:
    names = {path.stem for path in FIXTURES}
    assert {
        "static", "g5k-basic", "g5k-advanced", "g5k-reservation", "vagrant-basic",
        "vagrant-libvirt", "vagrant-advanced", "vagrant-box", "vmong5k-basic",
        "vmong5k-advanced", "vmong5k-image", "openstack", "chameleonkvm", "chameleonbaremetal",
        "jenkins-g5k", "jenkins-g5k-environment", "jenkins-packaging", "jenkins-topology",
        "tutorial-reservation", "tutorial-topology", "conductor-node", "netem-ranges",
        "netem-except", "customizations", "registry-none", "registry-internal",
        "registry-external", "registry-ceph",
    } <= names


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.stem)
def test_documented_example_validates(path: Path) -> None:
    config = load_config(path)
    assert config.path == path.absolute()
    roles = set(config.roles)
    assert {"control", "network", "compute"} <= roles
    summary = summarize(config)
    assert summary.total >= 1
    assert summary.lines()[-1].startswith("total:") or summary.lines()[-1].startswith(
        ("groups:", "network constraints:")
    )


def test_inventory_paths_resolve_next_to_the_file() -> None:
    config = load_config(DOCS / "g5k-basic.yaml")
    assert config.inventory == (DOCS / "inventories" / "inventory.sample").resolve()
    assert load_config(DOCS / "conductor-node.yaml").inventory == (
        DOCS / "inventories" / "inventory.conductor"
    ).resolve()


def test_g5k_basic() -> None:
    config = load_config(DOCS / "g5k-basic.yaml")
    assert config.provider == {
        "type": "g5k", "job_name": "enos-jenkins", "walltime": "02:00:00",
        "env_name": "debian9-x64-nfs", "reservation": "", "job_type": "deploy",
        "queue": "default",
    }
    assert config.machines == [
        MachineSpec(["compute"], 1, label="paravance"),
        MachineSpec(["control"], 1, label="paravance"),
        MachineSpec(["network"], 1, label="paravance"),
    ]
    assert config.deployer == {"type": "kolla"}
    assert config.data["registry"] == {"type": "internal", "ceph": False}
    assert config.data["enable_monitoring"] is False
    assert config.data["kolla"]["enable_heat"] is False
    assert config.groups == []


def test_g5k_advanced_resolves_network_ids_to_roles() -> None:
    config = load_config(DOCS / "g5k-advanced.yaml")
    assert [m.roles for m in config.machines] == [["control"], ["compute"], ["network"]]
    for machine in config.machines:
        assert machine.label == "paravance"
        assert machine.number == 1
        assert machine.networks == ["network_interface", "neutron_external_interface"]
    assert config.provider["role_distribution"] == "debug"
    assert config.provider["resources"]["networks"][0]["id"] == "int-net"


def test_g5k_reservation_dates_and_times_stay_text() -> None:
    config = load_config(DOCS / "g5k-reservation.yaml")
    assert config.provider["reservation"] == "2020-02-29 19:00:00"
    assert config.provider["walltime"] == "14:00:00"
    assert config.provider["env_name"] == "enos-debian9-x64-openstack"


def test_vagrant_advanced() -> None:
    config = load_config(DOCS / "vagrant-advanced.yaml")
    assert config.provider["backend"] == "libvirt"
    assert [(m.label, m.roles, m.number) for m in config.machines] == [
        ("extra-large", ["control"], 1), ("medium", ["compute"], 1), ("medium", ["network"], 1),
    ]
    assert config.machines[0].networks == ["network_interface", "neutron_external_interface"]


def test_vmong5k_advanced_keeps_flavours() -> None:
    config = load_config(DOCS / "vmong5k-advanced.yaml")
    assert config.provider["walltime"] == "01:00:00"
    assert [m.extra for m in config.machines] == [
        {"flavour": "medium"}, {"flavour": "extra-large"},
        {"flavour_desc": {"core": 4, "mem": 4096}},
    ]
    assert [m.label for m in config.machines] == ["parapluie", "parapluie", "paravance"]


def test_openstack_defaults_merged() -> None:
    config = load_config(DOCS / "openstack.yaml")
    assert config.provider["key_name"] == "enos-key"
    assert config.provider["subnet"] == {"name": "enos-subnet", "cidr": "10.87.23.0/24"}
    assert config.provider["gateway"] is True
    assert summarize(config).total == 12


def test_static_hosts_from_anchors() -> None:
    config = load_config(DOCS / "static.yaml")
    assert config.machines == []
    control = config.static_hosts["control"]
    assert [h["alias"] for h in control] == ["enos-0"]
    assert control[0]["address"] == "192.168.142.245"
    assert control[0]["keyfile"] == str(DOCS / ".vagrant/machines/enos-0/libvirt/private_key")
    assert config.provider["networks"][0]["roles"] == ["network_interface"]
    assert config.provider["networks"][1]["start"] == "192.168.143.3"
    assert any("no key file" in w for w in config.warnings)
    # the raw file is left as YAML gave it
    assert "keyfile" in config.raw["resources"]["control"][0]


def test_jenkins_static_older_network_form_is_normalized() -> None:
    config = load_config(DOCS / "jenkins-g5k-environment.yaml")
    (network,) = config.provider["networks"]
    assert "network" not in config.provider
    assert network["roles"] == ["network_interface", "neutron_external_interface"]
    assert network["cidr"] == "192.168.143.0/24"
    assert network["extra_ips"][0] == "192.168.142.100"
    assert config.provider["eths"] == ["eth1", "eth2"]
    assert set(config.static_hosts) == {"compute", "control", "network"}
    summary = summarize(config)
    assert summary.total == 1
    assert summary.rows[0].roles == {"compute": 1, "control": 1, "network": 1}


def test_topology_and_constraints() -> None:
    config = load_config(DOCS / "netem-ranges.yaml")
    assert config.groups == ["grp1", "grp2", "grp3", "grp4"]
    assert [(m.group, m.roles) for m in config.machines] == [
        ("grp1", ["control"]), ("grp1", ["network"]), ("grp2", ["compute"]),
        ("grp3", ["compute"]), ("grp4", ["compute"]),
    ]
    nc = config.network_constraints
    assert nc is not None
    assert nc["constraints"] == [{
        "src": "grp1", "dst": "grp[2-4]", "delay": "10ms", "rate": "1gbit", "loss": "0%",
        "symmetric": True,
    }]
    assert nc["except"] == []
    assert summarize(config).total == 5


def test_constraints_except_and_numbers_as_text() -> None:
    assert load_config(DOCS / "netem-except.yaml").network_constraints["except"] == ["grp1"]
    nc = load_config(DOCS / "jenkins-topology.yaml").network_constraints
    assert nc["default_loss"] == "0"
    assert nc["constraints"] == []


def test_tutorial_ceph_registry_and_yes() -> None:
    config = load_config(DOCS / "tutorial-topology.yaml")
    assert config.data["enable_monitoring"] is True
    assert config.data["registry"]["ceph"] is True
    assert len(config.data["registry"]["ceph_mon_host"]) == 3
    assert config.data["kolla"]["enable_heat"] == "yes"


def test_customizations_patches() -> None:
    config = load_config(DOCS / "customizations.yaml")
    (patch,) = config.data["patches"]
    assert patch["enabled"] is True
    assert patch["src"] == "{{ cwd }}/mariadb_bootstrap.yml"
    assert config.data["kolla"]["openstack_release"] == "master"


def test_conductor_node_role() -> None:
    config = load_config(DOCS / "conductor-node.yaml")
    assert "conductor-node" in config.roles
    assert summarize(config).total == 4


@pytest.mark.parametrize("provider", sample_providers())
def test_samples_validate(provider: str, tmp_path: Path) -> None:
    path = tmp_path / "reservation.yaml"
    path.write_text(sample(provider))
    config = load_config(path)
    assert config.provider_type == provider
    assert summarize(config).total >= 3
    assert config.warnings == []


def test_a_sample_per_provider() -> None:
    from enos.providers import names

    assert sample_providers() == names()


def test_local_sample_is_small_and_native() -> None:
    text = sample("local")
    assert "# deployer: native" in text
    assert "# topology:" in text and "# network_constraints:" in text


def test_local_sample_topology_block_validates_uncommented(tmp_path: Path) -> None:
    out: list[str] = []
    uncomment = drop = False
    for line in sample("local").splitlines():
        if line.startswith(("# topology:", "# network_constraints:")):
            uncomment = True
        elif uncomment and not line.startswith("#   ") and line != "#":
            uncomment = False
        drop = line == "resources:" or (drop and line.startswith("  "))
        if drop:
            continue
        out.append(line[2:] if uncomment and line.startswith("#") else line)
    path = tmp_path / "reservation.yaml"
    path.write_text("\n".join(out))
    assert "resources" not in load_config(path).raw
    config = load_config(path)
    assert config.groups == ["grp1", "grp2", "grp3"]
    assert config.network_constraints["constraints"][0]["dst"] == "grp[2-3]"
