"""``enos report --compare``: whether other experiments ran faster or slower than a baseline.

:func:`compare` reads the baseline and each other experiment with :mod:`enos.report.data` and
builds one JSON document; :func:`write` renders it into a directory (``index.html``,
``report.md``, ``report.json``); :func:`run_compare` is what the command line calls.

Runs are matched across experiments by scenario and arguments (the run's label): the
iterations of every run of one label within one experiment are pooled. For each label and
atomic action (``total`` is the whole iteration) the medians and 95th percentiles are set side
by side with the difference against the baseline (other - baseline), and a bootstrap interval
of the difference of medians gives the verdict: ``slower`` when the whole interval is above 0,
``faster`` when it is below, else ``no significant difference``.

The bootstrap resamples each side with replacement (same size as the side), takes the
difference of the resamples' medians, ``resamples`` times, and keeps the 2.5th and 97.5th
percentiles. A resample's median is the value at the median of ``n`` indices drawn uniformly
with replacement; the k-th smallest of ``n`` uniform draws on [0, 1) follows the Beta(k, n + 1 - k)
distribution, so the median index is drawn directly, without drawing the ``n`` indices (the same
distribution as resampling in full, in a time that does not grow with ``n``). Each comparison
draws from its own ``random.Random(seed)``: the numbers do not depend on what else is compared.

The JSON document, durations in seconds::

    {"generated_at": ISO time,
     "baseline": {"path", "name"},
     "others": [{"path", "name"}, ...],
     "method": "bootstrap of the difference of medians (other - baseline)",
     "resamples": 10000, "seed": 0, "confidence": 0.95,
     "differences": {
        "config":   [{"other", "key" (dotted path), "baseline", "other_value",
                      "secret"}, ...],     # values as JSON text, null when absent,
                                           # "<redacted>" for secret keys
        "versions": [{"other", "component", "baseline", "other_value"}, ...],
        "workload": [{"other", "run", "what"}, ...]},   # a run's scenario file differs
     "comparisons": [{"other", "run" (the label), "scenario", "args", "action",
                      "baseline":    {"runs", "count", "failed", "median", "p95"} or null,
                      "other_stats": {"runs", "count", "failed", "median", "p95"} or null,
                      "pooled": {"baseline": [run ids], "other": [run ids]},
                      "difference": {"median", "median_pct", "p95"} or null,
                      "ci": [low, high] or null,
                      "verdict": "faster" | "slower" | "no significant difference" | null,
                      "missing": "baseline" | "other" | null,
                      "note": why there is no verdict, or null}, ...],
     "notes": [what could not be compared, and why]}

``runs`` is how many runs were pooled, ``count`` how many times the action ran, ``failed`` how
many of those failed; medians and percentiles are those of the successful occurrences.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from enos.errors import EnosError, UsageError
from enos.report import data

RESAMPLES = 10_000
SEED = 0
CONFIDENCE = 0.95
METHOD = "bootstrap of the difference of medians (other - baseline)"
FASTER, SLOWER, SAME = "faster", "slower", "no significant difference"
FILES = ("index.html", "report.md", "report.json")
TEMPLATES = Path(__file__).parent / "templates"
MAX_RESAMPLES = 1_000_000
MAX_OTHERS = 50
MAX_VALUE_CHARS = 300  # a configuration value longer than this is shown cut
MAX_TASK_BYTES = 1 << 20  # a run's task.yml read to tell whether two runs ran the same file
REDACTED = "<redacted>"


# -- the bootstrap --------------------------------------------------------------------------------
def _resampled_median(ordered: Sequence[float], rng: random.Random) -> float:
    """The median of one resample (with replacement, same size) of the sorted ``ordered``."""
    n = len(ordered)
    k = (n + 1) // 2  # the rank (from 1) of the median, or of the lower middle value
    u = rng.betavariate(k, n + 1 - k)  # the k-th smallest of n uniform draws
    low = ordered[min(int(u * n), n - 1)]
    if n % 2:
        return low
    # The next draw up: the smallest of the n - k draws above u, uniform on [u, 1).
    v = u + (1.0 - u) * (1.0 - rng.random() ** (1.0 / (n - k)))
    return (low + ordered[min(int(v * n), n - 1)]) / 2


def bootstrap(baseline: Sequence[float], other: Sequence[float], *,
              resamples: int = RESAMPLES, seed: int = SEED,
              confidence: float = CONFIDENCE) -> tuple[float, float]:
    """The ``confidence`` interval of the difference of medians (other - baseline), by the
    percentile bootstrap: each side resampled with replacement, ``resamples`` times, from
    ``random.Random(seed)``. Each side needs at least 2 values."""
    if len(baseline) < 2 or len(other) < 2:
        raise ValueError("the bootstrap needs at least 2 values on each side")
    if not 1 <= resamples <= MAX_RESAMPLES:
        raise ValueError(f"resamples must be between 1 and {MAX_RESAMPLES}")
    base, oth = sorted(baseline), sorted(other)
    rng = random.Random(seed)
    diffs = sorted(_resampled_median(oth, rng) - _resampled_median(base, rng)
                   for _ in range(resamples))
    tail = (1.0 - confidence) / 2
    return data.percentile(diffs, tail), data.percentile(diffs, 1.0 - tail)


def verdict(ci: tuple[float, float] | list[float]) -> str:
    """``slower`` when the interval of other - baseline is above 0, ``faster`` below, else
    ``no significant difference``."""
    low, high = ci
    if low > 0:
        return SLOWER
    if high < 0:
        return FASTER
    return SAME


# -- configuration and versions -------------------------------------------------------------------
def flatten(value: Any, prefix: str = "", depth: int = 0,
            out: dict[str, Any] | None = None) -> dict[str, Any]:
    """Nested mappings as ``{"dotted.path": leaf}`` (lists and empty mappings are leaves)."""
    out = {} if out is None else out
    if isinstance(value, dict) and value and depth < 64:
        for key, item in value.items():
            flatten(item, f"{prefix}.{key}" if prefix else str(key), depth + 1, out)
    else:
        out[prefix] = value
    return out


def _secret_path(key: str) -> bool:
    from enos.backup.redact import secret_key

    return any(secret_key(part) for part in key.split("."))


def _without_secrets(value: Any, depth: int = 0) -> Any:
    """``value`` with the values of secret-looking keys replaced, at any depth."""
    from enos.backup.redact import secret_key

    if depth > 64:
        return REDACTED
    if isinstance(value, dict):
        return {k: REDACTED if secret_key(str(k)) else _without_secrets(v, depth + 1)
                for k, v in value.items()}
    if isinstance(value, list):
        return [_without_secrets(v, depth + 1) for v in value]
    return value


def shown(value: Any) -> str:
    """A configuration value as JSON text, secrets and URL passwords out, cut when long."""
    from enos.backup.redact import Redactor

    text = json.dumps(_without_secrets(value), sort_keys=True, ensure_ascii=False, default=str)
    text = Redactor().line(text, config=False)
    return text if len(text) <= MAX_VALUE_CHARS else text[:MAX_VALUE_CHARS - 1] + "…"


def config_differences(baseline: dict[str, Any], other: dict[str, Any]) -> list[dict[str, Any]]:
    """The dotted keys whose value differs: ``{"key", "baseline", "other_value", "secret"}``,
    values as JSON text (None when absent); a secret key's values are never shown."""
    base, oth = flatten(baseline), flatten(other)
    out = []
    for key in sorted(set(base) | set(oth)):
        if key in base and key in oth and base[key] == oth[key]:
            continue
        secret = _secret_path(key)
        values = [None if key not in side else REDACTED if secret else shown(side[key])
                  for side in (base, oth)]
        out.append({"key": key, "baseline": values[0], "other_value": values[1],
                    "secret": secret})
    return out


