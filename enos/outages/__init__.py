"""Outages found to the second: when each service of the cloud was unreachable, and why.

``enos outages`` lays four sources over one another:

- the monitoring service's probes (:mod:`enos.monitoring`): every API and MariaDB, RabbitMQ and
  memcached probed at the scrape interval (one second by default). A run of failed probes of
  one target is an outage, from the first failed probe to the first successful one after it
  (so within one interval of the truth at each end); read as raw samples from Prometheus, an
  hour at a time;
- the servers' own logs (:mod:`enos.outages.logs`): clean shutdowns, starts, crashes, version
  changes, a start that listens on no TCP port;
- the supervisors' histories (``history.jsonl``, :mod:`enos.supervisor`): a program that
  exited without being asked to crashed; each start after the first is a restart;
- the experiment's journal (``events.jsonl``): the faults enos injected (``enos fault``, a
  workload's ``faults:``).

An outage seen by probes takes its times from them (what clients saw) and its cause from what
overlaps it: a fault (``fault``; a kill is a ``crash`` with the fault among its evidence), else
the logs (``upgrade``, ``no-tcp-listener``, ``clean-shutdown``, ``crash``), else the
supervisor (``crash`` or ``clean-shutdown``), else ``unreachable``. An outage the logs or a
supervisor show but no probe covers (a service without an endpoint: nova-conductor) is listed
with their times, cause ``unknown`` when nothing tells. Each outage lists the ``clients`` that
logged connection errors during it (OpenStack services whose log has an error line about the
database or the message queue in that window).
"""

from __future__ import annotations

import datetime as _dt
import json
import re
import subprocess
import urllib.parse
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import logs

if TYPE_CHECKING:
    from enos.experiment import Experiment
    from enos.model import Host

CAUSES = ("clean-shutdown", "crash", "upgrade", "no-tcp-listener", "unreachable", "fault",
          "unknown")
# The most a log or history read over SSH may bring back (its end).
REMOTE_TAIL_BYTES = 64 * 1024 * 1024
# Probes read from Prometheus this many seconds at a time.
CHUNK_SECONDS = 3600
# Lines of an OpenStack service that say it lost a server it depends on.
_CLIENT_ERROR = re.compile(
    r"^(?P<ts>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?) \d+ (?:ERROR|WARNING|CRITICAL) "
    r"(?P<rest>.*(?:Can't connect to|Lost connection|MySQL server has gone away|"
    r"DBConnectionError|OperationalError|AMQP server on .* is unreachable|"
    r"Connection refused|Connection reset|ConnectionRefusedError|timed out|"
    r"Unable to establish connection|ServiceUnavailable).*)$")
MAX_EVIDENCE = 8
# A server logs its start this long after its supervisor started it, at most.
LOG_LAG = 60.0


@dataclass
class Outage:
    service: str
    host: str | None
    start: _dt.datetime
    end: _dt.datetime | None
    cause: str = "unknown"
    evidence: list[str] = field(default_factory=list)
    clients: list[str] = field(default_factory=list)
    fault: str | None = None
    probed: bool = False

    @property
    def seconds(self) -> float | None:
        return None if self.end is None else round((self.end - self.start).total_seconds(), 3)

    def to_dict(self, tz: _dt.tzinfo) -> dict[str, Any]:
        return {"service": self.service, "host": self.host, "start": _iso(self.start, tz),
                "end": _iso(self.end, tz) if self.end else None, "seconds": self.seconds,
                "cause": self.cause, "evidence": self.evidence[:MAX_EVIDENCE],
                "clients": self.clients, "fault": self.fault}


@dataclass
class Found:
    """Everything the sources gave, before merging."""

    probes: list[Outage] = field(default_factory=list)
    spans: list[tuple[str, str | None, logs.Span]] = field(default_factory=list)
    restarts: list[dict[str, Any]] = field(default_factory=list)
    upgrades: list[dict[str, Any]] = field(default_factory=list)
    exits: list[dict[str, Any]] = field(default_factory=list)  # from supervisor histories
    faults: list[dict[str, Any]] = field(default_factory=list)
    client_errors: list[tuple[_dt.datetime, str, str | None, str]] = field(default_factory=list)
    interval: float = 1.0
    notes: list[str] = field(default_factory=list)


