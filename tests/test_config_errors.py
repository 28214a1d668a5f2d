"""Malformed reservation files: each error names the file, the line, the key and the fix."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from enos.config import load_config
from enos.errors import ConfigError

ROLES = "{control: 1, network: 1, compute: 1}"


def error_of(tmp_path: Path, text: str) -> ConfigError:
    path = tmp_path / "reservation.yaml"
    path.write_text(textwrap.dedent(text))
    with pytest.raises(ConfigError) as info:
        load_config(path)
    error = info.value
    assert error.source is not None and error.source.endswith("reservation.yaml")
    assert error.exit_code == 2
    return error


def check(error: ConfigError, *, line: int | None, key: str | None, words: str,
          hint: str | None = None) -> None:
    assert error.line == line, str(error)
    assert error.key == key, str(error)
    assert words in error.message, str(error)
    assert "reservation.yaml" in error.message
    if line:
        assert f"reservation.yaml:{line}" in error.message
    if key:
        assert f"[{key}]" in error.message
    if hint is not None:
        assert error.hint is not None and hint in error.hint, str(error)


# -- the file itself -----------------------------------------------------------------------
def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "reservation.yaml")
    assert "no such file" in info.value.message
    assert "enos new" in (info.value.hint or "")


def test_bad_yaml_gives_line_and_column(tmp_path: Path) -> None:
    error = error_of(tmp_path, """\
        provider: local
        resources:
          control: 1
         network: 1
        """)
    assert error.line == 4
    assert "not valid YAML" in error.message and "column" in error.message
    assert error.hint


def test_unclosed_flow_sequence(tmp_path: Path) -> None:
    error = error_of(tmp_path, "provider: local\nresources: [control\nkolla: {}\n")
    assert "not valid YAML" in error.message
    assert error.line is not None and error.line >= 2


def test_tabs(tmp_path: Path) -> None:
    error = error_of(tmp_path, "resources:\n\tcontrol: 1\n")
    assert error.line == 2
    assert "tab" in error.message


def test_empty_file(tmp_path: Path) -> None:
    error = error_of(tmp_path, "# nothing\n")
    assert "empty" in error.message


def test_top_level_list(tmp_path: Path) -> None:
    error = error_of(tmp_path, "- provider\n")
    assert "expected a mapping" in error.message


# -- provider ------------------------------------------------------------------------------
def test_unknown_provider_did_you_mean(tmp_path: Path) -> None:
    error = error_of(tmp_path, f"provider: g5kk\nresources: {{paravance: {ROLES}}}\n")
    check(error, line=1, key="provider", words="unknown provider 'g5kk'", hint="'g5k'")


def test_unknown_provider_type_in_mapping(tmp_path: Path) -> None:
    error = error_of(tmp_path, f"provider:\n  type: my-provider\nresources: {{a: {ROLES}}}\n")
    check(error, line=2, key="provider.type", words="unknown provider 'my-provider'",
          hint="known providers")


def test_provider_mapping_without_type(tmp_path: Path) -> None:
    error = error_of(tmp_path, f"provider:\n  job_name: x\nresources: {{a: {ROLES}}}\n")
    check(error, line=1, key="provider", words="no 'type'", hint="type: NAME")


def test_missing_required_provider_key(tmp_path: Path) -> None:
    error = error_of(tmp_path, f"""\
        provider:
          type: openstack
          image: debian
          user: debian
        resources: {{m1.small: {ROLES}}}
        """)
    check(error, line=1, key="provider", words="needs 'key_name'", hint="key_name:")


def test_missing_required_key_with_string_provider(tmp_path: Path) -> None:
    error = error_of(tmp_path, f"provider: chameleonkvm\nresources: {{m1.small: {ROLES}}}\n")
    check(error, line=1, key="provider", words="needs 'key_name'",
          hint="provider: {type: chameleonkvm, key_name: ...}")


def test_provider_key_typo(tmp_path: Path) -> None:
    error = error_of(tmp_path, f"provider:\n  type: g5k\n  walltim: '1:00:00'\n"
                     f"resources: {{a: {ROLES}}}\n")
    check(error, line=3, key="provider.walltim", words="unknown key", hint="'walltime'")


def test_provider_boolean_wrong(tmp_path: Path) -> None:
    error = error_of(tmp_path, f"provider: {{type: chameleonkvm, key_name: k, gateway: maybe}}"
                     f"\nresources: {{a: {ROLES}}}\n")
    check(error, line=1, key="provider.gateway", words="expected yes or no")


# -- top level -----------------------------------------------------------------------------
def test_top_level_typo(tmp_path: Path) -> None:
    error = error_of(tmp_path, f"provder: local\nresources: {ROLES}\n")
    check(error, line=1, key="provder", words="unknown key 'provder'", hint="'provider'")


def test_top_level_typo_of_hyphenated_key(tmp_path: Path) -> None:
    error = error_of(tmp_path, f"resources: {ROLES}\nkolla_ansible: x\n")
    check(error, line=2, key="kolla_ansible", words="unknown key", hint="'kolla-ansible'")


def test_kolla_must_be_a_mapping(tmp_path: Path) -> None:
    error = error_of(tmp_path, f"resources: {ROLES}\nkolla: [a]\n")
    check(error, line=2, key="kolla", words="expected a mapping")


def test_missing_inventory(tmp_path: Path) -> None:
    error = error_of(tmp_path, f"resources: {ROLES}\ninventory: inventories/mine\n")
    check(error, line=2, key="inventory", words="no inventory file",
          hint="relative to the configuration file's directory")


# -- resources -----------------------------------------------------------------------------
def test_count_not_an_int(tmp_path: Path) -> None:
    error = error_of(tmp_path, """\
        provider: g5k
        resources:
          paravance:
            control: one
            network: 1
            compute: 1
        """)
    check(error, line=4, key="resources.paravance.control", words="expected a number",
          hint="whole number")


def test_count_quoted(tmp_path: Path) -> None:
    error = error_of(tmp_path, "resources:\n  control: '1'\n  network: 1\n  compute: 1\n")
    check(error, line=2, key="resources.control", words="expected a number of machines")


def test_count_zero(tmp_path: Path) -> None:
    error = error_of(tmp_path, "resources:\n  control: 0\n  network: 1\n  compute: 1\n")
    check(error, line=2, key="resources.control", words="at least 1")


def test_resources_not_a_mapping(tmp_path: Path) -> None:
    error = error_of(tmp_path, "provider: local\nresources:\n  - control\n")
    check(error, line=2, key="resources", words="expected a mapping",
          hint="resources: {control: 1")


def test_role_count_directly_only_for_local(tmp_path: Path) -> None:
    error = error_of(tmp_path, "provider: g5k\nresources:\n  control: 1\n")
    check(error, line=3, key="resources.control", words="expected a mapping of role",
          hint="only the local provider")


def test_no_resources(tmp_path: Path) -> None:
    error = error_of(tmp_path, "provider: vagrant\n")
    check(error, line=None, key=None, words="no resources", hint="resources: {medium:")


def test_missing_roles(tmp_path: Path) -> None:
    error = error_of(tmp_path, "provider: g5k\nresources:\n  paravance:\n    control: 1\n")
    check(error, line=2, key="resources", words="no machine has the roles network, compute",
          hint="at least one control, one network and one compute")


def test_missing_roles_in_topology(tmp_path: Path) -> None:
    error = error_of(tmp_path, "topology:\n  grp1: {control: 1, network: 1}\n")
    check(error, line=1, key="topology", words="no machine has the role compute")


# -- topology and ranges -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("group", "words"),
    [
        ("grp[4-2]", "4 is greater than 2"),
        ("grp[a-b]", "not made of two integers"),
        ("grp[2-4", "unbalanced brackets"),
    ],
)
def test_bad_group_range(tmp_path: Path, group: str, words: str) -> None:
    error = error_of(tmp_path, f"""\
        topology:
          grp1: {{control: 1, network: 1}}
          "{group}":
            compute: 1
        """)
    check(error, line=3, key=f"topology.{group}", words=words, hint="grp[")


def test_group_defined_twice(tmp_path: Path) -> None:
    error = error_of(tmp_path, f"topology:\n  grp[1-3]: {ROLES}\n  grp2: {ROLES}\n")
    check(error, line=3, key="topology.grp2", words="group 'grp2' is defined twice")


def test_empty_group(tmp_path: Path) -> None:
    error = error_of(tmp_path, f"topology:\n  grp1: {ROLES}\n  grp2:\n")
    check(error, line=3, key="topology.grp2", words="expected the machines of group")


# -- network constraints -------------------------------------------------------------------
TOPO = f"""\
topology:
  grp1: {ROLES}
  grp[2-3]: {{compute: 1}}