def version_differences(baseline: dict[str, str], other: dict[str, str]) -> list[dict[str, Any]]:
    """The components whose version differs (None where a side does not know it)."""
    return [{"component": name, "baseline": baseline.get(name), "other_value": other.get(name)}
            for name in [*baseline, *(n for n in other if n not in baseline)]
            if baseline.get(name) != other.get(name)]


# -- the experiments ------------------------------------------------------------------------------
@dataclass
class Pooled:
    """One action over the pooled runs of one label: sorted successful durations, how many
    times it ran, how many of those failed."""

    values: list[float] = field(default_factory=list)
    count: int = 0
    failed: int = 0

    def stats(self, runs: int) -> dict[str, Any]:
        self.values.sort()
        return {"runs": runs, "count": self.count, "failed": self.failed,
                "median": data.percentile(self.values, 0.5) if self.values else None,
                "p95": data.percentile(self.values, 0.95) if self.values else None}


@dataclass
class Group:
    """The runs of one experiment with one label (scenario and arguments)."""

    label: str
    scenario: str
    args: dict[str, Any]
    runs: list[str] = field(default_factory=list)
    actions: dict[str, Pooled] = field(default_factory=dict)
    tasks: set[str] = field(default_factory=set)  # digests of the runs' task.yml


@dataclass
class Loaded:
    path: Path
    name: str
    config: dict[str, Any] | None
    versions: dict[str, str]
    groups: dict[str, Group]  # by run key (scenario and arguments)
    notes: list[str] = field(default_factory=list)


