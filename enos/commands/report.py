"""enos report: the experiment as pages a person can read; --compare: experiments side by side."""

from __future__ import annotations

from pathlib import Path

import click

from enos.commands.common import Options, pass_options


@click.command("report")
@click.option("--out", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="json: also print report.json.")
@click.option("--compare", is_flag=True,
              help="Compare the EXPERIMENTS given: the first is the baseline.")
@click.option("-o", "--output", "output", metavar="DIR", type=click.Path(path_type=Path),
              help="Where to write (default: <experiment>/report/, or ./compare-<time>/).")
@click.argument("experiments", nargs=-1, metavar="[BASELINE OTHER...]")
@pass_options
def command(opts: Options, out: str, compare: bool, output: Path | None,
            experiments: tuple[str, ...]) -> None:
    """Write index.html (one self-contained page: it works offline), report.md and report.json
    for the current experiment (or -e): what ran (reservation.yaml with its secrets redacted,
    hosts, versions), the phases and their slowest tasks, each Rally run's atomic actions
    (count, failures, min/median/p90/p95/max, distribution) and SLA, enos tc --test
    measurements, outages and, with monitoring, CPU, memory and probe latency with the events.

    \b
    enos report --compare BASELINE OTHER [OTHER ...] compares experiments (directories, or
    names next to reservation.yaml): configuration and version differences, then per
    scenario and action the medians and p95, their difference, a bootstrap 95% confidence
    interval of the difference of medians and a verdict.
    """
    from enos.errors import UsageError

    if compare:
        if len(experiments) < 2:
            raise UsageError("--compare needs a baseline and at least one other experiment",
                             "enos report --compare enos_A enos_B [enos_C ...]")
        from enos.report import compare as compare_mod

        where = compare_mod.run_compare(experiments[0], list(experiments[1:]),
                                        str(output) if output else None, opts.cwd, opts.say)
        opts.next_step(f"open {where / 'index.html'} in a browser")
        return
    if experiments:
        raise UsageError(f"unexpected argument(s): {' '.join(experiments)}",
                         "pass --compare to compare experiments, or -e EXPERIMENT to report "
                         "on another experiment than the current one")
    _report(opts, out, output)


def _report(opts: Options, out: str, output: Path | None) -> None:
    from enos import report

    exp = opts.experiment("report")
    target = output or exp.path / "report"
    quiet = opts.quiet or out == "json"
    say = None if quiet else opts.say
    doc = report.build(exp.path, say=say)
    files = report.write(exp.path, doc, target)
    if out == "json":
        click.echo(report.to_json(doc))
        return
    runs = doc["bench"]
    opts.say(f"report of {exp.path.name}: {len(doc['phases'])} phase run(s), {len(runs)} "
             f"Rally run(s), {len(doc['tc'])} tc measurement(s), "
             f"{len(doc['outages'].get('outages') or [])} outage(s)")
    for path in files:
        opts.say(f"  {path}")
    opts.next_step(f"open {files[0]} in a browser; 'enos report --compare {exp.path.name} "
                   "OTHER' compares it with another experiment")
