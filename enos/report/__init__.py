"""``enos report``: what an experiment ran and measured, as pages a person can read.

:func:`build` gathers the experiment into one JSON document (:mod:`enos.report.data` reads the
files), :func:`write` renders it into ``<experiment>/report/``::

    index.html   one self-contained page (styles, scripts and data inlined: it works offline;
                 plots drawn by uPlot, shipped in enos/report/static/)
    report.md    the same tables in Markdown
    report.json  {"experiment", "versions", "phases", "ansible", "bench", "tc", "outages",
                  "metrics", "events", "generated_at"}

``bench`` holds one entry per Rally run: ``{"run", "scenario", "args", "status", "iterations",
"failures", "actions": {NAME: {"count", "failed", "min", "median", "p90", "p95", "max",
"mean"}}, "errors", "sla", "faults"}``, durations in seconds, computed from Rally's own JSON
results. ``outages`` is the timeline of ``enos outages``; ``metrics`` what Prometheus holds
(CPU and memory per service, probe latency), or a note saying why there is none.
"""

from __future__ import annotations

import datetime as _dt
import json
import time
from pathlib import Path
from typing import Any

from enos.report import data

STATIC = Path(__file__).parent / "static"
TEMPLATES = Path(__file__).parent / "templates"
FILES = ("index.html", "report.md", "report.json")
# Raw durations kept per action for the distribution plots of the page (beyond: a sample).
MAX_PLOTTED = 5000


def build(path: Path, *, say: Any = None) -> dict[str, Any]:
    """The report document of the experiment at ``path``."""
    state = data.state_of(path)
    journal = data.events(path)
    runs = data.bench_runs(path)
    ansible = data.ansible_runs(path)
    doc: dict[str, Any] = {
        "generated_at": _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "experiment": _experiment(path, state),
        "versions": data.versions(path),
        "phases": _phases(data.phases(path, journal), ansible),
        "ansible": ansible,
        "bench": [bench_entry(run) for run in runs],
        "tc": [_tc(report) for report in data.tc_tests(path)],
        "events": journal,
    }
    times = [t for t in (data.epoch(e.get("at")) for e in journal) if t is not None]
    since = min(times) if times else time.time() - 3600
    until = max(max(times) if times else since, time.time()) if _running(state) else \
        (max(times) if times else time.time())
    if say:
        say("reading the outages (probes, logs, supervisors)")
    doc["outages"] = _outages(path)
    if say:
        say("reading the metrics")
    doc["metrics"] = data.metrics(path, since, until)
    doc["window"] = {"since": since, "until": until}
    return doc


def _running(state: dict[str, Any]) -> bool:
    return bool((state.get("phases") or {}).get("os"))


def _experiment(path: Path, state: dict[str, Any]) -> dict[str, Any]:
    from enos.model import Resources

    hosts = []
    resources = state.get("resources")
    if isinstance(resources, dict):
        try:
            parsed = Resources.from_dict(resources)
        except (KeyError, TypeError, ValueError):
            parsed = None
        for host in parsed.hosts if parsed else []:
            hosts.append({"alias": host.alias, "address": host.address, "roles": host.roles,
                          "groups": host.groups})
    phases = state.get("phases") or {}
    return {
        "name": path.name,
        "path": str(path),
        "provider": state.get("provider"),
        "deployer": (phases.get("os") or {}).get("deployer") or state.get("deployer_started"),
        "hosts": hosts,
        "reservation_file": state.get("config_file"),
        "reservation": _reservation(path, state),
    }


def _reservation(path: Path, state: dict[str, Any]) -> str | None:
    """reservation.yaml as it is now, its secrets redacted as ``enos backup`` redacts them."""
    from enos.backup import SECRET_FILES
    from enos.backup.redact import Redactor
    from enos.utils.fs import UnreadableFile, read_bounded

    source = state.get("config_file")
    if not source:
        return None
    try:
        text = read_bounded(Path(str(source)), what="reservation.yaml")
    except UnreadableFile:
        return None
    redactor = Redactor()
    for name in SECRET_FILES:
        if (path / name).exists():
            redactor.learn_file(path / name)
    redactor.learn_file(Path(str(source)))
    return "".join(redactor.line(line, config=True) for line in text.splitlines(True))


