"""Network constraints: units, the group matrix on the documentation's examples, host plans.

The tc scripts are checked by the real tc of this machine, in a private network namespace.
"""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
from pathlib import Path

import pytest

from enos.config import load_config
from enos.errors import ConfigError, EnosError
from enos.model import Host, Resources
from enos.netem import measure
from enos.netem.constraints import Matrix, build_matrix
from enos.netem.plan import ROOT, host_pairs, host_plans
from enos.netem.units import parse_delay, parse_loss, parse_rate

DOCS = Path(__file__).parent / "data" / "docs"
PROBE = Path(__file__).parent.parent / "enos" / "netem" / "playbooks" / "files" / "tc-probe.sh"


def _err(key: str, message: str, hint: str) -> ConfigError:
    return ConfigError(message, key=key, hint=hint)


# -- units --------------------------------------------------------------------------------------
@pytest.mark.parametrize(("text", "ms"), [
    ("25ms", 25.0), ("0.5s", 500.0), ("250us", 0.25), ("10 msec", 10.0), ("1sec", 1000.0),
    ("0", 0.0), ("0ms", 0.0), ("2MS", 2.0),
])
def test_delay_units(text: str, ms: float) -> None:
    assert parse_delay(text, "k", _err) == pytest.approx(ms)


@pytest.mark.parametrize(("text", "bps"), [
    ("100mbit", 100_000_000), ("1gbit", 10**9), ("512kbit", 512_000), ("64000bit", 64_000),
    ("1mbps", 8_000_000), ("2gbps", 16 * 10**9), ("10kbps", 80_000), ("1Mibit", 2**20),
    ("1GBit", 10**9), ("0.5gbit", 500_000_000),
])
def test_rate_units(text: str, bps: int) -> None:
    assert parse_rate(text, "k", _err) == bps


@pytest.mark.parametrize(("text", "pct"), [("0.1%", 0.1), ("0%", 0.0), ("0", 0.0), ("5", 5.0),
                                           ("100%", 100.0)])
def test_loss_units(text: str, pct: float) -> None:
    assert parse_loss(text, "k", _err) == pct


@pytest.mark.parametrize(("func", "text", "words", "hint"), [
    (parse_delay, "25", "has no unit", "25ms"),
    (parse_delay, "25min", "not a unit of delay", "us, ms, s"),
    (parse_delay, "fast", "not a delay", "25ms"),
    (parse_rate, "100", "has no unit", "100mbit"),
    (parse_rate, "1gb", "not a unit of rate", "1gbit"),
    (parse_rate, "10mbit/s", "not a unit of rate", "10mbit"),
    (parse_rate, "0mbit", "below", "8kbit"),
    (parse_loss, "1ms", "not a unit of loss", "0.1%"),
    (parse_loss, "150%", "above 100%", "0.1%"),
])
def test_unit_errors(func, text: str, words: str, hint: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError) as info:
        func(text, "network_constraints.default_x", _err)
    assert words in info.value.message
    assert hint in (info.value.hint or "")
    assert info.value.key == "network_constraints.default_x"


# -- the matrix on the documentation's examples ----------------------------------------------
def test_links_description_example() -> None:
    """grp1 -> grp[2-4], symetric, 10ms 1gbit 0%; defaults 25ms 100mbit 0.1%."""
    m = build_matrix(load_config(DOCS / "netem-ranges.yaml"))
    assert m.groups == ["grp1", "grp2", "grp3", "grp4"]
    assert len(m.rules) == 12  # every ordered pair of distinct groups
    for g in ("grp2", "grp3", "grp4"):
        for pair in (("grp1", g), (g, "grp1")):
            r = m.rules[pair]
            assert (r.delay_ms, r.rate_bps, r.loss_pct) == (10, 10**9, 0)
        assert m.rtt_ms("grp1", g) == 20  # "20ms (2x10ms: symetric)"
    for a, b in (("grp2", "grp3"), ("grp2", "grp4"), ("grp3", "grp4")):
        r = m.rules[(a, b)]
        assert (r.delay_ms, r.rate_bps, r.loss_pct) == (25, 100 * 10**6, 0.1)
        assert m.rtt_ms(a, b) == 50  # "will be 50ms"
    # Hosts of one group talk without constraint.
    assert ("grp2", "grp2") not in m.rules


