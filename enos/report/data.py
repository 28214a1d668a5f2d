"""What an experiment left, read into plain data: the one loader of ``enos report``,
``enos report --compare`` and :mod:`enos.results`.

Everything here reads the experiment directory only (and Prometheus for metrics, when it
runs): the bench runs from Rally's own JSON results (``bench/<run>/results.json``, not its
HTML), the journal (``events.jsonl``), the Ansible task timings (``logs/*.tasks.json``) and the
``enos tc --test`` reports (``tc_test/<time>/report.json``).

Durations are seconds. Statistics are computed from the iterations as Rally computes its own
table: an iteration's ``total`` is its duration plus its idle time (the scenario's sleeps, such
as the waits between polls of a booting server); an action called several times in one
iteration counts once, its durations summed, under ``NAME (xN)``; failed occurrences count
in the durations too (``failed`` says how many); percentiles interpolate linearly between the
closest ranks.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from enos.errors import EnosError

TOTAL = "total"
# The most iterations read from one run's results (a bound on memory whatever the files).
MAX_ITERATIONS = 1_000_000


@dataclass
class Iteration:
    """One Rally iteration: when it started (epoch), how long it took, its error, and its
    atomic actions as ``(name, seconds or None, failed)`` (nested ones flattened, in order)."""

    timestamp: float
    duration: float | None  # Rally's duration plus idle duration: the whole iteration
    error: str | None
    actions: list[tuple[str, float | None, bool]] = field(default_factory=list)

    def merged(self) -> list[tuple[str, float | None, bool]]:
        """The actions with the occurrences of one name summed (``NAME (xN)`` when N > 1)."""
        sums: dict[str, list[Any]] = {}
        for name, seconds, failed in self.actions:
            entry = sums.setdefault(name, [0.0, 0, False, True])
            entry[0] += seconds or 0.0
            entry[1] += 1
            entry[2] = entry[2] or failed
            entry[3] = entry[3] and seconds is not None
        return [(f"{name} (x{n})" if n > 1 else name, total if known else None, failed)
                for name, (total, n, failed, known) in sums.items()]


@dataclass
class BenchRun:
    """One run of ``enos bench`` (one scenario with one set of arguments)."""

    run_id: str
    session: str
    type: str
    scenario: str
    args: dict[str, Any]
    status: str
    reason: str
    task_id: str | None
    started_at: str | None
    ended_at: str | None
    iterations: list[Iteration] = field(default_factory=list)
    sla: dict[str, Any] = field(default_factory=dict)
    faults: list[dict[str, Any]] = field(default_factory=list)

    @property
    def label(self) -> str:
        args = ", ".join(f"{k}={v}" for k, v in self.args.items())
        return f"{self.scenario} ({args})" if args else self.scenario

    def durations(self) -> dict[str, tuple[list[float], int, int]]:
        """Per action (``total`` first): its durations, how many iterations ran it, how many
        of those failed it."""
        out: dict[str, tuple[list[float], int, int]] = {TOTAL: ([], 0, 0)}
        for it in self.iterations:
            values, count, failed = out[TOTAL]
            if it.duration is not None:
                values.append(it.duration)
            out[TOTAL] = (values, count + 1, failed + (it.error is not None))
            for name, seconds, action_failed in it.merged():
                values, count, failed = out.setdefault(name, ([], 0, 0))
                if seconds is not None:
                    values.append(seconds)
                out[name] = (values, count + 1, failed + action_failed)
        return out

    def stats(self) -> dict[str, dict[str, Any]]:
        """Per action: count, failed, min, median, p90, p95, max, mean (None without a
        successful occurrence)."""
        return {name: {"count": count, "failed": failed, **summary(values)}
                for name, (values, count, failed) in self.durations().items()}

    def errors(self, limit: int = 5) -> list[dict[str, Any]]:
        """The distinct iteration errors with how many iterations had each, most frequent
        first."""
        counts: dict[str, int] = {}
        for it in self.iterations:
            if it.error is not None:
                counts[it.error] = counts.get(it.error, 0) + 1
        ranked = sorted(counts.items(), key=lambda kv: -kv[1])
        return [{"message": m, "iterations": n} for m, n in ranked[:limit]]


def percentile(ordered: list[float], fraction: float) -> float:
    """The percentile of sorted values, linearly interpolated between the closest ranks."""
    k = (len(ordered) - 1) * fraction
    low, high = math.floor(k), math.ceil(k)
    if low == high:
        return ordered[low]
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


def summary(values: list[float]) -> dict[str, float | None]:
    """min, median, p90, p95, max and mean of ``values`` (all None when empty)."""
    if not values:
        return dict.fromkeys(("min", "median", "p90", "p95", "max", "mean"))
    ordered = sorted(values)
    return {"min": ordered[0], "median": percentile(ordered, 0.5),
            "p90": percentile(ordered, 0.9), "p95": percentile(ordered, 0.95),
            "max": ordered[-1], "mean": sum(ordered) / len(ordered)}


# -- the experiment -------------------------------------------------------------------------------
def experiment_dir(name: str | Path, cwd: Path | None = None) -> Path:
    """An experiment directory given as a path, a ``current``-style link, or a name next to
    ``cwd``; a clear error when it is not one."""
    path = Path(name)
    if not path.is_absolute() and cwd is not None and not path.exists():
        path = cwd / path
    path = path.resolve() if path.exists() else path
    if not (path / "state.json").is_file():
        what = "does not exist" if not path.exists() else "holds no state.json"
        raise EnosError(f"'{name}' is not an experiment directory: {path} {what}",
                        "give an enos_<time> directory (or a link to one, such as current)")
    return path


def _json(path: Path) -> Any:
    with contextlib.suppress(OSError, ValueError, RecursionError):
        return json.loads(path.read_text(errors="replace"))
    return None


def state_of(path: Path) -> dict[str, Any]:
    data = _json(path / "state.json")
    return data if isinstance(data, dict) else {}


# -- the bench runs -------------------------------------------------------------------------------
def bench_runs(path: Path) -> list[BenchRun]:
    """Every Rally run of the experiment that left results, in the order they ran."""
    bench = path / "bench"
    out: list[BenchRun] = []
    if not bench.is_dir():
        return out
    for run_dir in sorted(p for p in bench.iterdir() if p.is_dir() and p.name != "sessions"):
        record = _json(run_dir / "run.json")
        if not isinstance(record, dict) or record.get("type", "rally") != "rally":
            continue
        report = _json(run_dir / "results.json")
        iterations, sla = _rally_results(report if isinstance(report, dict) else {})
        out.append(BenchRun(
            run_id=str(record.get("id") or run_dir.name),
            session="-".join(run_dir.name.split("-")[:2]),  # the bench session's stamp
            type="rally", scenario=str(record.get("scenario") or run_dir.name),
            args=dict(record["args"]) if isinstance(record.get("args"), dict) else {},
            status=str(record.get("status") or "unknown"), reason=str(record.get("reason") or ""),
            task_id=record.get("task_id"), started_at=record.get("started_at"),
            ended_at=record.get("ended_at"), iterations=iterations, sla=sla,
            faults=[f for f in record.get("faults") or [] if isinstance(f, dict)],
        ))
    out.sort(key=lambda r: (str(r.started_at or ""), r.run_id))
    return out


def _rally_results(report: dict[str, Any]) -> tuple[list[Iteration], dict[str, Any]]:
    """The iterations and the SLA of the first task of a ``rally task report --json``."""
    iterations: list[Iteration] = []
    criteria: list[dict[str, Any]] = []
    passed = True
    tasks = report.get("tasks") or []
    for subtask in (tasks[0].get("subtasks") or []) if tasks and isinstance(tasks[0], dict) \
            else []:
        for wl in subtask.get("workloads") or []:
            if not isinstance(wl, dict):
                continue
            for item in (wl.get("sla_results") or {}).get("sla") or []:
                criteria.append({"criterion": str(item.get("criterion")),
                                 "success": bool(item.get("success")),
                                 "detail": str(item.get("detail", ""))})
            passed = passed and bool(wl.get("pass_sla", True))
            for raw in wl.get("data") or []:
                if len(iterations) >= MAX_ITERATIONS:
                    break
                if isinstance(raw, dict):
                    iterations.append(_iteration(raw))
    verdict = passed and all(c["success"] for c in criteria)
    return iterations, {"pass": verdict if tasks else None, "criteria": criteria}


def _iteration(raw: dict[str, Any]) -> Iteration:
    error = raw.get("error") or []
    actions: list[tuple[str, float | None, bool]] = []
    _flatten(raw.get("atomic_actions") or [], actions)
    duration, idle = _number(raw.get("duration")), _number(raw.get("idle_duration"))
    return Iteration(
        timestamp=_number(raw.get("timestamp")) or 0.0,
        duration=None if duration is None else duration + (idle or 0.0),
        error=": ".join(str(e) for e in error[:2]) if error else None,
        actions=actions,
    )


def _flatten(nodes: list[Any], out: list[tuple[str, float | None, bool]], depth: int = 0) -> None:
    for node in nodes:
        if not isinstance(node, dict) or depth > 20:
            continue
        start, end = _number(node.get("started_at")), _number(node.get("finished_at"))
        seconds = end - start if start is not None and end is not None else None
        out.append((str(node.get("name")), seconds, bool(node.get("failed"))))
        _flatten(node.get("children") or [], out, depth + 1)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


# -- the journal, the phases, the Ansible timings ----------------------------------------------
def events(path: Path) -> list[dict[str, Any]]:
    from enos import events as journal

    return journal.read(path)


def epoch(at: Any) -> float | None:
    """An ISO time of the journal as epoch seconds (None if it is not one)."""
    try:
        moment = _dt.datetime.fromisoformat(str(at))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.astimezone()
    return moment.timestamp()


def _iso(at: float) -> str:
    from enos import events as journal

    return journal.iso(at)


def phases(path: Path, journal: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each phase run of the journal: name, start, end, seconds, status (``ok``, ``failed``, or
    ``unfinished``: running, or interrupted), in order; a phase run twice appears twice."""
    out: list[dict[str, Any]] = []
    open_: dict[str, dict[str, Any]] = {}
    for ev in journal:
        if ev.get("kind") not in ("phase", "command"):
            continue
        name, detail = str(ev.get("name")), ev.get("detail") or {}
        what = detail.get("event")
        if ev["kind"] == "phase":
            if what == "start":
                open_.pop(name, None)
                open_[name] = {"name": name, "started_at": ev.get("at"), "ended_at": None,
                               "seconds": None, "status": "unfinished"}
                out.append(open_[name])
            elif what == "end" and name in open_:
                phase = open_.pop(name)
                phase.update(ended_at=ev.get("at"), status="ok",
                             seconds=_number(detail.get("seconds")))
            elif what == "end":
                # A phase done inside another (the monitoring deployed by `enos os`): its
                # start is its end less its duration.
                seconds = _number(detail.get("seconds"))
                end = epoch(ev.get("at"))
                start = _iso(end - seconds) if end is not None and seconds is not None \
                    else ev.get("at")
                out.append({"name": name, "started_at": start, "ended_at": ev.get("at"),
                            "seconds": seconds, "status": "ok"})
        elif what == "failure":
            # A command that failed fails the phase it had begun.
            for phase in open_.values():
                phase.update(ended_at=ev.get("at"), status="failed")
            open_.clear()
    out.sort(key=lambda p: epoch(p["started_at"]) or 0.0)
    for phase in out:
        if phase["seconds"] is None:
            start, end = epoch(phase["started_at"]), epoch(phase["ended_at"])
            if start is not None and end is not None:
                phase["seconds"] = round(end - start, 3)
    return out


