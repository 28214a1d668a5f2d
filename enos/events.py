"""The experiment's journal: ``<experiment>/events.jsonl``, one JSON object a line.

Every enos command that works on an experiment (its start, end or failure, with its duration),
every phase, every benchmark run and every change of the network emulation is appended here,
so that what happened can be laid over the metrics afterwards (``enos/monitoring`` exports the
events as Grafana annotations)::

    {"at": "2026-11-22T08:30:01.123+00:00", "kind": "phase", "name": "os",
     "detail": {"event": "end", "seconds": 131.2}}

``kind`` is ``command``, ``phase``, ``bench``, ``tc``, ``fault``... ``detail`` is free-form;
``detail.event`` is ``start``, ``end`` or ``failure`` for what has a duration. Appends are one
``write`` of a whole line to a file opened with ``O_APPEND``, under an advisory lock, flushed to
disk: concurrent writers (a command and a tool beside it) never interleave or lose a line.
Recording never fails the command that records: a journal that cannot be written is skipped.
"""

from __future__ import annotations

import datetime as _dt
import fcntl
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from enos.experiment import Experiment

FILE = "events.jsonl"


def now() -> str:
    """The current time, ISO 8601 with the time zone, to the millisecond."""
    return iso(_dt.datetime.now(_dt.UTC).timestamp())


def iso(epoch: float) -> str:
    """An epoch time as the journal writes times (local zone, milliseconds)."""
    return _dt.datetime.fromtimestamp(epoch, _dt.UTC).astimezone().isoformat(
        timespec="milliseconds")


def path_of(exp: Experiment | Path) -> Path:
    base = exp if isinstance(exp, Path) else exp.path
    return base / FILE


def record(exp: Experiment | Path, kind: str, name: str, at: str | None = None,
           **detail: Any) -> dict[str, Any]:
    """Append one event to the experiment's journal and return it (``at``: when it happened,
    if not now, e.g. a fault timed on a host)."""
    event = {"at": at or now(), "kind": kind, "name": name, "detail": detail}
    line = (json.dumps(event, sort_keys=True, default=str) + "\n").encode()
    path = path_of(exp)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    except OSError:
        return event
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            view = memoryview(line)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    except OSError:
        pass
    finally:
        os.close(fd)
    return event


def read(exp: Experiment | Path) -> list[dict[str, Any]]:
    """Every event of the journal, oldest first (a torn or foreign line is skipped)."""
    return list(iterate(path_of(exp)))


def iterate(path: Path) -> Iterator[dict[str, Any]]:
    try:
        handle = path.open(encoding="utf-8", errors="replace")
    except OSError:
        return
    with handle:
        for line in handle:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if isinstance(event, dict) and "at" in event and "kind" in event:
                yield event


def grafana_annotations(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The events as Grafana annotations (its HTTP API's shape: ``time`` and ``timeEnd`` in
    milliseconds, ``tags``, ``text``): an end or failure with ``seconds`` becomes a region
    from its start, anything else a point."""
    out = []
    for event in events:
        detail = dict(event.get("detail") or {})
        try:
            at = _dt.datetime.fromisoformat(str(event["at"]))
        except ValueError:
            continue
        end = int(at.timestamp() * 1000)
        start = end
        seconds = detail.get("seconds")
        if detail.get("event") in ("end", "failure") and isinstance(seconds, int | float):
            start = end - int(seconds * 1000)
        elif detail.get("event") == "start":
            continue  # shown as the beginning of its end's region
        kind, name = str(event.get("kind")), str(event.get("name"))
        extra = ", ".join(f"{k}={v}" for k, v in sorted(detail.items())
                          if k not in ("event",) and not isinstance(v, dict | list))
        tags = ["enos", kind, name] + ([str(detail["event"])] if "event" in detail else [])
        text = f"{kind} {name}" + (f" {detail['event']}" if "event" in detail else "")
        out.append({"time": start, "timeEnd": end, "tags": tags,
                    "text": text + (f" ({extra})" if extra else "")})
    return out
