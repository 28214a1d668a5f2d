"""Delay and loss backends: the choice per host, and the rules each backend writes.

The probe script runs for real (it only touches private namespaces); the iptables scripts are
checked by this machine's iptables-restore in a private namespace.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from enos.config import load_config
from enos.errors import ConfigError
from enos.model import Host, Resources
from enos.netem import apply
from enos.netem.constraints import Matrix, Rule, build_matrix
from enos.netem.plan import CHAIN, MARK, QUEUE_BASE, host_plans
from enos.netem.units import bytes_rate_note

DOCS = Path(__file__).parent / "data" / "docs"
FILES = Path(__file__).parent.parent / "enos" / "netem" / "playbooks" / "files"
PROBE = FILES / "tc-probe.sh"
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (namespaces)")


def _netem_available() -> bool:
    proc = subprocess.run(["unshare", "-n", "tc", "qdisc", "add", "dev", "lo", "root", "netem",
                           "delay", "1ms"], capture_output=True, check=False)
    return proc.returncode == 0


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


def _config(tmp_path: Path, extra: str) -> Path:
    path = tmp_path / "reservation.yaml"
    path.write_text("provider: local\ntopology:\n  grp1: {control: 1, network: 1}\n"
                    "  grp2: {compute: 1}\n"
                    "network_constraints:\n  default_delay: 25ms\n  default_rate: 1gbit\n"
                    "  default_loss: 0.1%\n" + extra)
    return path


# -- the backend key ---------------------------------------------------------------------------
@pytest.mark.parametrize("backend", ["auto", "netem", "userspace"])
def test_backend_key(tmp_path: Path, backend: str) -> None:
    m = build_matrix(load_config(_config(tmp_path, f"  backend: {backend}\n")))
    assert m.backend == backend
    assert all(p.backend == backend for p in host_plans(m, _resources({"grp1": 1, "grp2": 1})))


def test_backend_defaults_to_auto(tmp_path: Path) -> None:
    assert build_matrix(load_config(_config(tmp_path, ""))).backend == "auto"


def test_unknown_backend_names_file_line_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(_config(tmp_path, "  backend: kernel\n"))
    err = info.value
    assert err.key == "network_constraints.backend" and err.line == 9
    assert "kernel" in err.message and "userspace" in (err.hint or "")


def test_rate_in_bytes_is_warned(tmp_path: Path) -> None:
    path = tmp_path / "reservation.yaml"
    path.write_text("provider: local\ntopology:\n  grp1: {control: 1, network: 1}\n"
                    "  grp2: {compute: 1}\n"
                    "network_constraints:\n  default_delay: 25ms\n  default_rate: 100mbps\n"
                    "  default_loss: 0%\n  constraints:\n"
                    "    - {src: grp1, dst: grp2, rate: 1gbit}\n"
                    "    - {src: grp2, dst: grp1, rate: 2kbps}\n")
    config = load_config(path)
    warned = [w for w in config.warnings if "bytes per second" in w]
    assert len(warned) == 2, config.warnings
    assert "reservation.yaml:7 [network_constraints.default_rate]" in warned[0]
    assert "800mbit" in warned[0] and "`100mbit`" in warned[0]
    assert "constraints.1.rate" in warned[1] and "`2kbit`" in warned[1]
    # read as tc reads it all the same
    assert build_matrix(config).rules[("grp1", "grp2")].rate_bps == 10**9
    assert bytes_rate_note("100mbit") is None and bytes_rate_note("1gbit") is None


# -- what each backend writes ------------------------------------------------------------------
def _plans() -> dict[str, object]:
    m = build_matrix(load_config(DOCS / "netem-ranges.yaml"))
    return {p.alias: p for p in host_plans(m, _resources({"grp1": 2, "grp2": 1, "grp3": 1,
                                                          "grp4": 1}))}


def test_userspace_rules() -> None:
    plans = _plans()
    grp2 = plans["grp2-0"]
    # the same HTB classes and filters, no netem
    tc = grp2.batch(netem=False)
    assert "netem" not in tc and tc.count("class add") == 3
    assert tc.count("class add") == grp2.batch().count("class add")
    v4 = grp2.iptables(4)
    lines = v4.splitlines()
    assert lines[0] == "*mangle" and lines[1] == f":{CHAIN} - [0:0]" and lines[-1] == "COMMIT"
    assert lines[2] == f"-A {CHAIN} -m mark --mark {MARK:#x} -j RETURN"
    # towards grp1 (2 hosts): 10ms, no loss; towards grp3 and grp4: 25ms and 0.1% loss
    to_grp1 = [x for x in lines if "-d 10.0.0.10/32" in x or "-d 10.0.0.11/32" in x]
    assert len(to_grp1) == 2 and all("NFQUEUE" in x and "-o eth0" in x for x in to_grp1)
    to_grp3 = [x for x in lines if "-d 10.0.0.13/32" in x]
    assert to_grp3 == [
        (f"-A {CHAIN} -o eth0 -d 10.0.0.13/32 -m statistic --mode random --probability "
        "0.00100000 -j DROP"),
        (f"-A {CHAIN} -o eth0 -d 10.0.0.13/32 -j NFQUEUE --queue-num {QUEUE_BASE + 0x12} "
        "--queue-bypass")]
    assert "10.0.1." not in v4  # eth0 carries network_interface only
    assert grp2.iptables(6) == ""
    assert grp2.queues() == [f"{QUEUE_BASE + 0x10}:10", f"{QUEUE_BASE + 0x12}:25",
                             f"{QUEUE_BASE + 0x13}:25"]
    # rates only: no netfilter rule, no delay line
    assert grp2.iptables(4, rate_only=True) == "" and grp2.queues(rate_only=True) == []


def test_loss_only_and_delay_only() -> None:
    m = Matrix(enable=True, groups=["a", "b"])
    m.rules = {("a", "b"): Rule(0, 10**8, 5), ("b", "a"): Rule(7.5, 10**8, 0)}
    plans = {p.alias: p for p in host_plans(m, _resources({"a": 1, "b": 1}))}
    a, b = plans["a-0"], plans["b-0"]
    assert "NFQUEUE" not in a.iptables(4) and "mark" not in a.iptables(4)
    assert "--probability 0.05000000 -j DROP" in a.iptables(4) and a.queues() == []
    assert a.userspace_needs() == ["iptables", "statistic"]
    assert "DROP" not in b.iptables(4) and b.queues() == [f"{QUEUE_BASE + 0x10}:7.5"]
    assert b.userspace_needs() == ["iptables", "nfqueue", "python3"]


def test_needs_and_plan_data_per_backend() -> None:
    p = _plans()["grp1-0"]
    assert p.needs() == ["tc", "htb", "u32", "netem"]
    assert p.needs(backend="userspace") == ["tc", "htb", "u32", "iptables", "nfqueue",
                                            "python3"]
    assert p.needs(rate_only=True, backend="userspace") == ["tc", "htb", "u32"]
    data = apply.plan_data(p, rate_only=False)
    assert data["backend"] == "auto" and data["needs"] == ["tc", "htb", "u32"]
    assert "netem" in data["batch"] and "netem" not in data["userspace"]["batch"]
    assert data["userspace"]["needs"] == ["iptables", "nfqueue", "python3"]
    assert data["userspace"]["queues"] and "NFQUEUE" in data["userspace"]["iptables4"]
    rates = apply.plan_data(p, rate_only=True)
    assert rates["backend"] == "none" and not rates["userspace"]["queues"]
    assert "netem" not in rates["batch"]
    reset = apply.plan_data(p, rate_only=False, reset=True)
    assert reset["backend"] == "none" and not reset["batch"] and not reset["needs"]


def test_filters_per_network() -> None:
    """With both networks constrained, each interface filters its own network's addresses."""
    m = build_matrix(load_config(DOCS / "netem-ranges.yaml"))
    m.networks = ["all"]
    p = next(p for p in host_plans(m, _resources({"grp1": 1, "grp2": 1, "grp3": 1,
                                                   "grp4": 1})) if p.alias == "grp1-0")
    tc = p.batch()
    eth0 = [x for x in tc.splitlines() if "filter add dev eth0" in x]
    eth1 = [x for x in tc.splitlines() if "filter add dev eth1" in x]
    assert len(eth0) == len(eth1) == 3
    assert all("10.0.0." in x for x in eth0) and all("10.0.1." in x for x in eth1)
    ipt = p.iptables(4)
    assert "-o eth0 -d 10.0.1." not in ipt and "-o eth1 -d 10.0.0." not in ipt