def run_key(scenario: str, args: dict[str, Any]) -> str:
    """What matches runs across experiments: the scenario and its arguments, in any order."""
    return json.dumps([scenario, args], sort_keys=True, default=str)


def resolve(name: str | Path, cwd: Path | None, role: str) -> Path:
    """The experiment directory ``name`` (relative to ``cwd``), or a :class:`UsageError`
    naming the path."""
    from enos.utils.fs import UnreadableFile, check_path_length

    hint = ("give enos_<time> directories (or links to them, such as current): "
            "enos report --compare BASELINE OTHER [OTHER ...]")
    try:
        check_path_length(name)
        return data.experiment_dir(name, cwd)
    except UnreadableFile as exc:
        raise UsageError(f"{role} '{name}': {exc.message}", exc.hint) from None
    except (OSError, ValueError) as exc:
        raise UsageError(f"{role} '{name}' cannot be read: {exc}", hint) from None
    except EnosError as exc:
        raise UsageError(f"{role} {exc.message}", hint) from None


def _task_digest(path: Path) -> str | None:
    from enos.utils.fs import UnreadableFile, read_bounded

    try:
        text = read_bounded(path, MAX_TASK_BYTES, what="scenario file")
    except UnreadableFile:
        return None
    return hashlib.sha256(text.encode()).hexdigest()


def load(path: Path, name: str) -> Loaded:
    """What the comparison needs of one experiment: its merged configuration, its versions and
    its bench runs pooled by label (the runs themselves are not kept)."""
    from enos.experiment import Experiment

    state = Experiment(path).state  # a damaged state.json is a StateError naming it
    config = state.get("config")
    loaded = Loaded(path, name, config if isinstance(config, dict) else None, {}, {})
    if loaded.config is None:
        loaded.notes.append(f"{name}: its state.json holds no configuration ('enos up' records "
                            "it): its configuration is not compared")
    try:
        loaded.versions = data.versions(path)
    except EnosError as exc:
        loaded.notes.append(f"{name}: its versions cannot be read: {exc.message}")
    for run in data.bench_runs(path):
        group = loaded.groups.setdefault(run_key(run.scenario, run.args),
                                         Group(run.label, run.scenario, dict(run.args)))
        group.runs.append(run.run_id)
        digest = _task_digest(path / "bench" / run.run_id / "task.yml")
        if digest:
            group.tasks.add(digest)
        for action, (values, count, failed) in run.durations().items():
            pooled = group.actions.setdefault(action, Pooled())
            pooled.values.extend(values)
            pooled.count += count
            pooled.failed += failed
        run.iterations = []
    if not loaded.groups:
        loaded.notes.append(f"{name}: no Rally run with results in this experiment "
                            "('enos bench' runs the workload): nothing of it is compared")
    return loaded


def _names(paths: list[Path]) -> list[str]:
    """Each experiment's name (its directory's), its full path where two names are the same."""
    names = [p.name for p in paths]
    return [str(p) if names.count(p.name) > 1 else p.name for p in paths]


# -- the comparison -------------------------------------------------------------------------------
def _compare_action(base: Pooled | None, base_runs: int, other: Pooled | None, other_runs: int,
                    resamples: int, seed: int) -> dict[str, Any]:
    row: dict[str, Any] = {
        "baseline": base.stats(base_runs) if base else None,
        "other_stats": other.stats(other_runs) if other else None,
        "difference": None, "ci": None, "verdict": None, "missing": None, "note": None,
    }
    if base is None or other is None:
        row["missing"] = "baseline" if base is None else "other"
        row["note"] = f"the action is not in the {row['missing']}"
        return row
    b, o = row["baseline"], row["other_stats"]
    if b["median"] is not None and o["median"] is not None:
        diff = o["median"] - b["median"]
        row["difference"] = {
            "median": diff,
            "median_pct": round(diff / b["median"] * 100, 2) if b["median"] else None,
            "p95": o["p95"] - b["p95"],
        }
    short = [side for side, pooled in (("baseline", base), ("other", other))
             if len(pooled.values) < 2]
    if short:
        row["note"] = (f"fewer than 2 successful durations in the {' and the '.join(short)}: "
                       "no verdict")
        return row
    low, high = bootstrap(base.values, other.values, resamples=resamples, seed=seed)
    row["ci"] = [low, high]
    row["verdict"] = verdict((low, high))
    return row