def _iso(at: _dt.datetime, tz: _dt.tzinfo) -> str:
    return at.astimezone(tz).isoformat(timespec="milliseconds")


def _epoch(ts: float) -> _dt.datetime:
    return _dt.datetime.fromtimestamp(ts, _dt.UTC)


# -- the probes ---------------------------------------------------------------------------------
def probe_outages(url: str, since: float, until: float, interval: float,
                  program_of: dict[tuple[str, str | None], str]) -> list[Outage]:
    """Runs of failed probes of each target, from Prometheus' raw samples."""
    from enos.monitoring import api

    open_: dict[tuple[str, ...], tuple[float, float, int]] = {}  # key -> (start, last, fails)
    found: list[Outage] = []
    labels_of: dict[tuple[str, ...], dict[str, str]] = {}
    t = since
    while t < until:
        end = min(t + CHUNK_SECONDS, until)
        query = urllib.parse.urlencode({"query": f"probe_success[{int(end - t) + 1}s]",
                                        "time": f"{end:.3f}"})
        for series in api(url, f"/api/v1/query?{query}", timeout=60).get("result") or []:
            metric = series.get("metric") or {}
            key = tuple(str(metric.get(k, "")) for k in ("job", "instance", "host", "service"))
            labels_of[key] = metric
            for ts, value in series.get("values") or []:
                ts = float(ts)
                if ts <= t - 1e-3 and t != since:
                    continue  # counted in the previous chunk
                if value == "0":
                    start, _last, fails = open_.get(key, (ts, ts, 0))
                    open_[key] = (start, ts, fails + 1)
                elif key in open_:
                    start, last, fails = open_.pop(key)
                    found.append(_probe_outage(labels_of[key], start, ts, last, fails,
                                               program_of))
        t = end
    for key, (start, last, fails) in open_.items():
        found.append(_probe_outage(labels_of[key], start, None, last, fails, program_of))
    return found


def _probe_outage(metric: dict[str, str], start: float, end: float | None, last: float,
                  fails: int, program_of: dict[tuple[str, str | None], str]) -> Outage:
    host = metric.get("host") or None
    name = metric.get("service") or metric.get("instance") or "?"
    service = program_of.get((name, host), name)
    when = f"{_epoch(start).astimezone():%H:%M:%S}" + (
        f" to {_epoch(last).astimezone():%H:%M:%S}" if last != start else "")
    text = (f"probe {metric.get('job')} {metric.get('instance')}: {fails} failed probe(s) "
            f"{when}" + ("" if end is not None else ", still failing"))
    return Outage(service, host, _epoch(start), _epoch(end) if end is not None else None,
                  "unreachable", [text], probed=True)


# -- logs and supervisor histories ---------------------------------------------------------------
def _client_tee(lines: Iterable[str], service: str, host: str | None, tz: _dt.tzinfo,
                sink: list[tuple[_dt.datetime, str, str | None, str]]) -> Iterator[str]:
    """Pass the lines through, keeping the connection errors an OpenStack service logged."""
    for line in lines:
        if len(line) < 2000 and (" ERROR " in line or " WARNING " in line
                                 or " CRITICAL " in line):
            match = _CLIENT_ERROR.match(line)
            if match:
                try:
                    at = _dt.datetime.fromisoformat(match.group("ts")).replace(tzinfo=tz)
                except ValueError:
                    at = None
                if at is not None:
                    sink.append((at, service, host, line.strip()[:300]))
        yield line


def read_log(found: Found, lines: Iterable[str], source: str, service: str | None,
             host: str | None, tz: _dt.tzinfo, name: str = "?") -> None:
    """One log: its outages, restarts and upgrades, and its client errors. Without
    ``service`` (a file given by path), the server the log tells is the service (``name``, the
    file's, for an OpenStack service)."""
    def who(server: str) -> str:
        return service or (name if server == "openstack" else server)

    events = logs.parse(_client_tee(lines, service or name, host, tz, found.client_errors),
                        source, tz)
    spans, restarts, upgrades = logs.timeline(events)
    for span in spans:
        found.spans.append((who(span.server), host, span))
    for restart in restarts:
        found.restarts.append({"service": who(restart.server), "host": host, "at": restart.at,
                               "evidence": list(restart.evidence)})
    for up in upgrades:
        found.upgrades.append({"service": who(up.server), "host": host, "at": up.at,
                               "from": up.from_version, "to": up.to_version,
                               "evidence": list(up.evidence)})


