"""Faults and outages without a cloud: a workload's faults read and judged, the timeline merged."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from enos import faults, outages
from enos.bench import faults as bench_faults
from enos.bench import workload
from enos.errors import ConfigError
from enos.outages import logs

UTC = dt.UTC
T0 = dt.datetime(2026, 11, 22, 10, 0, 0, tzinfo=UTC)


def at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


@pytest.mark.parametrize(("text", "seconds"), [("5s", 5.0), ("1.5s", 1.5), ("250ms", 0.25),
                                               ("2m", 120.0), (3, 3.0), ("7", 7.0)])
def test_durations(text: object, seconds: float) -> None:
    assert faults.duration(text) == seconds


@pytest.mark.parametrize("text", ["", "soon", "-1s", "5 parsecs", True, "9" * 60, "25h"])
def test_bad_durations(text: object) -> None:
    with pytest.raises(ValueError):
        faults.duration(text)


def _workload(tmp_path: Path, faults_yaml: str) -> Path:
    (tmp_path / "task.yml").write_text("{}\n")
    (tmp_path / "run.yml").write_text(
        "rally:\n  args: {times: [4]}\n  scenarios:\n"
        "    - name: boot\n      file: task.yml\n      faults:\n" + faults_yaml)
    return tmp_path


def test_a_scenarios_faults_are_read_in_time_order(tmp_path: Path) -> None:
    wl = workload.load(_workload(
        tmp_path, "        - {at: 20s, action: kill, service: rabbitmq, host: control-1}\n"
                  "        - {at: 2.5s, action: stop, service: mariadb, for: 5s}\n"))
    (run,) = wl.runs
    assert [(a, f) for a, f in run.faults] == [
        (2.5, faults.Fault("stop", "mariadb", (), 5.0)),
        (20.0, faults.Fault("kill", "rabbitmq", ("control-1",), None))]
    assert run.to_dict()["faults"] == [{"at": 2.5, "fault": "stop mariadb for 5s"},
                                       {"at": 20.0, "fault": "kill rabbitmq on control-1"}]


@pytest.mark.parametrize(("item", "line", "key", "words"), [
    ("{at: 2s, action: restrat, service: mariadb}", 7, "faults.0.action", "did you mean"),
    ("{at: soon, action: stop, service: mariadb}", 7, "faults.0.at", "not a duration"),
    ("{at: 2s, action: kill, service: mariadb, for: 5s}", 7, "faults.0.for",
     "does not apply to kill"),
    ("{at: 2s, action: stop}", 7, "faults.0", "has no 'service'"),
    ("{at: 2s, action: stop, service: x, when: 3}", 7, "faults.0.when", "unknown key"),
])
def test_bad_faults_name_the_line_and_key(tmp_path: Path, item: str, line: int, key: str,
                                          words: str) -> None:
    with pytest.raises(ConfigError) as err:
        workload.load(_workload(tmp_path, f"        - {item}\n"))
    text = str(err.value)
    assert f"run.yml:{line}" in text and key in text and words in text, text
    assert err.value.exit_code == 2


def test_judge_counts_failures_during_and_after_and_the_recovery() -> None:
    base = T0.timestamp()
    its = [  # (start, duration, failed)
        (0, 2, False), (2.5, 2, True), (5, 1, True), (6.5, 1, True), (9, 2, False),
        (11.5, 2, False)]
    iterations = [{"timestamp": base + s, "duration": d, "idle_duration": 0,
                   "error": ["DBConnectionError", "..."] if bad else []} for s, d, bad in its]
    done = [{"fault": "stop mariadb for 5s", "service": "mariadb", "action": "stop",
             "hosts": {"control-1": {}}, "start": base + 3, "end": base + 8, "at_offset": 3}]
    (judged,) = bench_faults.judge(done, iterations)
    assert judged["failed_during"] == 3 and judged["failed_after"] == 0
    assert judged["recovery_seconds"] == 8.0  # the iteration from 9 s to 11 s, from 3 s
    assert judged["hosts"] == ["control-1"]
    assert "3 failed iteration(s) during, 0 after; recovered in 8.0s" in \
        bench_faults.describe(judged)
    never = bench_faults.judge([{**done[0], "start": base + 10, "end": base + 20}],
                               iterations)[0]
    assert never["recovery_seconds"] is None and "no successful iteration" in \
        bench_faults.describe(never)


def _probe(service: str, start: float, end: float | None) -> outages.Outage:
    return outages.Outage(service, "control-1", at(start), at(end) if end is not None else None,
                          "unreachable", [f"probe {service}"], probed=True)


def test_a_probed_outage_takes_the_cause_of_the_fault_that_made_it() -> None:
    found = outages.Found(probes=[_probe("mariadb", 1.2, 7.1), _probe("keystone", 30, 31)])
    outages.read_faults(found, [
        {"at": at(1).isoformat(), "kind": "fault", "name": "mariadb",
         "detail": {"event": "start", "action": "stop", "hosts": ["control-1"], "for": 5.0}},
        {"at": at(6).isoformat(), "kind": "fault", "name": "mariadb",
         "detail": {"event": "end", "action": "stop", "hosts": ["control-1"], "seconds": 5}},
    ])
    found.client_errors.append((at(3), "nova-api", "control-1", "... Can't connect to ..."))
    timeline = outages.merge(found)
    db, keystone = timeline["outages"]
    assert (db.service, db.cause, db.seconds, db.fault) == ("mariadb", "fault", 5.9,
                                                            "stop mariadb for 5s")
    assert db.clients == ["nova-api@control-1"]
    assert "enos fault stop mariadb for 5s" in db.evidence[0]
    assert (keystone.cause, keystone.clients) == ("unreachable", [])


def test_logs_and_supervisor_explain_what_probes_saw_and_what_they_did_not() -> None:
    found = outages.Found(probes=[_probe("rabbitmq", 10.5, 21)])
    # RabbitMQ's log: a start with no shutdown before it (a crash), ready at 20.5.
    found.spans.append(("rabbitmq", "control-1",
                        logs.Span("rabbitmq", at(10), at(20.5), "crash", ["rabbit.log:9"])))
    found.exits.append({"service": "rabbitmq", "host": "control-1", "at": at(10.1),
                        "expected": False, "evidence": "history: rabbitmq exited with -9"})
    # nova-conductor has no probe: its crash is known from its supervisor only.
    found.exits.append({"service": "nova-conductor", "host": "control-1", "at": at(40),
                        "expected": False, "evidence": "history: nova-conductor exited"})
    found.restarts += [
        {"service": "nova-conductor", "host": "control-1", "at": at(40.6), "evidence": ["h"],
         "supervised": True},
        {"service": "rabbitmq", "host": "control-1", "at": at(10.6), "evidence": ["h2"],
         "supervised": True},
        # RabbitMQ logs its start ~10 s after its supervisor started it: the same restart.
        {"service": "rabbitmq", "host": "control-1", "at": at(20.4), "evidence": ["log"]}]
    timeline = outages.merge(found)
    rabbit, conductor = timeline["outages"]
    assert (rabbit.cause, rabbit.start, rabbit.end) == ("crash", at(10.5), at(21))
    assert "rabbit.log:9" in rabbit.evidence and any("-9" in e for e in rabbit.evidence)
    assert (conductor.service, conductor.cause, conductor.seconds) == ("nova-conductor",
                                                                       "crash", 0.6)
    restarts = [(r["service"], r["at"], r["evidence"]) for r in timeline["restarts"]]
    assert restarts == [("rabbitmq", at(10.6), ["h2", "log"]),
                        ("nova-conductor", at(40.6), ["h"])]
    data = outages.to_json(timeline, UTC)
    assert data["outages"][0]["start"] == "2026-11-22T10:00:10.500+00:00"
    assert set(data["outages"][0]) >= {"service", "host", "start", "end", "seconds", "cause",
                                       "evidence"}