"""


def test_constraint_unknown_group(tmp_path: Path) -> None:
    error = error_of(tmp_path, TOPO + """\
network_constraints:
  default_delay: 10ms
  default_rate: 1gbit
  default_loss: 0%
  constraints:
    - src: grp1
      dst: grp[2-5]
""")
    check(error, line=10, key="network_constraints.constraints.0.dst",
          words="no group 'grp4' in the topology", hint="grp1, grp2, grp3")


def test_constraint_without_topology(tmp_path: Path) -> None:
    error = error_of(tmp_path, f"""\
        resources: {ROLES}
        network_constraints:
          default_delay: 10ms
          default_rate: 1gbit
          default_loss: 0%
          constraints: [{{src: grp1, dst: grp2}}]
        """)
    check(error, line=6, key="network_constraints.constraints.0.src",
          words="no group 'grp1'", hint="describe the machines under `topology:`")


def test_except_unknown_group(tmp_path: Path) -> None:
    error = error_of(tmp_path, TOPO + """\
network_constraints:
  default_delay: 10ms
  default_rate: 1gbit
  default_loss: 0%
  except:
    - grp9
""")
    check(error, line=9, key="network_constraints.except.0", words="no group 'grp9'")


def test_constraint_bad_range(tmp_path: Path) -> None:
    error = error_of(tmp_path, TOPO + """\
