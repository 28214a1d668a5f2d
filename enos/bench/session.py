"""One ``enos bench``: the runs of a workload, one after the other, with their results on disk.

Layout under ``<expdir>/bench/``::

    rally.conf, rally.db, rally-env.json      Rally's configuration, database, environment
    sessions/<stamp>.json, <stamp>-run.yml    what each bench ran, and the run.yml it read
    <stamp>-<NN>-<type>-<scenario>/           one directory per run (the run id):
        run.json      scenario, file, arguments, status, Rally task id, timings, summary
        args.json     the task arguments; task.yml: the scenario template as it was
        rally.log     Rally's output; results.json: `rally task report --json`
        report.html   `rally task report --html-static` (opens offline)
"""

from __future__ import annotations

import datetime as _dt
import json
import re
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from enos import events
from enos.bench import faults
from enos.bench import rally as rally_mod
from enos.bench import shaker as shaker_mod
from enos.bench.results import (
    ERROR,
    OK,
    SKIPPED,
    SLA_FAILED,
    RunOutcome,
    iterations_of,
    render,
)
from enos.bench.workload import Run, Workload
from enos.errors import EnosError
from enos.output import Plain
from enos.utils import cache
from enos.utils.fs import atomic_write, atomic_write_json

if TYPE_CHECKING:
    from enos.deployers.base import Deployer
    from enos.experiment import Experiment

BENCH_DIR = "bench"


def slug(text: str, limit: int = 40) -> str:
    out = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return out[:limit].rstrip("-") or "scenario"


def run_id(stamp: str, run: Run) -> str:
    return f"{stamp}-{run.index:02d}-{run.type}-{slug(run.scenario)}"


@dataclass
class SessionResult:
    stamp: str
    directory: Path
    outcomes: list[RunOutcome] = field(default_factory=list)
    setup_seconds: float = 0.0
    seconds: float = 0.0

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)


class Progress:
    """Which run of how many is going, and for how long: a live line on a terminal."""

    def __init__(self, quiet: bool, echo: Callable[[str], None]) -> None:
        self.quiet = quiet
        self.echo = echo
        self.live: Any = None
        self.text = ""
        self.started = 0.0
        self.done = self.failed = 0
        self.expected: int | None = None
        self.tty = not quiet and sys.stderr.isatty()

    def __rich__(self) -> Any:
        from rich.text import Text

        return Text(self._line(), style="bold")

    def _line(self) -> str:
        elapsed = time.monotonic() - self.started
        iters = left = ""
        if self.done or self.expected:
            iters = f" {self.done}" + (f"/{self.expected}" if self.expected else "")
            iters += f" iterations ({self.failed} failed)"
        if self.done and self.expected and self.expected > self.done:
            # The iterations left at the pace so far (Rally's concurrency included).
            left = f", about {elapsed / self.done * (self.expected - self.done):.0f}s left"
        return f"{self.text}{iters} {elapsed:6.1f}s{left}"

    def start(self, position: int, total: int, run: Run) -> None:
        self.text = f"[{position}/{total}] {run.type} {run.label()}:"
        self.started = time.monotonic()
        self.done = self.failed = 0
        times = run.args.get("times")
        self.expected = times if isinstance(times, int) and not isinstance(times, bool) else None
        if self.quiet:
            return
        if self.tty:
            from rich.console import Console
            from rich.live import Live

            self.live = Live(self, console=Console(stderr=True), refresh_per_second=4,
                             transient=True)
            self.live.start()
        else:
            self.echo(f"{self.text} started")

    def update(self, done: int, failed: int) -> None:
        self.done, self.failed = done, failed

    def stop(self) -> None:
        if self.live is not None:
            self.live.stop()
            self.live = None