def _compare_pair(base: Loaded, other: Loaded, resamples: int,
                  seed: int) -> list[dict[str, Any]]:
    rows = []
    keys = [*base.groups, *(k for k in other.groups if k not in base.groups)]
    for key in keys:
        bg, og = base.groups.get(key), other.groups.get(key)
        some = bg or og
        assert some is not None
        actions = [*(bg.actions if bg else {}),
                   *(a for a in (og.actions if og else {}) if not bg or a not in bg.actions)]
        for action in actions:
            row = {"other": other.name, "run": some.label, "scenario": some.scenario,
                   "args": some.args, "action": action,
                   "pooled": {"baseline": bg.runs if bg else [],
                              "other": og.runs if og else []}}
            row.update(_compare_action(
                bg.actions.get(action) if bg else None, len(bg.runs) if bg else 0,
                og.actions.get(action) if og else None, len(og.runs) if og else 0,
                resamples, seed))
            if bg is None or og is None:
                row["missing"] = "baseline" if bg is None else "other"
                row["note"] = f"the run is not in the {row['missing']}"
            rows.append(row)
    return rows


def compare(baseline: Path, others: list[Path], *, resamples: int = RESAMPLES,
            seed: int = SEED) -> dict[str, Any]:
    """The comparison document (see the module's docstring) of ``others`` against
    ``baseline``, experiment directories."""
    if not others:
        raise UsageError("there is nothing to compare the baseline with",
                         "give the baseline, then one or more experiments: "
                         "enos report --compare BASELINE OTHER [OTHER ...]")
    if len(others) > MAX_OTHERS:
        raise UsageError(f"{len(others)} experiments to compare, at most {MAX_OTHERS} at once",
                         "compare fewer experiments at a time")
    if not 1 <= resamples <= MAX_RESAMPLES:
        raise UsageError(f"resamples must be between 1 and {MAX_RESAMPLES}, not {resamples}")
    base_path = resolve(baseline, None, "the baseline")
    paths = [resolve(p, None, "the experiment to compare") for p in others]
    for given, path in zip(others, paths, strict=True):
        if path == base_path:
            raise UsageError(f"'{given}' is the baseline itself ({path})",
                             "compare the baseline with another experiment")
        if paths.count(path) > 1:
            raise UsageError(f"'{given}' ({path}) is given twice",
                             "give each experiment to compare once")
    names = _names([base_path, *paths])
    base = load(base_path, names[0])
    doc: dict[str, Any] = {
        "generated_at": _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "baseline": {"path": str(base_path), "name": base.name},
        "others": [{"path": str(p), "name": n} for p, n in zip(paths, names[1:], strict=True)],
        "method": METHOD, "resamples": resamples, "seed": seed, "confidence": CONFIDENCE,
        "differences": {"config": [], "versions": [], "workload": []},
        "comparisons": [], "notes": list(base.notes),
    }
    diffs = doc["differences"]
    for path, name in zip(paths, names[1:], strict=True):
        other = load(path, name)  # one other experiment in memory at a time
        doc["notes"] += other.notes
        if base.config is not None and other.config is not None:
            diffs["config"] += [{"other": name, **d}
                                for d in config_differences(base.config, other.config)]
        diffs["versions"] += [{"other": name, **d}
                              for d in version_differences(base.versions, other.versions)]
        for key, group in other.groups.items():
            mine = base.groups.get(key)
            if mine and mine.tasks and group.tasks and mine.tasks != group.tasks:
                diffs["workload"].append({"other": name, "run": group.label,
                                          "what": "its scenario file (task.yml) differs"})
        doc["comparisons"] += _compare_pair(base, other, resamples, seed)
    return doc


