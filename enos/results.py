"""An experiment, several, or a campaign, as pandas DataFrames: for notebooks.

::

    import enos.results

    r = enos.results.load("current")            # an experiment, a directory of experiments,
                                                # or a campaign's campaign/<name>/ directory
    r.iterations      # one row per Rally iteration and action (total: the whole iteration)
    r.summary()       # per experiment, run and action: count, failed, median, p95...
    r.events, r.phases, r.metrics, r.outages
    r.notes           # what could not be read (no monitoring, a host out of reach...)

Every frame has an ``experiment`` column (the experiment directory's name), so the
experiments of a study concatenate; a campaign adds each point's parameters as columns
(``point``, ``repeat``, ``param:<dotted key>``). Each frame is read when first asked for, then
kept. Times are pandas timestamps in UTC, durations seconds.

It needs pandas: ``pip install 'enos[analysis]'`` (``install.sh analysis``). The data comes
from :mod:`enos.report.data`, the reader of ``enos report``; ``enos`` itself never imports this
module.
"""

from __future__ import annotations

import datetime as _dt
import functools
import json
from pathlib import Path
from typing import Any

try:
    import pandas as pd
except ImportError as exc:  # pragma: no cover - depends on the installation
    raise ImportError("enos.results needs pandas: pip install 'enos[analysis]' (or run "
                      "install.sh with the analysis extra: bash install.sh analysis)") from exc

from enos.report import data

ITERATION_COLUMNS = ["experiment", "run", "session", "scenario", "args", "iteration",
                     "timestamp", "action", "duration", "failed", "error"]
EVENT_COLUMNS = ["experiment", "at", "kind", "name", "event", "detail"]
PHASE_COLUMNS = ["experiment", "name", "started_at", "ended_at", "seconds", "status"]
METRIC_COLUMNS = ["experiment", "metric", "host", "service", "at", "value", "unit"]
OUTAGE_COLUMNS = ["experiment", "service", "host", "start", "end", "seconds", "cause",
                  "fault", "clients", "evidence"]
SUMMARY_COLUMNS = ["count", "failed", "min", "median", "p90", "p95", "max", "mean"]
# The columns a campaign adds to each row of its runs (and the ``param:<key>`` ones).
CAMPAIGN_COLUMNS = ["point", "repeat"]


def load(path: str | Path) -> Results:
    """The results of an experiment (a link such as ``current`` works), of a directory of
    experiments (its ``enos_*`` children), or of a campaign directory (``campaign/<name>/``,
    which holds ``campaign.json``). Nothing is read until a frame is asked for."""
    return Results(path)