def read_history(found: Found, lines: Iterable[str], source: str, host: str | None,
                 services: set[str]) -> None:
    """A supervisor's history: unexpected exits (crashes) and the starts after them."""
    seen: set[str] = set()
    for number, line in enumerate(lines, 1):
        try:
            item = json.loads(line)
            program, event, at = str(item["program"]), str(item["event"]), float(item["at"])
        except (ValueError, KeyError, TypeError):
            continue
        service = _service_of(program, services)
        where = f"{source}:{number}"
        if event == "exit":
            found.exits.append({"service": service, "host": host, "at": _epoch(at),
                                "expected": bool(item.get("expected")),
                                "evidence": f"{where}: {program} exited with code "
                                            f"{item.get('code')}" + (
                                                "" if item.get("expected") else
                                                " without being asked to")})
        elif event == "start":
            if program in seen:
                found.restarts.append({"service": service, "host": host, "at": _epoch(at),
                                       "supervised": True,
                                       "evidence": [f"{where}: {program} started again "
                                                    f"(pid {item.get('pid')})"]})
            seen.add(program)


def _service_of(program: str, services: set[str]) -> str:
    """nova-compute-compute-1-c2 -> nova-compute (the name faults and --tags use)."""
    if program in services:
        return program
    for name in sorted(services, key=len, reverse=True):
        if program.startswith(name + "-"):
            return name
    return program


def read_faults(found: Found, journal: Iterable[dict[str, Any]]) -> None:
    starts: dict[str, dict[str, Any]] = {}
    for event in journal:
        if event.get("kind") != "fault":
            continue
        detail = event.get("detail") or {}
        try:
            at = _dt.datetime.fromisoformat(str(event["at"]))
        except ValueError:
            continue
        key = f"{event.get('name')}|{','.join(detail.get('hosts') or [])}"
        if detail.get("event") == "start":
            fault = {"service": str(event.get("name")), "hosts": list(detail.get("hosts") or []),
                     "action": str(detail.get("action")), "start": at, "end": None,
                     "for": detail.get("for")}
            found.faults.append(fault)
            starts[key] = fault
        elif detail.get("event") == "end" and key in starts:
            starts.pop(key)["end"] = at


# -- merging ------------------------------------------------------------------------------------
def _overlaps(a0: _dt.datetime, a1: _dt.datetime | None, b0: _dt.datetime,
              b1: _dt.datetime | None, slack: float) -> bool:
    far = _dt.datetime.max.replace(tzinfo=_dt.UTC)
    pad = _dt.timedelta(seconds=slack)
    return a0 - pad <= (b1 or far) and b0 - pad <= (a1 or far)


def merge(found: Found) -> dict[str, Any]:
    """The timeline: outages (probes first, then what only logs or supervisors show),
    restarts and upgrades, each sorted by time."""
    slack = 2 * found.interval + 1.0
    outages = list(found.probes)
    used_spans: set[int] = set()
    for outage in outages:
        _explain(outage, found, slack, used_spans)
    for number, (service, host, span) in enumerate(found.spans):
        if number in used_spans:
            continue
        outage = Outage(service, host, span.start, span.end, span.cause, list(span.evidence))
        _explain(outage, found, slack, used_spans, from_logs=True)
        outages.append(outage)
    covered = [(o.service, o.host, o.start, o.end) for o in outages]
    for ex in found.exits:
        if ex["expected"] or any(s == ex["service"] and h == ex["host"]
                                 and _overlaps(a, b, ex["at"], ex["at"], slack)
                                 for s, h, a, b in covered):
            continue
        back = min((r["at"] for r in found.restarts if r["service"] == ex["service"]
                    and r["host"] == ex["host"] and r["at"] >= ex["at"]), default=None)
        outage = Outage(ex["service"], ex["host"], ex["at"], back, "crash", [ex["evidence"]])
        _explain(outage, found, slack, used_spans, from_logs=True)
        outages.append(outage)
    for outage in outages:
        outage.clients = sorted({f"{svc}@{host}" if host else svc
                                 for at, svc, host, _line in found.client_errors
                                 if svc != outage.service
                                 and _overlaps(outage.start, outage.end, at, at, found.interval)})
    outages.sort(key=lambda o: (o.start, o.service, o.host or ""))
    return {"outages": outages, "restarts": _dedup(found.restarts, slack),
            "upgrades": sorted(found.upgrades, key=lambda u: u["at"])}