# -- rendering ------------------------------------------------------------------------------------
def seconds(value: float | None, signed: bool = False) -> str:
    """A duration: microseconds below 1 ms, milliseconds below 1 s, else seconds; ``-`` for
    None. ``signed``: a + before a positive value."""
    if value is None:
        return "-"
    magnitude = abs(value)
    if magnitude < 0.05e-6:
        return "0.0 µs"
    sign = "+" if signed and value > 0 else ""
    if magnitude < 0.001:
        return f"{sign}{value * 1e6:.1f} µs"
    if magnitude < 1:
        return f"{sign}{value * 1000:.2f} ms"
    return f"{sign}{value:.3f} s"


def percent(value: float | None) -> str:
    return "-" if value is None else f"{value:+.1f} %"


def interval(ci: list[float] | None) -> str:
    return "-" if ci is None else f"[{seconds(ci[0], True)}, {seconds(ci[1], True)}]"


def _side(stats: dict[str, Any] | None, key: str) -> str:
    if stats is None:
        return "(missing)"
    if key in ("median", "p95"):
        return seconds(stats[key])
    return str(stats[key])


def table_rows(rows: list[dict[str, Any]]) -> list[list[str]]:
    """The cells of the comparison table, for both renderings."""
    out = []
    for r in rows:
        b, o, d = r["baseline"], r["other_stats"], r["difference"] or {}
        out.append([
            r["action"],
            f"{b['runs'] if b else 0} / {o['runs'] if o else 0}",
            f"{_side(b, 'count')} / {_side(o, 'count')}",
            f"{_side(b, 'failed')} / {_side(o, 'failed')}",
            _side(b, "median"), _side(o, "median"), seconds(d.get("median"), True),
            percent(d.get("median_pct")),
            _side(b, "p95"), _side(o, "p95"), seconds(d.get("p95"), True),
            interval(r["ci"]), r["verdict"] or r["note"] or "-",
        ])
    return out


HEADER = ["action", "runs pooled", "count", "failed", "baseline median", "other median",
          "difference", "%", "baseline p95", "other p95", "p95 difference",
          "95 % CI of the median difference", "verdict"]


