"""`enos report` on an experiment whose benchmarks ran with real Rally (its Dummy scenarios,
which need no cloud), whose phases ran real Ansible, read back and opened in a real browser.

A cloud with monitoring (metrics, probes, outages in the report) is checked in
tests/test_monitoring_local.py, on the cloud that module deploys.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest
from browser import needs_chromium, open_page
from conftest import run_enos

from enos import events
from enos.bench import rally, session, workload
from enos.experiment import Experiment

pytestmark = pytest.mark.integration

RANDOM = """---
Dummy.dummy_random_action:
-
  args: {actions_num: 3, sleep_min: 0.002, sleep_max: 0.03}
  runner: {type: constant, times: {{times}}, concurrency: 1}
  sla: {failure_rate: {max: 0}}
"""

FAILING = """---
Dummy.failure:
-
  args: {sleep: 0.01, from_iteration: 2, to_iteration: 4}
  runner: {type: constant, times: {{times}}, concurrency: 1}
  sla: {failure_rate: {max: 0}}
"""

RUN = """rally:
  args: {times: [12]}
  scenarios:
    - {name: random actions, file: random.yml}
    - {name: failing, file: failing.yml, args: {times: 6}}
"""

SECRET = "s3cr3t-Passw0rd-of-the-registry"


def _experiment(tmp_path: Path) -> Path:
    """An experiment directory as enos leaves it: reservation.yaml, state.json, the journal,
    an Ansible run's timings (real ansible-playbook) and two real Rally runs."""
    from enos.ansible.runner import run_playbook

    cwd = tmp_path / "bed"
    cwd.mkdir()
    reservation = cwd / "reservation.yaml"
    reservation.write_text("provider: {type: local}\nresources: {any: {control: 1}}\n"
                           f"registry: {{type: external, ip: 10.0.0.1, port: 5000, "
                           f"password: {SECRET}}}\n")
    exp = Experiment(cwd / "enos_20261122-100000")
    exp.path.mkdir()
    exp.update(config_file=str(reservation), provider="local",
               resources={"hosts": [{"alias": "control-1", "address": "10.0.0.5",
                                     "roles": ["control"], "groups": ["all"]}],
                          "networks": []})
    exp.link_current(cwd)
    exp.begin("up")
    inventory = tmp_path / "hosts"
    inventory.write_text(f"control-1 ansible_connection=local "
                         f"ansible_python_interpreter={sys.executable}\n")
    playbook = tmp_path / "play.yml"
    playbook.write_text("- hosts: all\n  gather_facts: false\n  tasks:\n"
                        "    - {name: quick, debug: {msg: hi}}\n"
                        "    - {name: slow one, command: sleep 1}\n")
    run_playbook(playbook, inventory, title="check hosts", log_dir=exp.path / "logs",
                 quiet=True)
    exp.mark_done("up", hosts=1)
    wl = tmp_path / "workload"
    wl.mkdir()
    (wl / "run.yml").write_text(RUN)
    (wl / "random.yml").write_text(RANDOM)
    (wl / "failing.yml").write_text(FAILING)
    exp.begin("bench")
    session.execute(exp, workload.load(wl), say=lambda _m: None, echo=lambda _m: None,
                    quiet=True, credentials={})
    exp.mark_done("bench")
    return cwd


@pytest.fixture(scope="module")
def bed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rally.ensure_venv(print)
    return _experiment(tmp_path_factory.mktemp("report"))


def _rally_stats(results: Path) -> dict[str, dict[str, Any]]:
    """Rally's own table (its statistics), by action name."""
    report = json.loads(results.read_text())
    durations = report["tasks"][0]["subtasks"][0]["workloads"][0]["statistics"]["durations"]
    return {row["display_name"]: row["data"] for row in [*durations["atomics"],
                                                          durations["total"]]}


def test_report_files_and_figures(bed: Path) -> None:
    proc = run_enos("report", cwd=bed)
    assert "next: open" in proc.stdout
    out = bed / "current" / "report"
    assert sorted(p.name for p in out.iterdir()) == ["index.html", "report.json", "report.md"]
    doc = json.loads((out / "report.json").read_text())
    assert set(doc) >= {"experiment", "versions", "phases", "bench", "tc", "outages",
                        "events"}
    assert doc["experiment"]["hosts"][0]["alias"] == "control-1"
    assert doc["versions"]["rally"] == "5.1.1" and doc["versions"]["ansible-core"]

    # reservation.yaml is there, its secret is not.
    assert "registry" in doc["experiment"]["reservation"]
    for name in ("report.json", "report.md", "index.html"):
        assert SECRET not in (out / name).read_text(), name

    # Phases from the journal; the Ansible run of `up` with its slowest task first.
    phases = {p["name"]: p for p in doc["phases"]}
    assert phases["up"]["status"] == phases["bench"]["status"] == "ok"
    (run,) = phases["up"]["ansible"]
    assert run["title"] == "check hosts"
    slowest = run["slowest_tasks"]["control-1"][0]
    assert slowest["task"] == "slow one" and slowest["seconds"] >= 1.0

    # Each Rally run, its statistics equal to Rally's own table.
    random_run, failing = doc["bench"]
    assert random_run["scenario"] == "random actions" and random_run["args"] == {"times": 12}
    assert random_run["iterations"] == 12 and random_run["failures"] == 0
    assert set(random_run["actions"]) == {"total", "action_0", "action_1", "action_2"}
    assert random_run["sla"]["pass"] is True
    results = bed / "current" / "bench" / random_run["run"] / "results.json"
    for name, theirs in _rally_stats(results).items():
        ours = random_run["actions"][name]
        assert ours["count"] == theirs["iteration_count"], name
        for key, their_key in (("min", "min"), ("median", "median"), ("p90", "90%ile"),
                               ("p95", "95%ile"), ("max", "max"), ("mean", "avg")):
            assert ours[key] == pytest.approx(theirs[their_key], abs=1.5e-3), (name, key)

    assert failing["iterations"] == 6 and failing["failures"] == 3
    assert failing["sla"]["pass"] is False
    assert failing["errors"][0]["iterations"] == 3
    assert "Expected failure" in failing["errors"][0]["message"]

    md = (out / "report.md").read_text()
    assert "### random actions (times=12)" in md and "| action_0 |" in md
    assert "SLA FAILED: failure_rate" in md
    assert "| slow one |" in md or "| control-1 | slow one |" in md


