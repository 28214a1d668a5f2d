"""The g5k provider against the Grid'5000 API stand-in (tests/g5k_standin.py), nodes made up:
the job it asks for, reuse of a job, deployments, errors, and release."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from enos.config import load_config
from enos.errors import ConfigError, EnosError, NotBuiltError
from enos.experiment import Experiment
from enos.output import Plain
from enos.providers import g5k

sys.path.insert(0, str(Path(__file__).parent))
from conftest import run_enos  # noqa: E402
from g5k_standin import StandIn  # noqa: E402

pytest.importorskip("grid5000")

BASIC = """provider:
  type: g5k
  job_name: {name}
  walltime: '01:00:00'
  key: {key}
  {extra}
resources:
  paravance: {{control: 1, network: 1}}
  parasilo: {{compute: 1}}
"""


@pytest.fixture
def standin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[StandIn]:
    api = StandIn(clusters={"paravance": 4, "parasilo": 2}, step=0.1)
    url = api.serve()
    conf = tmp_path / "g5k.yaml"
    conf.write_text(f"uri: {url}\nusername: alice\npassword: secret\n")
    monkeypatch.setenv("G5K_CONFIG", str(conf))
    (tmp_path / "id_ed25519.pub").write_text("ssh-ed25519 AAAAtest alice@laptop\n")
    (tmp_path / "id_ed25519").write_text("private\n")
    monkeypatch.setattr(g5k, "POLL_MAX", 0.2)
    monkeypatch.setattr(g5k, "JOB_TIMEOUT", 20.0)
    yield api
    api.stop()


def _config(tmp_path: Path, name: str = "enos-test", extra: str = "") -> object:
    path = tmp_path / "reservation.yaml"
    path.write_text(BASIC.format(name=name, key=tmp_path / "id_ed25519.pub", extra=extra))
    return load_config(path)


def _exp(tmp_path: Path, name: str = "xp") -> Experiment:
    (tmp_path / name).mkdir(exist_ok=True)
    return Experiment(tmp_path / name)


def _posts(api: StandIn, kind: str) -> int:
    return sum(1 for m, p in api.requests if m == "POST" and p.endswith(kind))


def test_job_spec_from_basic_and_advanced_resources(tmp_path: Path) -> None:
    config = _config(tmp_path, extra="queue: production\n  reservation: '2030-01-02 19:00:00'"
                     "\n  job_type: allow_classic_ssh")
    counts = g5k.clusters_wanted(config)  # type: ignore[arg-type]
    assert counts == {"paravance": 2, "parasilo": 1}
    spec = g5k.job_spec(config.provider, counts)  # type: ignore[attr-defined]
    assert spec == {
        "name": "enos-test", "command": g5k.SLEEP, "types": ["allow_classic_ssh"],
        "resources": "{cluster='paravance'}/nodes=2+{cluster='parasilo'}/nodes=1,"
                     "walltime=01:00:00",
        "queue": "production", "reservation": "2030-01-02 19:00:00",
    }
    adv = tmp_path / "adv.yaml"
    adv.write_text("provider:\n  type: g5k\n  resources:\n    machines:\n"
                   "      - {roles: [control, network], cluster: ecotype, nodes: 1}\n"
                   "      - {role: compute, cluster: ecotype, nodes: 4}\n"
                   "    networks: [{id: n1, role: network_interface}]\n")
    config = load_config(adv)
    spec = g5k.job_spec(config.provider, g5k.clusters_wanted(config))
    assert spec["resources"] == "{cluster='ecotype'}/nodes=5,walltime=02:00:00"
    assert "queue" not in spec and "reservation" not in spec and spec["types"] == ["deploy"]


def test_up_deploys_then_a_rerun_and_another_experiment_reuse_the_job(
        standin: StandIn, tmp_path: Path) -> None:
    config = _config(tmp_path)
    exp = _exp(tmp_path)
    resources = g5k.init(config, exp, Plain(quiet=True))  # type: ignore[arg-type]
    assert _posts(standin, "/jobs") == 1 and _posts(standin, "/deployments") == 1
    by_role = {h.roles[0]: h for h in resources.hosts}
    assert by_role["compute"].extra["g5k_node"] == "parasilo-1.rennes.grid5000.fr"
    assert by_role["control"].address == standin.addresses["paravance-1.rennes.grid5000.fr"]
    assert by_role["control"].interfaces == {"network_interface": "eth0",
                                             "neutron_external_interface": "eth0"}
    assert by_role["control"].user == "root"
    assert by_role["control"].keyfile == str(tmp_path / "id_ed25519")
    assert "ProxyJump=alice@access.grid5000.fr:22" in \
        by_role["control"].extra["ansible_ssh_common_args"]
    dep = next(iter(standin.deployments.values()))
    assert dep["key"] == "ssh-ed25519 AAAAtest alice@laptop"
    assert dep["environment"] == "debian9-x64-nfs" and len(dep["nodes"]) == 3
    gateway = g5k.G5kProvider().gateway(resources)
    assert gateway is not None and gateway.proxy_jump() == "alice@access.grid5000.fr:22"
    job = exp.state["g5k"]["jobs"]["rennes"]

    again = g5k.init(config, exp, Plain(quiet=True))  # type: ignore[arg-type]
    assert [h.address for h in again.hosts] == [h.address for h in resources.hosts]
    assert _posts(standin, "/jobs") == 1 and _posts(standin, "/deployments") == 1

    # Another experiment (no state) finds the running job by its name.
    other = _exp(tmp_path, "other")
    g5k.init(config, other, Plain(quiet=True))  # type: ignore[arg-type]
    assert other.state["g5k"]["jobs"]["rennes"] == job
    assert _posts(standin, "/jobs") == 1


def test_classic_ssh_without_gateway_no_deployment(standin: StandIn, tmp_path: Path) -> None:
    config = _config(tmp_path, extra="job_type: allow_classic_ssh\n  gateway: none")
    resources = g5k.init(config, _exp(tmp_path), Plain(quiet=True))  # type: ignore[arg-type]
    assert _posts(standin, "/deployments") == 0
    assert {h.user for h in resources.hosts} == {"alice"}
    assert all("ansible_ssh_common_args" not in h.extra for h in resources.hosts)
    assert g5k.G5kProvider().gateway(resources) is None
    assert next(iter(standin.jobs.values()))["types"] == ["allow_classic_ssh"]


def test_destroy_deletes_the_job_and_only_it(standin: StandIn, tmp_path: Path) -> None:
    g5k.init(_config(tmp_path, "someone-else"), _exp(tmp_path, "a"),  # type: ignore[arg-type]
             Plain(quiet=True))
    exp = _exp(tmp_path, "b")
    g5k.init(_config(tmp_path), exp, Plain(quiet=True))  # type: ignore[arg-type]
    ours = exp.state["g5k"]["jobs"]["rennes"]
    g5k.G5kProvider().destroy(None, exp, exp.resources, Plain(quiet=True))
    states = {uid: j["state"] for uid, j in standin.jobs.items()}
    assert states[ours] == "error"
    assert [s for uid, s in states.items() if uid != ours] == ["running"]
    assert "g5k" not in exp.state
    g5k.G5kProvider().destroy(None, exp, None, Plain(quiet=True))  # nothing left: no call
    # A state whose own record was lost: the jobs of the resources are deleted.
    lost = _exp(tmp_path, "c")
    g5k.init(_config(tmp_path, "lost"), lost, Plain(quiet=True))  # type: ignore[arg-type]
    uid = lost.state["g5k"]["jobs"]["rennes"]
    resources = g5k.init(_config(tmp_path, "lost"), lost,  # type: ignore[arg-type]
                         Plain(quiet=True))
    lost.state.pop("g5k")
    g5k.G5kProvider().destroy(None, lost, resources, Plain(quiet=True))
    assert standin.jobs[uid]["state"] == "error"


def test_missing_and_refused_credentials_name_the_file(
        standin: StandIn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = _config(tmp_path)
    monkeypatch.setenv("G5K_CONFIG", str(tmp_path / "nowhere.yaml"))
    with pytest.raises(ConfigError) as missing:
        g5k.init(config, _exp(tmp_path), Plain(quiet=True))  # type: ignore[arg-type]
    assert "nowhere.yaml" in str(missing.value) and missing.value.exit_code == 2
    conf = tmp_path / "bad.yaml"
    conf.write_text("username: alice\n")
    monkeypatch.setenv("G5K_CONFIG", str(conf))
    with pytest.raises(ConfigError) as nokey:
        g5k.init(config, _exp(tmp_path), Plain(quiet=True))  # type: ignore[arg-type]
    assert "[password]" in str(nokey.value)
    conf.write_text(f"uri: {standin.serve()}\nusername: alice\npassword: wrong\n")
    with pytest.raises(ConfigError) as refused:
        g5k.init(config, _exp(tmp_path), Plain(quiet=True))  # type: ignore[arg-type]
    assert "refused the credentials of 'alice'" in str(refused.value)
    assert "bad.yaml" in str(refused.value)


def test_a_job_in_error_is_reported(standin: StandIn, tmp_path: Path) -> None:
    standin.fail_jobs = True
    with pytest.raises(EnosError, match=r"job 4242 on rennes ended in state 'error'"):
        g5k.init(_config(tmp_path), _exp(tmp_path), Plain(quiet=True))  # type: ignore[arg-type]


def test_timeout_keeps_the_job_for_a_rerun(standin: StandIn, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    standin.step = 3600
    monkeypatch.setattr(g5k, "JOB_TIMEOUT", 0.5)
    exp = _exp(tmp_path)
    with pytest.raises(EnosError, match=r"still 'waiting' after 0s") as err:
        g5k.init(_config(tmp_path), exp, Plain(quiet=True))  # type: ignore[arg-type]
    assert "rerun 'enos up'" in (err.value.hint or "")
    # The id was saved before waiting: a rerun (or a killed enos's) waits for the same job.
    assert Experiment(exp.path).state["g5k"]["jobs"]["rennes"] == 4242
    standin.step = 0.1
    g5k.init(_config(tmp_path), exp, Plain(quiet=True))  # type: ignore[arg-type]
    assert _posts(standin, "/jobs") == 1


def test_failed_deployment_names_the_nodes_and_a_rerun_deploys_again(
        standin: StandIn, tmp_path: Path) -> None:
    standin.fail_nodes = {"parasilo-1.rennes.grid5000.fr"}
    exp = _exp(tmp_path)
    with pytest.raises(EnosError, match="failed on parasilo-1.rennes.grid5000.fr"):
        g5k.init(_config(tmp_path), exp, Plain(quiet=True))  # type: ignore[arg-type]
    standin.fail_nodes = set()
    g5k.init(_config(tmp_path), exp, Plain(quiet=True))  # type: ignore[arg-type]
    assert _posts(standin, "/deployments") == 2 and _posts(standin, "/jobs") == 1


def test_unknown_cluster_and_kavlan_are_refused(standin: StandIn, tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_text(f"provider: {{type: g5k, key: {tmp_path / 'id_ed25519.pub'}}}\n"
                    "resources: {nocluster: {control: 1, network: 1, compute: 1}}\n")
    with pytest.raises(ConfigError, match="no Grid'5000 site has the cluster"):
        g5k.init(load_config(path), _exp(tmp_path), Plain(quiet=True))
    path.write_text("provider:\n  type: g5k\n  resources:\n    machines:\n"
                    "      - {roles: [control, network, compute], cluster: paravance}\n"
                    "    networks: [{id: n1, role: network_interface, type: kavlan}]\n")
    with pytest.raises(NotBuiltError, match="KaVLAN"):
        g5k.init(load_config(path), _exp(tmp_path), Plain(quiet=True))


def test_up_without_credentials_exits_2_naming_the_file(tmp_path: Path) -> None:
    _config(tmp_path)
    env = {**os.environ, "G5K_CONFIG": str(tmp_path / "missing.yaml")}
    proc = run_enos("up", cwd=tmp_path, env=env, check=False)
    assert proc.returncode == 2, proc.stderr
    assert "missing.yaml" in proc.stderr and "no Grid'5000 credentials" in proc.stderr
    assert "Traceback" not in proc.stderr