def sections(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The comparisons grouped by other experiment, then by run, in order."""
    out: list[dict[str, Any]] = []
    for other in doc["others"]:
        runs: dict[str, list[dict[str, Any]]] = {}
        for row in doc["comparisons"]:
            if row["other"] == other["name"]:
                runs.setdefault(row["run"], []).append(row)
        out.append({"other": other, "runs": runs,
                    "config": [d for d in doc["differences"]["config"]
                               if d["other"] == other["name"]],
                    "versions": [d for d in doc["differences"]["versions"]
                                 if d["other"] == other["name"]],
                    "workload": [d for d in doc["differences"]["workload"]
                                 if d["other"] == other["name"]]})
    return out


def _md_cell(value: Any) -> str:
    return "-" if value is None else str(value).replace("|", "\\|").replace("\n", " ")


def _md_table(header: list[str], rows: list[list[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows]
    return lines + [""]


def method_text(doc: dict[str, Any]) -> str:
    return (f"Verdicts: {doc['method']}, {doc['confidence'] * 100:g} % percentile interval "
            f"from {doc['resamples']} resamples (seed {doc['seed']}); durations of the "
            "successful occurrences of each action, the iterations of the runs of one scenario "
            "and arguments pooled within each experiment.")


def markdown(doc: dict[str, Any]) -> str:
    base = doc["baseline"]
    out = [f"# Comparison with {base['name']}", "",
           f"Generated {doc['generated_at']}. Baseline: `{base['path']}`; compared: "
           + ", ".join(f"`{o['path']}`" for o in doc["others"]) + ".", "",
           method_text(doc), ""]
    for note in doc["notes"]:
        out += [f"> {note}", ""]
    for section in sections(doc):
        name = section["other"]["name"]
        out += [f"## {name} vs {base['name']}", "", "### Differences", ""]
        if section["config"]:
            out += _md_table(["configuration key", base["name"], name],
                             [[d["key"], d["baseline"] or "(absent)",
                               d["other_value"] or "(absent)"] for d in section["config"]])
        if section["versions"]:
            out += _md_table(["component", base["name"], name],
                             [[d["component"], d["baseline"] or "(unknown)",
                               d["other_value"] or "(unknown)"] for d in section["versions"]])
        for d in section["workload"]:
            out += [f"- {d['run']}: {d['what']}"]
        if section["workload"]:
            out += [""]
        if not (section["config"] or section["versions"] or section["workload"]):
            out += ["Same configuration and versions.", ""]
        out += ["### Benchmarks", ""]
        if not section["runs"]:
            out += ["No run to compare.", ""]
        for label, rows in section["runs"].items():
            out += [f"#### {label}", ""]
            out += _md_table(HEADER, table_rows(rows))
    return "\n".join(out).rstrip("\n") + "\n"


def html(doc: dict[str, Any]) -> str:
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)),
                             autoescape=True, undefined=jinja2.StrictUndefined)
    return env.get_template("compare.html.j2").render(
        doc=doc, sections=sections(doc), header=HEADER, table_rows=table_rows,
        method=method_text(doc), verdicts={FASTER: "faster", SLOWER: "slower", SAME: "same"})


def write(doc: dict[str, Any], out_dir: Path) -> list[Path]:
    """``index.html``, ``report.md`` and ``report.json`` in ``out_dir``, each atomically."""
    from enos.utils.fs import atomic_write, atomic_write_json

    out_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_json(out_dir / "report.json", doc)
    atomic_write(out_dir / "report.md", markdown(doc))
    atomic_write(out_dir / "index.html", html(doc))
    return [out_dir / name for name in FILES]


# -- the command ----------------------------------------------------------------------------------
def summary(doc: dict[str, Any], limit: int = 10) -> list[str]:
    """The text the command prints: the differences first, then one line per comparison."""
    base = doc["baseline"]["name"]
    lines = [f"baseline {base}; {doc['confidence'] * 100:g} % intervals of the difference of "
             f"medians from {doc['resamples']} bootstrap resamples, seed {doc['seed']}"]
    lines += [f"note: {note}" for note in doc["notes"]]
    for kind in ("config", "versions", "workload"):
        found = doc["differences"][kind]
        for d in found[:limit]:
            if kind == "config":
                lines.append(f"{d['other']}: configuration {d['key']}: "
                             f"{d['baseline'] or '(absent)'} -> {d['other_value'] or '(absent)'}")
            elif kind == "versions":
                lines.append(f"{d['other']}: version of {d['component']}: "
                             f"{d['baseline'] or '(unknown)'} -> "
                             f"{d['other_value'] or '(unknown)'}")
            else:
                lines.append(f"{d['other']}: {d['run']}: {d['what']}")
        if len(found) > limit:
            lines.append(f"... and {len(found) - limit} more {kind} differences (report.md)")
    for r in doc["comparisons"]:
        b, o, d = r["baseline"], r["other_stats"], r["difference"] or {}
        head = f"{r['other']}: {r['run']}: {r['action']}: "
        if r["missing"]:
            lines.append(head + (r["note"] or ""))
            continue
        line = (f"median {_side(b, 'median')} -> {_side(o, 'median')} "
                f"({seconds(d.get('median'), True)}, {percent(d.get('median_pct'))})")
        if r["ci"] is not None:
            line += f", 95 % CI {interval(r['ci'])}: {r['verdict']}"
        else:
            line += f": {r['note']}"
        lines.append(head + line)
    return lines


def _out_dir(out: str | None, cwd: Path) -> Path:
    if out:
        path = Path(out) if Path(out).is_absolute() else cwd / out
        if path.exists() and not path.is_dir():
            raise UsageError(f"the output '{out}' is not a directory ({path})",
                             "give a directory (-o DIR); it is created if needed")
        return path
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    path = cwd / f"compare-{stamp}"
    n = 2
    while path.exists():
        path = cwd / f"compare-{stamp}-{n}"
        n += 1
    return path


def run_compare(baseline: str, others: list[str], out: str | None, cwd: Path,
                say: Callable[[str], Any]) -> Path:
    """``enos report --compare BASELINE OTHER... [-o DIR]``: compare, write the three files
    (by default into ``./compare-<time>/``), print a summary; returns the directory."""
    base = resolve(baseline, cwd, "the baseline")
    paths = [resolve(o, cwd, "the experiment to compare") for o in others]
    out_dir = _out_dir(out, cwd)
    doc = compare(base, paths)
    try:
        write(doc, out_dir)
    except OSError as exc:
        raise EnosError(f"cannot write the comparison into {out_dir}: "
                        f"{exc.strerror or exc}",
                        "give a directory you can write with -o DIR") from None
    for line in summary(doc):
        say(line)
    say(f"written to {out_dir} ({', '.join(FILES)})")
    return out_dir