def test_lacking_error_names_host_backend_and_fix() -> None:
    p = _plans()["grp1-0"]
    err = apply._lacking_error("grp1-0=netem:netem grp2-0=userspace:nfqueue,python3", [p],
                               rate_only=False)
    assert "grp1-0 (backend netem): the host lacks the netem queueing discipline" \
        in err.message
    assert "grp2-0 (backend userspace)" in err.message and "NFQUEUE" in err.message
    assert "nothing was changed" in (err.hint or "") and "backend: auto" in (err.hint or "")


# -- the probe chooses ---------------------------------------------------------------------------
def _probe(backend: str, userspace: str = "iptables statistic nfqueue python3") -> list[str]:
    env = {**os.environ, "ENOS_TC_NEEDS": "tc htb u32", "ENOS_TC_BACKEND": backend,
           "ENOS_TC_USERSPACE": userspace}
    out = subprocess.run(["sh", str(PROBE)], capture_output=True, text=True, check=True,
                         env=env).stdout
    return out.splitlines()


@needs_root
def test_probe_settles_the_backend() -> None:
    if shutil.which("iptables-restore") is None:
        pytest.skip("iptables is not installed (install.sh installs it)")
    netem = _netem_available()
    assert _probe("auto") == ["backend netem" if netem else "backend userspace"]
    assert _probe("userspace") == ["backend userspace"]
    assert _probe("none") == ["backend none"]
    assert _probe("netem") == ["backend netem"] + ([] if netem else ["the kernel lacks netem"])


