"""Enforce or remove the rules on the hosts: one Ansible run, every host in parallel.

The plan of each host is written to ``<experiment>/tc/hosts/<alias>.json`` (and its rules
beside it, ``<alias>.tc``, ``<alias>.userspace.tc``, ``<alias>.iptables``, for reading), with
the two shell scripts rendered from it (``<alias>.probe.sh``, ``<alias>.apply.sh``:
:mod:`enos.netem.scripts`). The playbook ``playbooks/tc.yml`` runs the probe on every host
(which settles its backend), stops before any change if one host's kernel lacks a piece its
rules need, then runs each host's apply script: ``tc -batch`` and, with the userspace
backend, ``iptables-restore`` and the delay line under the host's supervisor
(``<enos_root>/tc``). The playbook reports the backend each host used (the fact
``enos_tc_backends``, set once for all hosts); enos writes it to
``<experiment>/tc/hosts/backends.json``, read back by :func:`backends`.

A plan holds:

- ``devices_to_clear``: interfaces whose enos rules (root qdisc ``e05:``) are removed first;
  enos's netfilter chain and delay line are removed too, unless the new rules use them;
- ``backend``: none (no delay nor loss), auto, netem or userspace;
- ``needs``: the pieces the rules need whatever the backend (tc, htb, u32);
- ``batch``: the tc script with netem; ``userspace``: ``batch`` (the same without netem),
  ``iptables4``/``iptables6`` (iptables-restore scripts), ``queues`` (the delay line's
  ``QUEUE:MILLISECONDS``) and ``needs`` (iptables, statistic, nfqueue, python3).
"""

from __future__ import annotations

import json
import re
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from enos import events
from enos.ansible.runner import RunResult, failure_error, run_playbook
from enos.errors import EnosError
from enos.netem import scripts
from enos.netem.constraints import USERSPACE
from enos.netem.plan import NONE, HostPlan
from enos.utils.fs import atomic_write

if TYPE_CHECKING:
    from enos.experiment import Experiment
    from enos.output import Output

PLAYBOOK = Path(__file__).parent / "playbooks" / "tc.yml"

PIECES = {
    "tc": "the tc command (install iproute2)",
    "htb": "the HTB queueing discipline (kernel module sch_htb)",
    "u32": "the u32 classifier (kernel module cls_u32)",
    "iptables": "iptables and iptables-restore (package iptables), for the userspace backend",
    "statistic": "iptables' statistic match (kernel module xt_statistic), for loss",
    "nfqueue": "iptables' NFQUEUE target (kernel module xt_NFQUEUE, nfnetlink_queue), for "
               "delay",
    "python3": "python3, which runs the delay line",
}


def plan_dir(exp: Experiment) -> Path:
    return exp.path / "tc" / "hosts"


def _explain(plan: HostPlan) -> dict[str, str]:
    out = dict(PIECES)
    netem_for = "; ".join(plan.netem_needed_for()) or "delay and loss"
    out["netem"] = (f"the netem queueing discipline (kernel module sch_netem), needed for "
                    f"{netem_for}")
    return out


def plan_data(plan: HostPlan, *, rate_only: bool, reset: bool = False) -> dict[str, Any]:
    """What the playbook reads for one host (see the module's documentation)."""
    if reset:
        return {"devices_to_clear": plan.clear, "backend": NONE, "needs": [], "rules": 0,
                "batch": "", "userspace": {"batch": "", "iptables4": "", "iptables6": "",
                                           "queues": [], "needs": []}}
    return {
        "devices_to_clear": plan.clear,
        "backend": plan.backend_asked(rate_only),
        "needs": plan.needs(rate_only=True),
        "rules": plan.rule_count(),
        "batch": plan.batch(rate_only),
        "userspace": {
            "batch": plan.batch(rate_only, netem=False),
            "iptables4": plan.iptables(4, rate_only),
            "iptables6": plan.iptables(6, rate_only),
            "queues": plan.queues(rate_only),
            "needs": plan.userspace_needs() if plan.delays_and_losses(rate_only) else [],
        },
    }


def write_plans(exp: Experiment, plans: list[HostPlan], *, rate_only: bool,
                reset: bool = False) -> Path:
    """One JSON plan per host (a reset plan only clears) and the two scripts the playbook runs
    on it (``<alias>.probe.sh``, ``<alias>.apply.sh``: :mod:`enos.netem.scripts`); returns
    their directory, which holds nothing else (what an earlier run wrote and this one does
    not is removed).

    These are a run's scratch, rewritten by every run: plain writes, no fsync (a few hundred
    files at 50 hosts; fsyncing each cost more than half a second)."""
    from enos import supervisor

    out = plan_dir(exp)
    out.mkdir(parents=True, exist_ok=True)
    files: dict[str, str] = {}
    for plan in plans:
        data = plan_data(plan, rate_only=rate_only, reset=reset)
        files[f"{plan.alias}.json"] = json.dumps(data, indent=1) + "\n"
        files[f"{plan.alias}.probe.sh"] = scripts.probe(data)
        files[f"{plan.alias}.apply.sh"] = scripts.apply(data, Path(supervisor.__file__))
        if data["batch"]:
            files[f"{plan.alias}.tc"] = data["batch"]
        if data["backend"] in (USERSPACE, "auto"):
            us = data["userspace"]
            files[f"{plan.alias}.userspace.tc"] = us["batch"]
            files[f"{plan.alias}.iptables"] = us["iptables4"] + us["iptables6"]
    for old in out.iterdir():
        if old.name not in files or old.is_symlink() or not old.is_file():
            if old.is_dir() and not old.is_symlink():
                shutil.rmtree(old)
            else:
                old.unlink()
    for name, text in files.items():
        (out / name).write_text(text)
    return out


