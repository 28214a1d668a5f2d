"""enos bench: run the workload of run.yml (Rally, Shaker) on the experiment's cloud."""

from __future__ import annotations

import json
from pathlib import Path

import click

from enos.commands.common import Options, pass_options
from enos.errors import EnosError


class SlaFailed(EnosError):
    """``--fail-on-sla``: every run went to its end, and at least one failed its SLA."""

    exit_code = 3


@click.command("bench")
@click.option("--workload", "workload_dir", default="workload", show_default=True,
              metavar="DIR", help="The workload directory (holds run.yml).")
@click.option("--reset", is_flag=True,
              help="Recreate Rally's database and environment of this experiment first.")
@click.option("--dry-run", is_flag=True, help="List the runs the workload expands to; run none.")
@click.option("--out", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="Output format of --dry-run.")
@click.option("--fail-on-sla", is_flag=True,
              help="Exit with code 3 when a run fails its SLA (default: report it, exit 0).")
@pass_options
def command(opts: Options, workload_dir: str, reset: bool, dry_run: bool, out: str,
            fail_on_sla: bool) -> None:
    """Run the benchmarks of WORKLOAD/run.yml against the experiment's OpenStack.

    \b
    run.yml groups scenarios by type (rally, shaker):
      rally:
        args: {concurrency: [1, 2, 4], times: [100]}
        scenarios:
          - name: boot and list servers
            file: nova-boot-list-cc.yml      # relative to the workload directory
            args: {times: 50}                # shadows the top-level args

    Each scenario runs once per combination of its arguments (cartesian product of the lists).
    Results go to <experiment>/bench/<run id>/ (Rally task id, results.json, report.html),
    and a summary table is printed after each run. A run that fails its SLA is reported with
    a 'FAILED SLA' line; the exit code stays 0 unless --fail-on-sla. A run that cannot finish
    (Rally refused or crashed the task) makes the exit code 1, after the other runs.
    """
    from enos.bench import workload as workload_mod

    workload = workload_mod.load(_workload_path(workload_dir, opts))
    for warning in workload.warnings:
        click.secho(f"warning: {warning}", fg="yellow", err=True)
    if dry_run:
        _print_plan(workload, out)
        return
    if not workload.runs:
        opts.say(f"{workload.run_file}: no enabled scenario, nothing to run")
        return
    _bench(opts, workload, reset, fail_on_sla)


def _workload_path(workload_dir: str, opts: Options) -> Path:
    """DIR as given (relative to the working directory), else next to reservation.yaml."""
    path = Path(workload_dir)
    if not path.is_absolute() and not path.exists() and (opts.cwd / path).exists():
        return opts.cwd / path
    return path


def _print_plan(workload: object, out: str) -> None:
    from enos.bench.workload import Workload

    assert isinstance(workload, Workload)
    if out == "json":
        click.echo(json.dumps([r.to_dict() for r in workload.runs], indent=2, default=str))
        return
    n = len(workload.runs)
    click.echo(f"{workload.run_file}: {n} run(s)")
    width = max((len(r.scenario) for r in workload.runs), default=0)
    for run in workload.runs:
        args = " ".join(f"{k}={v}" for k, v in run.args.items())
        plugins = f"  plugins: {', '.join(str(p) for p in run.plugins)}" if run.plugins else ""
        click.echo(f"  {run.index:>3}/{n} {run.type:<6} {run.scenario:<{width}}  {run.file}  "
                   f"{args}{plugins}")


def _bench(opts: Options, workload: object, reset: bool, fail_on_sla: bool) -> None:
    from enos.bench import session
    from enos.bench.results import ERROR, OK, SKIPPED, SLA_FAILED
    from enos.bench.workload import Workload

    assert isinstance(workload, Workload)
    exp = opts.experiment("bench")
    exp.need("os", "bench")
    exp.need("init", "bench")
    with exp.locked("bench"):
        exp.begin("bench")
        opts.say(f"enos bench: {len(workload.runs)} run(s) of {workload.run_file} on "
                 f"{exp.path.name}")
        result = session.execute(exp, workload, reset=reset, say=opts.say,
                                 echo=opts.say, quiet=opts.quiet)
        counts = {s: result.count(s) for s in (OK, SLA_FAILED, ERROR, SKIPPED)}
        exp.mark_done("bench", session=result.stamp, workload=str(workload.directory),
                      runs=len(result.outcomes), **{k.replace("-", "_"): v
                                                    for k, v in counts.items()},
                      seconds=result.seconds)
    parts = [f"{counts[OK]} passed"]
    if counts[SLA_FAILED]:
        parts.append(f"{counts[SLA_FAILED]} FAILED SLA")
    if counts[ERROR]:
        parts.append(f"{counts[ERROR]} did not finish")
    if counts[SKIPPED]:
        parts.append(f"{counts[SKIPPED]} skipped")
    colour = "red" if counts[ERROR] else "yellow" if counts[SLA_FAILED] else "green"
    opts.say(f"{len(result.outcomes)} run(s) in {result.seconds:.1f}s: {', '.join(parts)}; "
             f"results in {result.directory}/", fg=colour)
    opts.next_step("'enos backup' gathers the Rally database and reports, the logs and the "
                   "configuration of every host")
    if counts[ERROR]:
        failed = [o for o in result.outcomes if o.status == ERROR]
        raise EnosError(
            f"{len(failed)} of {len(result.outcomes)} run(s) did not finish: "
            + "; ".join(f"{o.run_id}: {o.reason[:200]}" for o in failed[:3]),
            f"Rally's output is in {result.directory}/<run id>/rally.log",
        )
    if fail_on_sla and counts[SLA_FAILED]:
        raise SlaFailed(f"{counts[SLA_FAILED]} of {len(result.outcomes)} run(s) failed their SLA",
                        "see the FAILED SLA lines above, and report.html of each run")
