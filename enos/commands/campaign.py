"""enos campaign: a parameter study in one command (run, report, status)."""

from __future__ import annotations

import json
from typing import Any

import click

from enos.commands.common import Options, pass_options

EXAMPLE = """\b
    name: delay-study                       # default: the file's name
    base: reservation.yaml                  # relative to the campaign file
    workload: workload                      # holds run.yml
    parameters:                             # several keys make a grid
      network_constraints.default_delay: [0ms, 50ms, 100ms]
      workload.args.times: [10]             # an argument of every run of run.yml
    repeat: 2                               # bench runs per point
"""


@click.group("campaign")
def command() -> None:
    """Run a parameter study: every point of a grid of reservation.yaml and run.yml values,
    redoing only what each change needs (a new experiment for other machines, `enos os` for
    another deployment, `enos tc` for other constraints), then the bench; results and a
    report under campaign/<name>/ next to the campaign file.

    \b
    campaign.yaml:
    """


command.help = (command.help or "") + EXAMPLE


@command.command("run")
@click.argument("file", type=click.Path(dir_okay=False), metavar="FILE")
@click.option("--keep", is_flag=True,
              help="Keep the last point's cloud running (default: destroy it once done).")
@pass_options
def run(opts: Options, file: str, keep: bool) -> None:
    """Run the campaign of FILE; rerun after an interruption, it goes on where it stopped."""
    from enos.campaign import report, runner, spec

    campaign = spec.load(file)
    total = len(campaign.points) * campaign.repeat
    opts.say(f"campaign {campaign.name}: {len(campaign.points)} point(s) x {campaign.repeat} "
             f"run(s) = {total} bench run(s), in {campaign.directory}")
    work = runner.Runner(campaign, opts.say, opts.verbosity, opts.quiet)
    work.run()
    if not keep:
        opts.say("destroying the last point's cloud (--keep keeps it)")
        work.destroy()
    doc, files = report.write(campaign)
    _summary(opts, doc)
    for path in files:
        opts.say(f"  {path}")
    opts.next_step(f"open {files[1]} in a browser; 'enos campaign status {file}' lists the "
                   "points and their experiments")


@command.command("report")
@click.argument("file", type=click.Path(dir_okay=False), metavar="FILE")
@pass_options
def report_(opts: Options, file: str) -> None:
    """Write the campaign's results.json and report again (also while it runs)."""
    from enos.campaign import report, spec

    campaign = spec.load(file)
    doc, files = report.write(campaign)
    _summary(opts, doc)
    for path in files:
        opts.say(f"  {path}")
    opts.next_step(f"open {files[1]} in a browser")


@command.command("status")
@click.argument("file", type=click.Path(dir_okay=False), metavar="FILE")
@click.option("--out", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="Output format.")
@pass_options
def status(opts: Options, file: str, out: str) -> None:
    """Show the points done and left, with their experiment."""
    from enos.campaign import runner, spec

    campaign = spec.load(file)
    state = runner.state_of(campaign)
    rows: list[dict[str, Any]] = []
    for point in campaign.points:
        done = runner.runs_done(state, point)
        rows.append({"index": point.index, "params": point.params, "runs_done": len(done),
                     "runs": campaign.repeat,
                     "experiment": done[-1]["experiment"] if done else None})
    deployment = (state.get("deployment") or {}).get("experiment")
    if out == "json":
        click.echo(json.dumps({"name": campaign.name, "points": rows, "running": deployment},
                              indent=2))
        return
    left = sum(1 for r in rows if r["runs_done"] < r["runs"])
    click.echo(f"campaign {campaign.name}: {len(rows) - left} point(s) done, {left} left")
    for row in rows:
        mark = "done" if row["runs_done"] >= row["runs"] else \
            f"{row['runs_done']}/{row['runs']} runs"
        params = ", ".join(f"{k}={v}" for k, v in row["params"].items())
        click.echo(f"  {row['index']:>3}  {mark:<10} {params}"
                   + (f"  ({row['experiment']})" if row["experiment"] else ""))
    if deployment:
        click.echo(f"cloud running: {deployment}")
    opts.next_step(f"'enos campaign run {file}' runs what is left" if left else
                   f"'enos campaign report {file}' writes the report again")


def _summary(opts: Options, doc: dict[str, object]) -> None:
    from enos.report.render import seconds

    summary = doc.get("summary")
    assert isinstance(summary, list)
    for item in summary:
        if item["action"] != "total":
            continue
        opts.say(f"{item['scenario']}: median of a whole iteration per point")
        for row in item["points"]:
            params = ", ".join(f"{k}={v}" for k, v in row["params"].items())
            opts.say(f"  {params:<50} {seconds(row['median']):>10}  "
                     f"({seconds(row['min'])} to {seconds(row['max'])} over the repeats)")