network_constraints: {default_delay: 1ms, default_rate: 1gbit, default_loss: 0%,
  constraints: [{src: "grp[3-2]", dst: grp1}]}
""")
    check(error, line=5, key="network_constraints.constraints.0.src", words="greater")


def test_default_delay_mandatory_when_enabled(tmp_path: Path) -> None:
    error = error_of(tmp_path, TOPO + "network_constraints:\n  enable: yes\n"
                     "  default_rate: 1gbit\n  default_loss: 0%\n")
    check(error, line=4, key="network_constraints", words="'default_delay' is missing",
          hint="default_delay: 25ms")


def test_constraints_key_typo(tmp_path: Path) -> None:
    error = error_of(tmp_path, TOPO + "network_constraints:\n  default_delay: 1ms\n"
                     "  default_rate: 1gbit\n  default_loss: 0%\n  constraint: []\n")
    check(error, line=8, key="network_constraints.constraint", words="unknown key",
          hint="'constraints'")


def test_constraint_entry_typo(tmp_path: Path) -> None:
    error = error_of(tmp_path, TOPO + "network_constraints:\n  default_delay: 1ms\n"
                     "  default_rate: 1gbit\n  default_loss: 0%\n  constraints:\n"
                     "    - {src: grp1, dts: grp2}\n")
    check(error, line=9, key="network_constraints.constraints.0.dts", words="unknown key",
          hint="'dst'")


def test_constraint_without_dst(tmp_path: Path) -> None:
    error = error_of(tmp_path, TOPO + "network_constraints:\n  enable: false\n"
                     "  constraints:\n    - src: grp1\n")
    check(error, line=7, key="network_constraints.constraints.0", words="no 'dst'")


def test_symmetric_spellings_disagree(tmp_path: Path) -> None:
    error = error_of(tmp_path, TOPO + "network_constraints:\n  enable: false\n"
                     "  constraints:\n    - {src: grp1, dst: grp2, symmetric: true, "
                     "symetric: false}\n")
    check(error, line=7, key="network_constraints.constraints.0.symetric", words="disagree")


def test_constraints_not_a_mapping(tmp_path: Path) -> None:
    error = error_of(tmp_path, TOPO + "network_constraints: yes\n")
    check(error, line=4, key="network_constraints", words="expected a mapping")


# -- registry, deployer, patches -----------------------------------------------------------
def test_registry_type_typo(tmp_path: Path) -> None:
    error = error_of(tmp_path, f"resources: {ROLES}\nregistry:\n  type: internl\n")
    check(error, line=3, key="registry.type", words="unknown value 'internl'",
          hint="'internal'")


def test_registry_key_typo(tmp_path: Path) -> None:
    error = error_of(tmp_path, f"resources: {ROLES}\nregistry:\n  type: internal\n"
                     "  cephh: true\n")
    check(error, line=4, key="registry.cephh", words="unknown key", hint="'ceph'")


def test_external_registry_needs_port(tmp_path: Path) -> None:
    error = error_of(tmp_path, f"resources: {ROLES}\nregistry:\n  type: external\n"
                     "  ip: 10.0.0.1\n")
    check(error, line=2, key="registry", words="needs 'port'")


def test_external_registry_port_type(tmp_path: Path) -> None:
    error = error_of(tmp_path, f"resources: {ROLES}\nregistry: {{type: external, ip: a, "
                     "port: http}\n")
    check(error, line=2, key="registry.port", words="expected a whole number")


def test_ceph_registry_needs_its_keys(tmp_path: Path) -> None:
    error = error_of(tmp_path, f"resources: {ROLES}\nregistry: {{type: internal, ceph: yes}}\n")
    check(error, line=2, key="registry", words="needs 'ceph_keyring'")


def test_registry_without_type(tmp_path: Path) -> None:
    error = error_of(tmp_path, f"resources: {ROLES}\nregistry: {{ip: 10.0.0.1}}\n")
    check(error, line=2, key="registry", words="no type")


def test_deployer_unknown(tmp_path: Path) -> None:
    error = error_of(tmp_path, f"resources: {ROLES}\ndeployer: nativ\n")
    check(error, line=2, key="deployer", words="unknown deployer 'nativ'", hint="'native'")


def test_deployer_fake_computes(tmp_path: Path) -> None:
    error = error_of(tmp_path, f"resources: {ROLES}\ndeployer:\n  type: native\n"
                     "  fake_computes: 0\n")
    check(error, line=4, key="deployer.fake_computes", words="between 1 and 1000")


def test_deployer_option_typo(tmp_path: Path) -> None:
    error = error_of(tmp_path, f"resources: {ROLES}\ndeployer: {{fake_compute: 2}}\n")
    check(error, line=2, key="deployer.fake_compute", words="unknown key",
          hint="'fake_computes'")


def test_patch_without_dst(tmp_path: Path) -> None:
    error = error_of(tmp_path, f"resources: {ROLES}\npatches:\n  - name: p\n    src: a\n")
    check(error, line=3, key="patches.0", words="no 'dst'")


def test_patch_enabled_word(tmp_path: Path) -> None:
    error = error_of(tmp_path, f"resources: {ROLES}\npatches:\n  - {{src: a, dst: b, "
                     "enabled: sometimes}\n")
    check(error, line=3, key="patches.0.enabled", words="expected yes or no")


# -- advanced syntax -----------------------------------------------------------------------
def test_advanced_role_and_roles(tmp_path: Path) -> None:
    error = error_of(tmp_path, """\
        provider:
          type: g5k
          resources:
            machines:
              - role: control
                roles: [network]
        """)
    check(error, line=6, key="provider.resources.machines.0.roles", words="both role and roles")


def test_advanced_without_role(tmp_path: Path) -> None:
    error = error_of(tmp_path, """\
        provider:
          type: g5k
          resources:
            machines:
              - cluster: paravance
                nodes: 1
        """)
    check(error, line=5, key="provider.resources.machines.0", words="no role",
          hint="role: compute")


def test_advanced_unknown_network_id(tmp_path: Path) -> None:
    error = error_of(tmp_path, """\
        provider:
          type: g5k
          resources:
            machines:
              - {role: control, cluster: c, nodes: 1, primary_network: int-nett}
            networks:
              - {id: int-net, role: network_interface, site: rennes, type: kavlan}
        """)
    check(error, line=5, key="provider.resources.machines.0.primary_network",
          words="no network with id 'int-nett'", hint="int-net")


def test_advanced_nodes_not_an_int(tmp_path: Path) -> None:
    error = error_of(tmp_path, """\
        provider:
          type: vmong5k
          resources:
            machines:
              - roles: [control]
                nodes: many
        """)
    check(error, line=6, key="provider.resources.machines.0.nodes", words="expected a number")


def test_advanced_with_resources_too(tmp_path: Path) -> None:
    error = error_of(tmp_path, f"""\
        provider:
          type: g5k
          resources:
            machines: [{{roles: [control, network, compute]}}]
        resources: {{paravance: {ROLES}}}
        """)
    check(error, line=5, key="resources", words="both provider.resources and resources")


def test_advanced_machine_key_typo(tmp_path: Path) -> None:
    error = error_of(tmp_path, """\
        provider:
          type: vagrant
          resources:
            machines:
              - {roles: [control], flavr: medium}
        """)
    check(error, line=5, key="provider.resources.machines.0.flavr", words="unknown key",
          hint="'flavor'")


def test_vagrant_unknown_size(tmp_path: Path) -> None:
    error = error_of(tmp_path, """\
        provider: vagrant
        resources:
          meduim:
            control: 1
            network: 1
            compute: 1
        """)
    check(error, line=3, key="resources.meduim", words="unknown VM size 'meduim'",
          hint="'medium'")


def test_vmong5k_unknown_flavour(tmp_path: Path) -> None:
    error = error_of(tmp_path, """\
        provider:
          type: vmong5k
          resources:
            machines:
              - {roles: [control, network, compute], cluster: c, flavour: huge}
        """)
    check(error, line=5, key="provider.resources.machines.0.flavour", words="unknown VM size")


# -- static provider -----------------------------------------------------------------------
STATIC = """\
provider:
  type: static
  networks:
    - {cidr: 10.0.0.0/24, roles: [network_interface]}
