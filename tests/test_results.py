"""`enos.results`: experiments whose benchmarks ran with real Rally (Dummy scenarios) as pandas
DataFrames, alone, side by side, and as a campaign; a journal written by hand; the core of enos
never importing pandas."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from enos import events
from enos.bench import rally, session, workload
from enos.experiment import Experiment

integration = pytest.mark.integration

TASK = """---
Dummy.dummy_random_action:
-
  args: {actions_num: 2, sleep_min: 0.001, sleep_max: 0.01}
  runner: {type: constant, times: {{times}}, concurrency: 1}
"""

FAILING = """---
Dummy.failure:
-
  args: {sleep: 0.001, from_iteration: 1, to_iteration: 2}
  runner: {type: constant, times: {{times}}, concurrency: 1}
"""

FIRST, SECOND = "enos_20261122-100000", "enos_20261122-110000"


def _experiment(root: Path, name: str, times: int) -> Path:
    exp = Experiment(root / name)
    exp.path.mkdir(parents=True)
    exp.update(provider="local")
    exp.begin("bench")
    wl = root / f"workload-{name}"
    wl.mkdir()
    (wl / "random.yml").write_text(TASK)
    (wl / "failing.yml").write_text(FAILING)
    (wl / "run.yml").write_text(
        f"rally:\n  args: {{times: [{times}]}}\n  scenarios:\n"
        "    - {name: random, file: random.yml}\n    - {name: failing, file: failing.yml}\n")
    session.execute(exp, workload.load(wl), say=lambda _m: None, echo=lambda _m: None,
                    quiet=True, credentials={})
    exp.mark_done("bench")
    return exp.path


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two experiments side by side, and the ``current`` link `enos up` leaves beside them."""
    rally.ensure_venv(print)
    root = tmp_path_factory.mktemp("study")
    _experiment(root, FIRST, 5)
    _experiment(root, SECOND, 3)
    (root / "current").symlink_to(SECOND)
    return root


def _rally_data(exp: Path, run_id: str) -> list[dict]:
    report = json.loads((exp / "bench" / run_id / "results.json").read_text())
    return report["tasks"][0]["subtasks"][0]["workloads"][0]["data"]


@integration
def test_iterations_of_one_experiment(study: Path) -> None:
    import enos.results

    exp = study / FIRST
    r = enos.results.load(exp)
    frame = r.iterations
    columns = list(frame.columns)
    assert columns[:6] == ["experiment", "run", "session", "scenario", "args", "arg_times"]
    assert columns[6:] == ["iteration", "timestamp", "action", "duration", "failed", "error"]
    assert r.iterations is frame  # read once
    random_rows = frame[frame["scenario"] == "random"]
    # 5 iterations x (total + 2 actions).
    assert len(random_rows) == 15
    assert set(random_rows["action"]) == {"total", "action_0", "action_1"}
    assert (random_rows["experiment"] == exp.name).all()
    assert (random_rows["arg_times"] == 5).all() and not random_rows["failed"].any()
    assert random_rows["error"].isna().all()
    assert str(frame["timestamp"].dt.tz) == "UTC"
    assert str(frame["duration"].dtype) == "float64" and str(frame["failed"].dtype) == "bool"

    # The durations are Rally's: an action's own, a whole iteration's with its idle time.
    run_id = random_rows["run"].iloc[0]
    data = _rally_data(exp, run_id)
    totals = random_rows[random_rows["action"] == "total"].sort_values("iteration")
    expected = [it["duration"] + it["idle_duration"] for it in data]
    assert totals["duration"].tolist() == pytest.approx(expected)
    assert totals["iteration"].tolist() == [0, 1, 2, 3, 4]
    assert totals["timestamp"].iloc[0].timestamp() == pytest.approx(data[0]["timestamp"])
    for number, it in enumerate(data):
        for action in it["atomic_actions"]:
            got = random_rows[(random_rows["iteration"] == number)
                              & (random_rows["action"] == action["name"])]
            assert got["duration"].tolist() == pytest.approx(
                [action["finished_at"] - action["started_at"]])

    # Dummy.failure fails iterations 1 and 2 (Rally counts from 1): their rows say so.
    failing = frame[frame["scenario"] == "failing"]
    totals = failing[failing["action"] == "total"].sort_values("iteration")
    assert len(totals) == 5
    assert totals["failed"].tolist() == [True, True, False, False, False]
    errors = totals[totals["failed"]]["error"]
    assert errors.str.contains("Expected failure").all()
    assert totals[~totals["failed"]]["error"].isna().all()
    failed_data = [it for it in _rally_data(exp, totals["run"].iloc[0]) if it["error"]]
    assert len(failed_data) == 2

    summary = r.summary()
    row = summary[(summary["scenario"] == "random") & (summary["action"] == "total")].iloc[0]
    assert row["count"] == 5 and row["failed"] == 0
    assert row["median"] == pytest.approx(sorted(expected)[2])
    assert row["max"] == pytest.approx(max(expected))
    row = summary[(summary["scenario"] == "failing") & (summary["action"] == "total")].iloc[0]
    assert row["count"] == 5 and row["failed"] == 2

    # A link to an experiment reads it under its own name.
    linked = enos.results.load(study / "current").iterations
    assert set(linked["experiment"]) == {SECOND}


