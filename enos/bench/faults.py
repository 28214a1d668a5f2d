"""Faults during a benchmark: a scenario's ``faults:`` in run.yml, injected on time, judged.

::

    rally:
      scenarios:
        - name: boot and list servers
          file: nova-boot-list-cc.yml
          faults:
            - {at: 20s, action: stop, service: mariadb, for: 5s}
            - {at: 60s, action: kill, service: rabbitmq, host: control-1}

``at`` counts from the first iteration of the run (Rally's ``ITER: 1 START``); ``action`` is
restart, kill, stop or start; ``for`` is how long a stop lasts (or a restart pauses); ``host``
limits it to one host. Each fault runs in a thread beside Rally, through
:mod:`enos.faults` (journaled like ``enos fault``). After the run, each fault is judged against
Rally's iterations: how many failed during it (an iteration that overlaps it), how many failed
after it, and the recovery time: from the fault's start to the end of the first successful
iteration that started after the fault ended (None: none did).
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any

from enos import faults as faultmod
from enos.deployers.base import ACTIONS
from enos.errors import ConfigError, did_you_mean

if TYPE_CHECKING:
    from enos.deployers.base import Deployer
    from enos.experiment import Experiment
    from enos.output import Output

FAULT_KEYS = ("at", "action", "service", "for", "host")


def parse(value: Any, key: str, error: Any) -> tuple[tuple[float, faultmod.Fault], ...]:
    """A scenario's ``faults:``: a list of ``{at, action, service, for?, host?}``."""
    if value is None:
        return ()
    if not isinstance(value, list):
        raise error(f"'{key}' must be a list of faults", key,
                    "for instance: faults: [{at: 20s, action: stop, service: mariadb, for: 5s}]")
    out = []
    for n, item in enumerate(value):
        where = f"{key}.{n}"
        if not isinstance(item, dict):
            raise error(f"fault {n + 1} must be a mapping with at, action and service", where,
                        "for instance: {at: 20s, action: restart, service: rabbitmq}")
        for name in item:
            if name not in FAULT_KEYS:
                raise error(f"unknown key '{name}' in fault {n + 1}", f"{where}.{name}",
                            did_you_mean(str(name), FAULT_KEYS)
                            or f"known keys: {', '.join(FAULT_KEYS)}")
        for name in ("at", "action", "service"):
            if item.get(name) in (None, ""):
                raise error(f"fault {n + 1} has no '{name}'", where,
                            "a fault needs at (when, after the first iteration), action "
                            f"({', '.join(ACTIONS)}) and service")
        action = str(item["action"])
        if action not in ACTIONS:
            raise error(f"unknown action '{action[:50]}' in fault {n + 1}", f"{where}.action",
                        did_you_mean(action, ACTIONS) or f"use {', '.join(ACTIONS)}")
        at = _seconds(item["at"], f"{where}.at", error)
        pause = _seconds(item["for"], f"{where}.for", error) if item.get("for") is not None \
            else None
        if pause is not None and action not in ("stop", "restart"):
            raise error(f"'for' does not apply to {action}", f"{where}.for",
                        "a stop lasts 'for', then starts again; a restart pauses 'for'")
        host = item.get("host")
        hosts = (str(host),) if host not in (None, "") else ()
        out.append((at, faultmod.Fault(action, str(item["service"]), hosts, pause)))
    return tuple(sorted(out, key=lambda pair: pair[0]))


def _seconds(value: Any, key: str, error: Any) -> float:
    try:
        return faultmod.duration(value)
    except ValueError:
        raise error(f"'{str(value)[:50]}' is not a duration", key,
                    "write it as 20s, 1.5s, 250ms or 2m") from None


class Injector:
    """The faults of one run, each injected at its time after :meth:`begin` (a thread)."""

    def __init__(self, plan: tuple[tuple[float, faultmod.Fault], ...], deployer: Deployer,
                 exp: Experiment, out: Output, run_id: str) -> None:
        self.plan, self.deployer, self.exp, self.out = plan, deployer, exp, out
        self.run_id = run_id
        self.done: list[dict[str, Any]] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def begin(self) -> None:
        if self._thread is None and self.plan:
            self._thread = threading.Thread(target=self._run, args=(time.monotonic(),),
                                            name="enos-faults", daemon=True)
            self._thread.start()

    def _run(self, zero: float) -> None:
        for at, fault in self.plan:
            if self._stop.wait(max(0.0, zero + at - time.monotonic())):
                return
            try:
                done = faultmod.inject(fault, self.deployer, self.exp, self.out,
                                       bench=self.run_id)
                self.done.append({**done, "at_offset": at})
            except Exception as exc:  # noqa: BLE001 - reported with the run's results
                self.done.append({"fault": fault.label(), "service": fault.service,
                                  "action": fault.action, "at_offset": at,
                                  "error": str(exc)[:300], "start": None, "end": None})

    def finish(self, timeout: float = 600) -> list[dict[str, Any]]:
        """Wait for a fault under way (a stop with its pause), skip those not yet due."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        return self.done


def judge(done: list[dict[str, Any]], iterations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each fault against Rally's iterations (``timestamp``, ``duration``, ``error`` of each).

    Returns per fault: ``failed_during`` (failed iterations that overlap it), ``failed_after``
    (failed iterations that started after it ended), ``recovery_seconds``."""
    spans = []
    for it in iterations:
        try:
            began = float(it["timestamp"])
            ended = began + float(it.get("duration") or 0) + float(it.get("idle_duration") or 0)
        except (KeyError, TypeError, ValueError):
            continue
        spans.append((began, ended, bool(it.get("error"))))
    spans.sort()
    out = []
    for fault in done:
        begun, end = fault.get("start"), fault.get("end")
        item = {k: v for k, v in fault.items() if k != "hosts"}
        item["hosts"] = sorted(fault.get("hosts") or [])
        if begun is None:
            out.append({**item, "failed_during": None, "failed_after": None,
                        "recovery_seconds": None})
            continue
        start = float(begun)
        stop = float(end) if end is not None else float("inf")
        during = [s for s in spans if s[0] <= stop and s[1] >= start]
        after = [s for s in spans if s[0] > stop]
        first_ok = next((s for s in after if not s[2]), None)
        out.append({**item,
                    "failed_during": sum(1 for s in during if s[2]),
                    "failed_after": sum(1 for s in after if s[2]),
                    "recovery_seconds": round(first_ok[1] - start, 3) if first_ok else None})
    return out


def describe(judged: dict[str, Any]) -> str:
    """One line of the bench summary."""
    head = f"  fault {judged['fault']} at +{judged.get('at_offset', 0):g}s"
    if judged.get("error"):
        return f"{head}: not injected ({judged['error']})"
    if judged.get("failed_during") is None:
        return f"{head}: not injected (the run ended first)"
    recovery = judged.get("recovery_seconds")
    rec = f"recovered in {recovery:.1f}s" if recovery is not None else \
        "no successful iteration after it"
    return (f"{head}: {judged['failed_during']} failed iteration(s) during, "
            f"{judged['failed_after']} after; {rec}")


def check_services(plan: tuple[tuple[float, faultmod.Fault], ...], deployer: Deployer,
                   exp: Experiment, source: str) -> None:
    """Before anything runs: every fault names a service and host the cloud has."""
    from enos.errors import EnosError

    for _at, fault in plan:
        try:
            faultmod.check(fault, deployer, exp)
        except EnosError as exc:
            raise ConfigError(f"{exc.message} (a fault of {source})", source=source,
                              hint=exc.hint) from None