@needs_root
def test_probe_names_missing_userspace_pieces(tmp_path: Path) -> None:
    """Without iptables and python3 on the PATH, the userspace backend lacks them."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    for directory in ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin",
                      "/bin"):
        for tool in Path(directory).glob("*") if Path(directory).is_dir() else []:
            name = tool.name
            if name.startswith(("iptables", "ip6tables", "python3")) or \
                    (bindir / name).exists() or (bindir / name).is_symlink():
                continue
            (bindir / name).symlink_to(tool)
    env = {"PATH": str(bindir), "ENOS_TC_NEEDS": "tc htb u32", "ENOS_TC_BACKEND": "userspace",
           "ENOS_TC_USERSPACE": "iptables nfqueue python3"}
    out = subprocess.run([shutil.which("sh") or "/bin/sh", str(PROBE)], capture_output=True,
                         text=True, check=True, env=env).stdout.splitlines()
    assert out == ["backend userspace", "the kernel lacks iptables", "the kernel lacks nfqueue",
                   "the kernel lacks python3"]


@needs_root
def test_iptables_script_is_accepted() -> None:
    if shutil.which("iptables-restore") is None:
        pytest.skip("iptables is not installed (install.sh installs it)")
    p = _plans()["grp2-0"]
    script = p.iptables(4)
    shell = ("ip link add eth0 type veth peer name eth0p && iptables-restore --noflush && "
             f"iptables -t mangle -A POSTROUTING -j {CHAIN} && iptables -t mangle -S")
    proc = subprocess.run(["unshare", "-n", "sh", "-c", shell], input=script,
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("NFQUEUE") == 4 and proc.stdout.count("statistic") == 2
    assert f"-A POSTROUTING -j {CHAIN}" in proc.stdout


def test_delay_line_arguments() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("enos_delay", FILES / "enos_delay.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert mod.MARK == MARK
    assert mod._queue("57360:10.5") == (57360, 10.5)
    import argparse

    for bad in ("x:1", "57360", "70000:1", "1:-2"):
        with pytest.raises(argparse.ArgumentTypeError):
            mod._queue(bad)


# -- what `enos tc --dry-run` says (before `enos up`: no host needed) --------------------------
def _dry_run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    from conftest import run_enos

    (tmp_path / "reservation.yaml").write_text(
        "provider: local\ntopology:\n  grp1: {control: 1, network: 1}\n  grp2: {compute: 1}\n"
        "network_constraints:\n  default_delay: 10ms\n  default_rate: 100mbps\n"
        "  default_loss: 1%\n  backend: userspace\n")
    return run_enos("tc", "--dry-run", *args, cwd=tmp_path)


def test_dry_run_warns_about_bytes_per_second(tmp_path: Path) -> None:
    proc = _dry_run(tmp_path)
    said = proc.stdout + proc.stderr
    assert "warning: network_constraints.default_rate" in said
    assert "800mbit" in said and "`100mbit`" in said
    assert "delay     10ms" in proc.stdout and "backend userspace" in proc.stdout


def test_rate_only_prints_what_is_enforced(tmp_path: Path) -> None:
    proc = _dry_run(tmp_path, "--rate-only")
    assert "rate   800mbit" in proc.stdout
    assert "delay" not in proc.stdout.replace("no delay nor loss", "")
    assert "loss 1%" not in proc.stdout
