"""Server logs read for outages: when a server shut down, started, was ready, crashed, upgraded.

What is read
------------
A log is read one line at a time and the format is recognised line by line, by the head of the
line (a file may mix formats: a MySQL 5.6 log upgraded to 5.7, RabbitMQ 3.6 to 3.7). Each
format is one entry of :data:`_FORMATS`: a head that gives the time and the message, and the
table of the phrases that matter in that format.

- MySQL 5.5 and MariaDB's own crash lines: ``121018  9:48:56 [Note] ...`` (two-digit year,
  space-padded hour; ``mysqld_safe`` writes the same with a zero-padded one);
- MySQL 5.6 and MariaDB 10.x/11.x: ``2026-11-22  9:22:09 0 [Note] ...`` (the hour may be
  space-padded);
- MySQL 5.7 and 8.0: ``2017-05-01T12:34:56.123456Z 0 [Note] ...``, or with an offset
  (``+02:00``, ``log_timestamps=SYSTEM``); 8.0 adds ``[System] [MY-010931] [Server]``;
- MySQL's crash report, ``12:30:00 UTC - mysqld got signal 11 ;``: a time of day in UTC
  whose date is the one of the line before it;
- RabbitMQ 3.9 to 4.x (``2026-11-22 09:22:13.717401+00:00 [info] <0.223.0> ...``), 3.7 and
  3.8 (``2019-01-01 12:00:00.123 [info] <0.8.0> ...``, no zone; a multi-line message such as
  `` Starting RabbitMQ 3.7.15 on Erlang 21.3`` goes on over the next lines, with no time),
  3.6 (``=INFO REPORT==== 1-Jan-2019::12:00:00 ===``, the message on the next lines). Such
  lines, up to a blank one, take the time of the line that began the message;
- OpenStack services (oslo.log: ``2026-11-22 08:17:40.823 24820 INFO nova.service [-] ...``)
  and uWSGI, which runs the API services: ``*** Starting uWSGI 2.0.31 (64bit) on [Sun Nov 22
  08:17:06 2026] ***`` and its request lines (``[pid: ...] ... [Sun Nov 22 08:18:47 2026]
  GET ...``) carry their own times;
- lines with no time: the ``Version: '...'  socket: '...'  port: N`` line after a MySQL or
  MariaDB ``ready for connections.`` (5.5 to 5.7, MariaDB; 8.0 writes it on the same line),
  uWSGI's ``SIGINT/SIGTERM received...killing workers...`` and ``goodbye to uWSGI.``, the
  Erlang VM's ``Kernel pid terminated`` / ``Crash dump is being written`` / ``Slogan:``. They
  take the time of the last line that had one.

Times written without a zone are read in the ``tz`` given; a zone written in the line wins.
Each interesting line becomes a :class:`LogEvent`:

- ``start``: the server process begins (``Starting MariaDB ... as process N``, ``(mysqld 8.0.19)
  starting as process N``, ``mysqld_safe Starting mysqld daemon``, ``Starting RabbitMQ 3.10.8
  on Erlang``, nova's ``Starting conductor node (version 33.0.2)``, neutron's ``Logging
  enabled!``, ``*** Starting uWSGI``). An OpenStack service logs no readiness: its start is
  also its ready, and only ``start`` is emitted;
- ``ready``: accepting connections (``ready for connections``, with the version and TCP port
  of the ``Version:`` line; RabbitMQ's ``Server startup complete``);
- ``shutdown``: a clean shutdown begins (``Normal shutdown``, ``[MY-013172] Received SHUTDOWN``,
  ``SIGTERM received - shutting down``, ``RabbitMQ is asked to stop``, ``Stopping RabbitMQ``,
  ``Caught SIGTERM`` of oslo.service and cotyledon, uWSGI's ``SIGINT/SIGTERM received``);
- ``stopped``: the shutdown is complete (``Shutdown complete``, ``[MY-010910]``, ``Successfully
  stopped RabbitMQ``, 3.6's ``Stopped RabbitMQ application``, ``goodbye to uWSGI``);
- ``crash``: a line that says so (``mysqld got signal 11``, ``mariadbd got signal 6``,
  ``mysqld_safe mysqld restarted``, ``mysqld_safe Number of processes running now: 0``,
  ``Kernel pid terminated``, ``Runtime terminating during boot``, ``Crash dump is being
  written``, ``Slogan:``).

The server of an event is ``rabbitmq``, ``openstack`` (oslo.log, uWSGI), or for the MySQL
formats ``mariadb`` when the line or its version says MariaDB or mariadbd, else what this
log's earlier lines said (a MariaDB crash line names ``mysqld`` only), else ``mysql``.

Outages
-------
:func:`timeline` walks the events of one log (one server instance) in order:

- a ``shutdown`` opens a ``clean-shutdown`` outage, closed by the next ``ready`` (by the next
  ``start`` for an OpenStack service);
- a ``start`` after an earlier instance was seen (any event) is a :class:`Restart`. If no
  shutdown or crash was logged since the last start or ready, the old instance died silently:
  a ``crash`` outage from the time it was last seen to the next ``ready``. That time is
  :attr:`LogEvent.last_seen`, the time of the last timed line before the start line; it is an
  upper bound (a new instance may write a few lines before its start line, e.g. RabbitMQ's
  feature flags), chosen so that the outage never reaches back over a silent, healthy past;
- a ``crash`` line opens a ``crash`` outage at its own time; a ``stopped`` with no outage open
  opens a ``clean-shutdown`` one;
- starts that follow each other with no other event between are one start when the first is
  a launcher's (``mysqld_safe``, uWSGI, then the program it runs) or when they are within
  :data:`SAME_START` seconds (the workers of one OpenStack service);
- a version (of a ``ready``, or of a ``start`` that has one) other than the previous one is an
  :class:`Upgrade`, and the outage open at that time, if any, gets the cause ``upgrade``.
  Versions that differ by a ``-log``/``-debug`` suffix only are the same;
- a ``ready`` on port 0 (``--skip-networking``: no TCP listener, as the Docker images' first
  server) leaves TCP clients cut off: the outage open stays open with the cause
  ``no-tcp-listener`` (one opens if none was), until a ``ready`` on another port (that cause
  stays when the version changed at a port-0 ready: the :class:`Upgrade` is listed anyway);
- an outage still open at the end of the log has no end.

Memory stays bounded whatever the file holds: one line at a time, each cut at :data:`MAX_LINE`
characters before any pattern sees it; :func:`lines_of` reads a longer line in pieces and
:func:`parse` skips all but its first piece (line numbers stay those of the file).
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

# The most of a line a pattern sees; lines_of() reads longer lines in pieces of this size.
MAX_LINE = 4096
# Starts this close together, with no other event between them, are one start: the workers of
# one OpenStack service (a crash loop faster than this is seen as one restart).
SAME_START = 15.0
# The most of a log line kept as evidence.
MAX_EVIDENCE_CHARS = 300
# The most evidence kept for one outage (the first ones, and the one that closed it).
MAX_SPAN_EVIDENCE = 20

KINDS = ("start", "ready", "shutdown", "stopped", "crash")
SERVERS = ("mysql", "mariadb", "rabbitmq", "openstack")


@dataclass(frozen=True)
class LogEvent:
    at: _dt.datetime  # timezone-aware
    kind: str  # start | ready | shutdown | stopped | crash
    server: str  # mysql | mariadb | rabbitmq | openstack
    version: str | None = None
    port: int | None = None  # of a ready, when the log gives it (0: no TCP listener)
    evidence: str = ""  # "<source>:<lineno>: <the line, stripped, at most 300 chars>"
    # The time of the last timed line before this one (for a start: when the old instance was
    # last seen). Not part of the event's identity.
    last_seen: _dt.datetime | None = field(default=None, compare=False, repr=False)


@dataclass
class Span:
    """An outage seen in a log."""

    server: str
    start: _dt.datetime
    end: _dt.datetime | None
    cause: str  # clean-shutdown | crash | upgrade | no-tcp-listener
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


# -- what the lines of each format say ------------------------------------------------------------
@dataclass(frozen=True)
class _Table:
    """The phrases of one format, in order (the first that a message contains wins); group 1
    of a pattern, when it has one, is the version."""

    server: str | None  # None: mysql or mariadb, told by the line
    rules: tuple[tuple[str, re.Pattern[str]], ...]
    gate: re.Pattern[str]  # any of them: one search turns most lines away

    def match(self, text: str) -> tuple[str, re.Match[str]] | None:
        if not self.gate.search(text):
            return None
        for kind, pattern in self.rules:
            found = pattern.search(text)
            if found:
                return kind, found
        return None


def _table(server: str | None, rows: list[tuple[str, str]]) -> _Table:
    return _Table(server, tuple((kind, re.compile(p)) for kind, p in rows),
                  re.compile("|".join(f"(?:{p})" for _, p in rows)))


_MYSQL = _table(None, [
    ("start", r"\bStarting MariaDB (\S+)"),
    ("start", r"\((?:mysqld|mariadbd) ([^)\s]+)\) starting as process"),
    ("start", r"\bmysqld_safe Starting (?:mysqld|mariadbd) daemon"),
    ("crash", r"\bmysqld_safe (?:mysqld restarted|Number of processes running now: 0\b)"),
    ("crash", r"\b(?:mysqld|mariadbd) got (?:signal|exception)"),
    ("ready", r"(?:mysqld|mariadbd)\S*: ready for connections"),
    ("shutdown", r"Normal shutdown|\[MY-013172\]|Received SHUTDOWN from user"),
    ("stopped", r"(?:mysqld|mariadbd)\S*(?: \([^)]*\))?: Shutdown complete|\[MY-010910\]"),
])
_RABBITMQ = _table("rabbitmq", [
    ("start", r"\bStarting RabbitMQ (\d[\w.+-]*) on Erlang"),
    ("ready", r"\bServer startup complete\b"),
    ("shutdown", r"SIGTERM received - shutting down|RabbitMQ is asked to stop"
                 r"|^Stopping RabbitMQ\b"),
    ("stopped", r"Successfully stopped RabbitMQ and its dependencies"
                r"|^Stopped RabbitMQ application"),
    ("crash", r"Kernel pid terminated|Runtime terminating during boot|^Slogan: "
              r"|Crash dump is being written"),
])
# oslo.log: the text after the level, "<logger> [<context>] <message>".
_OSLO = _table("openstack", [
    ("start", r"\bStarting [\w-]+ node \(version ([^)\s]+)\)"),
    ("start", r"^neutron\.common\.config \[[^\]]*\] Logging enabled!"),
    ("shutdown", r"\bCaught SIGTERM\b"),
])
_UWSGI = _table("openstack", [("start", r"^\*\*\* Starting uWSGI ")])
# Lines with no time of their own: they take the last one seen.
_UNTIMED = (
    _table("openstack", [
        ("shutdown", r"^SIGINT/SIG(?:TERM|QUIT) received\.\.\.killing workers"),
        ("stopped", r"^goodbye to uWSGI"),
    ]),
    _table("rabbitmq", [
        ("crash", r"Kernel pid terminated|Runtime terminating during boot|^Slogan: "
                  r"|^Crash dump is being written"),
    ]),
)
# The line after a MySQL "ready for connections." (or the rest of an 8.0 one).
_VERSION = re.compile(r"Version: '([^']*)'\s+socket: '[^']*'\s+port: (\d+)")
_MARIADB = re.compile(r"mariadb", re.IGNORECASE)
# The starts of a program that starts another one (whose own start then follows).
_LAUNCHER = re.compile(r"mysqld_safe Starting|\*\*\* Starting uWSGI ")
_SUFFIX = re.compile(r"(?:-log|-debug|-valgrind)+$")


# -- the heads of the lines: their times ----------------------------------------------------------
@dataclass(frozen=True)
class _Format:
    name: str
    # Named groups: Y (or y, two digits), m (or b, "Jan"), d, H, M, S, f (fraction), z (zone),
    # msg (what the table reads; the whole line when absent). No date: the last one seen.
    head: re.Pattern[str]
    table: _Table | None  # None: a line that only tells the time
    # The message may go on over the next lines, with no time, up to a blank line (RabbitMQ:
    # 3.6 writes it all there, 3.7 and 3.8 a multi-line message such as " Starting RabbitMQ").
    follows: bool = False


_DATE = r"(?P<Y>\d{4})-(?P<m>\d\d)-(?P<d>\d\d)"
_TIME = r"(?P<H>\d{1,2}):(?P<M>\d\d):(?P<S>\d\d)"
_FRACTION = r"(?:[.,](?P<f>\d+))?"
_ZONE = r"(?P<z>Z|[+-]\d\d:?\d\d)?"
_CTIME = r"\[\w{3} (?P<b>[A-Z][a-z]{2}) +(?P<d>\d{1,2}) " + _TIME + r" (?P<Y>\d{4})\]"
_FORMATS = (
    _Format("uwsgi", re.compile(r"^\*\*\* Starting uWSGI .*?" + _CTIME), _UWSGI),
    _Format("uwsgi-request", re.compile(r"^\[pid: \d+\|app: -?\d+\|req: [-\d]+/\d+\] .*?"
                                        + _CTIME), None),
    _Format("rabbitmq-3.6", re.compile(r"^=[A-Z]+ REPORT==== +(?P<d>\d{1,2})-(?P<b>[A-Z][a-z]{2})"
                                       r"-(?P<Y>\d{4})::" + _TIME + _FRACTION + " ===(?P<msg>)"),
            _RABBITMQ, follows=True),
    _Format("mysql-5.7", re.compile("^" + _DATE + "T" + _TIME + _FRACTION + _ZONE
                                    + r"\s+(?P<msg>.*)"), _MYSQL),
    _Format("mysql-crash", re.compile("^" + _TIME + r" (?P<z>UTC) - (?P<msg>\S+ got .*)"), _MYSQL),
    _Format("mysql-5.5", re.compile(r"^(?P<y>\d\d)(?P<m>\d\d)(?P<d>\d\d) +" + _TIME
                                    + r"\s+(?P<msg>.*)"), _MYSQL),
    _Format("oslo", re.compile("^" + _DATE + " " + _TIME + _FRACTION
                               + r" \d+ [A-Z]+ (?P<msg>\S.*)"), _OSLO),
    _Format("rabbitmq", re.compile("^" + _DATE + " " + _TIME + _FRACTION + _ZONE
                                   + r" \[[a-z]+\] (?:<[\d.]+> ?)?\s*(?P<msg>.*)"), _RABBITMQ,
            follows=True),
    _Format("mysql-5.6", re.compile("^" + _DATE + " +" + _TIME + r"\s+(?P<msg>.*)"), _MYSQL),
    # Any other line that starts with a date and a time: only its time.
    _Format("other", re.compile("^" + _DATE + "[ T]+" + _TIME + _FRACTION + _ZONE + r"(?:\s|$)"),
            None),
)
_MONTHS = {m: i for i, m in enumerate(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1)}


def _zone(text: str | None, tz: _dt.tzinfo) -> _dt.tzinfo:
    if not text:
        return tz
    if text in ("Z", "UTC"):
        return _dt.UTC
    digits = text[1:].replace(":", "")
    offset = _dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:4]))
    return _dt.timezone(-offset if text[0] == "-" else offset)


def _when(head: re.Match[str], tz: _dt.tzinfo, last: _dt.datetime | None) -> _dt.datetime | None:
    """The time a line's head gives, None if it is no time (``2026-13-45``)."""
    g = head.groupdict()
    try:
        zone = _zone(g.get("z"), tz)
        clock = _dt.time(int(g["H"]), int(g["M"]), int(g["S"]),
                         int(((g.get("f") or "") + "000000")[:6]), tzinfo=zone)
        if g.get("Y") or g.get("y"):
            year = int(g["Y"]) if g.get("Y") else 2000 + int(g["y"])
            month = int(g["m"]) if g.get("m") else _MONTHS[g["b"]]
            return _dt.datetime.combine(_dt.date(year, month, int(g["d"])), clock)
    except (ValueError, KeyError):
        return None
    if last is None:
        return None
    # A time of day alone (MySQL's crash report): on the day of the line before, or the next.
    day = last.astimezone(zone)
    at = _dt.datetime.combine(day.date(), clock)
    return at + _dt.timedelta(days=1) if at < day - _dt.timedelta(hours=12) else at


