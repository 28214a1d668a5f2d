"""Enforce or remove the rules on the hosts: one Ansible run, every host in parallel.

The plan of each host is written to ``<experiment>/tc/hosts/<alias>.json`` (and its tc script
beside it, ``<alias>.tc``, for reading); the playbook ``playbooks/tc.yml`` probes every host,
stops before any change if one host's kernel lacks a piece its rules need, then runs each
host's script with ``tc -batch``.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from enos import events
from enos.ansible.runner import RunResult, run_playbook
from enos.errors import EnosError
from enos.netem.plan import HostPlan
from enos.utils.fs import atomic_write

if TYPE_CHECKING:
    from enos.experiment import Experiment
    from enos.output import Output

PLAYBOOK = Path(__file__).parent / "playbooks" / "tc.yml"

PIECES = {
    "tc": "the tc command (install iproute2)",
    "htb": "the HTB queueing discipline (kernel module sch_htb)",
    "u32": "the u32 classifier (kernel module cls_u32)",
}


def plan_dir(exp: Experiment) -> Path:
    return exp.path / "tc" / "hosts"


def _explain(plan: HostPlan) -> dict[str, str]:
    out = dict(PIECES)
    netem_for = "; ".join(plan.netem_needed_for()) or "delay and loss"
    out["netem"] = (f"the netem queueing discipline (kernel module sch_netem), needed for "
                    f"{netem_for}")
    return out


def write_plans(exp: Experiment, plans: list[HostPlan], *, rate_only: bool,
                reset: bool = False) -> Path:
    """One JSON plan per host (a reset plan only clears); returns their directory."""
    out = plan_dir(exp)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    for plan in plans:
        batch = "" if reset else plan.batch(rate_only)
        data: dict[str, Any] = {
            "devices_to_clear": plan.clear,
            "batch": batch,
            "rules": 0 if reset else plan.rule_count(),
            "needs": [] if reset else plan.needs(rate_only),
        }
        atomic_write(out / f"{plan.alias}.json", json.dumps(data, indent=1) + "\n")
        if batch:
            atomic_write(out / f"{plan.alias}.tc", batch)
    return out


CHECK_TASK = "Check every host can enforce its rules"
MAX_LISTED = 20
CHECK_TASKS = ("Probe the kernel's traffic control", CHECK_TASK)


def _lacking_error(msg: str, plans: list[HostPlan], rate_only: bool) -> EnosError:
    """The hosts that cannot enforce their rules, each with what its kernel lacks and why."""
    by_alias = {p.alias: p for p in plans}
    lines = []
    netem = False
    items = [item.partition("=") for item in msg.split() if "=" in item]
    for alias, _, pieces in items[:MAX_LISTED]:
        plan = by_alias.get(alias)
        explain = _explain(plan) if plan else PIECES
        why = [explain.get(piece, piece) for piece in pieces.split(",")]
        netem = netem or "netem" in pieces
        lines.append(f"  {alias}: the kernel lacks {'; '.join(why)}")
    if len(items) > MAX_LISTED:
        lines.append(f"  ... and {len(items) - MAX_LISTED} more host(s)")
    hint = "nothing was changed on any host"
    if netem and not rate_only:
        hint += ("; load netem on these hosts (modprobe sch_netem, or a kernel built with it), "
                 "or run 'enos tc --rate-only' to enforce the rates alone")
    return EnosError(f"{len(items) or 'some'} host(s) cannot enforce their rules:\n"
                     + "\n".join(lines), hint)


def _run(exp: Experiment, opts: Output, directory: Path, title: str, *, rate_only: bool,
         retry: str, plans: list[HostPlan], tags: list[str] | None = None) -> RunResult:
    result = run_playbook(
        PLAYBOOK, exp.inventory_path, extravars={"enos_tc_dir": str(directory)},
        tags=tags, title=title, log_dir=exp.path / "logs", quiet=opts.quiet,
        verbosity=opts.verbosity, check=False,
    )
    if not result.failures and result.returncode == 0:
        return result
    failures = result.failures
    lacking = [f for f in failures if f.task == CHECK_TASK]
    if lacking:
        raise _lacking_error(lacking[0].msg, plans, rate_only)
    lines = []
    for f in failures[:20]:
        what = "unreachable" if f.status == "unreachable" else f"failed at '{f.task}'"
        lines.append(f"  {f.host}: {what}: {' '.join(f.msg.split())[:400]}")
    if len(failures) > 20:
        lines.append(f"  ... and {len(failures) - 20} more")
    if not failures:
        lines.append(f"  ansible-playbook exited with code {result.returncode}")
    probing = failures and all(f.task in CHECK_TASKS for f in failures)
    if probing:
        hint = "nothing was changed on any host"
        if not rate_only and any("netem" in f.msg for f in failures):
            hint += ("; load netem on these hosts (modprobe sch_netem, or a kernel built with "
                     "it), or run 'enos tc --rate-only' to enforce the rates alone")
    else:
        hint = retry
    hosts = sorted({f.host for f in failures})
    head = f"{title}: {len(hosts)} host(s) failed ({', '.join(hosts[:10])})" if hosts else \
        f"{title} failed"
    raise EnosError(head + ":\n" + "\n".join(lines),
                    f"{hint}; Ansible's full output is in {result.log}")


def enforce(exp: Experiment, opts: Output, plans: list[HostPlan], *,
            rate_only: bool) -> RunResult:
    """Probe every host, then replace its rules (one Ansible run)."""
    start = time.monotonic()
    directory = write_plans(exp, plans, rate_only=rate_only)
    result = _run(exp, opts, directory, "tc", rate_only=rate_only, plans=plans,
                  retry="some hosts may hold their new rules and others not: fix the host, "
                        "then run 'enos tc' again (it replaces the rules) or 'enos tc --reset'")
    events.record(exp, "tc", "apply", rate_only=rate_only,
                  hosts=len([p for p in plans if p.classes]),
                  rules=sum(p.rule_count() for p in plans),
                  seconds=round(time.monotonic() - start, 3))
    return result


def remove(exp: Experiment, opts: Output, plans: list[HostPlan]) -> RunResult:
    """Remove enos's rules from every interface the hosts have."""
    start = time.monotonic()
    directory = write_plans(exp, plans, rate_only=True, reset=True)
    result = _run(exp, opts, directory, "tc reset", rate_only=True, tags=["apply"],
                  plans=plans, retry="fix the host, then run 'enos tc --reset' again")
    events.record(exp, "tc", "reset", hosts=len(plans),
                  seconds=round(time.monotonic() - start, 3))
    return result


def stop(exp: Experiment, opts: Output) -> list[str]:
    """The ``enos destroy`` stopper of the tc phase: remove every rule."""
    from enos.netem.constraints import Matrix
    from enos.netem.plan import host_plans

    resources = exp.resources
    if resources is None or not resources.hosts:
        return []
    plans = host_plans(Matrix(enable=False), resources)
    remove(exp, opts, plans)
    exp.forget("tc")
    return [f"tc rules on {len(plans)} host(s)"]