def ansible_runs(path: Path, slowest: int = 5) -> list[dict[str, Any]]:
    """Each Ansible run's title, start, duration, and per host its ``slowest`` tasks."""
    out = []
    for file in sorted((path / "logs").glob("ansible-*.tasks.json")):
        data = _json(file)
        if not isinstance(data, dict):
            continue
        per_host: dict[str, list[dict[str, Any]]] = {}
        for task in data.get("tasks") or []:
            if isinstance(task, dict) and _number(task.get("seconds")) is not None:
                per_host.setdefault(str(task.get("host")), []).append(task)
        out.append({
            "title": data.get("title"), "started_at": data.get("started_at"),
            "seconds": data.get("seconds"), "returncode": data.get("returncode"),
            "slowest_tasks": {
                host: [{"task": t.get("task"), "seconds": t["seconds"], "status": t.get("status")}
                       for t in sorted(tasks, key=lambda t: -t["seconds"])[:slowest]]
                for host, tasks in sorted(per_host.items())},
        })
    out.sort(key=lambda r: str(r.get("started_at") or ""))
    return out


def tc_tests(path: Path) -> list[dict[str, Any]]:
    """Every ``enos tc --test`` report of the experiment, oldest first."""
    root = path / "tc_test"
    if not root.is_dir():
        return []
    reports = []
    for directory in sorted(p for p in root.iterdir() if p.is_dir() and not p.is_symlink()):
        data = _json(directory / "report.json")
        if isinstance(data, dict) and isinstance(data.get("pairs"), list):
            reports.append(data)
    return reports


