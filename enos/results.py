"""An experiment, several, or a campaign, as pandas DataFrames: for notebooks.

::

    import enos.results

    r = enos.results.load("current")            # an experiment, a directory of experiments,
                                                # or a campaign's campaign/<name>/ directory
    r.iterations      # one row per Rally iteration and action (total: the whole iteration)
    r.summary()       # per experiment, run and action: count, failed, median, p95...
    r.events, r.phases, r.metrics, r.outages

Every frame has an ``experiment`` column (the experiment directory's name), so the
experiments of a study concatenate; a campaign adds each point's parameters as columns. It
needs pandas: ``pip install 'enos[analysis]'`` (``install.sh analysis``). The data comes from
:mod:`enos.report.data`, the reader of ``enos report``.
"""

from __future__ import annotations

import datetime as _dt
import functools
from pathlib import Path
from typing import Any

try:
    import pandas as pd
except ImportError as exc:  # pragma: no cover - depends on the installation
    raise ImportError("enos.results needs pandas: pip install 'enos[analysis]' (or run "
                      "install.sh with the analysis extra)") from exc

from enos.report import data

ITERATION_COLUMNS = ["experiment", "run", "session", "scenario", "args", "iteration",
                     "timestamp", "action", "duration", "failed", "error"]
EVENT_COLUMNS = ["experiment", "at", "kind", "name", "event", "detail"]
PHASE_COLUMNS = ["experiment", "name", "started_at", "ended_at", "seconds", "status"]
METRIC_COLUMNS = ["experiment", "metric", "host", "service", "at", "value", "unit"]
OUTAGE_COLUMNS = ["experiment", "service", "host", "start", "end", "seconds", "cause",
                  "fault", "clients"]


def _experiments(path: Path) -> list[tuple[Path, dict[str, Any]]]:
    """The experiments under ``path`` with the columns they add (a campaign point's
    parameters)."""
    import json

    if (path / "state.json").is_file():
        return [(path.resolve(), {})]
    state = path / "campaign.json"
    if state.is_file():
        found: list[tuple[Path, dict[str, Any]]] = []
        seen: set[str] = set()
        points = json.loads(state.read_text()).get("points") or {}
        for index, point in sorted(points.items(), key=lambda kv: int(kv[0])):
            for run in point.get("runs") or []:
                key = f"{run.get('experiment')}:{run.get('session')}"
                if key not in seen and run.get("experiment"):
                    seen.add(key)
                    found.append((Path(run["experiment"]),
                                  {"point": int(index), "repeat": run.get("repeat"),
                                   "session": run.get("session"),
                                   **{f"param:{k}": v for k, v in
                                      (point.get("params") or {}).items()}}))
        return found
    children = sorted(p for p in path.iterdir() if (p / "state.json").is_file()) \
        if path.is_dir() else []
    if not children:
        raise ValueError(f"{path} is not an experiment, a directory of experiments or a "
                         "campaign directory")
    return [(p.resolve(), {}) for p in children]