def _explain(outage: Outage, found: Found, slack: float, used_spans: set[int],
             from_logs: bool = False) -> None:
    """Give an outage the cause (and evidence) of what overlaps it."""
    same = [(n, span) for n, (service, host, span) in enumerate(found.spans)
            if service == outage.service and (host == outage.host or outage.host is None)
            and _overlaps(outage.start, outage.end, span.start, span.end, slack)]
    for number, span in same:
        used_spans.add(number)
        outage.evidence += [e for e in span.evidence if e not in outage.evidence]
    exits = [ex for ex in found.exits if ex["service"] == outage.service
             and ex["host"] == outage.host
             and _overlaps(outage.start, outage.end, ex["at"], ex["at"], slack)]
    outage.evidence += [ex["evidence"] for ex in exits if ex["evidence"] not in outage.evidence]
    fault = next((f for f in found.faults if f["service"] == outage.service
                  and (not f["hosts"] or outage.host in f["hosts"] or outage.host is None)
                  and _overlaps(outage.start, outage.end, f["start"], f["end"] or f["start"],
                                slack)), None)
    if fault is not None:
        lasting = f" for {fault['for']:g}s" if fault.get("for") else ""
        outage.fault = f"{fault['action']} {fault['service']}{lasting}"
        outage.evidence.insert(0, f"events.jsonl: enos fault {outage.fault} at "
                                  f"{fault['start'].astimezone():%H:%M:%S.%f}"[:-3])
        outage.cause = "crash" if fault["action"] == "kill" else "fault"
        return
    causes = [span.cause for _n, span in same]
    for cause in ("upgrade", "no-tcp-listener", "crash", "clean-shutdown"):
        if cause in causes:
            outage.cause = cause
            return
    if exits:
        outage.cause = "clean-shutdown" if all(ex["expected"] for ex in exits) else "crash"
        return
    if not from_logs:
        outage.cause = "unreachable"


def _dedup(items: list[dict[str, Any]], slack: float) -> list[dict[str, Any]]:
    """One restart per restart: the supervisor's start, and what the server's log says of the
    same start (it may log it seconds later: RabbitMQ's banner comes ~10 s after its process),
    joined. A log's restart joins the supervisor's last start of that service and host within
    :data:`LOG_LAG` seconds before it; restarts known from logs only join within ``slack``."""
    out: list[dict[str, Any]] = []
    for item in sorted(items, key=lambda r: (not r.get("supervised"), r["at"])):
        same = [r for r in out if r["service"] == item["service"] and r["host"] == item["host"]]
        twin = None  # every start a supervisor made is a restart of its own
        if not item.get("supervised"):
            twin = max((r for r in same if r.get("supervised")
                        and 0 <= (item["at"] - r["at"]).total_seconds() <= LOG_LAG),
                       key=lambda r: r["at"], default=None)
            if twin is None:
                twin = next((r for r in same
                             if abs((r["at"] - item["at"]).total_seconds()) <= slack), None)
        if twin is None:
            out.append({**item, "evidence": list(item["evidence"])})
        else:
            twin["evidence"] += [e for e in item["evidence"] if e not in twin["evidence"]]
    return sorted(out, key=lambda r: r["at"])