def test_except_example() -> None:
    m = build_matrix(load_config(DOCS / "netem-except.yaml"))
    assert m.excluded == ["grp1"]
    assert m.groups == ["grp2", "grp3", "grp4", "grp5", "grp6"]
    assert not [p for p in m.rules if "grp1" in p]
    assert len(m.rules) == 5 * 4
    for s in ("grp2", "grp3"):
        for d in ("grp4", "grp5", "grp6"):
            for pair in ((s, d), (d, s)):
                r = m.rules[pair]
                # delay and rate from the constraint, loss from the default (not given)
                assert (r.delay_ms, r.rate_bps, r.loss_pct) == (10, 10**9, 0)
    for pair in (("grp2", "grp3"), ("grp4", "grp5"), ("grp6", "grp4")):
        assert (m.rules[pair].delay_ms, m.rules[pair].rate_bps) == (25, 100 * 10**6)


def test_tutorial_example() -> None:
    """grp1 <-> grp2 symmetric 50ms: 100ms between them."""
    m = build_matrix(load_config(DOCS / "tutorial-topology.yaml"))
    assert set(m.rules) == {("grp1", "grp2"), ("grp2", "grp1")}
    assert m.rtt_ms("grp1", "grp2") == 100
    r = m.rules[("grp1", "grp2")]
    assert (r.rate_bps, r.loss_pct) == (10**9, 0)


def _config(tmp_path: Path, constraints: str, topology: str | None = None) -> Path:
    topo = topology or """\
        topology:
          grp1: {control: 1, network: 1}
          grp2: {compute: 1}
          grp3: {compute: 1}
        """
    path = tmp_path / "reservation.yaml"
    path.write_text("provider: local\n" + textwrap.dedent(topo) + textwrap.dedent(constraints))
    return path


def test_defaults_only_and_asymmetric(tmp_path: Path) -> None:
    m = build_matrix(load_config(_config(tmp_path, """\
        network_constraints:
          default_delay: 25ms
          default_rate: 100mbit
          default_loss: 0
          constraints:
            - {src: grp1, dst: grp2, delay: 5ms}
            - {src: grp1, dst: grp2, rate: 1gbit}
            - {src: grp3, dst: grp3, rate: 10mbit}
        """)))
    # not symmetric: grp1 -> grp2 is 5ms, back is the default; the later entry adds the rate
    assert (m.rules[("grp1", "grp2")].delay_ms, m.rules[("grp1", "grp2")].rate_bps) == \
        (5, 10**9)
    assert m.rules[("grp2", "grp1")].delay_ms == 25
    assert m.rtt_ms("grp1", "grp2") == 30
    # src == dst constrains the hosts of that group between themselves
    assert m.rules[("grp3", "grp3")].rate_bps == 10**7
    assert ("grp1", "grp1") not in m.rules


def test_disabled(tmp_path: Path) -> None:
    m = build_matrix(load_config(_config(tmp_path, "network_constraints: {enable: false}\n")))
    assert not m.enable and not m.rules


def test_networks_key(tmp_path: Path) -> None:
    m = build_matrix(load_config(_config(tmp_path, """\
        network_constraints:
          default_delay: 0ms
          default_rate: 1gbit
          default_loss: 0%
          networks: [network_interface, neutron_external_interface]
          constraints:
            - {src: grp1, dst: grp2, rate: 10mbit, network: neutron_external_interface}
        """)))
    assert m.networks == ["network_interface", "neutron_external_interface"]
    assert m.rules[("grp1", "grp2")].networks == ("neutron_external_interface",)
    assert m.rules[("grp2", "grp1")].networks is None


@pytest.mark.parametrize(("body", "key", "line", "words", "hint"), [
    ("default_delay: 25\n  default_rate: 1gbit\n  default_loss: 0%\n",
     "network_constraints.default_delay", 7, "has no unit", "25ms"),
    ("default_delay: 25ms\n  default_rate: 10mb\n  default_loss: 0%\n",
     "network_constraints.default_rate", 8, "not a unit of rate", "10mbit"),
    ("default_delay: 25ms\n  default_rate: 1gbit\n  default_loss: 1ms\n",
     "network_constraints.default_loss", 9, "not a unit of loss", "%"),
    ("default_delay: 25ms\n  default_rate: 1gbit\n  default_loss: 0%\n"
     + "  constraints:\n    - src: grp1\n      dst: grp2\n      delay: 3 days\n",
     "network_constraints.constraints.0.delay", 13, "not a unit of delay", "ms"),
    ("default_delay: 25ms\n  default_rate: 1gbit\n  default_loss: 0%\n  networks: {a: 1}\n",
     "network_constraints.networks", 10, "expected a list", "network roles"),
])
def test_errors_name_file_line_key(tmp_path: Path, body: str, key: str, line: int, words: str,
                                   hint: str) -> None:
    # Units are read when the file loads: `enos validate` refuses what `enos tc` would.
    with pytest.raises(ConfigError) as info:
        load_config(_config(tmp_path, "network_constraints:\n  " + body))
    err = info.value
    assert err.key == key and err.line == line, str(err)
    assert f"reservation.yaml:{line} [{key}]" in err.message
    assert words in err.message and hint in (err.hint or ""), str(err)