def test_report_page_is_self_contained(bed: Path) -> None:
    run_enos("report", cwd=bed)
    page = (bed / "current" / "report" / "index.html").read_text()
    # Nothing to fetch: no external script, style, image or font.
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "@import" not in page and "url(http" not in page
    assert len(page.encode()) < 3_000_000


@needs_chromium
def test_report_page_in_chromium(bed: Path, tmp_path: Path) -> None:
    run_enos("report", cwd=bed)
    page = open_page(bed / "current" / "report" / "index.html", tmp_path / "report.png",
                     selectors=("[data-cdf] canvas", "section", "table"))
    assert page.errors == []
    assert page.title == f"Experiment {(bed / 'current').resolve().name}"
    assert page.counts["[data-cdf] canvas"] == 2  # one CDF per Rally run
    assert page.counts["section"] == 7
    assert page.screenshot.stat().st_size > 20_000


@needs_chromium
def test_the_browser_check_sees_a_script_error(tmp_path: Path) -> None:
    """The console check of the page above can fail: a broken script is reported."""
    broken = tmp_path / "broken.html"
    broken.write_text("<!DOCTYPE html><title>x</title><script>undefinedFunction();</script>")
    page = open_page(broken, tmp_path / "broken.png")
    assert any("undefinedFunction" in e for e in page.errors)


def test_report_json_output_and_bad_input(bed: Path, tmp_path: Path) -> None:
    proc = run_enos("report", "--out", "json", cwd=bed)
    assert json.loads(proc.stdout)["experiment"]["name"] == (bed / "current").resolve().name

    other = tmp_path / "elsewhere"
    run_enos("report", "-o", str(other), cwd=bed)
    assert (other / "index.html").is_file()

    bad = run_enos("report", "stray", cwd=bed, check=False)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert "--compare" in bad.stderr

    lonely = run_enos("report", "--compare", "current", cwd=bed, check=False)
    assert lonely.returncode == 2 and "a baseline and at least one other" in lonely.stderr

    empty = tmp_path / "nothing"
    empty.mkdir()
    none = run_enos("report", cwd=empty, check=False)  # as every command without experiment
    assert none.returncode == 1 and "Traceback" not in none.stderr
    assert "no experiment in" in none.stderr


def test_report_of_an_experiment_with_nothing_run(tmp_path: Path) -> None:
    exp = Experiment(tmp_path / "enos_20261122-090000")
    exp.path.mkdir()
    exp.update(provider="local")
    exp.link_current(tmp_path)
    events.record(exp, "phase", "up", event="start")
    run_enos("report", cwd=tmp_path)
    doc = json.loads((tmp_path / "current" / "report" / "report.json").read_text())
    assert doc["bench"] == [] and doc["tc"] == []
    assert doc["phases"][0]["status"] == "unfinished"
    assert "no monitoring" in doc["metrics"]["note"]
    md = (tmp_path / "current" / "report" / "report.md").read_text()
    assert "No Rally run in this experiment" in md


def test_vendored_uplot_is_the_recorded_release() -> None:
    import hashlib

    from enos.report import STATIC

    record = json.loads((STATIC / "VENDORED.json").read_text())["uPlot"]
    for name, digest in record["sha256"].items():
        assert hashlib.sha256((STATIC / name).read_bytes()).hexdigest() == digest, name
    assert "MIT" in (STATIC / "uPlot.LICENSE").read_text()


def test_phases_of_the_journal() -> None:
    """A phase run twice appears twice; one done inside another (monitoring during `enos os`)
    starts at its end less its duration; a failed command fails the phase it had begun."""
    from enos.report import data

    def ev(at: str, kind: str, name: str, **detail: Any) -> dict[str, Any]:
        return {"at": f"2026-11-22T10:{at}.000+00:00", "kind": kind, "name": name,
                "detail": detail}

    journal = [
        ev("00:00", "phase", "os", event="start"),
        ev("01:00", "phase", "monitor", event="end", seconds=20),
        ev("01:30", "phase", "os", event="end", seconds=90),
        ev("02:00", "phase", "bench", event="start"),
        ev("02:10", "command", "bench", event="failure"),
        ev("03:00", "phase", "bench", event="start"),
    ]
    got = [(p["name"], p["started_at"][14:19], p["seconds"], p["status"])
           for p in data.phases(Path("."), journal)]
    assert got == [("os", "00:00", 90.0, "ok"), ("monitor", "00:40", 20.0, "ok"),
                   ("bench", "02:00", 10.0, "failed"), ("bench", "03:00", None, "unfinished")]
