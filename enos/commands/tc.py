"""enos tc: enforce the network constraints between topology groups; --test, --reset."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

import click

from enos.commands.common import Options, pass_options

if TYPE_CHECKING:
    from enos.experiment import Experiment
    from enos.model import Resources
    from enos.netem.constraints import Matrix
    from enos.netem.plan import HostPlan


@click.command("tc")
@click.option("--test", is_flag=True,
              help="Measure round-trip time, loss and throughput between groups (fping, iperf3) "
                   "and write a report next to what was asked.")
@click.option("--reset", is_flag=True,
              help="Remove every rule from the hosts; reservation.yaml is left as it is.")
@click.option("--dry-run", is_flag=True, help="Print what would be applied; change nothing.")
@click.option("--out", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="With --dry-run: json gives one object per ordered pair of hosts that "
                   "carries a constraint. With --test: the report as JSON.")
@click.option("--rate-only", is_flag=True,
              help="Enforce the rates alone, leaving delay and loss out.")
@click.option("--duration", type=click.FloatRange(1, 600), default=3.0, show_default=True,
              help="With --test: seconds of each throughput measure.")
@click.option("--probes", type=click.IntRange(3, 10000), default=20, show_default=True,
              help="With --test: fping probes per pair.")
@pass_options
def command(opts: Options, test: bool, reset: bool, dry_run: bool, out: str, rate_only: bool,
            duration: float, probes: int) -> None:
    """Enforce the delay, rate and loss of `network_constraints` between topology groups.

    Each host shapes its egress towards the other groups (HTB classes and u32 filters on the
    interfaces of the networks the constraints cover; `networks:` under network_constraints,
    default [network_interface]). Delay and loss go to netem where the kernel has it, else to
    a userspace delay line fed by iptables' NFQUEUE (`backend: auto | netem | userspace`).
    Rerunning replaces the rules; `enable: false` removes them. Every host is probed first: if
    one cannot enforce its rules, nothing is changed and the host is named.

    \b
    enos tc                  apply (all hosts at once)
    enos tc --dry-run        print the rules; --out json: the pairs of hosts and their rules
    enos tc --rate-only      rates alone, no delay nor loss
    enos tc --test           measure and compare, report in <experiment>/tc_test/latest/
    enos tc --reset          remove every rule
    """
    from enos.errors import EnosError

    if sum((test, reset, dry_run)) > 1:
        raise EnosError("--test, --reset and --dry-run go one at a time",
                        "run them one after the other")
    if out == "json" and not (dry_run or test):
        raise EnosError("--out json goes with --dry-run or --test",
                        "add --dry-run to see the pairs without applying them")
    if test:
        _test(opts, out, duration, probes)
    elif reset:
        _reset(opts)
    else:
        _apply(opts, dry_run, out, rate_only)


def _resources(opts: Options, command: str) -> tuple[Experiment, Resources]:
    exp = opts.experiment(command)
    exp.need("up", command)
    resources = exp.resources
    if resources is None:
        from enos.errors import PhaseError

        raise PhaseError(f"{exp.path.name} holds no machines", "run 'enos up' first")
    return exp, resources


def _matrix_lines(matrix: Matrix, rate_only: bool = False) -> list[str]:
    """One line per pair of groups: what is enforced (with ``rate_only``, the rate alone)."""
    from enos.netem.units import human_delay, human_loss, human_rate

    if not matrix.rules:
        return ["  no pair of groups carries a rule"]
    lines = []
    width = max(len(f"{s} -> {d}") for s, d in matrix.rules)
    for (s, d), r in matrix.rules.items():
        nets = f"  [{', '.join(r.networks)}]" if r.networks else ""
        if rate_only:
            lines.append(f"  {f'{s} -> {d}':<{width}}  rate {human_rate(r.rate_bps):>9}{nets}")
            continue
        rtt = human_delay(matrix.rtt_ms(s, d) or 0.0)
        lines.append(f"  {f'{s} -> {d}':<{width}}  delay {human_delay(r.delay_ms):>8}  "
                     f"rate {human_rate(r.rate_bps):>9}  loss {human_loss(r.loss_pct):>6}  "
                     f"(round trip {rtt}){nets}")
    return lines


def _rate_notes(config: Any) -> list[str]:
    """Rates written in bytes per second (``100mbps``), with what they are read as."""
    from enos.netem.units import bytes_rate_note

    nc = config.network_constraints or {}
    rates = [("network_constraints.default_rate", nc.get("default_rate"))] + [
        (f"network_constraints.constraints.{i}.rate", c.get("rate"))
        for i, c in enumerate(nc.get("constraints") or [])]
    return [f"{key}: {note}" for key, rate in rates
            if rate is not None and (note := bytes_rate_note(str(rate)))]


def _apply(opts: Options, dry_run: bool, out: str, rate_only: bool) -> None:
    from enos.netem import apply
    from enos.netem.constraints import build_matrix
    from enos.netem.plan import host_pairs, host_plans

    config = opts.load_config()
    matrix = build_matrix(config)
    if dry_run and out == "text":
        for note in _rate_notes(config):
            opts.say(f"warning: {note}", fg="yellow")
        found = opts.find_experiment()
        if found is None or found.resources is None:
            _dry_run_groups(opts, matrix, rate_only)
            return
    exp, resources = _resources(opts, "tc")
    plans = host_plans(matrix, resources)
    if dry_run:
        _dry_run(opts, matrix, plans, host_pairs(matrix, resources), out, rate_only)
        return

    for note in matrix.notes:
        opts.say(f"note: {note}", fg="yellow")
    present = {g for h in resources.hosts for g in h.groups}
    for g in matrix.groups:
        if g not in present:
            opts.say(f"note: group {g} has no host in {exp.path.name} (the topology changed "
                     "since 'enos up'?)", fg="yellow")
    start = time.monotonic()
    with exp.locked("tc"):
        exp.begin("tc")
        if not matrix.enable:
            opts.say(f"enos tc: network_constraints.enable is false: removing the rules of "
                     f"{len(plans)} host(s)")
            apply.remove(exp, opts, plans)
            exp.forget("tc")
            opts.say(f"no rule left ({time.monotonic() - start:.1f}s)", fg="green")
            opts.next_step("set `enable: true` and run 'enos tc' to enforce the constraints")
            return
        shaped = [p for p in plans if p.classes]
        rules = sum(p.rule_count() for p in plans)
        left_out = sorted({f"{p.group}->{c.dst_group}" for p in plans for c in p.classes
                           if c.rule.needs_netem}) if rate_only else []
        opts.say(f"enos tc: {len(matrix.rules)} group pair(s), {rules} class(es) on "
                 f"{len(shaped)} of {len(plans)} host(s), networks "
                 f"{', '.join(matrix.networks)}" + (" (rates only)" if rate_only else
                                                    f", backend {matrix.backend}"))
        if left_out:
            opts.say(f"left out (--rate-only): delay and loss on {', '.join(left_out)}",
                     fg="yellow")
        exp.update(tc_started=True)  # destroy removes what a failed run left
        apply.enforce(exp, opts, plans, rate_only=rate_only)
        used = {a: b for a, b in apply.backends(exp).items()
                if any(p.alias == a and p.classes for p in plans)}
        exp.mark_done("tc", matrix=matrix.to_list(), networks=matrix.networks,
                      rate_only=rate_only, hosts=len(shaped), rules=rules,
                      devices={p.alias: p.devices for p in plans if p.devices},
                      backend=matrix.backend, backends=used,
                      seconds=round(time.monotonic() - start, 1))
    opts.say(f"constraints enforced on {len(shaped)} host(s) in "
             f"{time.monotonic() - start:.1f}s" + _backend_summary(used), fg="green")
    if not opts.quiet:
        for line in _matrix_lines(matrix, rate_only):
            click.echo(line)
    opts.next_step("'enos tc --test' measures what is enforced; 'enos tc --reset' removes it")


def _backend_summary(used: dict[str, str]) -> str:
    """``: delay and loss by netem on 2 host(s), userspace on 3`` (empty when none)."""
    counts: dict[str, int] = {}
    for backend in used.values():
        if backend != "none":
            counts[backend] = counts.get(backend, 0) + 1
    if not counts:
        return ""
    return "; delay and loss by " + ", ".join(f"{b} on {n} host(s)"
                                              for b, n in sorted(counts.items()))


def _echo_matrix(matrix: Matrix, rate_only: bool = False) -> None:
    """The rules between groups, the groups left out and the notes."""
    if rate_only:
        click.echo(f"group pairs (egress of the first group), networks "
                   f"{', '.join(matrix.networks)}; rates only (--rate-only: no delay nor "
                   "loss):")
    else:
        click.echo(f"group pairs (egress of the first group; round trip = both directions), "
                   f"networks {', '.join(matrix.networks)}, backend {matrix.backend}:")
    for line in _matrix_lines(matrix, rate_only):
        click.echo(line)
    if matrix.excluded:
        click.echo(f"left out (except): {', '.join(matrix.excluded)}")
    for note in matrix.notes:
        click.echo(f"note: {note}")


def _dry_run(opts: Options, matrix: Matrix, plans: list[HostPlan], pairs: list[dict[str, Any]],
             out: str, rate_only: bool) -> None:
    if out == "json":
        click.echo(json.dumps(pairs, indent=2))
        return
    if not matrix.enable:
        click.echo(f"network_constraints.enable is false: 'enos tc' would remove the rules of "
                   f"{len(plans)} host(s)")
        return
    _echo_matrix(matrix, rate_only)
    click.echo(f"{len(pairs)} ordered pair(s) of hosts carry a rule")
    for plan in plans:
        backend = plan.backend_asked(rate_only)
        shown = "netem" if backend in ("auto", "netem") else "userspace"
        batch = plan.batch(rate_only, netem=shown == "netem")
        needs = ", ".join(plan.needs(rate_only, shown)) or "nothing"
        what = "" if backend == "none" else (
            f", backend {backend}" + (" (shown: netem; userspace where the kernel has no netem)"
                                      if backend == "auto" else ""))
        click.echo(f"\n# {plan.alias} ({plan.group or 'no group'}): "
                   f"{plan.rule_count()} class(es){what}, needs {needs}; "
                   f"first removes enos's rules on {', '.join(plan.clear) or 'nothing'}")
        if batch:
            click.echo(batch, nl=False)
        if shown == "userspace" and backend != "none":
            for version in (4, 6):
                click.echo(plan.iptables(version, rate_only), nl=False)
            click.echo(f"# delay line: {' '.join(plan.queues(rate_only)) or 'none'}")
    opts.next_step("'enos tc' applies these rules")


def _dry_run_groups(opts: Options, matrix: Matrix, rate_only: bool) -> None:
    """Before 'enos up': the rules between groups; hosts are not known yet."""
    if not matrix.enable:
        click.echo("network_constraints.enable is false: 'enos tc' would remove every rule")
        return
    _echo_matrix(matrix, rate_only)
    click.echo("the hosts, their addresses and tc rules are known after 'enos up'")
    opts.next_step("'enos up' acquires the machines, then 'enos tc' applies these rules")


def _reset(opts: Options) -> None:
    from enos.netem import apply
    from enos.netem.constraints import Matrix
    from enos.netem.plan import host_plans

    exp, res = _resources(opts, "tc")
    start = time.monotonic()
    plans = host_plans(Matrix(enable=False), res)
    with exp.locked("tc"):
        opts.say(f"enos tc --reset: removing the rules of {len(plans)} host(s)")
        apply.remove(exp, opts, plans)
        exp.forget("tc")
    opts.say(f"no rule left on {len(plans)} host(s) ({time.monotonic() - start:.1f}s)",
             fg="green")
    opts.next_step("'enos tc' enforces the constraints again")


def _test(opts: Options, out: str, duration: float, probes: int) -> None:
    from enos.errors import EnosError
    from enos.netem import measure
    from enos.netem.constraints import Matrix

    exp, res = _resources(opts, "tc --test")
    info = exp.state.get("phases", {}).get("tc")
    matrix = Matrix.from_list(info["matrix"], info["networks"]) if info else None
    rate_only = bool(info and info.get("rate_only"))
    if matrix is None and not opts.quiet:
        click.secho("no constraints are enforced ('enos tc' has not run or was reset): "
                    "measuring a baseline", fg="yellow", err=out == "json")
    with exp.locked("tc --test"):
        report = measure.run_test(
            exp.path, res, matrix, rate_only=rate_only, duration=duration, probes=probes,
            backends=dict(info.get("backends") or {}) if info else {},
            progress=None if opts.quiet or out == "json" else
            (lambda msg: opts.say(f"  {msg}")))
    if out == "json":
        click.echo(json.dumps(report.data, indent=2))
    elif not opts.quiet:
        click.echo(measure.summary(report.data))
        if measure.backend_line(report.data):
            opts.say(measure.backend_line(report.data))
        for item in report.data["not_exercised"]:
            opts.say(f"not exercised: {item}", fg="yellow")
        opts.say(f"report: {report.directory / 'report.md'} (and report.json)")
    off = report.off
    if off:
        raise EnosError(
            f"{len(off)} of {report.checks} check(s) out of tolerance: {', '.join(off[:8])}"
            + (" ..." if len(off) > 8 else ""),
            f"see {report.directory / 'report.md'}; rerun with a longer --duration if "
            "throughput ramps up slowly (long delays)")
    if out != "json" and matrix is None:
        opts.say("baseline measured: no constraint to compare with", fg="green")
    elif out != "json":
        opts.say(f"{report.checks} check(s) within tolerance", fg="green")
        opts.next_step("'enos tc --reset' removes the constraints; 'enos backup' gathers "
                       "the results")