class Results:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.sources = _experiments(self.path)
        self.notes: list[str] = []

    @functools.cached_property
    def iterations(self) -> pd.DataFrame:
        rows = []
        cache: dict[Path, list[data.BenchRun]] = {}
        for path, extra in self.sources:
            runs = cache.setdefault(path, data.bench_runs(path))
            session = extra.get("session")
            for run in runs:
                if session is not None and run.session != session:
                    continue
                base = {"experiment": path.name, "run": run.run_id, "session": run.session,
                        "scenario": run.scenario, "args": run.label,
                        **{f"arg_{k}": v for k, v in run.args.items()}, **extra}
                for number, it in enumerate(run.iterations):
                    at = pd.Timestamp(it.timestamp, unit="s", tz="UTC")
                    rows.append({**base, "iteration": number, "timestamp": at,
                                 "action": data.TOTAL, "duration": it.duration,
                                 "failed": it.error is not None, "error": it.error})
                    for name, seconds, failed in it.merged():
                        rows.append({**base, "iteration": number, "timestamp": at,
                                     "action": name, "duration": seconds, "failed": failed,
                                     "error": it.error if failed else None})
        return pd.DataFrame(rows, columns=_columns(ITERATION_COLUMNS, rows))

    def summary(self) -> pd.DataFrame:
        """Per experiment, run and action: count, failed, min, median, p90, p95, max, mean."""
        frame = self.iterations
        keys = ["experiment", "run", "scenario", "args", "action"]
        if frame.empty:
            return pd.DataFrame(columns=[*keys, "count", "failed", "min", "median", "p90",
                                         "p95", "max", "mean"])
        grouped = frame.groupby(keys, sort=False)
        out = grouped["duration"].agg(
            count="size", min="min", median="median",
            p90=lambda s: s.quantile(0.9), p95=lambda s: s.quantile(0.95), max="max",
            mean="mean")
        out.insert(1, "failed", grouped["failed"].sum())
        return out.reset_index()

    @functools.cached_property
    def events(self) -> pd.DataFrame:
        rows = []
        for path in self._paths():
            for ev in data.events(path):
                detail = ev.get("detail") or {}
                rows.append({"experiment": path.name, "at": _time(ev.get("at")),
                             "kind": ev.get("kind"), "name": ev.get("name"),
                             "event": detail.get("event"), "detail": detail})
        return pd.DataFrame(rows, columns=EVENT_COLUMNS)

    @functools.cached_property
    def phases(self) -> pd.DataFrame:
        rows = []
        for path in self._paths():
            for phase in data.phases(path, data.events(path)):
                rows.append({"experiment": path.name, "name": phase["name"],
                             "started_at": _time(phase["started_at"]),
                             "ended_at": _time(phase["ended_at"]), "seconds": phase["seconds"],
                             "status": phase["status"]})
        return pd.DataFrame(rows, columns=PHASE_COLUMNS)

    @functools.cached_property
    def metrics(self) -> pd.DataFrame:
        """CPU, memory per service and probe latency from the experiment's Prometheus, while
        it runs (empty, with a note, otherwise)."""
        rows = []
        for path in self._paths():
            times = [t for t in (data.epoch(e.get("at")) for e in data.events(path)) if t]
            if not times:
                continue
            found = data.metrics(path, min(times), max(max(times), _dt.datetime.now(
                _dt.UTC).timestamp()))
            if found.get("note"):
                self.notes.append(f"{path.name}: {found['note']}")
                continue
            for name, metric in found["series"].items():
                for series in metric["series"]:
                    for at, value in series["points"]:
                        rows.append({"experiment": path.name, "metric": name,
                                     "host": series["labels"]["host"],
                                     "service": series["labels"]["service"],
                                     "at": pd.Timestamp(at, unit="s", tz="UTC"),
                                     "value": value, "unit": metric["unit"]})
        return pd.DataFrame(rows, columns=METRIC_COLUMNS)

    @functools.cached_property
    def outages(self) -> pd.DataFrame:
        from enos import outages
        from enos.experiment import Experiment

        rows = []
        for path in self._paths():
            try:
                found = outages.of_experiment(Experiment(path), _dt.UTC)
                timeline = outages.to_json(outages.merge(found), _dt.UTC)
            except Exception as exc:  # noqa: BLE001 - the other experiments still load
                self.notes.append(f"{path.name}: outages not read: {exc}")
                continue
            self.notes += [f"{path.name}: {n}" for n in found.notes]
            for o in timeline["outages"]:
                rows.append({"experiment": path.name, "service": o["service"],
                             "host": o["host"], "start": _time(o["start"]),
                             "end": _time(o["end"]), "seconds": o["seconds"],
                             "cause": o["cause"], "fault": o.get("fault"),
                             "clients": o.get("clients") or []})
        return pd.DataFrame(rows, columns=OUTAGE_COLUMNS)

    def _paths(self) -> list[Path]:
        return list(dict.fromkeys(path for path, _ in self.sources))


def _columns(first: list[str], rows: list[dict[str, Any]]) -> list[str]:
    """The known columns, then the others (arguments, parameters) in the order they come."""
    extra: dict[str, None] = {}
    for row in rows:
        for key in row:
            if key not in first:
                extra[key] = None
    return [*first, *extra]


def _time(value: Any) -> Any:
    moment = data.epoch(value)
    return pd.NaT if moment is None else pd.Timestamp(moment, unit="s", tz="UTC")


def load(path: str | Path) -> Results:
    """The results of an experiment (``current`` works), of a directory of experiments, or of
    a campaign directory (``campaign/<name>/``)."""
    return Results(path)
