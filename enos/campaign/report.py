"""A campaign's results and report: each action's median against the parameters.

``campaign/<name>/results.json``::

    {"name", "file", "parameters": {KEY: [values]}, "repeat",
     "points": [{"index", "params", "experiment", "bench": [<the report's bench entries, each
                 with "repeat" and "session">]}],
     "summary": [{"scenario", "action", "points": [{"index", "params", "medians": [one per
                  repeat], "median", "min", "max", "failed"}]}]}

``campaign/<name>/report/``: ``index.html`` (a table and a plot per scenario and action: the
median of the repeats' medians, and their minimum and maximum, against the parameter; with
several parameters, against the point's number), ``report.md``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from enos.campaign.runner import runs_done, state_of
from enos.campaign.spec import Campaign
from enos.report import data

NUMBER = re.compile(r"^\s*(-?\d+(?:\.\d+)?)")


def results(campaign: Campaign) -> dict[str, Any]:
    from enos import report

    state = state_of(campaign)
    points = []
    runs_of: dict[str, list[data.BenchRun]] = {}
    for point in campaign.points:
        bench: list[dict[str, Any]] = []
        experiment = None
        for done in runs_done(state, point):
            experiment = done["experiment"]
            if experiment not in runs_of:
                runs_of[experiment] = data.bench_runs(Path(experiment))
            for run in runs_of[experiment]:
                if run.session == done.get("session"):
                    bench.append({**report.bench_entry(run), "repeat": done.get("repeat")})
        points.append({"index": point.index, "params": point.params, "experiment": experiment,
                       "bench": bench})
    return {"name": campaign.name, "file": str(campaign.file),
            "parameters": campaign.parameters, "repeat": campaign.repeat, "points": points,
            "summary": summary(points)}


def summary(points: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per scenario and action, per point: each repeat's median, their median, min, max."""
    table: dict[tuple[str, str], dict[int, dict[str, Any]]] = {}
    for point in points:
        for entry in point["bench"]:
            for action, stats in entry["actions"].items():
                row = table.setdefault((entry["scenario"], action), {}).setdefault(
                    point["index"], {"index": point["index"], "params": point["params"],
                                     "medians": [], "failed": 0})
                if stats["median"] is not None:
                    row["medians"].append(stats["median"])
                row["failed"] += stats["failed"]
    out = []
    for (scenario, action), rows in table.items():
        for row in rows.values():
            medians = sorted(row["medians"])
            row["median"] = data.percentile(medians, 0.5) if medians else None
            row["min"] = medians[0] if medians else None
            row["max"] = medians[-1] if medians else None
        ordered: list[dict[str, Any]] = sorted(rows.values(), key=lambda r: int(r["index"]))
        out.append({"scenario": scenario, "action": action, "points": ordered})
    return out


def lines(doc: dict[str, Any]) -> dict[str, Any]:
    """The plots of the page: per scenario and action, x (the numbers of the one parameter
    that varies, or the points' numbers) and three series (median, min, max over the
    repeats)."""
    varying = [k for k, values in doc["parameters"].items() if len(values) > 1]
    single = varying[0] if len(varying) == 1 else None
    numeric = single is not None and all(NUMBER.match(str(v)) for v in doc["parameters"][single])
    plots = {}
    for number, item in enumerate(doc["summary"]):
        rows = item["points"]
        if numeric and single is not None:
            xs = [float(NUMBER.match(str(r["params"][single])).group(1))  # type: ignore[union-attr]
                  for r in rows]
            label = single
        else:
            xs = [float(r["index"]) for r in rows]
            label = "point"
        order = sorted(range(len(rows)), key=lambda i: xs[i])
        plots[str(number)] = {
            "x_label": label,
            "x": [xs[i] for i in order],
            "ticks": [", ".join(str(v) for v in rows[i]["params"].values()) for i in order],
            "series": [{"label": key, "values": [rows[i][key] for i in order]}
                       for key in ("median", "min", "max")],
        }
    return plots


def markdown(doc: dict[str, Any]) -> str:
    from enos.report.render import seconds

    out = [f"# Campaign {doc['name']}", "", f"From `{doc['file']}`, {len(doc['points'])} "
           f"point(s), {doc['repeat']} bench run(s) each.", "", "## Parameters", ""]
    out += [f"- `{k}`: {', '.join(str(v) for v in values)}" for k, values in
            doc["parameters"].items()]
    out += [""]
    names = list(doc["parameters"])
    for item in doc["summary"]:
        out += [f"## {item['scenario']}: {item['action']}", "",
                "| " + " | ".join([*names, "median", "min of repeats", "max of repeats",
                                   "failed"]) + " |",
                "|" + "---|" * (len(names) + 4)]
        for row in item["points"]:
            out.append("| " + " | ".join([*(str(row["params"][n]) for n in names),
                                          seconds(row["median"]), seconds(row["min"]),
                                          seconds(row["max"]), str(row["failed"])]) + " |")
        out += [""]
    missing = [p["index"] for p in doc["points"] if not p["bench"]]
    if missing:
        out += [f"Points without results yet: {', '.join(map(str, missing))}.", ""]
    return "\n".join(out).rstrip("\n") + "\n"


def html(doc: dict[str, Any]) -> str:
    import jinja2

    from enos.report import STATIC, TEMPLATES
    from enos.report.render import _script_json, seconds

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True)
    env.filters["seconds"] = seconds
    return env.get_template("campaign.html.j2").render(
        doc=doc, names=list(doc["parameters"]),
        uplot_js=(STATIC / "uPlot.iife.min.js").read_text(),
        uplot_css=(STATIC / "uPlot.min.css").read_text(),
        report_js=(STATIC / "report.js").read_text(),
        report_css=(STATIC / "report.css").read_text(),
        plots=_script_json({"runs": {}, "metrics": {}, "events": [], "lines": lines(doc)}),
    )


def write(campaign: Campaign) -> tuple[dict[str, Any], list[Path]]:
    from enos.utils.fs import atomic_write, atomic_write_json

    doc = results(campaign)
    out = campaign.directory / "report"
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_json(campaign.directory / "results.json", doc)
    atomic_write(out / "report.md", markdown(doc))
    atomic_write(out / "index.html", html(doc))
    return doc, [campaign.directory / "results.json", out / "index.html", out / "report.md"]