def _record_backends(directory: Path, result: RunResult) -> None:
    """``backends.json``: the backend of every host, as the run reported it (nothing when the
    run stopped before it had settled them)."""
    for facts in result.facts.values():
        data = facts.get("enos_tc_backends")
        if isinstance(data, str):
            try:
                data = json.loads(data)
            except ValueError:
                continue
        if isinstance(data, dict):
            atomic_write(directory / "backends.json",
                         json.dumps({str(k): str(v) for k, v in data.items()}) + "\n")
            return


def backends(exp: Experiment) -> dict[str, str]:
    """The backend each host used in the last run (none: no delay nor loss to enforce)."""
    try:
        data = json.loads((plan_dir(exp) / "backends.json").read_text())
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


CHECK_TASK = "Check every host can enforce its rules"
# What the check says of each host: "alias=backend:piece,piece" (the backend may be absent).
_LACKING = re.compile(r"([^\s'\",\[\]=]+)=(?:(\w+):)?(\w+(?:,\w+)*)")
MAX_LISTED = 20
CHECK_TASKS = ("Probe the kernel's traffic control", CHECK_TASK)


def _lacking_error(msg: str, plans: list[HostPlan], rate_only: bool) -> EnosError:
    """The hosts that cannot enforce their rules, each with what its kernel lacks and why."""
    by_alias = {p.alias: p for p in plans}
    lines = []
    netem = False
    items = _LACKING.findall(msg)
    for alias, backend, pieces in items[:MAX_LISTED]:
        plan = by_alias.get(alias)
        explain = _explain(plan) if plan else PIECES
        why = [explain.get(piece, piece) for piece in pieces.split(",")]
        netem = netem or "netem" in pieces
        using = f" (backend {backend})" if backend and backend != NONE else ""
        lines.append(f"  {alias}{using}: the host lacks {'; '.join(why)}")
    if len(items) > MAX_LISTED:
        lines.append(f"  ... and {len(items) - MAX_LISTED} more host(s)")
    hint = "nothing was changed on any host"
    if netem and not rate_only:
        hint += ("; load netem on these hosts (modprobe sch_netem, or a kernel built with it), "
                 "or set `network_constraints.backend: auto` (netem where the kernel has it, "
                 "else the userspace delay line), or run 'enos tc --rate-only' to enforce the "
                 "rates alone")
    elif not rate_only:
        hint += ("; install iptables and python3 on these hosts (enos tc tries with their "
                 "package manager), or run 'enos tc --rate-only' to enforce the rates alone")
    return EnosError(f"{len(items) or 'some'} host(s) cannot enforce their rules:\n"
                     + "\n".join(lines), hint)


def _run(exp: Experiment, out: Output, directory: Path, title: str, *, rate_only: bool,
         retry: str, plans: list[HostPlan], tags: list[str] | None = None) -> RunResult:
    result = run_playbook(
        PLAYBOOK, exp.inventory_path,
        extravars={"enos_tc_dir": str(directory)},
        tags=tags, title=title, log_dir=exp.path / "logs", quiet=out.quiet,
        verbosity=out.verbosity, check=False, forks=len(plans),
    )
    _record_backends(directory, result)
    if not result.failures and result.returncode == 0:
        return result
    failures = result.failures
    lacking = [f for f in failures if f.task == CHECK_TASK]
    if lacking:
        raise _lacking_error(lacking[0].msg, plans, rate_only)
    probing = failures and all(f.task in CHECK_TASKS for f in failures)
    if probing:
        hint = "nothing was changed on any host"
        if not rate_only and any("netem" in f.msg for f in failures):
            hint += ("; load netem on these hosts (modprobe sch_netem, or a kernel built with "
                     "it), or run 'enos tc --rate-only' to enforce the rates alone")
    else:
        hint = retry
    raise failure_error(result, title, hint)


def enforce(exp: Experiment, out: Output, plans: list[HostPlan], *,
            rate_only: bool) -> RunResult:
    """Probe every host, then replace its rules (one Ansible run)."""
    start = time.monotonic()
    directory = write_plans(exp, plans, rate_only=rate_only)
    result = _run(exp, out, directory, "tc", rate_only=rate_only, plans=plans,
                  retry="some hosts may hold their new rules and others not: fix the host, "
                        "then run 'enos tc' again (it replaces the rules) or 'enos tc --reset'")
    events.record(exp, "tc", "apply", rate_only=rate_only,
                  hosts=len([p for p in plans if p.classes]),
                  rules=sum(p.rule_count() for p in plans),
                  seconds=round(time.monotonic() - start, 3))
    return result


def remove(exp: Experiment, out: Output, plans: list[HostPlan]) -> RunResult:
    """Remove enos's rules from every interface the hosts have, enos's netfilter chain, and
    the delay line (stopped by its supervisor, by PID)."""
    start = time.monotonic()
    directory = write_plans(exp, plans, rate_only=True, reset=True)
    result = _run(exp, out, directory, "tc reset", rate_only=True, tags=["apply"], plans=plans,
                  retry="fix the host, then run 'enos tc --reset' again")
    if "tc_started" in exp.state:
        exp.state.pop("tc_started")
        exp.save()
    events.record(exp, "tc", "reset", hosts=len(plans),
                  seconds=round(time.monotonic() - start, 3))
    return result


def stop(exp: Experiment, out: Output) -> list[str]:
    """The ``enos destroy`` stopper of the tc phase: remove every rule."""
    from enos.netem.constraints import Matrix
    from enos.netem.plan import host_plans

    resources = exp.resources
    if resources is None or not resources.hosts:
        return []
    plans = host_plans(Matrix(enable=False), resources)
    remove(exp, out, plans)
    exp.forget("tc")
    return [f"tc rules on {len(plans)} host(s)"]