def execute(exp: Experiment, workload: Workload, *, reset: bool = False,
            say: Callable[[str], None] = print, echo: Callable[[str], None] = print,
            quiet: bool = False, credentials: dict[str, str] | None = None) -> SessionResult:
    """Run every run of ``workload`` on the experiment's cloud; print a table after each.

    ``credentials`` (OS_* variables) default to the deployment's admin-openrc; an empty mapping
    gives Rally an environment without any cloud (enough for Rally's own Dummy scenarios).
    """
    begin = time.monotonic()
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    bench = exp.path / BENCH_DIR
    sessions = bench / "sessions"
    sessions.mkdir(parents=True, exist_ok=True)
    while (sessions / f"{stamp}.json").exists():  # two benches within a second
        time.sleep(1)
        stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    result = SessionResult(stamp, bench)
    shutil.copy(workload.run_file, sessions / f"{stamp}-run.yml")

    injects = _fault_deployer(exp, workload)
    rally_runs = workload.of_type("rally")
    shaker_runs = workload.of_type("shaker")
    rally: rally_mod.Rally | None = None
    if rally_runs or reset:
        venv = rally_mod.ensure_venv(say)
        cache.mark_used(venv, exp.path)
        rally = rally_mod.Rally(bench, venv)
        creds = rally_mod.credentials(exp.path) if credentials is None else credentials
        done = rally.setup(creds, reset=reset, check=bool(rally_runs),
                           options=workload.rally_config)
        if done != "ok":
            say(f"Rally database and environment {done} in {bench}")
    shaker_reason: str | None = None
    shaker_runner: shaker_mod.ShakerRunner | None = None
    if shaker_runs:
        deployer = shaker_mod.deployer_type(exp.path, exp.state)
        shaker_reason = shaker_mod.skip_reason(deployer)
        if shaker_reason:
            say(f"skipping {len(shaker_runs)} Shaker run(s): {shaker_reason}")
        else:
            shaker_runner = shaker_mod.runner(deployer, exp.path, exp.state)
            shaker_runner.prepare()
    result.setup_seconds = round(time.monotonic() - begin, 3)

    total = len(workload.runs)
    progress = Progress(quiet, echo)
    index: dict[str, Any] = {"stamp": stamp, "workload": str(workload.directory),
                             "runs": []}
    for position, run in enumerate(workload.runs, 1):
        rid = run_id(stamp, run)
        run_dir = bench / rid
        record = {"id": rid, **run.to_dict(), "started_at": _now()}
        if run.type == "shaker" and shaker_reason:
            outcome = RunOutcome(run_id=rid, status=SKIPPED, reason=shaker_reason)
        else:
            run_dir.mkdir(parents=True, exist_ok=True)
            atomic_write_json(run_dir / "run.json", {**record, "status": "running"})
            progress.start(position, total, run)
            events.record(exp, "bench", rid, event="start", type=run.type,
                          position=position, total=total)
            injector = faults.Injector(run.faults, injects, exp, Plain(quiet=True), rid) \
                if run.faults and injects is not None else None
            try:
                if run.type == "rally":
                    assert rally is not None
                    outcome = rally.run(run, run_dir, rid, progress.update,
                                        injector.begin if injector else lambda: None)
                    if injector:
                        outcome.faults = faults.judge(injector.finish(),
                                                      _iterations(run_dir))
                else:
                    assert shaker_runner is not None
                    outcome = shaker_runner.run(run, run_dir, rid)
            except BaseException:
                if injector:
                    injector.finish(timeout=60)
                progress.stop()
                atomic_write_json(run_dir / "run.json", {**record, "status": "interrupted",
                                                         "ended_at": _now()})
                raise
            progress.stop()
            atomic_write_json(run_dir / "run.json",
                              {**record, **outcome.to_dict(), "ended_at": _now()})
            events.record(exp, "bench", rid, event="end", type=run.type,
                          status=outcome.status, task_id=outcome.task_id,
                          seconds=outcome.seconds)
        result.outcomes.append(outcome)
        index["runs"].append({"id": rid, "status": outcome.status,
                              "dir": rid if run_dir.exists() else None})
        atomic_write_json(sessions / f"{stamp}.json", index)
        if not quiet:
            _report(position, total, run, outcome, run_dir, echo)
    result.seconds = round(time.monotonic() - begin, 3)
    index.update(seconds=result.seconds, setup_seconds=result.setup_seconds)
    atomic_write_json(sessions / f"{stamp}.json", index)
    atomic_write(bench / "latest", stamp + "\n")
    return result


def _fault_deployer(exp: Experiment, workload: Workload) -> Deployer | None:
    """The deployer that injects the workload's faults, every fault checked before any run."""
    if not any(run.faults for run in workload.runs):
        return None
    from enos import deployers

    name = deployers.recorded(exp)
    if not name:
        raise EnosError("the workload injects faults but no cloud was deployed",
                        "run 'enos os' first, or remove the scenarios' faults")
    deployer = deployers.load(name)
    for run in workload.runs:
        faults.check_services(run.faults, deployer, exp, str(workload.run_file))
    return deployer


def _iterations(run_dir: Path) -> list[dict[str, Any]]:
    try:
        return iterations_of(json.loads((run_dir / "results.json").read_text()))
    except (OSError, ValueError):
        return []


def _report(position: int, total: int, run: Run, outcome: RunOutcome, run_dir: Path,
            echo: Callable[[str], None]) -> None:
    head = f"[{position}/{total}] {run.type} {run.label()}"
    if outcome.status == SKIPPED:
        echo(f"{head}: skipped ({outcome.reason})")
        return
    task = f", task {outcome.task_id}" if outcome.task_id else ""
    echo(f"{head}: {outcome.status} in {outcome.seconds:.1f}s{task}")
    if outcome.status == ERROR:
        echo(f"  ERROR: {outcome.reason}")
    if outcome.workloads or outcome.status in (OK, SLA_FAILED):
        for line in render(outcome):
            echo(line)
    for judged in outcome.faults:
        echo(faults.describe(judged))
    echo(f"  results: {run_dir}/")


def _now() -> str:
    return _dt.datetime.now().isoformat(timespec="seconds")