def _head(line: str) -> tuple[_Format, re.Match[str]] | None:
    for fmt in _FORMATS:
        found = fmt.head.match(line)
        if found:
            return fmt, found
    return None


# -- reading a log --------------------------------------------------------------------------------
def _evidence(source: str, number: int, text: str) -> str:
    return f"{source}:{number}: {text.strip()[:MAX_EVIDENCE_CHARS]}"


class _Reader:
    """The state of one pass over a log."""

    def __init__(self, source: str, tz: _dt.tzinfo) -> None:
        self.source, self.tz = source, tz
        self.events: list[LogEvent] = []
        self.last: _dt.datetime | None = None  # the time of the last timed line
        self.family = "mysql"  # what this log's MySQL-like lines said they were
        # A MySQL ready awaiting its Version: line, with its line number and text.
        self.pending: tuple[LogEvent, int, str] | None = None
        # The table, time and time before of a message that may go on over untimed lines.
        self.context: tuple[_Table, _dt.datetime, _dt.datetime | None] | None = None

    def feed(self, number: int, line: str) -> None:
        if self.pending is not None:
            if self._completed(line):
                return
            self.events.append(self.pending[0])
            self.pending = None
        head = _head(line)
        if head is None:
            self._untimed(number, line)
            return
        fmt, found = head
        self.context = None
        at = _when(found, self.tz, self.last)
        if at is None:
            return  # no real time: not a line of that format
        before, self.last = self.last, at
        if fmt.table is not None:
            text = found.group("msg") if "msg" in fmt.head.groupindex else line
            self._told(fmt.table, text, number, line, at, before)
            if fmt.follows:
                self.context = (fmt.table, at, before)

    def _untimed(self, number: int, line: str) -> None:
        text = line.strip()
        if self.context is not None:  # the rest of a RabbitMQ message
            if not text:
                self.context = None
            else:
                table, at, before = self.context
                self._told(table, text, number, line, at, before)
        elif text and self.last is not None:
            for table in _UNTIMED:
                self._told(table, text, number, line, self.last, self.last)

    def _told(self, table: _Table, text: str, number: int, line: str, at: _dt.datetime,
              before: _dt.datetime | None) -> None:
        told = table.match(text)
        if told is None:
            return
        kind, found = told
        version = found.group(1) if found.re.groups else None
        event = LogEvent(at, kind, table.server or self._family(text, version), version or None,
                         None, _evidence(self.source, number, line), before)
        if kind == "ready" and table.server is None:  # MySQL: version and port, here or next
            same_line = _VERSION.search(text)
            if same_line is None:
                self.pending = (event, number, line.strip())
                return
            event = self._with_version(event, same_line, event.evidence)
        self.events.append(event)

    def _family(self, text: str, version: str | None) -> str:
        if _MARIADB.search(text) or (version and _MARIADB.search(version)):
            self.family = "mariadb"
        elif version:
            self.family = "mysql"
        return self.family

    def _with_version(self, event: LogEvent, found: re.Match[str], evidence: str) -> LogEvent:
        version = found.group(1)
        return dataclasses.replace(event, version=version, port=int(found.group(2)),
                                   server=self._family("", version), evidence=evidence)

    def _completed(self, line: str) -> bool:
        """Merge the Version: line that follows a MySQL ready into it."""
        assert self.pending is not None
        found = _VERSION.match(line)
        if found is None:
            return False
        event, ready_number, ready_line = self.pending
        event = self._with_version(event, found, _evidence(self.source, ready_number,
                                                            f"{ready_line} {line.strip()}"))
        self.events.append(event)
        self.pending = None
        return True

    def finish(self) -> list[LogEvent]:
        if self.pending is not None:
            self.events.append(self.pending[0])
            self.pending = None
        return self.events


