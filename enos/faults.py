"""Fault injection: one service of the cloud restarted, killed, stopped or started, on purpose.

``enos fault ACTION SERVICE [--host H] [--for DURATION]`` and a workload's ``faults:`` (see
:mod:`enos.bench.faults`) both come here. The deployer does the work on the hosts
(:meth:`enos.deployers.base.Deployer.control`: through each host's supervisor for the native
deployer); this module checks the request, times it and journals it: every fault is one
``fault`` event in ``events.jsonl``, at the time the hosts did it (their clock), with the
hosts, the action and, for a fault that lasts, its end::

    {"kind": "fault", "name": "mariadb", "at": "...T10:00:01.250+00:00",
     "detail": {"event": "start", "action": "stop", "hosts": ["control-1"], "for": 5.0}}
    {"kind": "fault", "name": "mariadb", "at": "...T10:00:06.262+00:00",
     "detail": {"event": "end", "action": "stop", "hosts": ["control-1"], "seconds": 5.01}}

``enos outages`` reads them to give the outages they caused the cause ``fault``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from enos import events
from enos.deployers.base import ACTIONS
from enos.errors import EnosError, UsageError, did_you_mean

if TYPE_CHECKING:
    from enos.deployers.base import Deployer
    from enos.experiment import Experiment
    from enos.output import Output

# The longest pause a fault may ask for (a stop longer than this is `stop`, then `start`).
MAX_PAUSE = 24 * 3600.0
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")
_UNIT = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}


def duration(value: Any) -> float:
    """``5s``, ``1.5s``, ``250ms``, ``2m``, or a number of seconds; ValueError otherwise."""
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        match = _DURATION.match(str(value)[:50])
        if not match:
            raise ValueError(value)
        seconds = float(match.group(1)) * _UNIT[match.group(2)]
    if not 0 <= seconds <= MAX_PAUSE:
        raise ValueError(value)
    return seconds


@dataclass(frozen=True)
class Fault:
    """One fault to inject: ``action`` on ``service`` (on ``hosts``, or wherever it runs),
    lasting ``pause`` seconds for a stop or a restart."""

    action: str
    service: str
    hosts: tuple[str, ...] = ()
    pause: float | None = None

    def label(self) -> str:
        where = f" on {', '.join(self.hosts)}" if self.hosts else ""
        lasting = f" for {self.pause:g}s" if self.pause else ""
        return f"{self.action} {self.service}{lasting}{where}"


def check(fault: Fault, deployer: Deployer, exp: Experiment) -> None:
    """A clear error (exit 2) for an action, service or host the cloud does not have."""
    if fault.action not in ACTIONS:
        raise UsageError(f"unknown action '{fault.action}'",
                         did_you_mean(fault.action, ACTIONS) or f"use {', '.join(ACTIONS)}")
    names = deployer.services(exp)
    if fault.service not in names:
        raise UsageError(f"the {deployer.name} deployer has no service '{fault.service}'",
                         did_you_mean(fault.service, names)
                         or f"services: {', '.join(names)}")
    if fault.pause is not None and fault.action not in ("stop", "restart"):
        raise UsageError(f"'--for' does not apply to {fault.action}",
                         "a stop lasts --for, then starts again; a restart pauses --for "
                         "between its stop and its start")
    aliases = [h.alias for h in exp.resources.hosts] if exp.resources else []
    for host in fault.hosts:
        if host not in aliases:
            raise UsageError(f"no host '{host}' in the experiment",
                             did_you_mean(host, aliases) or f"hosts: {', '.join(aliases)}")


def inject(fault: Fault, deployer: Deployer, exp: Experiment, out: Output,
           **context: Any) -> dict[str, Any]:
    """Do the fault and journal it; return what was done: ``{"fault": label, "hosts": {host:
    {"done", "at", "done_at", "back_at", "up_at"}}, "start", "end"}`` (epoch seconds; ``end``
    is when the service was asked to run again, None when it stays stopped)."""
    done = deployer.control(exp, fault.service, fault.action, out,
                            hosts=list(fault.hosts) or None, pause=fault.pause)
    acted = {h: d for h, d in done.items() if d.get("done") not in (None, "absent")}
    if not acted:
        where = f" on {', '.join(fault.hosts)}" if fault.hosts else ""
        raise EnosError(f"{fault.service} runs on no host{where}",
                        "'enos status' shows which service runs where")
    start = min(float(d["at"]) for d in acted.values())
    backs = [float(d["back_at"]) for d in acted.values() if d.get("back_at") is not None]
    end = max(backs) if backs else None
    if fault.action in ("restart", "kill"):
        end = end or max(float(d["done_at"]) for d in acted.values())
    detail = {"action": fault.action, "hosts": sorted(acted), **context}
    events.record(exp, "fault", fault.service, at=events.iso(start), event="start",
                  **({"for": fault.pause} if fault.pause else {}), **detail)
    if end is not None:
        events.record(exp, "fault", fault.service, at=events.iso(end), event="end",
                      seconds=round(end - start, 3), **detail)
    return {"fault": fault.label(), "service": fault.service, "action": fault.action,
            "hosts": acted, "start": start, "end": end}