def test_no_section(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        build_matrix(load_config(_config(tmp_path, "")))
    assert "no network_constraints" in info.value.message
    assert "default_delay" in (info.value.hint or "")


def test_constraint_on_excluded_groups_is_noted(tmp_path: Path) -> None:
    m = build_matrix(load_config(_config(tmp_path, """\
        network_constraints:
          default_delay: 1ms
          default_rate: 1gbit
          default_loss: 0%
          constraints: [{src: grp1, dst: grp2, delay: 9ms}]
          except: [grp1]
        """)))
    assert m.notes and "constraints.0" in m.notes[0]
    assert set(m.rules) == {("grp2", "grp3"), ("grp3", "grp2")}


# -- host plans ---------------------------------------------------------------------------------
def _resources(spec: dict[str, int]) -> Resources:
    hosts = []
    n = 10
    for group, count in spec.items():
        for i in range(count):
            hosts.append(Host(
                alias=f"{group}-{i}", address=f"10.0.0.{n}", groups=[group],
                interfaces={"network_interface": "eth0", "neutron_external_interface": "eth1"},
                addresses={"network_interface": f"10.0.0.{n}",
                           "neutron_external_interface": f"10.0.1.{n}"}))
            n += 1
    return Resources(hosts=hosts)


def test_host_plans_and_pairs() -> None:
    m = build_matrix(load_config(DOCS / "netem-ranges.yaml"))
    res = _resources({"grp1": 2, "grp2": 1, "grp3": 1, "grp4": 1})
    plans = {p.alias: p for p in host_plans(m, res)}
    p = plans["grp1-0"]
    assert [c.dst_group for c in p.classes] == ["grp2", "grp3", "grp4"]  # not its own group
    assert p.devices == ["eth0"] and p.clear == ["eth0", "eth1"]
    assert p.needs() == ["tc", "htb", "u32", "netem"]
    assert p.needs(rate_only=True) == ["tc", "htb", "u32"]
    batch = p.batch()
    assert batch.count("class add") == 3 and batch.count("netem") == 3
    assert "quantum" in batch and f"root handle {ROOT}: htb" in batch
    # one filter per destination host: its address on eth0's network only
    assert batch.count("filter add") == 3
    assert "match ip dst 10.0.0.12/32" in batch and "10.0.1." not in batch
    rate_only = p.batch(rate_only=True)
    assert "netem" not in rate_only and rate_only.count("class add") == 3
    # 0% loss and 10ms: netem carries the delay only
    assert "delay 10000us" in batch and "loss" not in batch
    grp2 = plans["grp2-0"].batch()
    assert "delay 25000us loss 0.1%" in grp2 and "delay 10000us" in grp2

    pairs = host_pairs(m, res)
    assert len(pairs) == 5 * 4 - 2  # every ordered pair but the two inside grp1
    one = next(x for x in pairs if x["src"] == "grp2-0" and x["dst"] == "grp3-0")
    assert one == {"src": "grp2-0", "dst": "grp3-0", "src_group": "grp2", "dst_group": "grp3",
                   "delay_ms": 25.0, "rate_bps": 100_000_000, "loss_pct": 0.1,
                   "networks": ["network_interface"]}
    json.dumps(pairs)


def test_plan_missing_interface() -> None:
    m = Matrix(enable=True, groups=["a", "b"], networks=["neutron_external_interface"])
    from enos.netem.constraints import Rule

    m.rules = {("a", "b"): Rule(0, 10**6, 0)}
    res = _resources({"a": 1, "b": 1})
    res.hosts[0].interfaces.pop("neutron_external_interface")
    with pytest.raises(EnosError) as info:
        host_plans(m, res)
    assert "a-0 has no interface" in info.value.message
    assert "network_constraints.networks" in (info.value.hint or "")


def test_disabled_plan_clears_everything() -> None:
    plans = host_plans(Matrix(enable=False), _resources({"a": 1, "b": 1}))
    assert all(p.clear == ["eth0", "eth1"] and not p.batch() for p in plans)


# -- the real tc accepts the scripts ----------------------------------------------------------
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="tc needs root")


def _netem_available() -> bool:
    proc = subprocess.run(["unshare", "-n", "tc", "qdisc", "add", "dev", "lo", "root", "netem",
                           "delay", "1ms"], capture_output=True, check=False)
    return proc.returncode == 0