def parse(lines: Iterable[str], source: str, tz: _dt.tzinfo) -> list[LogEvent]:
    """Events of one log, in order (see the module's documentation). Times written without a
    zone are read in ``tz``. ``lines`` may be a file object, or :func:`lines_of` one: a piece
    of exactly :data:`MAX_LINE` characters with no line end is a line cut in pieces, whose
    other pieces are skipped."""
    reader = _Reader(source, tz)
    number = 0
    continued = False
    for raw in lines:
        if continued:
            continued = len(raw) == MAX_LINE and not raw.endswith("\n")
            continue
        number += 1
        continued = len(raw) == MAX_LINE and not raw.endswith("\n")
        reader.feed(number, raw[:MAX_LINE].rstrip("\r\n"))
    return reader.finish()


def lines_of(handle: IO[str]) -> Iterator[str]:
    """A text stream's lines, none longer than :data:`MAX_LINE` (a longer one comes in pieces):
    memory stays bounded whatever the file holds."""
    while True:
        line = handle.readline(MAX_LINE)
        if not line:
            return
        yield line


def parse_file(path: Path, tz: _dt.tzinfo, source: str | None = None) -> list[LogEvent]:
    """:func:`parse` on a file (undecodable bytes replaced; lines end at "\\n" only, so that
    line numbers are those of ``grep -n``); ``source`` defaults to the path."""
    with open(path, encoding="utf-8", errors="replace", newline="\n") as handle:
        return parse(lines_of(handle), str(path) if source is None else source, tz)