@integration
def test_a_directory_of_experiments_concatenates(study: Path) -> None:
    import enos.results

    r = enos.results.load(study)
    assert [p.name for p in r.experiments] == [FIRST, SECOND]  # `current` is not read twice
    frame = r.iterations
    assert set(frame["experiment"]) == {FIRST, SECOND}
    totals = frame[frame["action"] == "total"]
    counts = totals.groupby(["experiment", "scenario"])["duration"].count()
    assert counts[(FIRST, "random")] == 5 and counts[(SECOND, "random")] == 3
    medians = totals[totals["scenario"] == "random"].groupby("experiment")["duration"].median()
    assert list(medians.index) == [FIRST, SECOND] and (medians > 0).all()
    assert set(r.summary()["experiment"]) == {FIRST, SECOND}

    phases = r.phases
    assert list(phases["name"]) == ["bench", "bench"] and (phases["status"] == "ok").all()
    assert list(phases["experiment"]) == [FIRST, SECOND]
    evs = r.events
    assert {"phase", "bench"} <= set(evs["kind"]) and set(evs["experiment"]) == {FIRST, SECOND}
    # No monitoring: no metrics, and a note that says so.
    assert r.metrics.empty
    assert list(r.metrics.columns) == ["experiment", "metric", "host", "service", "at",
                                       "value", "unit"]
    assert any("no monitoring" in n for n in r.notes)
    assert r.outages.empty and list(r.outages.columns)[:4] == ["experiment", "service", "host",
                                                               "start"]


@integration
def test_a_campaign_adds_its_parameters(study: Path, tmp_path: Path) -> None:
    import enos.results

    campaign = tmp_path / "campaign" / "delay"
    campaign.mkdir(parents=True)
    sessions = {}
    for name in (FIRST, SECOND):
        sessions[name] = (study / name / "bench" / "latest").read_text().strip()
    (campaign / "campaign.json").write_text(json.dumps({"points": {
        "1": {"params": {"network_constraints.default_delay": "0ms"}, "runs": [
            {"repeat": 1, "experiment": str(study / FIRST), "session": sessions[FIRST]}]},
        "2": {"params": {"network_constraints.default_delay": "50ms"}, "runs": [
            {"repeat": 1, "experiment": str(study / SECOND), "session": sessions[SECOND]}]}}}))
    r = enos.results.load(campaign)
    frame = r.iterations
    assert list(frame.columns)[-3:] == ["point", "repeat",
                                        "param:network_constraints.default_delay"]
    by_point = frame[frame["action"] == "total"].groupby(
        ["point", "param:network_constraints.default_delay"])["duration"].count()
    assert by_point[(1, "0ms")] == 5 + 5 and by_point[(2, "50ms")] == 3 + 3  # both scenarios
    summary = r.summary()
    assert {"point", "repeat", "param:network_constraints.default_delay"} <= set(summary.columns)
    assert len(summary[summary["action"] == "total"]) == 4  # 2 points x 2 scenarios


def test_events_and_phases_of_a_written_journal(tmp_path: Path) -> None:
    import enos.results

    exp = Experiment(tmp_path / "enos_20261122-120000")
    exp.path.mkdir()
    exp.update(provider="local")
    lines = [
        {"at": "2026-11-22T12:00:00.000+01:00", "kind": "command", "name": "up",
         "detail": {"event": "start"}},
        {"at": "2026-11-22T12:00:01.000+01:00", "kind": "phase", "name": "up",
         "detail": {"event": "start"}},
        {"at": "2026-11-22T12:00:31.500+01:00", "kind": "phase", "name": "up",
         "detail": {"event": "end", "seconds": 30.5}},
        {"at": "2026-11-22T12:01:00.000+01:00", "kind": "phase", "name": "os",
         "detail": {"event": "start"}},
        {"at": "2026-11-22T12:02:00.000+01:00", "kind": "command", "name": "os",
         "detail": {"event": "failure", "error": "boom"}},
    ]
    (exp.path / "events.jsonl").write_text(
        "".join(json.dumps(line) + "\n" for line in lines) + "{torn\n")
    events.record(exp, "fault", "nova-api", event="start", action="kill")

    r = enos.results.load(exp.path)
    evs = r.events
    assert list(evs.columns) == ["experiment", "at", "kind", "name", "event", "detail"]
    assert len(evs) == 6 and (evs["experiment"] == exp.path.name).all()
    assert str(evs["at"].dt.tz) == "UTC"
    assert evs["at"].iloc[0].isoformat() == "2026-11-22T11:00:00+00:00"
    assert list(evs["event"]) == ["start", "start", "end", "start", "failure", "start"]
    assert evs["detail"].iloc[4] == {"event": "failure", "error": "boom"}
    assert evs["detail"].iloc[5]["action"] == "kill"

    phases = r.phases
    assert list(phases["name"]) == ["up", "os"]
    assert list(phases["status"]) == ["ok", "failed"]
    assert phases["seconds"].tolist() == pytest.approx([30.5, 60.0])
    assert phases["ended_at"].iloc[1].isoformat() == "2026-11-22T11:02:00+00:00"

    # No bench, no monitoring, no service: empty frames with their columns, notes.
    assert r.iterations.empty and "duration" in r.iterations.columns
    assert r.summary().empty and "median" in r.summary().columns
    assert r.metrics.empty and "value" in r.metrics.columns
    assert r.outages.empty and "cause" in r.outages.columns
    assert any("no monitoring" in n for n in r.notes)