"""


def test_static_counts_instead_of_hosts(tmp_path: Path) -> None:
    error = error_of(tmp_path, STATIC + f"resources: {ROLES}\n")
    check(error, line=5, key="resources.control", words="expected the hosts of role",
          hint="*id001")


def test_static_host_without_address(tmp_path: Path) -> None:
    error = error_of(tmp_path, STATIC + "resources:\n  control:\n    - alias: a\n")
    check(error, line=7, key="resources.control.0", words="no address")


def test_static_host_key_typo(tmp_path: Path) -> None:
    error = error_of(tmp_path, STATIC + "resources:\n  control:\n    - {address: a, "
                     "keyfle: k}\n")
    check(error, line=7, key="resources.control.0.keyfle", words="unknown key",
          hint="'keyfile'")


def test_static_missing_role(tmp_path: Path) -> None:
    error = error_of(tmp_path, STATIC + "resources:\n  control: [{address: a}]\n"
                     "  compute: [{address: b}]\n")
    check(error, line=5, key="resources", words="no machine has the role network")


def test_static_without_networks(tmp_path: Path) -> None:
    error = error_of(tmp_path, "provider: static\nresources:\n  control: [{address: a}]\n")
    check(error, line=1, key="provider", words="needs the networks", hint="networks:")


def test_static_network_without_network_interface(tmp_path: Path) -> None:
    error = error_of(tmp_path, """\
        provider:
          type: static
          networks:
            - {cidr: 10.0.0.0/24, roles: [neutron_external_interface]}
        resources: {control: [{address: a}], network: [{address: a}], compute: [{address: a}]}
        """)
    check(error, line=3, key="provider.networks", words="no network has the role "
          "network_interface")


def test_static_bad_cidr(tmp_path: Path) -> None:
    error = error_of(tmp_path, """\
        provider:
          type: static
          networks:
            - cidr: 10.0.0.300/24
              roles: [network_interface]
        """)
    check(error, line=4, key="provider.networks.0.cidr", words="not a network address")


def test_static_network_without_cidr(tmp_path: Path) -> None:
    error = error_of(tmp_path, """\
        provider:
          type: static
          networks:
            - roles: [network_interface]
              gateway: 10.0.0.1
        """)
    check(error, line=4, key="provider.networks.0", words="no cidr")


def test_static_bad_pool(tmp_path: Path) -> None:
    error = error_of(tmp_path, """\
        provider:
          type: static
          network:
            cidr: 10.0.0.0/24
            start: 10.0.0.50
            end: 10.0.0.10
        """)
    check(error, line=6, key="provider.network.end", words="ends (10.0.0.10) before")


def test_static_too_many_eths(tmp_path: Path) -> None:
    error = error_of(tmp_path, "provider:\n  type: static\n  eths: [a, b, c]\n")
    check(error, line=3, key="provider.eths", words="one or two interface names")


def test_static_topology_range_refused(tmp_path: Path) -> None:
    error = error_of(tmp_path, STATIC + "topology:\n  g[1-2]: {control: [{address: a}]}\n")
    check(error, line=6, key="topology.g[1-2]", words="not a group name for listed hosts")


def test_local_networks_checked(tmp_path: Path) -> None:
    error = error_of(tmp_path, f"provider:\n  type: local\n  networks:\n    - {{cidr: x}}\n"
                     f"resources: {ROLES}\n")
    check(error, line=4, key="provider.networks.0", words="no roles")