# -- from events to outages -----------------------------------------------------------------------
@dataclass
class _Walk:
    spans: list[Span] = field(default_factory=list)
    restarts: list[Restart] = field(default_factory=list)
    upgrades: list[Upgrade] = field(default_factory=list)
    open: Span | None = None
    version: str | None = None
    seen: bool = False  # an instance was seen: the next start is a restart
    down: bool = False  # a shutdown, stop or crash was logged since the last start or ready
    previous: LogEvent | None = None

    def note(self, event: LogEvent) -> None:
        if (self.open is not None and len(self.open.evidence) < MAX_SPAN_EVIDENCE
                and event.evidence not in self.open.evidence):
            self.open.evidence.append(event.evidence)

    def opening(self, event: LogEvent, cause: str, at: _dt.datetime | None = None) -> None:
        if self.open is None:
            self.open = Span(event.server, min(at or event.at, event.at), None, cause,
                             [event.evidence])
        else:
            self.note(event)

    def closing(self, event: LogEvent) -> None:
        span, self.open = self.open, None
        if span is None:
            return
        span.end = event.at
        if event.evidence not in span.evidence:
            if len(span.evidence) >= MAX_SPAN_EVIDENCE:
                span.evidence.pop()
            span.evidence.append(event.evidence)
        self.spans.append(span)

    def versioned(self, event: LogEvent) -> None:
        if not event.version:
            return
        if self.version and _SUFFIX.sub("", event.version) != _SUFFIX.sub("", self.version):
            self.upgrades.append(Upgrade(event.server, event.at, self.version, event.version,
                                         [event.evidence]))
            if self.open is not None:
                self.open.cause = "upgrade"
                self.note(event)
        self.version = event.version