def test_metrics_and_outages_in_long_form(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """What Prometheus and the outage sources answer, as rows (the sources stubbed); one
    experiment whose sources fail leaves a note and the others' rows."""
    import datetime as dt

    import enos.results
    from enos import outages
    from enos.report import data

    good, bad = Experiment(tmp_path / "enos_a"), Experiment(tmp_path / "enos_b")
    for exp in (good, bad):
        exp.path.mkdir()
        exp.update(provider="local")
        events.record(exp, "phase", "bench", at="2026-11-22T12:00:00.000+00:00", event="start")
        events.record(exp, "phase", "bench", at="2026-11-22T12:10:00.000+00:00", event="end",
                      seconds=600.0)
    windows = []

    def metrics(path: Path, since: float, until: float) -> dict:
        if path.name == "enos_b":
            raise RuntimeError("plan unreadable")
        windows.append((since, until))
        labels = {"host": "h1", "service": "nova-api"}
        return {"prometheus": "http://x", "step": 1, "series": {
            "cpu": {"unit": "cores", "series": [
                {"labels": labels, "points": [[since, 0.5], [since + 1, 0.75]]}]},
            "memory": {"unit": "bytes", "series": [
                {"labels": labels, "points": [[since, 1e9]]}]}}}

    start = dt.datetime(2026, 11, 22, 12, 5, tzinfo=dt.UTC)

    def of_experiment(exp: Experiment, tz: dt.tzinfo) -> outages.Found:
        if exp.path.name == "enos_b":
            raise OSError("host out of reach")
        found = outages.Found(notes=["a note of the sources"])
        found.probes.append(outages.Outage("mariadb", "h1", start,
                                           start + dt.timedelta(seconds=4.5), "unreachable",
                                           ["probe failed"], fault=None, probed=True))
        return found

    monkeypatch.setattr(data, "metrics", metrics)
    monkeypatch.setattr(outages, "of_experiment", of_experiment)
    r = enos.results.load(tmp_path)

    frame = r.metrics
    assert windows == [(dt.datetime(2026, 11, 22, 12, tzinfo=dt.UTC).timestamp(),
                        dt.datetime(2026, 11, 22, 12, 10, tzinfo=dt.UTC).timestamp())]
    assert len(frame) == 3 and set(frame["experiment"]) == {"enos_a"}
    cpu = frame[frame["metric"] == "cpu"]
    assert cpu["value"].tolist() == [0.5, 0.75] and set(cpu["unit"]) == {"cores"}
    assert cpu["at"].iloc[0].isoformat() == "2026-11-22T12:00:00+00:00"
    assert (frame["host"] == "h1").all() and (frame["service"] == "nova-api").all()
    assert any(n.startswith("enos_b: metrics not read: plan unreadable") for n in r.notes)

    out = r.outages
    assert len(out) == 1
    row = out.iloc[0]
    assert (row["experiment"], row["service"], row["host"], row["cause"]) == \
        ("enos_a", "mariadb", "h1", "unreachable")
    assert row["start"].isoformat() == "2026-11-22T12:05:00+00:00"
    assert row["seconds"] == pytest.approx(4.5) and row["evidence"] == ["probe failed"]
    assert "enos_a: outages: a note of the sources" in r.notes
    assert any(n.startswith("enos_b: outages not read: host out of reach") for n in r.notes)


def test_what_is_not_an_experiment(tmp_path: Path) -> None:
    import enos.results

    with pytest.raises(ValueError, match="is not an experiment"):
        enos.results.load(tmp_path)
    with pytest.raises(ValueError, match="does not exist"):
        enos.results.load(tmp_path / "missing")
    (tmp_path / "campaign.json").write_text("{not json")
    with pytest.raises(ValueError, match="cannot be read"):
        enos.results.load(tmp_path)


def _python(code: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONSTARTUP"}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=False, env=env)


def test_the_core_never_imports_pandas() -> None:
    out = _python("import sys, enos, enos.cli, enos.report, enos.report.data, "
                  "enos.campaign.report; print('pandas' in sys.modules)")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"
    # The command line, from its table of commands to `enos report`'s.
    out = _python("import sys, enos.cli, enos.commands.report\n"
                  "try:\n    enos.cli.main(['report', '--help'])\n"
                  "except SystemExit:\n    pass\n"
                  "print('pandas' in sys.modules)")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "False"


def test_without_pandas_the_error_says_what_to_install() -> None:
    out = _python("import sys; sys.modules['pandas'] = None; import enos.results")
    assert out.returncode != 0
    assert "ImportError" in out.stderr
    assert "pip install 'enos[analysis]'" in out.stderr
