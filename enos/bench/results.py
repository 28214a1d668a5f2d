"""Benchmark outcomes: what one run gave, read from Rally's JSON report, and its summary table."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

# Run statuses.
OK = "ok"  # ran, every SLA passed
SLA_FAILED = "sla-failed"  # ran, at least one SLA criterion failed
ERROR = "error"  # did not run to the end (Rally refused or crashed the task)
SKIPPED = "skipped"  # not run, for a reason given


@dataclass
class ActionStats:
    """Durations (seconds) of one atomic action (or of the whole iteration: ``total``)."""

    name: str
    depth: int
    count: int
    min: float | None
    median: float | None
    p90: float | None
    p95: float | None
    max: float | None
    avg: float | None
    success: str


@dataclass
class SlaCriterion:
    criterion: str
    success: bool
    detail: str


@dataclass
class WorkloadSummary:
    """One workload of a Rally task (the boot-and-list template has one)."""

    scenario: str
    iterations: int
    failures: int
    load_duration: float | None
    full_duration: float | None
    actions: list[ActionStats] = field(default_factory=list)
    total: ActionStats | None = None
    sla: list[SlaCriterion] = field(default_factory=list)
    pass_sla: bool = True
    errors: list[str] = field(default_factory=list)  # distinct iteration errors, first few


@dataclass
class RunOutcome:
    """What a run left: its status, Rally's task and the parsed results."""

    run_id: str
    status: str
    reason: str = ""
    task_id: str | None = None
    task_status: str | None = None
    seconds: float = 0.0  # wall time of the run, enos included
    tool_seconds: float = 0.0  # wall time of the benchmark tool's own run (rally task start)
    workloads: list[WorkloadSummary] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)
    faults: list[dict[str, Any]] = field(default_factory=list)  # enos.bench.faults.judge

    @property
    def iterations(self) -> int:
        return sum(w.iterations for w in self.workloads)

    @property
    def failures(self) -> int:
        return sum(w.failures for w in self.workloads)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["iterations"] = self.iterations
        out["failures"] = self.failures
        return out


def parse_rally_report(report: dict[str, Any]) -> tuple[str | None, list[WorkloadSummary]]:
    """The task status and the workloads of the first task of ``rally task report --json``."""
    tasks = report.get("tasks") or []
    if not tasks:
        return None, []
    task = tasks[0]
    out = []
    for subtask in task.get("subtasks") or []:
        for wl in subtask.get("workloads") or []:
            scenario = next(iter(wl.get("scenario") or {}), subtask.get("title") or "?")
            durations = (wl.get("statistics") or {}).get("durations") or {}
            actions: list[ActionStats] = []
            for atomic in durations.get("atomics") or []:
                _flatten(atomic, 0, actions)
            total_list: list[ActionStats] = []
            if durations.get("total"):
                _flatten(durations["total"], 0, total_list)
            sla = [
                SlaCriterion(str(s.get("criterion")), bool(s.get("success")),
                             str(s.get("detail", "")))
                for s in (wl.get("sla_results") or {}).get("sla") or []
            ]
            errors: list[str] = []
            for it in wl.get("data") or []:
                err = it.get("error") or []
                if err:
                    text = ": ".join(str(e) for e in err[:2])
                    if text not in errors:
                        errors.append(text)
                    if len(errors) >= 3:
                        break
            out.append(WorkloadSummary(
                scenario=str(scenario),
                iterations=int(wl.get("total_iteration_count") or len(wl.get("data") or [])),
                failures=int(wl.get("failed_iteration_count") or 0),
                load_duration=wl.get("load_duration"),
                full_duration=wl.get("full_duration"),
                actions=actions,
                total=total_list[0] if total_list else None,
                sla=sla,
                pass_sla=bool(wl.get("pass_sla", all(s.success for s in sla))),
                errors=errors,
            ))
    return task.get("status"), out


def iterations_of(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Every iteration of the first task of a JSON report (timestamp, duration, error...)."""
    tasks = report.get("tasks") or []
    out: list[dict[str, Any]] = []
    for subtask in (tasks[0].get("subtasks") or []) if tasks else []:
        for wl in subtask.get("workloads") or []:
            out += [it for it in wl.get("data") or [] if isinstance(it, dict)]
    return out


def _flatten(node: dict[str, Any], depth: int, out: list[ActionStats]) -> None:
    data = node.get("data") or {}
    out.append(ActionStats(
        name=str(node.get("display_name") or node.get("name")),
        depth=depth,
        count=int(data.get("iteration_count") or 0),
        min=_num(data.get("min")),
        median=_num(data.get("median")),
        p90=_num(data.get("90%ile")),
        p95=_num(data.get("95%ile")),
        max=_num(data.get("max")),
        avg=_num(data.get("avg")),
        success=str(data.get("success", "")),
    ))
    for child in node.get("children") or []:
        _flatten(child, depth + 1, out)


def _num(value: Any) -> float | None:
    try:
        return None if value in (None, "n/a") else float(value)
    except (TypeError, ValueError):
        return None


def _fmt(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value:.3f}" if value < 10 else f"{value:.2f}"


def sla_line(outcome: RunOutcome) -> str:
    """``SLA passed`` or ``FAILED SLA: criterion: detail; ...``."""
    failed = [c for w in outcome.workloads for c in w.sla if not c.success]
    if failed:
        return "FAILED SLA: " + "; ".join(f"{c.criterion}: {c.detail}" for c in failed)
    if outcome.status == SLA_FAILED:
        return "FAILED SLA"
    if outcome.status == ERROR:
        return "SLA not evaluated: the run did not finish"
    criteria = sorted({c.criterion for w in outcome.workloads for c in w.sla})
    return "SLA passed" + (f" ({', '.join(criteria)})" if criteria else " (no criteria)")


def render(outcome: RunOutcome) -> list[str]:
    """The summary table of one run: iterations, failures, durations per atomic action, SLA."""
    lines = []
    for wl in outcome.workloads:
        load = f", load {wl.load_duration:.1f}s" if wl.load_duration is not None else ""
        lines.append(f"  {wl.scenario}: {wl.iterations} iterations, {wl.failures} failed{load}")
        rows = [*wl.actions, *([wl.total] if wl.total else [])]
        if rows:
            width = max(12, *(len(r.name) + 3 * r.depth for r in rows)) + 2
            header = (f"    {'action':<{width}}{'count':>6}{'min':>9}{'median':>9}"
                      f"{'90%ile':>9}{'95%ile':>9}{'max':>9}  success")
            lines.append(header)
            for r in rows:
                name = ("-> " * r.depth) + r.name if r.depth else r.name
                if r is wl.total:
                    name = "total"
                lines.append(
                    f"    {name:<{width}}{r.count:>6}{_fmt(r.min):>9}{_fmt(r.median):>9}"
                    f"{_fmt(r.p90):>9}{_fmt(r.p95):>9}{_fmt(r.max):>9}  {r.success}"
                )
            lines.append("    (durations in seconds)")
        for err in wl.errors:
            lines.append(f"    error: {err[:300]}")
    lines.append("  " + sla_line(outcome))
    return lines
