"""The configuration layer: normalization, defaults, ranges, line numbers, summary."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from enos.config import (
    Config,
    MachineSpec,
    RangeError,
    expand_group,
    expand_groups,
    load_config,
    loads_config,
    summarize,
)
from enos.errors import ConfigError

BASE = """\
provider: local
resources:
  control: 1
  network: 1
  compute: 1
"""


# The native deployer's options with their defaults, as a loaded file has them.
NATIVE_DEFAULTS = {"type": "native", "release": "2026.2", "fake_computes": 1,
                   "nodes_per_compute": 1, "api_workers": 2,
                   "region": "RegionOne", "vip": None}
NATIVE_DEFAULTS["horizon"] = True  # the dashboard, on by default


def load(tmp_path: Path, text: str) -> Config:
    path = tmp_path / "reservation.yaml"
    path.write_text(textwrap.dedent(text))
    return load_config(path)


# -- group ranges --------------------------------------------------------------------------
def test_expand_group() -> None:
    assert expand_group("grp1") == ["grp1"]
    assert expand_group("grp[2-4]") == ["grp2", "grp3", "grp4"]
    assert expand_group("grp[3-3]") == ["grp3"]
    assert expand_group("node[08-10]") == ["node08", "node09", "node10"]
    assert expand_groups(["grp[1-2]", "grp2", "x"]) == ["grp1", "grp2", "x"]
    assert expand_groups("a[1-2]") == ["a1", "a2"]


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("grp[4-2]", "4 is greater than 2"),
        ("grp[a-b]", "not made of two integers"),
        ("grp[2-4", "unbalanced"),
        ("grp2-4]", "unbalanced"),
        ("[1-3]", "no name"),
        ("grp[1-3]x", "malformed"),
        ("grp[1-2-3]", "not made of two integers"),
    ],
)
def test_bad_group_ranges(name: str, words: str) -> None:
    with pytest.raises(RangeError) as info:
        expand_group(name)
    assert words in str(info.value)
    assert info.value.hint


# -- defaults and normalization ------------------------------------------------------------
def test_no_provider_means_local_and_native(tmp_path: Path) -> None:
    config = load(tmp_path, BASE.replace("provider: local\n", ""))
    assert config.provider_type == "local"
    assert config.provider["user"] == "root"
    assert config.provider["networks"][0]["roles"] == ["network_interface"]
    assert config.deployer == NATIVE_DEFAULTS
    assert config.data["registry"] == {"type": "none"}
    assert config.data["enable_monitoring"] is False
    assert config.data["kolla"] == {}
    assert config.inventory is None
    assert config.machines == [
        MachineSpec(["control"], 1), MachineSpec(["network"], 1), MachineSpec(["compute"], 1),
    ]


def test_local_accepts_labels_and_role_counts_mixed(tmp_path: Path) -> None:
    config = load(tmp_path, """\
        resources:
          paravance:
            control: 1
            network: 1
          compute: 2
        """)
    assert config.machines == [
        MachineSpec(["control"], 1, label="paravance"),
        MachineSpec(["network"], 1, label="paravance"),
        MachineSpec(["compute"], 2),
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("deployer: native", NATIVE_DEFAULTS),
        ("deployer: kolla", {"type": "kolla"}),
        ("deployer: {type: native, fake_computes: 3}", {**NATIVE_DEFAULTS, "fake_computes": 3}),
        ("deployer: {fake_computes: 2}", {**NATIVE_DEFAULTS, "fake_computes": 2}),
    ],
)
def test_deployer_forms(tmp_path: Path, text: str, expected: dict[str, object]) -> None:
    assert load(tmp_path, BASE + text + "\n").deployer == expected


def test_deployer_default_elsewhere_is_kolla(tmp_path: Path) -> None:
    config = load(tmp_path, "provider: g5k\nresources: {paravance: "
                  "{control: 1, network: 1, compute: 1}}\n")
    assert config.deployer == {"type": "kolla"}
    assert config.provider["walltime"] == "02:00:00"


@pytest.mark.parametrize("word", ["yes", "'yes'", '"true"', "true", "on", "1", "Yes"])
def test_boolean_spellings(tmp_path: Path, word: str) -> None:
    assert load(tmp_path, BASE + f"enable_monitoring: {word}\n").data["enable_monitoring"] is True


@pytest.mark.parametrize("word", ["no", "'no'", "false", "off", "0", "'No'"])
def test_boolean_spellings_false(tmp_path: Path, word: str) -> None:
    assert load(tmp_path, BASE + f"enable_monitoring: {word}\n").data["enable_monitoring"] is False


def test_provider_booleans_normalized(tmp_path: Path) -> None:
    config = load(tmp_path, """\
        provider: {type: openstack, key_name: k, image: i, user: u, gateway: "no"}
        resources: {m1.small: {control: 1, network: 1, compute: 1}}
        """)
    assert config.provider["gateway"] is False


def test_symetric_spelling_is_normalized(tmp_path: Path) -> None:
    config = load(tmp_path, """\
        topology:
          grp1: {control: 1, network: 1}
          grp2: {compute: 1}
        network_constraints:
          default_delay: 10ms
          default_rate: 1gbit
          default_loss: 0.10
          constraints:
            - {src: grp1, dst: grp2, symetric: "yes"}
            - {src: grp2, dst: grp1, delay: 5ms}
        """)
    nc = config.network_constraints
    assert nc["enable"] is True
    assert nc["default_loss"] == "0.10"
    assert nc["constraints"][0] == {"src": "grp1", "dst": "grp2", "symmetric": True}
    assert nc["constraints"][1] == {"src": "grp2", "dst": "grp1", "delay": "5ms",
                                    "symmetric": False}


def test_disabled_constraints_need_no_defaults(tmp_path: Path) -> None:
    config = load(tmp_path, BASE + "network_constraints: {enable: false}\n")
    assert config.network_constraints == {"enable": False, "constraints": [], "except": []}


def test_numbers_kept_as_written(tmp_path: Path) -> None:
    config = load(tmp_path, BASE + "docker_version: 18.10\nkolla_ref: 9\ndeployer: kolla\n")
    assert config.data["docker_version"] == "18.10"
    assert config.data["kolla_ref"] == "9"
    # With the native deployer, kolla_ref names its release, read as written: 2025.20 is not
    # 2025.2.
    with pytest.raises(ConfigError, match="unknown OpenStack release '2025.20'"):
        load(tmp_path, BASE + "kolla_ref: 2025.20\n")


def test_unknown_top_level_keys_are_kept(tmp_path: Path) -> None:
    config = load(tmp_path, BASE + "openstack_release: master\nenable_heat: 'no'\n")
    assert config.data["openstack_release"] == "master"
    assert config.raw["enable_heat"] == "no"


def test_topology_with_resources_warns_and_uses_topology(tmp_path: Path) -> None:
    config = load(tmp_path, BASE + "topology:\n  g1: {control: 1, network: 1, compute: 1}\n")
    assert config.groups == ["g1"]
    assert any("topology is used" in w for w in config.warnings)


def test_documented_default_inventory_falls_back(tmp_path: Path) -> None:
    config = load(tmp_path, BASE + "inventory: inventories/inventory.sample\n")
    assert config.inventory is None
    assert any("default inventory" in w for w in config.warnings)


def test_inventory_relative_to_the_file_not_the_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "inv").write_text("[control]\n")
    monkeypatch.chdir("/")
    config = load(tmp_path, BASE + "inventory: inv\n")
    assert config.inventory == (tmp_path / "inv").resolve()


def test_advanced_machines_roles_and_defaults(tmp_path: Path) -> None:
    config = load(tmp_path, """\
        provider:
          type: vagrant
          resources:
            machines:
              - {roles: [control, network], flavour: large}
              - {role: compute, number: 2, flavor: medium, networks: [network_interface]}
        """)
    assert config.machines == [
        MachineSpec(["control", "network"], 1, label="large"),
        MachineSpec(["compute"], 2, label="medium", networks=["network_interface"]),
    ]
    summary = summarize(config)
    assert summary.total == 3
    assert summary.rows[0].roles == {"control+network": 1}
    assert summary.by_role == {"control": 1, "network": 1, "compute": 2}


def test_merge_keys_and_lines(tmp_path: Path) -> None:
    config = load(tmp_path, """\
        base: &base
          control: 1
          network: 1
        resources:
          cluster:
            <<: *base
            compute: 1
        """)
    assert [m.roles[0] for m in config.machines] == ["control", "network", "compute"]
    assert config.lines["resources.cluster.compute"] == 7
    assert config.line_of("resources.cluster.compute.nothing") == 7


def test_loads_config_and_lines(tmp_path: Path) -> None:
    config = loads_config(BASE + "kolla:\n  enable_heat: 'no'\n", tmp_path / "r.yaml")
    assert config.lines["provider"] == 1
    assert config.lines["resources.compute"] == 5
    assert config.lines["kolla.enable_heat"] == 7
    error = config.error("kolla.enable_heat", "bad", "fix it")
    assert error.line == 7 and error.key == "kolla.enable_heat" and error.hint == "fix it"
    assert "r.yaml:7" in str(error)


def test_summary_lines(tmp_path: Path) -> None:
    config = load(tmp_path, """\
        provider: g5k
        topology:
          grp1: {paravance: {control: 1, network: 1}}
          grp[2-3]: {parasilo: {compute: 2}}
        network_constraints:
          default_delay: 10ms
          default_rate: 1gbit
          default_loss: 0%
          constraints: [{src: grp1, dst: "grp[2-3]"}]
        """)
    summary = summarize(config)
    assert [(r.group, r.label, r.machines) for r in summary.rows] == [
        ("grp1", "paravance", 2), ("grp2", "parasilo", 2), ("grp3", "parasilo", 2),
    ]
    text = "\n".join(summary.lines())
    assert "total: 6 machines (control: 1, network: 1, compute: 4)" in text
    assert "groups: grp1, grp2, grp3" in text
    assert "network constraints: 1 rule" in text


def test_the_loaded_data_is_json_ready(tmp_path: Path) -> None:
    import json

    docs = Path(__file__).parent / "data" / "docs"
    for path in docs.glob("*.yaml"):
        json.dumps(load_config(path).data, sort_keys=True)
    config = load(tmp_path, BASE + "hosts: {1: &a {address: x}, b: *a}\nkolla: {2: two}\n")
    assert config.data["hosts"]["1"] == {"address": "x"}
    assert config.data["kolla"] == {"2": "two"}
    assert 1 in config.raw["hosts"]
    json.dumps(config.data, sort_keys=True)


def test_import_is_cheap() -> None:
    import subprocess
    import sys

    code = ("import sys, enos.config; heavy = {'pydantic', 'jinja2', 'ansible', 'rich', "
            "'click'} & set(m.split('.')[0] for m in sys.modules); print(sorted(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"
