"""Server logs read for outages: when a server shut down, started, was ready, crashed, upgraded.

Formats are recognised line by line (a log may change format across an upgrade):

- MySQL 5.5 (``121018  9:48:56 [Note] ...``: two-digit year, space-padded hour), 5.6 and
  MariaDB 10.x/11.x (``2026-11-22  9:22:09 0 [Note] ...``), 5.7 and 8.0 (ISO 8601 with ``Z`` or an
  offset, ``2017-05-01T12:34:56.123456Z 0 [Note] ...``; 8.0 adds ``[System] [MY-010931]
  [Server]``). ``ready for connections`` is followed, on the same line (8.0) or the next one
  (5.5 to 5.7, MariaDB), by ``Version: '...'  socket: '...'  port: N``;
- RabbitMQ 3.8 and later (``2026-11-22 09:22:13.717401+00:00 [info] <0.223.0> ...``), 3.7
  (``2019-01-01 12:00:00.123 [info] <0.8.0> ...``) and 3.6 (``=INFO REPORT==== 1-Jan-2019::
  12:00:00 ===`` then the message on the next lines);
- OpenStack services (oslo.log: ``2026-11-22 08:17:40.823 24820 INFO nova.service [-] ...``)
  and uWSGI's own lines (``*** Starting uWSGI 2.0.31 (64bit) on [Sun Nov 22 08:17:06 2026]
  ***``; ``SIGINT/SIGTERM received...killing workers...`` has no time: the last one seen is
  taken).

Each interesting line becomes a :class:`LogEvent` (``start``, ``ready``, ``shutdown``,
``stopped``, ``crash``). :func:`timeline` turns one log's events into outages, restarts and
upgrades:

- a shutdown opens a ``clean-shutdown`` outage; it closes at the next ``ready`` (for OpenStack
  services, which log no readiness, at the next ``start``);
- starts within :data:`SAME_START` seconds of each other with nothing between them are one
  start (mysqld_safe, then mysqld; the workers of one service);
- a ``start`` with no shutdown since the last start is a restart after a crash: a ``crash``
  outage from the last line the old instance wrote (the time of the line before the start) to
  the next ready; an explicit crash line (``got signal 11``, ``Kernel pid terminated``) opens a
  ``crash`` outage at once;
- every start after the first is a restart; a version that differs from the previous one is an
  upgrade, and the outage that ends there has the cause ``upgrade``;
- a ready with ``port: 0`` (``--skip-networking``) leaves TCP clients cut off: the outage stays
  open (or opens) with the cause ``no-tcp-listener`` until a ready with a real port.

Times written without a zone are read in the ``tz`` given. Reading is one pass, a line at a
time, each line cut at :data:`MAX_LINE` characters before any pattern sees it.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

MAX_LINE = 4096
# Starts this close together, with nothing between them, are one start (a crash loop faster
# than this is seen as one restart).
SAME_START = 15.0
MAX_EVIDENCE_CHARS = 300


@dataclass(frozen=True)
class LogEvent:
    at: _dt.datetime
    kind: str  # start | ready | shutdown | stopped | crash
    server: str  # mysql | mariadb | rabbitmq | openstack
    version: str | None = None
    port: int | None = None
    evidence: str = ""
    before: _dt.datetime | None = None  # the time of the log's previous stamped line


@dataclass
class Span:
    server: str
    start: _dt.datetime
    end: _dt.datetime | None
    cause: str
    evidence: list[str] = field(default_factory=list)


@dataclass
class Restart:
    server: str
    at: _dt.datetime
    evidence: list[str] = field(default_factory=list)


@dataclass
class Upgrade:
    server: str
    at: _dt.datetime
    from_version: str
    to_version: str
    evidence: list[str] = field(default_factory=list)


# -- time stamps ----------------------------------------------------------------------------------
_MONTHS = {m: i for i, m in enumerate(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1)}
# (regex, kind of stamp); the first that matches the start of a line gives its time.
_STAMPS = [
    (re.compile(r"^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(\.\d+)?(Z|[+-]\d\d:?\d\d)?\s"),
     "iso"),
    (re.compile(r"^(\d{4})-(\d\d)-(\d\d) +(\d{1,2}):(\d\d):(\d\d)(\.\d+)?([+-]\d\d:?\d\d)?\s"),
     "iso"),
    (re.compile(r"^(\d\d)(\d\d)(\d\d) +(\d{1,2}):(\d\d):(\d\d)()()\s"), "yymmdd"),
    (re.compile(r"^=[A-Z]+ REPORT==== +(\d{1,2})-([A-Z][a-z]{2})-(\d{4})::(\d\d):(\d\d):(\d\d)"
                r"(?:\.\d+)? ==="), "erlang"),
    (re.compile(r"^\*\*\* Starting uWSGI .* on \[\w{3} ([A-Z][a-z]{2}) +(\d{1,2}) "
                r"(\d\d):(\d\d):(\d\d) (\d{4})\] \*\*\*"), "uwsgi"),
]


def _zone(text: str | None, tz: _dt.tzinfo) -> _dt.tzinfo:
    if not text:
        return tz
    if text == "Z":
        return _dt.UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    return _dt.timezone(sign * _dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:4])))


def stamp(line: str, tz: _dt.tzinfo) -> _dt.datetime | None:
    """The time a log line starts with, if any."""
    for pattern, kind in _STAMPS:
        m = pattern.match(line)
        if not m:
            continue
        g = m.groups()
        try:
            if kind == "iso":
                micro = int(round(float(g[6]) * 1e6)) if g[6] else 0
                return _dt.datetime(int(g[0]), int(g[1]), int(g[2]), int(g[3]), int(g[4]),
                                    int(g[5]), min(micro, 999999), tzinfo=_zone(g[7], tz))
            if kind == "yymmdd":
                return _dt.datetime(2000 + int(g[0]), int(g[1]), int(g[2]), int(g[3]),
                                    int(g[4]), int(g[5]), tzinfo=tz)
            if kind == "erlang":
                return _dt.datetime(int(g[2]), _MONTHS[g[1]], int(g[0]), int(g[3]), int(g[4]),
                                    int(g[5]), tzinfo=tz)
            return _dt.datetime(int(g[5]), _MONTHS[g[0]], int(g[1]), int(g[2]), int(g[3]),
                                int(g[4]), tzinfo=tz)
        except (ValueError, KeyError):
            return None
    return None


# -- what a line says -----------------------------------------------------------------------------
_VERSION_LINE = re.compile(r"Version: '([^']+)'\s+socket: '[^']*'\s+port: (\d+)")
# (regex, kind, server or None: mysql/mariadb told apart by the line); first match wins.
_RULES: list[tuple[re.Pattern[str], str, str | None]] = [
    # MySQL / MariaDB
    (re.compile(r"\bStarting MariaDB (\S+)"), "start", "mariadb"),
    (re.compile(r"\(mysqld ([\d.]+[^)\s]*)\) starting as process"), "start", None),
    (re.compile(r"mysqld_safe Starting mysqld daemon"), "start", "mysql"),
    (re.compile(r"mysqld_safe mysqld restarted|Number of processes running now: 0"), "crash",
     "mysql"),
    (re.compile(r"(?:mysqld|mariadbd) got signal \d+"), "crash", None),
    (re.compile(r"^(?!.*X Plugin).*ready for connections"), "ready", None),
    (re.compile(r"Normal shutdown|\[MY-013172\]|Received SHUTDOWN from user"), "shutdown",
     None),
    (re.compile(r"(?:mysqld|mariadbd)(?: \(mysqld [^)]*\))?: Shutdown complete"), "stopped",
     None),
    # RabbitMQ
    (re.compile(r"Starting RabbitMQ (\d[\w.+-]*) on Erlang"), "start", "rabbitmq"),
    (re.compile(r"Server startup complete"), "ready", "rabbitmq"),
    (re.compile(r"SIGTERM received - shutting down|RabbitMQ is asked to stop|"
                r"^Stopping RabbitMQ\b|\] Stopping RabbitMQ\b"), "shutdown", "rabbitmq"),
    (re.compile(r"Successfully stopped RabbitMQ and its dependencies"), "stopped", "rabbitmq"),
    (re.compile(r"Kernel pid terminated|^Slogan: |Crash dump is being written"), "crash",
     "rabbitmq"),
    # OpenStack (oslo.log, cotyledon, oslo.service) and uWSGI
    (re.compile(r"\bStarting \w+ node \(version ([^)]+)\)"), "start", "openstack"),
    (re.compile(r"neutron\.common\.config \[-\] Logging enabled!"), "start", "openstack"),
    (re.compile(r"^\*\*\* Starting uWSGI"), "start", "openstack"),
    (re.compile(r"Caught SIGTERM|SIGINT/SIGTERM received\.\.\.killing workers"), "shutdown",
     "openstack"),
]
_MARIADB = re.compile(r"mariadb", re.IGNORECASE)
_MYSQL = re.compile(r"mysqld|MySQL|\[MY-\d+\]|InnoDB")


def _server_of(line: str, named: str | None) -> str:
    if named:
        return named
    return "mariadb" if _MARIADB.search(line) else "mysql"


def _version_of(kind: str, server: str, match: re.Match[str]) -> str | None:
    if kind == "start" and match.groups():
        return match.group(1).rstrip(",")
    return None


def _rule(line: str) -> tuple[str, str, re.Match[str]] | None:
    """The kind and server a line tells, by the first rule that matches it."""
    for pattern, kind, server in _RULES:
        match = pattern.search(line)
        if not match:
            continue
        if server is None and not (_MYSQL.search(line) or _MARIADB.search(line)):
            return None  # a MySQL-like phrase in another program's log
        return kind, _server_of(line, server), match
    return None


def _with_version(pending: dict[str, object], line: str) -> bool:
    """Complete a MySQL ready event with the ``Version: ... port: N`` line after it."""
    version = _VERSION_LINE.search(line)
    if not version:
        return False
    pending.update(version=version.group(1), port=int(version.group(2)))
    if line.strip()[:100] not in str(pending["evidence"]):  # the next line, not the same one
        pending["evidence"] = f"{pending['evidence']} / {line.strip()}"[:2 * MAX_EVIDENCE_CHARS]
    if _MARIADB.search(version.group(1)):
        pending["server"] = "mariadb"
    return True


_UNSTAMPED = ("SIGINT/SIGTERM", "Stopping Rabbit", "Slogan", "Kernel pid")


def parse(lines: Iterable[str], source: str, tz: _dt.tzinfo) -> list[LogEvent]:
    """Events of one log, in order (see the module's documentation)."""
    out: list[LogEvent] = []
    last: _dt.datetime | None = None  # the time of the last stamped line
    before: _dt.datetime | None = None  # the one before it
    pending: dict[str, object] | None = None  # a ready waiting for its Version: line
    erlang_at: _dt.datetime | None = None  # a 3.6 report header: its message follows
    for number, raw in enumerate(lines, 1):
        line = raw[:MAX_LINE].rstrip("\r\n")
        if pending is not None:
            completed = _with_version(pending, line)
            out.append(_event(pending))
            pending = None
            if completed:
                continue
        at = stamp(line, tz)
        if at is not None:
            before, last = last, at
            erlang_at = at if line.startswith("=") else None
            if erlang_at is not None:
                continue
        elif erlang_at is None and not line.startswith(_UNSTAMPED):
            continue
        when = at or erlang_at or last
        told = _rule(line) if when is not None else None
        if told is None:
            continue
        kind, name, match = told
        event: dict[str, object] = {
            "at": when, "kind": kind, "server": name, "version": _version_of(kind, name, match),
            "evidence": f"{source}:{number}: {line.strip()}"[:MAX_EVIDENCE_CHARS], "port": None,
            "before": before if at is not None else last}
        if kind == "ready" and name in ("mysql", "mariadb") and not _with_version(event, line):
            pending = event
            continue
        out.append(_event(event))
    if pending is not None:
        out.append(_event(pending))
    return out


def _event(d: dict[str, object]) -> LogEvent:
    port, at, before = d.get("port"), d["at"], d.get("before")
    assert isinstance(at, _dt.datetime)
    return LogEvent(at=at, kind=str(d["kind"]), server=str(d["server"]),
                    version=str(d["version"]) if d.get("version") else None,
                    port=int(port) if isinstance(port, int) else None,
                    evidence=str(d.get("evidence") or ""),
                    before=before if isinstance(before, _dt.datetime) else None)


def lines_of(handle: IO[str]) -> Iterator[str]:
    """A text stream's lines, none longer than :data:`MAX_LINE` (a longer one comes in pieces):
    memory stays bounded whatever the file holds."""
    while True:
        line = handle.readline(MAX_LINE)
        if not line:
            return
        yield line


def parse_file(path: Path, tz: _dt.tzinfo, source: str | None = None) -> list[LogEvent]:
    with open(path, encoding="utf-8", errors="replace") as handle:
        return parse(lines_of(handle), source or str(path), tz)


# -- from events to outages -----------------------------------------------------------------------
@dataclass
class _Walk:
    spans: list[Span] = field(default_factory=list)
    restarts: list[Restart] = field(default_factory=list)
    upgrades: list[Upgrade] = field(default_factory=list)
    open: Span | None = None
    version: str | None = None
    started: bool = False
    shut: bool = False  # a shutdown (or crash line) since the last start
    previous: LogEvent | None = None

    def opening(self, event: LogEvent, cause: str, at: _dt.datetime | None = None) -> None:
        if self.open is None:
            self.open = Span(event.server, at or event.at, None, cause, [event.evidence])
        else:
            self.open.evidence.append(event.evidence)

    def closing(self, event: LogEvent) -> None:
        if self.open is not None:
            self.open.end = event.at
            if event.evidence not in self.open.evidence:
                self.open.evidence.append(event.evidence)
            self.spans.append(self.open)
            self.open = None


def _versioned(w: _Walk, event: LogEvent) -> None:
    if not event.version:
        return
    if w.version and event.version != w.version:
        w.upgrades.append(Upgrade(event.server, event.at, w.version, event.version,
                                  [event.evidence]))
        if w.open is not None:
            w.open.cause = "upgrade"
        else:
            w.opening(event, "upgrade")
    w.version = event.version


def _start(w: _Walk, event: LogEvent) -> None:
    if (w.previous is not None and w.previous.kind == "start"
            and (event.at - w.previous.at).total_seconds() <= SAME_START):
        # One start told twice: mysqld_safe then mysqld, the workers of one OpenStack service.
        if w.open is not None:
            w.open.evidence.append(event.evidence)
        _versioned(w, event)
        return
    if w.started:
        w.restarts.append(Restart(event.server, event.at, [event.evidence]))
        if not w.shut:  # no shutdown logged: the old instance died after its last line
            w.opening(event, "crash", at=event.before or event.at)
    w.started, w.shut = True, False
    _versioned(w, event)
    if event.server == "openstack":
        w.closing(event)


def timeline(events: list[LogEvent]) -> tuple[list[Span], list[Restart], list[Upgrade]]:
    """Outages, restarts and upgrades of one log's events (see the module's documentation)."""
    w = _Walk()
    for event in events:
        if event.kind == "start":
            _start(w, event)
        elif event.kind == "shutdown":
            w.shut = True
            w.opening(event, "clean-shutdown")
        elif event.kind == "crash":
            w.shut = True
            w.opening(event, "crash")
        elif event.kind == "stopped" and w.open is not None:
            w.open.evidence.append(event.evidence)
        elif event.kind == "ready":
            _versioned(w, event)
            if event.port == 0:
                w.opening(event, "no-tcp-listener")
                if w.open is not None:
                    w.open.cause = "no-tcp-listener"
            else:
                w.closing(event)
            w.started = True
        w.previous = event
    if w.open is not None:
        w.spans.append(w.open)
    return w.spans, w.restarts, w.upgrades