def _same_boot(previous: LogEvent | None, event: LogEvent) -> bool:
    """Whether a start is one told already: the program a launcher started, or a worker."""
    if previous is None or previous.kind != "start" or _LAUNCHER.search(event.evidence):
        return False
    if _LAUNCHER.search(previous.evidence):
        return True
    return abs((event.at - previous.at).total_seconds()) <= SAME_START


def _start(w: _Walk, event: LogEvent) -> None:
    if _same_boot(w.previous, event):
        w.note(event)
        w.versioned(event)
        return
    if w.seen:
        w.restarts.append(Restart(event.server, event.at, [event.evidence]))
        if not w.down:  # no shutdown logged: the old instance died after it was last seen
            w.opening(event, "crash", at=event.last_seen)
    w.seen, w.down = True, False
    w.versioned(event)
    if event.server == "openstack":  # its start is its ready
        w.closing(event)


def _ready(w: _Walk, event: LogEvent) -> None:
    w.seen, w.down = True, False
    w.versioned(event)
    if event.port != 0:
        w.closing(event)
    elif w.open is None:
        w.opening(event, "no-tcp-listener")
    else:
        w.open.cause = "no-tcp-listener"
        w.note(event)


def _shutdown(w: _Walk, event: LogEvent) -> None:
    w.seen, w.down = True, True
    w.opening(event, "clean-shutdown")


def _crash(w: _Walk, event: LogEvent) -> None:
    w.seen, w.down = True, True
    w.opening(event, "crash")


_STEPS: dict[str, Callable[[_Walk, LogEvent], None]] = {
    "start": _start, "ready": _ready, "shutdown": _shutdown, "stopped": _shutdown,
    "crash": _crash}


def timeline(events: list[LogEvent]) -> tuple[list[Span], list[Restart], list[Upgrade]]:
    """Outages, restarts and upgrades of one log's events, of one server instance (see the
    module's documentation)."""
    w = _Walk()
    for event in events:
        step = _STEPS.get(event.kind)
        if step is not None:
            step(w, event)
            w.previous = event
    if w.open is not None:
        w.spans.append(w.open)
    return w.spans, w.restarts, w.upgrades