def to_json(timeline: dict[str, Any], tz: _dt.tzinfo) -> dict[str, Any]:
    return {
        "outages": [o.to_dict(tz) for o in timeline["outages"]],
        "restarts": [{"service": r["service"], "host": r["host"], "at": _iso(r["at"], tz),
                      "evidence": r["evidence"][:MAX_EVIDENCE]} for r in timeline["restarts"]],
        "upgrades": [{"service": u["service"], "host": u["host"], "at": _iso(u["at"], tz),
                      "from": u["from"], "to": u["to"], "evidence": u["evidence"][:MAX_EVIDENCE]}
                     for u in timeline["upgrades"]],
    }


# -- the sources of an experiment ----------------------------------------------------------------
def _lines_of(path: str, host: Host | None) -> Iterator[str]:
    """A file's lines, read in place, or over SSH (its last REMOTE_TAIL_BYTES)."""
    if host is None:
        if not Path(path).is_file():
            return
        try:
            handle = open(path, encoding="utf-8", errors="replace")
        except OSError:
            return
        with handle:
            yield from logs.lines_of(handle)
        return
    from enos import status

    argv = status.ssh_argv(host, ["tail", "-c", str(REMOTE_TAIL_BYTES), path])
    with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                          stdin=subprocess.DEVNULL, text=True, errors="replace") as proc:
        assert proc.stdout is not None
        yield from logs.lines_of(proc.stdout)


def of_experiment(exp: Experiment, tz: _dt.tzinfo) -> Found:
    """Read every source of the experiment."""
    from enos import deployers, events, monitoring, status
    from enos.monitoring.section import seconds

    found = Found()
    name = deployers.recorded(exp)
    deployer = deployers.load(name) if name else None
    services = set(deployer.services(exp)) if deployer else set()
    journal = events.read(exp)
    read_faults(found, journal)
    hosts = {h.alias: h for h in (exp.resources.hosts if exp.resources else [])}
    local = status.shares_machine(exp)
    histories: set[tuple[str, str]] = set()
    for row in status.collect(exp):
        if row.get("state") == "unreachable" or not row.get("log"):
            continue
        host = str(row["host"])
        target = None if local else hosts.get(host)
        service = _service_of(str(row["service"]), services)
        read_log(found, _lines_of(str(row["log"]), target), f"{host}:{row['log']}", service,
                 host, tz)
        history = row.get("history")
        if history and (host, str(history)) not in histories:
            histories.add((host, str(history)))
            read_history(found, _lines_of(str(history), target), f"{host}:{history}", host,
                         services)
    plan = monitoring.saved_plan(exp)
    if plan:
        found.interval = seconds(str(plan.get("scrape_interval") or "1s"))
        endpoints = deployer.endpoints(exp) if deployer else []
        program_of = {(ep.name, ep.host): ep.program for ep in endpoints if ep.program}
        since = _since(journal)
        now = _dt.datetime.now(_dt.UTC).timestamp()
        try:
            found.probes = probe_outages(str(plan["prometheus"]), since, now, found.interval,
                                         program_of)
        except Exception as exc:  # noqa: BLE001 - the other sources still answer
            found.notes.append(f"probes not read: {exc}")
    else:
        found.notes.append("no monitoring in this experiment: outages come from logs and "
                           "supervisors only ('enos monitor' adds one-second probes)")
    return found


def _since(journal: list[dict[str, Any]]) -> float:
    for event in journal:
        try:
            return _dt.datetime.fromisoformat(str(event["at"])).timestamp()
        except ValueError:
            continue
    return _dt.datetime.now(_dt.UTC).timestamp() - 86400


def of_files(paths: list[Path], tz: _dt.tzinfo) -> Found:
    """Logs given by path (no experiment): each file's service is its server, else its name."""
    from enos.errors import UsageError

    found = Found()
    for path in paths:
        if not path.is_file():
            what = "does not exist" if not path.exists() else "is not a regular file"
            raise UsageError(f"--log {path}: {what}", "give the path of a log file")
        try:
            handle = open(path, encoding="utf-8", errors="replace")
        except OSError as exc:
            raise UsageError(f"cannot read {path}: {exc.strerror}",
                             "give the path of a log file that enos can read") from None
        with handle:
            stem = path.name.split(".log")[0] or path.name
            read_log(found, logs.lines_of(handle), str(path), None, None, tz, name=stem)
    return found
