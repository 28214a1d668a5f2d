"""`enos.results`: experiments whose benchmarks ran with real Rally (Dummy scenarios) as pandas
DataFrames, alone, side by side, and as a campaign."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from enos import events
from enos.bench import rally, session, workload
from enos.experiment import Experiment

pytestmark = pytest.mark.integration

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
    rally.ensure_venv(print)
    root = tmp_path_factory.mktemp("study")
    _experiment(root, "enos_20261122-100000", 5)
    _experiment(root, "enos_20261122-110000", 3)
    return root


def test_iterations_of_one_experiment(study: Path) -> None:
    import enos.results

    exp = study / "enos_20261122-100000"
    r = enos.results.load(exp)
    frame = r.iterations
    random_rows = frame[frame["scenario"] == "random"]
    # 5 iterations x (total + 2 actions).
    assert len(random_rows) == 15
    assert set(random_rows["action"]) == {"total", "action_0", "action_1"}
    assert (random_rows["experiment"] == exp.name).all()
    assert (random_rows["arg_times"] == 5).all() and not random_rows["failed"].any()
    assert str(random_rows["timestamp"].dt.tz) == "UTC"

    # The durations are Rally's: an action's own, a whole iteration's with its idle time.
    run_id = random_rows["run"].iloc[0]
    report = json.loads((exp / "bench" / run_id / "results.json").read_text())
    data = report["tasks"][0]["subtasks"][0]["workloads"][0]["data"]
    totals = random_rows[random_rows["action"] == "total"].sort_values("iteration")
    expected = [it["duration"] + it["idle_duration"] for it in data]
    assert totals["duration"].tolist() == pytest.approx(expected)
    first = data[0]["atomic_actions"][0]
    got = random_rows[(random_rows["iteration"] == 0) & (random_rows["action"] == "action_0")]
    assert got["duration"].iloc[0] == pytest.approx(first["finished_at"] - first["started_at"])

    failing = frame[(frame["scenario"] == "failing") & (frame["action"] == "total")]
    assert failing["failed"].sum() == 2
    assert failing[failing["failed"]]["error"].str.contains("Expected failure").all()

    summary = r.summary()
    row = summary[(summary["scenario"] == "random") & (summary["action"] == "total")].iloc[0]
    assert row["count"] == 5 and row["failed"] == 0
    assert row["median"] == pytest.approx(sorted(expected)[2])


def test_a_directory_of_experiments_concatenates(study: Path) -> None:
    import enos.results

    r = enos.results.load(study)
    frame = r.iterations
    assert set(frame["experiment"]) == {"enos_20261122-100000", "enos_20261122-110000"}
    medians = (frame[frame["action"] == "total"].groupby(["experiment", "scenario"])
               ["duration"].count())
    assert medians[("enos_20261122-110000", "random")] == 3
    phases = r.phases
    assert list(phases["name"]) == ["bench", "bench"] and (phases["status"] == "ok").all()
    kinds = set(r.events["kind"])
    assert {"phase", "bench"} <= kinds
    # No monitoring: no metrics, and a note that says so.
    assert r.metrics.empty and list(r.metrics.columns)[:3] == ["experiment", "metric", "host"]
    assert any("no monitoring" in n for n in r.notes)
    assert r.outages.empty


def test_a_campaign_adds_its_parameters(study: Path, tmp_path: Path) -> None:
    import enos.results

    campaign = tmp_path / "campaign" / "delay"
    campaign.mkdir(parents=True)
    sessions = {}
    for name in ("enos_20261122-100000", "enos_20261122-110000"):
        sessions[name] = (study / name / "bench" / "latest").read_text().strip()
    (campaign / "campaign.json").write_text(json.dumps({"points": {
        "1": {"params": {"network_constraints.default_delay": "0ms"}, "runs": [
            {"repeat": 1, "experiment": str(study / "enos_20261122-100000"),
             "session": sessions["enos_20261122-100000"]}]},
        "2": {"params": {"network_constraints.default_delay": "50ms"}, "runs": [
            {"repeat": 1, "experiment": str(study / "enos_20261122-110000"),
             "session": sessions["enos_20261122-110000"]}]}}}))
    frame = enos.results.load(campaign).iterations
    by_point = frame[frame["action"] == "total"].groupby(
        ["point", "param:network_constraints.default_delay"])["duration"].count()
    assert by_point[(1, "0ms")] == 5 + 5 and by_point[(2, "50ms")] == 3 + 3  # both scenarios


def test_errors_and_the_core_stays_light(tmp_path: Path) -> None:
    import enos.results

    with pytest.raises(ValueError, match="is not an experiment"):
        enos.results.load(tmp_path)
    exp = Experiment(tmp_path / "enos_x")
    exp.path.mkdir()
    exp.update(provider="local")
    events.record(exp, "phase", "up", event="start")
    empty = enos.results.load(exp.path)
    assert empty.iterations.empty and "duration" in empty.iterations.columns
    assert empty.summary().empty
    code = ("import sys, enos.cli, enos.report, enos.campaign.report; "
            "print('pandas' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "False"
