"""Real Rally (its own virtualenv, built on first use) running Rally's Dummy scenarios.

Dummy scenarios need no cloud: the Rally environment has no platform. This checks everything
of `enos bench` but the cloud: the virtualenv, database, environment, task arguments, tags,
reports, statuses (ok, FAILED SLA, refused task) and the files each run leaves.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from enos.bench import rally, session, workload
from enos.bench.results import ERROR, OK, SLA_FAILED
from enos.experiment import Experiment

pytestmark = pytest.mark.integration

DUMMY = """{% set sla_max_avg_duration = sla_max_avg_duration or 60 %}
---
Dummy.dummy:
-
  args:
    sleep: {{ sleep | default(0.01) }}
  runner:
    concurrency: {{concurrency}}
    times: {{times}}
    type: "constant"
  sla:
    max_avg_duration: {{sla_max_avg_duration}}
    failure_rate:
      max: 0
"""

RUN = """rally:
  args:
    concurrency: [1, 2]
    times: [4]
  scenarios:
    - name: dummy
      file: dummy.yml
    - name: slow
      file: dummy.yml
      args: {sleep: 0.05, sla_max_avg_duration: 0.01, concurrency: 2}
    - name: broken
      file: broken.yml
      args: {concurrency: 1}
    - name: plugin
      file: plugged.yml
      plugin: plugins/
      args: {concurrency: 1}
"""

PLUGIN = '''from rally.task import atomic, scenario


@scenario.configure(name="EnosTest.hello")
class Hello(scenario.Scenario):
    def run(self):
        with atomic.ActionTimer(self, "hello"):
            pass
'''

PLUGGED = """---
EnosTest.hello:
-
  runner: {type: constant, times: {{times}}, concurrency: {{concurrency}}}
  sla: {failure_rate: {max: 0}}
"""


@pytest.fixture(scope="module")
def venv() -> Path:
    return rally.ensure_venv(print)


def test_session_with_real_rally(tmp_path: Path, venv: Path) -> None:
    wl_dir = tmp_path / "workload"
    (wl_dir / "plugins").mkdir(parents=True)
    (wl_dir / "run.yml").write_text(RUN)
    (wl_dir / "dummy.yml").write_text(DUMMY)
    (wl_dir / "broken.yml").write_text("---\nDummy.nope:\n-\n  runner: {times: {{times}}}\n")
    (wl_dir / "plugged.yml").write_text(PLUGGED)
    (wl_dir / "plugins" / "hello.py").write_text(PLUGIN)
    wl = workload.load(wl_dir)
    assert len(wl.runs) == 5

    exp = Experiment(tmp_path / "xp")
    exp.path.mkdir()
    lines: list[str] = []
    result = session.execute(exp, wl, say=lines.append, echo=lines.append, quiet=False,
                             credentials={})
    statuses = [o.status for o in result.outcomes]
    assert statuses == [OK, OK, SLA_FAILED, ERROR, OK], "\n".join(lines)

    first = result.outcomes[0]
    run_dir = exp.path / "bench" / first.run_id
    assert first.run_id.endswith("-01-rally-dummy")
    assert first.iterations == 4 and first.failures == 0 and first.task_id
    for name in ("run.json", "args.json", "task.yml", "rally.log", "results.json",
                 "report.html"):
        assert (run_dir / name).is_file(), name
    record = json.loads((run_dir / "run.json").read_text())
    assert record["task_id"] == first.task_id and record["status"] == OK
    assert record["args"] == {"concurrency": 1, "times": 4}
    assert json.loads((run_dir / "args.json").read_text()) == {"concurrency": 1, "times": 4}
    report = json.loads((run_dir / "results.json").read_text())
    assert report["tasks"][0]["tags"] == [first.run_id]
    assert "<html" in (run_dir / "report.html").read_text()[:2000].lower()
    assert 0 < first.tool_seconds <= first.seconds

    text = "\n".join(lines)
    assert "[1/5] rally dummy (concurrency=1, times=4): ok" in text
    assert "FAILED SLA: max_avg_duration" in text
    assert "ERROR: Rally refused the task" in text
    assert result.outcomes[4].workloads[0].actions[0].name == "hello"  # the plugin ran

    index = json.loads((exp.path / "bench" / "sessions" / f"{result.stamp}.json").read_text())
    assert [r["status"] for r in index["runs"]] == statuses
    assert (exp.path / "bench" / "sessions" / f"{result.stamp}-run.yml").read_text() == RUN

    # Same credentials: the environment is kept; --reset makes database and environment anew.
    r = rally.Rally(exp.path / "bench", venv)
    assert r.setup({}) == "ok"
    assert r.setup({}, reset=True) == "reset"
    assert r.setup({}) == "ok"
    # Other credentials: another environment, the first one's tasks kept.
    with pytest.raises(Exception, match="Rally cannot use the cloud at http://127.0.0.1:9"):
        r.setup({"OS_AUTH_URL": "http://127.0.0.1:9/v3", "OS_USERNAME": "admin",
                 "OS_PASSWORD": "x", "OS_PROJECT_NAME": "admin",
                 "OS_USER_DOMAIN_NAME": "Default", "OS_PROJECT_DOMAIN_NAME": "Default"})
    assert json.loads((exp.path / "bench" / "rally-env.json").read_text())["name"] \
        == "enos-no-cloud"


def test_rally_config_reaches_rally(tmp_path: Path, venv: Path) -> None:
    """run.yml's rally.config lands in rally.conf, and Rally reads it (debug: RALLYDEBUG lines)."""
    wl_dir = tmp_path / "workload"
    wl_dir.mkdir()
    (wl_dir / "dummy.yml").write_text(DUMMY)
    run = ("rally:\n  config:\n    DEFAULT: {debug: true}\n"
           "    openstack: {nova_server_boot_poll_interval: 0.25}\n"
           "  scenarios:\n    - {name: dummy, file: dummy.yml, "
           "args: {concurrency: 1, times: 1}}\n")
    (wl_dir / "run.yml").write_text(run)
    exp = Experiment(tmp_path / "xp")
    exp.path.mkdir()
    lines: list[str] = []
    result = session.execute(exp, workload.load(wl_dir), say=lines.append,
                             echo=lines.append, credentials={})
    assert [o.status for o in result.outcomes] == [OK], "\n".join(lines)
    conf = (exp.path / "bench" / "rally.conf").read_text()
    assert "[DEFAULT]\nuse_stderr = true\ndebug = true\n" in conf
    assert "[openstack]\nnova_server_boot_poll_interval = 0.25\n" in conf
    log = (exp.path / "bench" / result.outcomes[0].run_id / "rally.log").read_text()
    assert " RALLYDEBUG " in log

    # Without the option, the file is written back without it, and Rally logs no debug line.
    (wl_dir / "run.yml").write_text(run.replace("    DEFAULT: {debug: true}\n", ""))
    result = session.execute(exp, workload.load(wl_dir), say=lines.append,
                             echo=lines.append, credentials={})
    assert "debug" not in (exp.path / "bench" / "rally.conf").read_text()
    log = (exp.path / "bench" / result.outcomes[0].run_id / "rally.log").read_text()
    assert " RALLYDEBUG " not in log