class Results:
    """The frames of one or several experiments; ``notes`` says what could not be read."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        # Each source: an experiment directory and the columns it adds to its runs' rows
        # (with ``session``: only that bench session's runs, for a campaign's points).
        self.sources = _experiments(self.path)
        self.notes: list[str] = []
        self._journals: dict[Path, list[dict[str, Any]]] = {}

    def __repr__(self) -> str:
        names = ", ".join(path.name for path in self.experiments)
        return f"<enos.results.Results of {self.path}: {names or 'no experiment'}>"

    @property
    def experiments(self) -> list[Path]:
        """The experiment directories read, each once, in order."""
        return list(dict.fromkeys(path for path, _ in self.sources))

    # -- the benchmarks --------------------------------------------------------------------------
    @functools.cached_property
    def iterations(self) -> pd.DataFrame:
        """One row per Rally iteration and action (``total``: the whole iteration, its idle
        time included): experiment, run, session, scenario, args (the run's label),
        ``arg_<name>`` per argument, iteration (from 0), timestamp (its start), action,
        duration (seconds; NaN when Rally has none), failed, error (the iteration's, on its
        failed rows)."""
        rows: list[dict[str, Any]] = []
        runs_of: dict[Path, list[data.BenchRun]] = {}
        for path, extra in self.sources:
            if path not in runs_of:
                runs_of[path] = data.bench_runs(path)
            session = extra.get("session")
            added = {k: v for k, v in extra.items() if k != "session"}
            for run in runs_of[path]:
                if session is not None and run.session != session:
                    continue
                base = {"experiment": path.name, "run": run.run_id, "session": run.session,
                        "scenario": run.scenario, "args": run.label,
                        **{f"arg_{k}": v for k, v in run.args.items()}, **added}
                rows.extend(_iteration_rows(base, run))
        frame = pd.DataFrame(rows, columns=_columns(rows))
        return frame.astype({"iteration": "int64", "duration": "float64", "failed": "bool"}) \
            .assign(timestamp=pd.to_datetime(frame["timestamp"], utc=True))

    def summary(self) -> pd.DataFrame:
        """Per experiment, run and action (and a campaign's point): count, failed, min, median,
        p90, p95, max, mean of the durations, as ``enos report`` computes them (failed
        occurrences included; percentiles interpolated between the closest ranks)."""
        frame = self.iterations
        keys = ["experiment", *[c for c in frame.columns if _campaign_column(c)], "run",
                "scenario", "args", "action"]
        if frame.empty:
            return pd.DataFrame(columns=[*keys, *SUMMARY_COLUMNS])
        grouped = frame.groupby(keys, sort=False, dropna=False)
        out = grouped["duration"].agg(
            count="size", min="min", median="median",
            p90=lambda s: s.quantile(0.9), p95=lambda s: s.quantile(0.95), max="max",
            mean="mean")
        out.insert(1, "failed", grouped["failed"].sum())
        return out.reset_index()

    # -- the journal -----------------------------------------------------------------------------
    @functools.cached_property
    def events(self) -> pd.DataFrame:
        """Every event of the journals: experiment, at, kind, name, event (``detail.event``:
        start, end, failure...), detail (the whole detail, a dict)."""
        rows = []
        for path in self.experiments:
            for ev in self._journal(path):
                detail = ev.get("detail")
                detail = detail if isinstance(detail, dict) else {}
                rows.append({"experiment": path.name, "at": _time(ev.get("at")),
                             "kind": ev.get("kind"), "name": ev.get("name"),
                             "event": detail.get("event"), "detail": detail})
        return _timed(pd.DataFrame(rows, columns=EVENT_COLUMNS), "at")

    @functools.cached_property
    def phases(self) -> pd.DataFrame:
        """Each phase run: experiment, name, started_at, ended_at, seconds, status (ok,
        failed, unfinished)."""
        rows = []
        for path in self.experiments:
            for phase in data.phases(path, self._journal(path)):
                rows.append({"experiment": path.name, "name": phase["name"],
                             "started_at": _time(phase["started_at"]),
                             "ended_at": _time(phase["ended_at"]), "seconds": phase["seconds"],
                             "status": phase["status"]})
        frame = _timed(pd.DataFrame(rows, columns=PHASE_COLUMNS), "started_at", "ended_at")
        return frame.astype({"seconds": "float64"})

    # -- what the monitoring saw -----------------------------------------------------------------
    @functools.cached_property
    def metrics(self) -> pd.DataFrame:
        """CPU (cores) and resident memory (bytes) per host and service, and the probes'
        latency (seconds), from the experiment's Prometheus while it runs, over the journal's
        span (first to last event), in long form: experiment, metric, host, service, at,
        value, unit. Empty, with a note, without monitoring or when Prometheus is gone."""
        rows = []
        for path in self.experiments:
            times = [t for t in (data.epoch(e.get("at")) for e in self._journal(path))
                     if t is not None]
            if not times:
                self.notes.append(f"{path.name}: metrics: the journal is empty")
                continue
            try:
                found = data.metrics(path, min(times), max(times))
            except Exception as exc:  # noqa: BLE001 - the other experiments still load
                self.notes.append(f"{path.name}: metrics not read: {exc}")
                continue
            if found.get("note"):
                self.notes.append(f"{path.name}: {found['note']}")
                continue
            for name, metric in found["series"].items():
                for series in metric["series"]:
                    for at, value in series["points"]:
                        rows.append({"experiment": path.name, "metric": name,
                                     "host": series["labels"]["host"],
                                     "service": series["labels"]["service"],
                                     "at": _epoch(at),
                                     "value": value, "unit": metric["unit"]})
        frame = _timed(pd.DataFrame(rows, columns=METRIC_COLUMNS), "at")
        return frame.astype({"value": "float64"})

    @functools.cached_property
    def outages(self) -> pd.DataFrame:
        """Each outage as ``enos outages`` finds it (probes, logs, supervisors' histories,
        faults, merged): experiment, service, host, start, end (NaT: still out), seconds,
        cause, fault, clients (those that logged errors), evidence (a few lines)."""
        from enos import outages
        from enos.experiment import Experiment

        # Logs that write times without a zone wrote this machine's, as the command reads them.
        zone = _dt.datetime.now().astimezone().tzinfo or _dt.UTC
        rows = []
        for path in self.experiments:
            try:
                found = outages.of_experiment(Experiment(path), zone)
                timeline = outages.to_json(outages.merge(found), zone)
            except Exception as exc:  # noqa: BLE001 - the other experiments still load
                self.notes.append(f"{path.name}: outages not read: {exc}")
                continue
            self.notes += [f"{path.name}: outages: {n}" for n in found.notes]
            for o in timeline["outages"]:
                rows.append({"experiment": path.name, "service": o["service"],
                             "host": o["host"], "start": _time(o["start"]),
                             "end": _time(o["end"]), "seconds": o["seconds"],
                             "cause": o["cause"], "fault": o.get("fault"),
                             "clients": list(o.get("clients") or []),
                             "evidence": list(o.get("evidence") or [])})
        frame = _timed(pd.DataFrame(rows, columns=OUTAGE_COLUMNS), "start", "end")
        return frame.astype({"seconds": "float64"})

    def _journal(self, path: Path) -> list[dict[str, Any]]:
        if path not in self._journals:
            self._journals[path] = data.events(path)
        return self._journals[path]


# -- reading --------------------------------------------------------------------------------------
def _experiments(path: Path) -> list[tuple[Path, dict[str, Any]]]:
    """The experiments under ``path``, each with the columns it adds (a campaign point's)."""
    if (path / "state.json").is_file():
        return [(path.resolve(), {})]
    if (path / "campaign.json").is_file():
        return _campaign(path / "campaign.json")
    children = [p for p in sorted(path.iterdir()) if (p / "state.json").is_file()] \
        if path.is_dir() else []
    if not children:
        what = "does not exist" if not path.exists() else \
            "holds no state.json, no experiment directory and no campaign.json"
        raise ValueError(f"{path} is not an experiment, a directory of experiments or a "
                         f"campaign directory: it {what}")
    # A link such as ``current`` names an experiment already listed: each is read once.
    return [(p, {}) for p in sorted({child.resolve() for child in children})]


def _campaign(file: Path) -> list[tuple[Path, dict[str, Any]]]:
    """Each bench session a campaign ran, in the order of its points, with the point's index,
    the repetition and the parameters."""
    try:
        state = json.loads(file.read_text(errors="replace"))
    except (OSError, ValueError, RecursionError) as exc:
        raise ValueError(f"{file} cannot be read: {exc}") from None
    points = state.get("points") if isinstance(state, dict) else None
    if not isinstance(points, dict):
        raise ValueError(f"{file} is not a campaign's state: it has no points")
    found: list[tuple[Path, dict[str, Any]]] = []
    seen: set[tuple[str, str]] = set()
    for index, point in sorted(points.items(), key=lambda kv: _index(kv[0])):
        if not isinstance(point, dict):
            continue
        params = point.get("params")
        params = params if isinstance(params, dict) else {}
        for run in point.get("runs") or []:
            if not isinstance(run, dict) or not run.get("experiment"):
                continue
            key = (str(run["experiment"]), str(run.get("session")))
            if key in seen:
                continue
            seen.add(key)
            found.append((Path(run["experiment"]),
                          {"point": _index(index), "repeat": run.get("repeat"),
                           "session": run.get("session"),
                           **{f"param:{k}": v for k, v in params.items()}}))
    return found


def _index(key: str) -> int:
    return int(key) if str(key).isdigit() else -1


def _iteration_rows(base: dict[str, Any], run: data.BenchRun) -> list[dict[str, Any]]:
    rows = []
    for number, it in enumerate(run.iterations):
        at = _epoch(it.timestamp)
        rows.append({**base, "iteration": number, "timestamp": at, "action": data.TOTAL,
                     "duration": it.duration, "failed": it.error is not None,
                     "error": it.error})
        for name, seconds, failed in it.merged():
            rows.append({**base, "iteration": number, "timestamp": at, "action": name,
                         "duration": seconds, "failed": failed,
                         "error": it.error if failed else None})
    return rows


def _campaign_column(name: str) -> bool:
    return name in CAMPAIGN_COLUMNS or name.startswith("param:")


def _columns(rows: list[dict[str, Any]]) -> list[str]:
    """The iteration frame's columns: the run's (its arguments after ``args``), the
    iteration's, then a campaign's."""
    args: dict[str, None] = {}
    added: dict[str, None] = {}
    for row in rows:
        for key in row:
            if key.startswith("arg_"):
                args[key] = None
            elif _campaign_column(key):
                added[key] = None
    cut = ITERATION_COLUMNS.index("args") + 1
    return [*ITERATION_COLUMNS[:cut], *args, *ITERATION_COLUMNS[cut:], *added]


def _time(value: Any) -> Any:
    """A time of the journal (ISO; one without a zone is this machine's) in UTC, or NaT."""
    if value is None:
        return pd.NaT
    try:
        moment = _dt.datetime.fromisoformat(str(value))
    except ValueError:
        return pd.NaT
    return pd.Timestamp(moment if moment.tzinfo else moment.astimezone()).tz_convert("UTC")


def _epoch(seconds: float) -> pd.Timestamp:
    """Epoch seconds in UTC, to the microsecond."""
    return pd.Timestamp(_dt.datetime.fromtimestamp(seconds, _dt.UTC))


def _timed(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    """``frame`` with these columns as UTC times (also when it is empty)."""
    return frame.assign(**{c: pd.to_datetime(frame[c], utc=True) for c in columns})