def _phases(phases: list[dict[str, Any]], ansible: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each phase with the Ansible runs that started during it (their slowest tasks); an
    unfinished phase lasts until the next one begins."""
    for position, phase in enumerate(phases):
        start, end = data.epoch(phase["started_at"]), data.epoch(phase["ended_at"])
        if end is None and position + 1 < len(phases):
            end = data.epoch(phases[position + 1]["started_at"])
        phase["ansible"] = [
            run for run in ansible
            if start is not None and (at := data.epoch(run.get("started_at"))) is not None
            and start <= at and (end is None or at <= end)]
    return phases


def bench_entry(run: data.BenchRun) -> dict[str, Any]:
    stats = run.stats()
    return {
        "run": run.run_id, "session": run.session, "scenario": run.scenario,
        "label": run.label, "args": run.args, "status": run.status, "reason": run.reason,
        "task_id": run.task_id, "started_at": run.started_at, "ended_at": run.ended_at,
        "iterations": stats[data.TOTAL]["count"], "failures": stats[data.TOTAL]["failed"],
        "actions": stats, "errors": run.errors(), "sla": run.sla, "faults": run.faults,
    }


def _tc(report: dict[str, Any]) -> dict[str, Any]:
    from enos.netem import measure

    return {"at": report.get("at"), "constraints_applied": report.get("constraints_applied"),
            "backends": report.get("backends") or {}, "header": measure.HEADER,
            "rows": measure.rows(report), "not_exercised": report.get("not_exercised") or []}


def _outages(path: Path) -> dict[str, Any]:
    from enos import outages
    from enos.experiment import Experiment

    zone = _dt.datetime.now().astimezone().tzinfo
    assert zone is not None
    try:
        found = outages.of_experiment(Experiment(path), zone)
        timeline = outages.to_json(outages.merge(found), zone)
    except Exception as exc:  # noqa: BLE001 - the rest of the report still stands
        return {"note": f"the outages could not be read: {exc}", "outages": [],
                "restarts": [], "upgrades": []}
    timeline["notes"] = found.notes
    return timeline


# -- writing -------------------------------------------------------------------------------------
def plot_data(path: Path, doc: dict[str, Any]) -> dict[str, Any]:
    """What the page's scripts draw: per run and action its sorted durations (for the CDFs),
    the metrics' series and the events."""
    import random

    runs = {}
    for run in data.bench_runs(path):
        actions = {}
        for name, (values, _count, _failed) in run.durations().items():
            if len(values) > MAX_PLOTTED:
                values = random.Random(0).sample(values, MAX_PLOTTED)
            actions[name] = sorted(round(v, 4) for v in values)
        runs[run.run_id] = actions
    return {"runs": runs, "metrics": doc.get("metrics") or {},
            "events": [{"at": data.epoch(e.get("at")), "kind": e.get("kind"),
                        "name": e.get("name"), "event": (e.get("detail") or {}).get("event")}
                       for e in doc["events"]
                       if e.get("kind") in ("phase", "bench", "tc", "fault")]}


def write(path: Path, doc: dict[str, Any], out_dir: Path) -> list[Path]:
    """``index.html``, ``report.md`` and ``report.json`` in ``out_dir``, atomically."""
    from enos.report import render
    from enos.utils.fs import atomic_write, atomic_write_json

    out_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_json(out_dir / "report.json", doc)
    atomic_write(out_dir / "report.md", render.markdown(doc))
    atomic_write(out_dir / "index.html", render.html(doc, plot_data(path, doc)))
    return [out_dir / name for name in FILES]


def to_json(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2, default=str)
