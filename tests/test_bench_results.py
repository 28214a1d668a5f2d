"""Rally's JSON reports (recorded from Rally 5.1.1 runs) into summaries; Shaker's skip rule."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from enos.bench import rally, results, shaker
from enos.cli import cli
from enos.experiment import Experiment

DATA = Path(__file__).parent / "data"


def report(name: str) -> dict:
    return json.loads((DATA / "rally" / name).read_text())


def test_parse_passing_report() -> None:
    status, (wl,) = results.parse_rally_report(report("dummy-ok.json"))
    assert status == "finished"
    assert wl.scenario == "Dummy.dummy"
    assert (wl.iterations, wl.failures, wl.pass_sla) == (6, 0, True)
    assert [(a.name, a.depth) for a in wl.actions] == [("foo", 0), ("bar", 1)]
    assert wl.total is not None and wl.total.count == 6
    assert wl.total.median == pytest.approx(0.05, abs=0.01)
    outcome = results.RunOutcome("r", results.OK, workloads=[wl])
    lines = results.render(outcome)
    assert any(line.split()[:2] == ["foo", "6"] for line in lines)
    assert any("-> bar" in line for line in lines)
    assert lines[-1].strip() == "SLA passed (failure_rate, max_avg_duration)"


def test_parse_sla_failure_is_reported() -> None:
    _, (wl,) = results.parse_rally_report(report("dummy-sla-failed.json"))
    assert wl.pass_sla is False
    outcome = results.RunOutcome("r", results.SLA_FAILED, workloads=[wl])
    line = results.render(outcome)[-1]
    assert line.strip().startswith("FAILED SLA: max_avg_duration:")


def test_parse_failed_iterations() -> None:
    _, (wl,) = results.parse_rally_report(report("dummy-failures.json"))
    assert (wl.iterations, wl.failures, wl.pass_sla) == (8, 5, False)
    assert wl.errors and wl.errors[0].startswith("DummyScenarioException: ")
    outcome = results.RunOutcome("r", results.SLA_FAILED, workloads=[wl])
    assert outcome.iterations == 8 and outcome.failures == 5
    text = "\n".join(results.render(outcome))
    assert "8 iterations, 5 failed" in text and "FAILED SLA: failure_rate" in text


def test_parse_empty_report() -> None:
    assert results.parse_rally_report({"tasks": []}) == (None, [])
    outcome = results.RunOutcome("r", results.ERROR, reason="x")
    assert results.sla_line(outcome) == "SLA not evaluated: the run did not finish"


def test_read_openrc_and_clouds_yaml(tmp_path: Path) -> None:
    rc = tmp_path / "admin-openrc"
    rc.write_text("# comment\nexport OS_AUTH_URL=http://10.0.0.1:5000/v3\n"
                  "export OS_PASSWORD='p a$s'\nexport PATH=/x:$PATH\nOS_REGION_NAME=RegionOne\n")
    assert rally.read_openrc(rc) == {"OS_AUTH_URL": "http://10.0.0.1:5000/v3",
                                     "OS_PASSWORD": "p a$s", "OS_REGION_NAME": "RegionOne"}
    clouds = tmp_path / "clouds.yaml"
    clouds.write_text("clouds:\n  enos:\n    auth: {auth_url: 'http://a:5000', username: admin,"
                      " password: pw, project_name: admin}\n    region_name: R1\n")
    env = rally.clouds_to_env(clouds)
    assert env["OS_AUTH_URL"] == "http://a:5000" and env["OS_PASSWORD"] == "pw"
    rc.unlink()
    assert rally.credentials(tmp_path)["OS_REGION_NAME"] == "R1"
    clouds.unlink()
    with pytest.raises(Exception, match="no admin credentials"):
        rally.credentials(tmp_path)


def test_rally_venv_path_follows_constraints() -> None:
    assert rally.venv_path().name == f"rally-{rally.release_id()}"
    pins = rally.CONSTRAINTS.read_text()
    assert "rally==5.1.1" in pins and "rally-openstack==4.1.0" in pins


# -- Shaker ----------------------------------------------------------------------------------
@pytest.mark.parametrize(("cloud", "config", "expected"), [
    (None, None, "unknown"),
    (None, {"deployer": "kolla"}, "kolla"),
    (None, {"deployer": {"type": "kolla"}}, "kolla"),
    ({"deployer": "native"}, {"deployer": {"type": "kolla"}}, "native"),
])
def test_deployer_type(tmp_path: Path, cloud: dict | None, config: dict | None,
                       expected: str) -> None:
    if cloud is not None:
        (tmp_path / "cloud.json").write_text(json.dumps(cloud))
    assert shaker.deployer_type(tmp_path, {"config": config or {}}) == expected


def test_skip_reasons() -> None:
    assert "fake virt driver" in (shaker.skip_reason("native") or "")
    assert "not built" in (shaker.skip_reason("kolla") or "")


def _experiment(tmp_path: Path, deployer: str = "native") -> Experiment:
    exp = Experiment(tmp_path / "enos_xp")
    exp.path.mkdir()
    exp.update(provider="local", config={"deployer": {"type": deployer}})
    exp.mark_done("up")
    exp.mark_done("os")
    exp.mark_done("init")
    return exp


def test_bench_skips_shaker_on_native_deployer(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    import enos.cli

    monkeypatch.setitem(enos.cli.COMMANDS, "bench", ("enos.commands.bench", "bench"))
    exp = _experiment(tmp_path)
    wl = tmp_path / "workload"
    wl.mkdir()
    (wl / "run.yml").write_text(
        "shaker:\n  scenarios:\n    - {name: l3, file: openstack/dense_l3_east_west}\n")
    res = CliRunner().invoke(cli, ["bench", "--workload", str(wl), "-e", str(exp.path)])
    assert res.exit_code == 0, res.output
    assert "skipping 1 Shaker run(s): the 'native' deployer runs Nova with the fake virt" \
        in res.output
    assert "[1/1] shaker l3: skipped" in res.output
    assert "1 skipped" in res.output
    assert "next: 'enos backup'" in res.output
    state = json.loads((exp.path / "state.json").read_text())
    assert state["phases"]["bench"]["skipped"] == 1


def test_bench_needs_init(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import enos.cli

    monkeypatch.setitem(enos.cli.COMMANDS, "bench", ("enos.commands.bench", "bench"))
    exp = _experiment(tmp_path)
    exp.forget("init")
    res = CliRunner().invoke(cli, ["bench", "--workload", str(DATA / "workload"), "-e",
                                   str(exp.path)])
    assert res.exit_code != 0
    assert "enos init" in str(res.exception.hint)  # type: ignore[union-attr]


def test_progress_line_counts_iterations_and_time_left(monkeypatch: pytest.MonkeyPatch) -> None:
    from enos.bench import session
    from enos.bench.workload import Run

    clock = [100.0]
    monkeypatch.setattr(session.time, "monotonic", lambda: clock[0])
    progress = session.Progress(quiet=True, echo=print)
    run = Run(type="rally", scenario="boot", file="b.yml", path=None,
              args={"concurrency": 2, "times": 40})
    progress.start(3, 5, run)
    assert progress._line().startswith("[3/5] rally boot")
    assert "0/40 iterations (0 failed)" in progress._line()
    assert "left" not in progress._line()
    clock[0] += 30.0
    progress.update(10, 1)
    line = progress._line()
    assert "10/40 iterations (1 failed)   30.0s, about 90s left" in line
    progress.update(40, 1)
    assert "left" not in progress._line()