# -- versions -------------------------------------------------------------------------------------
def versions(path: Path) -> dict[str, str]:
    """enos, Ansible, Rally and the cloud's versions (the deployer's :meth:`versions`)."""
    from importlib import metadata

    from enos import deployers, plugins
    from enos.bench import rally
    from enos.experiment import Experiment

    out: dict[str, str] = {}
    for dist in ("enos", "ansible-core"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            out[dist] = metadata.version(dist)
    exp = Experiment(path)
    if (path / "bench").is_dir():
        for spec in rally.PACKAGES:
            package, _, version = spec.partition("==")
            out[package] = version
    name = deployers.recorded(exp)
    if name and plugins.registered("deployer", name):
        out["deployer"] = name
        out.update(deployers.load(name).versions(exp))
    return out


# -- metrics --------------------------------------------------------------------------------------
# What the report plots, as Prometheus queries: per host and service (process-exporter), and
# the probes' latency (blackbox exporter).
METRICS = {
    "cpu": ("sum by (host, service) (rate(namedprocess_namegroup_cpu_seconds_total[{rate}]))",
            "cores"),
    "memory": ('sum by (host, service) (namedprocess_namegroup_memory_bytes{{memtype="resident"}})',
               "bytes"),
    "probe_latency": ('probe_duration_seconds{{job=~"probe-.*"}}', "seconds"),
}
MAX_POINTS = 600  # a series' points at most (the step grows with the span)


def metrics(path: Path, since: float, until: float) -> dict[str, Any]:
    """The report's metrics from the experiment's Prometheus, when it runs: per metric, its
    unit, step and series ``{"labels": {host, service}, "points": [[epoch, value], ...]}``;
    ``{"note": why}`` when there are none."""
    import urllib.parse

    from enos import monitoring
    from enos.experiment import Experiment
    from enos.monitoring.section import seconds

    plan = monitoring.saved_plan(Experiment(path))
    if not plan or not plan.get("prometheus"):
        return {"note": "no monitoring in this experiment ('enos monitor' adds it)"}
    url = str(plan["prometheus"])
    scrape = seconds(str(plan.get("scrape_interval") or "1s"))
    slow = seconds(str(plan.get("slow_scrape_interval") or "5s"))
    step = max(scrape, math.ceil((until - since) / MAX_POINTS))
    out: dict[str, Any] = {"prometheus": url, "step": step, "series": {}}
    for name, (query, unit) in METRICS.items():
        expr = query.format(rate=f"{int(max(step, slow) * 4)}s")
        args = urllib.parse.urlencode({"query": expr, "start": f"{since:.3f}",
                                       "end": f"{until:.3f}", "step": f"{step:g}"})
        try:
            result = monitoring.api(url, f"/api/v1/query_range?{args}", timeout=30)
        except EnosError as exc:
            return {"note": f"Prometheus does not answer ({exc.message}); start the cloud's "
                            "monitoring again ('enos monitor') to plot its metrics"}
        series: list[dict[str, Any]] = []
        for item in (result or {}).get("result") or []:
            labels = item.get("metric") or {}
            points = [[float(t), float(v)] for t, v in item.get("values") or []
                      if v not in ("NaN", "+Inf", "-Inf")]
            series.append({"labels": {k: str(labels.get(k, "")) for k in ("host", "service")},
                           "points": points})
        series.sort(key=lambda s: (s["labels"]["service"], s["labels"]["host"]))
        out["series"][name] = {"unit": unit, "series": series}
    return out
