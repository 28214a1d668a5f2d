"""The report document as Markdown and as one self-contained HTML page."""

from __future__ import annotations

import json
from typing import Any

from enos.report import STATIC, TEMPLATES

COLUMNS = ("count", "failed", "min", "median", "p90", "p95", "max", "mean")


def seconds(value: Any) -> str:
    """A duration for a table: milliseconds below 1 s, else seconds."""
    if value is None:
        return "-"
    value = float(value)
    return f"{value * 1000:.1f} ms" if abs(value) < 1 else f"{value:.3f} s"


def _cell(value: Any) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def _table(header: list[str], rows: list[list[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return lines + [""]


def action_rows(actions: dict[str, dict[str, Any]]) -> list[list[str]]:
    return [[name, str(s["count"]), str(s["failed"]),
             *(seconds(s[k]) for k in COLUMNS[2:])] for name, s in actions.items()]


def sla_text(sla: dict[str, Any]) -> str:
    if sla.get("pass") is None:
        return "not evaluated"
    failed = [c for c in sla.get("criteria") or [] if not c["success"]]
    if not failed:
        return "passed"
    return "FAILED: " + "; ".join(f"{c['criterion']}: {c['detail']}" for c in failed)


def markdown(doc: dict[str, Any]) -> str:  # noqa: C901 - one section after the other
    exp = doc["experiment"]
    out = [f"# Experiment {exp['name']}", "",
           f"Generated {doc['generated_at']} from `{exp['path']}`.", ""]
    out += ["## What ran", "",
            f"- provider: {exp.get('provider') or '-'}; deployer: {exp.get('deployer') or '-'}",
            f"- hosts: {len(exp['hosts'])}", ""]
    if exp["hosts"]:
        out += _table(["host", "address", "roles", "groups"],
                      [[h["alias"], h["address"], ", ".join(h["roles"]),
                        ", ".join(h["groups"])] for h in exp["hosts"]])
    if doc["versions"]:
        out += ["### Versions", ""]
        out += _table(["component", "version"], [[k, v] for k, v in doc["versions"].items()])
    if exp.get("reservation"):
        out += ["### reservation.yaml (secrets redacted)", "", "```yaml",
                exp["reservation"].rstrip("\n"), "```", ""]
    out += ["## Phases", ""]
    if doc["phases"]:
        out += _table(["phase", "started", "seconds", "status"],
                      [[p["name"], p["started_at"] or "-",
                        "-" if p["seconds"] is None else f"{p['seconds']:.1f}", p["status"]]
                       for p in doc["phases"]])
        for phase in doc["phases"]:
            for run in phase.get("ansible") or []:
                rows = [[host, t["task"], f"{t['seconds']:.1f}"]
                        for host, tasks in run["slowest_tasks"].items() for t in tasks]
                if rows:
                    out += [f"Slowest tasks of {phase['name']} (Ansible run "
                            f"'{run['title']}', {run['seconds']:.1f} s):", ""]
                    out += _table(["host", "task", "seconds"], rows)
    else:
        out += ["No phase was recorded.", ""]
    out += ["## Benchmarks", ""]
    if not doc["bench"]:
        out += ["No Rally run in this experiment ('enos bench' runs the workload).", ""]
    for run in doc["bench"]:
        out += [f"### {run['label']}", "",
                f"Run `{run['run']}`, task {run['task_id'] or '-'}: {run['status']}; "
                f"{run['iterations']} iterations, {run['failures']} failed; SLA "
                f"{sla_text(run['sla'])}.", ""]
        if run["reason"]:
            out += [f"Reason: {run['reason']}", ""]
        out += _table(["action", *COLUMNS], action_rows(run["actions"]))
        for err in run["errors"]:
            out += [f"- {err['iterations']} iteration(s): {err['message']}"]
        if run["errors"]:
            out += [""]
    out += ["## Network emulation (enos tc --test)", ""]
    if not doc["tc"]:
        out += ["No measurement ('enos tc --test' measures what the rules give).", ""]
    for test in doc["tc"]:
        backends = ", ".join(f"{h}: {b}" for h, b in test["backends"].items()) or "-"
        out += [f"### {test['at']}", "", f"Backends: {backends}.", ""]
        out += _table(test["header"], test["rows"])
    out += ["## Outages", ""]
    outages = doc["outages"]
    for note in [outages.get("note"), *(outages.get("notes") or [])]:
        if note:
            out += [f"> {note}", ""]
    if outages.get("outages"):
        out += _table(["start", "end", "seconds", "service", "host", "cause"],
                      [[o["start"], o["end"] or "(open)",
                        "-" if o["seconds"] is None else f"{o['seconds']:.1f}", o["service"],
                        o["host"] or "-", o["cause"]] for o in outages["outages"]])
    else:
        out += ["No outage found.", ""]
    metrics = doc["metrics"]
    out += ["## Metrics", "", metrics.get("note") or
            f"From Prometheus at {metrics.get('prometheus')}, one point every "
            f"{metrics.get('step')} s: see index.html for the plots.", ""]
    out += ["## Events", ""]
    out += _table(["at", "kind", "name", "event"],
                  [[e.get("at"), e.get("kind"), e.get("name"),
                    (e.get("detail") or {}).get("event", "")] for e in doc["events"]
                   if e.get("kind") != "command"])
    return "\n".join(out).rstrip("\n") + "\n"


def _script_json(value: Any) -> str:
    """JSON safe inside a <script> element."""
    return (json.dumps(value, default=str, separators=(",", ":"))
            .replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


def _placed(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The outages with their place on the timeline: ``left`` and ``width`` in percent of the
    experiment's window."""
    from enos.report.data import epoch

    window = doc.get("window") or {}
    since, until = window.get("since"), window.get("until")
    out = []
    for outage in doc["outages"].get("outages") or []:
        start, end = epoch(outage.get("start")), epoch(outage.get("end"))
        left = width = 0.0
        if since is not None and until is not None and until > since and start is not None:
            span = until - since
            end = until if end is None else end
            left = min(max((start - since) / span * 100, 0.0), 100.0)
            width = min(max((end - start) / span * 100, 0.0), 100.0 - left)
        out.append({**outage, "left": left, "width": width})
    return out


def html(doc: dict[str, Any], plots: dict[str, Any]) -> str:
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True)
    env.filters["seconds"] = seconds
    template = env.get_template("index.html.j2")
    return template.render(
        doc={**doc, "outages": {**doc["outages"], "outages": _placed(doc)}},
        columns=COLUMNS, sla_text=sla_text, action_rows=action_rows,
        uplot_js=(STATIC / "uPlot.iife.min.js").read_text(),
        uplot_css=(STATIC / "uPlot.min.css").read_text(),
        report_js=(STATIC / "report.js").read_text(),
        report_css=(STATIC / "report.css").read_text(),
        plots=_script_json(plots),
    )