@needs_root
def test_probe_script_tells_what_the_kernel_has() -> None:
    out = subprocess.run(["sh", str(PROBE)], capture_output=True, text=True, check=True).stdout
    found = dict(line.split() for line in out.splitlines())
    assert found["tc"] == found["htb"] == found["u32"] == "yes"
    assert found["netem"] == ("yes" if _netem_available() else "no")
    # As the playbook runs it: the backend, then only what is needed and missing.
    out = subprocess.run(["sh", str(PROBE)], capture_output=True, text=True, check=True,
                         env={**os.environ, "ENOS_TC_NEEDS": "tc htb u32",
                              "ENOS_TC_BACKEND": "netem"}).stdout
    assert out.split("\n")[:-1] == ["backend netem"] + (
        [] if _netem_available() else ["the kernel lacks netem"])


@needs_root
@pytest.mark.parametrize("rate_only", [True, False])
def test_batch_is_accepted_by_tc(rate_only: bool) -> None:
    """Run a host's script with tc -batch on a veth of a private namespace."""
    if not rate_only and not _netem_available():
        pytest.skip("this kernel has no netem")
    m = build_matrix(load_config(DOCS / "netem-ranges.yaml"))
    res = _resources({"grp1": 1, "grp2": 3, "grp3": 1, "grp4": 1})
    plan = next(p for p in host_plans(m, res) if p.alias == "grp1-0")
    script = plan.batch(rate_only)
    shell = ("ip link add eth0 type veth peer name eth0p && ip link set eth0 up && tc -batch - && "
             "tc qdisc show dev eth0 && tc class show dev eth0 && tc filter show dev eth0")
    proc = subprocess.run(["unshare", "-n", "sh", "-c", shell], input=script,
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "quantum" not in proc.stderr.lower()  # no warning about the quantum
    assert proc.stdout.count("class htb") == 3
    assert proc.stdout.count("flowid") == 5  # 5 hosts elsewhere, their address on eth0's net


# -- measurement helpers ------------------------------------------------------------------------
def test_parse_fping() -> None:
    text = ("10.0.0.11 : 50.12 50.31 - 49.98\n"
            "10.0.0.12 : - - - -\n"
            "ICMP Host Unreachable from 10.0.0.1 for ICMP Echo sent to 10.0.0.13\n")
    got = measure.parse_fping(text)
    assert got["10.0.0.11"] == [50.12, 50.31, None, 49.98]
    assert got["10.0.0.12"] == [None] * 4
    assert "10.0.0.13" not in got


def test_judge_rate_only_and_tolerance() -> None:
    from enos.netem.constraints import Rule

    rule = Rule(10, 50 * 10**6, 0.1)
    pair = measure.Pair("a", "b", "a-0", "b-0", "network_interface", "10.0.0.2", rule, rule)
    pair.measured = {"probes": 20, "loss_pct": 0.0,
                     "rtt_ms": {"min": 0.05, "median": 0.07, "max": 0.1},
                     "rate_bps": 47.8e6}
    measure.judge(pair, rate_only=True, has_rules=True)
    assert pair.verdict == {"rtt": "not exercised", "loss": "not exercised", "rate": "ok"}
    assert pair.expected["rtt_ms"] == 20
    pair.measured["rate_bps"] = 40e6
    pair.measured["rtt_ms"] = {"min": 19.9, "median": 20.4, "max": 21}
    measure.judge(pair, rate_only=False, has_rules=True)
    assert pair.verdict == {"rtt": "ok", "loss": "ok", "rate": "off"}


def test_summary_fits_a_screen() -> None:
    from enos.netem.constraints import Rule

    pairs = []
    for i in range(40):
        rule = Rule(0, 10**8, 0)
        p = measure.Pair(f"g{i}", "h", f"g{i}-0", "h-0", "network_interface", "10.0.0.2", rule,
                         None)
        p.measured = {"probes": 5, "loss_pct": 0.0,
                      "rtt_ms": {"min": 0.1, "median": 0.1, "max": 0.2},
                      "rate_bps": 95e6 if i != 7 else 50e6}
        measure.judge(p, rate_only=False, has_rules=True)
        pairs.append(measure._pair_dict(p))
    data = {"pairs": pairs, "seconds": 12.0}
    text = measure.summary(data)
    assert len(text.splitlines()) <= 8
    assert "39 ok" in text and "1 off" in text and "g7 -> h" in text
    few = measure.summary({"pairs": pairs[:3], "seconds": 1.0})
    assert len(few.splitlines()) == 4 and "100mbit / 95mbit" in few
