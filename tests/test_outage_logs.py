"""Log parsers of enos outages: real MariaDB 10.11 / RabbitMQ 3.10 logs of this machine's
clouds (tests/data/logs/), and samples of the formats of older servers, written as they write
them."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pytest

from enos.outages import logs

DATA = Path(__file__).parent / "data" / "logs"
UTC = dt.UTC
PARIS = dt.timezone(dt.timedelta(hours=1))


def t(text: str, tz: dt.tzinfo = UTC) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=tz) if "+" not in text[10:] \
        else dt.datetime.fromisoformat(text)


def kinds(events: list[logs.LogEvent]) -> list[tuple[str, str]]:
    return [(e.kind, e.at.isoformat()) for e in events]


def parse(text: str, tz: dt.tzinfo = UTC) -> list[logs.LogEvent]:
    return logs.parse(text.splitlines(keepends=True), "sample.log", tz)


def test_real_mariadb_10_11_stopped_and_started() -> None:
    events = logs.parse_file(DATA / "mariadb-10.11.log", UTC)
    assert [e.kind for e in events] == ["start", "ready", "shutdown", "stopped", "start",
                                        "ready", "shutdown"]
    ready = events[1]
    assert (ready.server, ready.version, ready.port) == ("mariadb", "10.11.19-MariaDB-0+deb12u1",
                                                         3306)
    assert ready.evidence.startswith(f"{DATA / 'mariadb-10.11.log'}:2: ")
    spans, restarts, upgrades = logs.timeline(events)
    assert [(s.cause, s.start, s.end) for s in spans] == [
        ("clean-shutdown", t("2026-11-22 13:24:40"), t("2026-11-22 13:24:47")),
        ("clean-shutdown", t("2026-11-22 13:25:04"), None)]  # still down at the end
    assert [r.at for r in restarts] == [t("2026-11-22 13:24:47")] and upgrades == []


def test_real_rabbitmq_3_10_killed_then_stopped() -> None:
    events = logs.parse_file(DATA / "rabbitmq-3.10.log", PARIS)
    assert [e.kind for e in events] == ["start", "ready", "start", "ready"]
    assert events[0].at == t("2026-11-22 13:20:40.635461+00:00")  # its own zone, not PARIS
    assert events[0].version == "3.10.8"
    spans, restarts, _ = logs.timeline(events)
    # Started again with no shutdown logged: a crash, over until the server is ready.
    assert [(s.cause, s.end) for s in spans] == [("crash", t("2026-11-22 13:25:31.797407+00:00"))]
    assert len(restarts) == 1
    stop = logs.parse_file(DATA / "rabbitmq-3.10-stop.log", UTC)
    assert [e.kind for e in stop] == ["start", "ready", "shutdown"]
    spans, _, _ = logs.timeline(stop)
    assert [(s.cause, s.start, s.end) for s in spans] == [
        ("clean-shutdown", t("2026-11-22 09:24:29.197321+00:00"), None)]


MYSQL_55 = """\
121018  9:48:50 mysqld_safe Starting mysqld daemon with databases from /var/lib/mysql
121018  9:48:51 [Note] /usr/sbin/mysqld (mysqld 5.5.62-0ubuntu0.14.04.1) starting as process 1234 ...
121018  9:48:52 [Note] /usr/sbin/mysqld: ready for connections.
Version: '5.5.62-0ubuntu0.14.04.1'  socket: '/var/run/mysqld/mysqld.sock'  port: 3306  (Ubuntu)
121018 10:02:10 [Note] /usr/sbin/mysqld: Normal shutdown
121018 10:02:11 [Note] /usr/sbin/mysqld: Shutdown complete
121018 10:02:11 mysqld_safe mysqld from pid file /var/run/mysqld/mysqld.pid ended
121018 10:02:13 mysqld_safe Starting mysqld daemon with databases from /var/lib/mysql
121018 10:02:15 [Note] /usr/sbin/mysqld: ready for connections.
Version: '5.5.62-0ubuntu0.14.04.1'  socket: '/var/run/mysqld/mysqld.sock'  port: 3306  (Ubuntu)
"""


def test_mysql_5_5_two_digit_year_space_padded_hour_in_the_given_zone() -> None:
    events = parse(MYSQL_55, PARIS)
    assert [e.kind for e in events] == ["start", "start", "ready", "shutdown", "stopped",
                                        "start", "ready"]
    assert events[0].at == dt.datetime(2012, 10, 18, 9, 48, 50, tzinfo=PARIS)
    assert (events[2].server, events[2].version) == ("mysql", "5.5.62-0ubuntu0.14.04.1")
    spans, restarts, _ = logs.timeline(events)
    # mysqld_safe and mysqld telling one start are not a restart.
    assert [(s.cause, s.start.hour, s.start.minute, s.end and s.end.second) for s in spans] == [
        ("clean-shutdown", 10, 2, 15)]
    assert len(restarts) == 1


MYSQL_57_UPGRADED_TO_80 = """\
2017-05-01T12:00:00.123456Z 0 [Note] /usr/sbin/mysqld (mysqld 5.7.18) starting as process 77 ...
2017-05-01T12:00:01.000000Z 0 [Note] /usr/sbin/mysqld: ready for connections.
Version: '5.7.18'  socket: '/var/run/mysqld/mysqld.sock'  port: 3306  MySQL Community Server (GPL)
2017-05-01T14:00:00.500000+02:00 0 [Note] /usr/sbin/mysqld: Normal shutdown
2017-05-01T14:00:02.000000+02:00 0 [Note] /usr/sbin/mysqld: Shutdown complete
2020-01-01T10:00:00.000000Z 0 [System] [MY-010116] [Server] /usr/sbin/mysqld (mysqld 8.0.19) starting as process 1
2020-01-01T10:00:05.000000Z 0 [System] [MY-010931] [Server] /usr/sbin/mysqld: ready for connections. Version: '8.0.19'  socket: '/var/run/mysqld/mysqld.sock'  port: 3306  MySQL Community Server - GPL.
2020-01-01T10:00:05.100000Z 0 [System] [MY-011323] [Server] X Plugin ready for connections. Socket: '/var/run/mysqld/mysqlx.sock' bind-address: '::' port: 33060
2020-01-01T11:00:00.000000Z 8 [System] [MY-013172] [Server] Received SHUTDOWN from user root. Shutting down mysqld (Version: 8.0.19).
2020-01-01T11:00:01.000000Z 0 [System] [MY-010910] [Server] /usr/sbin/mysqld: Shutdown complete (mysqld 8.0.19)  MySQL Community Server - GPL.
"""


def test_mysql_5_7_iso_times_and_an_upgrade_to_8_0() -> None:
    events = parse(MYSQL_57_UPGRADED_TO_80, PARIS)
    assert [e.kind for e in events] == ["start", "ready", "shutdown", "stopped", "start",
                                        "ready", "shutdown", "stopped"]
    assert events[0].at == dt.datetime(2017, 5, 1, 12, 0, 0, 123456, tzinfo=UTC)
    assert events[2].at == dt.datetime(2017, 5, 1, 12, 0, 0, 500000, tzinfo=UTC)  # +02:00
    assert (events[5].version, events[5].port) == ("8.0.19", 3306)  # same line in 8.0
    spans, restarts, upgrades = logs.timeline(events)
    assert [(u.from_version, u.to_version) for u in upgrades] == [("5.7.18", "8.0.19")]
    assert upgrades[0].at == dt.datetime(2020, 1, 1, 10, 0, tzinfo=UTC)
    assert [(s.cause, s.end) for s in spans] == [
        ("upgrade", dt.datetime(2020, 1, 1, 10, 0, 5, tzinfo=UTC)), ("clean-shutdown", None)]
    assert len(restarts) == 1


MARIADB_CRASH_AND_NO_TCP = """\
2017-01-01 12:00:00 140123 [Note] /usr/sbin/mysqld (mysqld 10.1.48-MariaDB-0+deb9u2) starting as process 10 ...
2017-01-01 12:00:01 140123 [Note] /usr/sbin/mysqld: ready for connections.
Version: '10.1.48-MariaDB-0+deb9u2'  socket: '/var/run/mysqld/mysqld.sock'  port: 3306  Debian 9
170101 12:30:00 [ERROR] mysqld got signal 11 ;
2017-01-01 12:30:04 140555 [Note] /usr/sbin/mysqld (mysqld 10.1.48-MariaDB-0+deb9u2) starting as process 11 ...
2017-01-01 12:30:06 140555 [Note] /usr/sbin/mysqld: ready for connections.
Version: '10.1.48-MariaDB-0+deb9u2'  socket: '/var/run/mysqld/mysqld.sock'  port: 0  Debian 9
2017-01-01 13:00:00 140555 [Note] /usr/sbin/mysqld: ready for connections.
Version: '10.1.48-MariaDB-0+deb9u2'  socket: '/var/run/mysqld/mysqld.sock'  port: 3306  Debian 9
2024-03-01 08:00:00 0 [Note] Starting MariaDB 11.4.2-MariaDB source revision 3fca5ed772fb75e3e57c507edef2985f8eba5b12 as process 1
2024-03-01 08:00:01 0 [Note] /usr/sbin/mariadbd: ready for connections.
Version: '11.4.2-MariaDB'  socket: '/run/mysqld/mysqld.sock'  port: 3306  mariadb.org binary distribution
"""


def test_mariadb_crash_line_then_a_start_with_port_0_keeps_the_outage_open() -> None:
    events = parse(MARIADB_CRASH_AND_NO_TCP)
    assert [e.kind for e in events] == ["start", "ready", "crash", "start", "ready", "ready",
                                        "start", "ready"]
    assert all(e.server == "mariadb" for e in events if e.kind != "crash")
    assert events[4].port == 0
    spans, _restarts, upgrades = logs.timeline(events)
    # Crashed at 12:30:00, back at 12:30:06 but on no TCP port: cut off until 13:00:00. Then
    # a start with no shutdown logged (a crash) into a new version: an upgrade.
    assert [(s.cause, s.start.isoformat(), s.end and s.end.isoformat()) for s in spans] == [
        ("no-tcp-listener", "2017-01-01T12:30:00+00:00", "2017-01-01T13:00:00+00:00"),
        ("upgrade", "2017-01-01T13:00:00+00:00", "2024-03-01T08:00:01+00:00")]
    assert [(u.from_version, u.to_version) for u in upgrades] == [
        ("10.1.48-MariaDB-0+deb9u2", "11.4.2-MariaDB")]


def test_a_start_with_port_0_and_nothing_after_is_an_open_outage() -> None:
    events = parse("2024-03-01 08:00:00 0 [Note] /usr/sbin/mariadbd: ready for connections.\n"
                   "Version: '10.11.6-MariaDB'  socket: '/run/mysqld/mysqld.sock'  port: 0  x\n")
    spans, _, _ = logs.timeline(events)
    assert [(s.cause, s.end) for s in spans] == [("no-tcp-listener", None)]


RABBIT_36_AND_37 = """\
=INFO REPORT==== 1-Jan-2019::12:00:00 ===
Starting RabbitMQ 3.6.16 on Erlang 20.3

=INFO REPORT==== 1-Jan-2019::12:00:04 ===
Server startup complete; 0 plugins started.

=INFO REPORT==== 1-Jan-2019::13:00:00 ===
Stopping RabbitMQ

=INFO REPORT==== 1-Jan-2019::13:00:02 ===
Successfully stopped RabbitMQ and its dependencies
2019-06-01 09:00:00.123 [info] <0.33.0> Application lager started on node rabbit@h
2019-06-01 09:00:01.250 [info] <0.8.0>  Starting RabbitMQ 3.7.15 on Erlang 21.3
2019-06-01 09:00:06.500 [info] <0.8.0> Server startup complete; 3 plugins started.
"""


def test_rabbitmq_3_6_reports_and_3_7_lines_and_the_upgrade_between() -> None:
    events = parse(RABBIT_36_AND_37, PARIS)
    assert [(e.kind, e.at.time().isoformat()) for e in events] == [
        ("start", "12:00:00"), ("ready", "12:00:04"), ("shutdown", "13:00:00"),
        ("stopped", "13:00:02"), ("start", "09:00:01.250000"), ("ready", "09:00:06.500000")]
    assert all(e.at.tzinfo is PARIS and e.server == "rabbitmq" for e in events)
    spans, _, upgrades = logs.timeline(events)
    assert [(s.cause, s.end and s.end.date().isoformat()) for s in spans] == [
        ("upgrade", "2019-06-01")]
    assert [(u.from_version, u.to_version) for u in upgrades] == [("3.6.16", "3.7.15")]


OSLO = """\
2026-11-22 08:17:40.823 24820 INFO nova.service [-] Starting conductor node (version 33.0.2)
2026-11-22 08:19:04.526 24821 INFO cotyledon._service_manager [-] Caught SIGTERM signal, graceful exiting of master process
2026-11-22 08:19:09.100 25001 INFO nova.service [-] Starting conductor node (version 33.0.2)
2026-11-22 08:30:00.000 25001 INFO nova.compute.manager [-] nothing to see
2026-11-22 08:31:10.000 26000 INFO nova.service [-] Starting conductor node (version 34.0.0)
2026-11-22 08:31:10.300 26001 INFO nova.service [-] Starting conductor node (version 34.0.0)
2026-11-22 08:40:00.000 26000 INFO cotyledon._service_manager [-] Caught SIGTERM signal, graceful exiting of master process
"""
UWSGI = """*** Starting uWSGI 2.0.31 (64bit) on [Sun Nov 22 08:40:06 2026] ***
[pid: 5927|app: 0|req: 330/561] 10.78.0.10 () {24 vars in 269 bytes} [Sun Nov 22 13:27:47 2026] GET /v3 => generated 250 bytes
SIGINT/SIGTERM received...killing workers...
*** Starting uWSGI 2.0.31 (64bit) on [Sun Nov 22 08:50:00 2026] ***
"""


def test_openstack_services_restarts_a_crash_and_an_upgrade() -> None:
    events = parse(OSLO)
    assert [e.kind for e in events] == ["start", "shutdown", "start", "start", "start",
                                        "shutdown"]
    assert all(e.server == "openstack" for e in events)
    spans, restarts, upgrades = logs.timeline(events)
    assert [(s.cause, s.start.time().isoformat(), s.end and s.end.time().isoformat())
            for s in spans] == [
        ("clean-shutdown", "08:19:04.526000", "08:19:09.100000"),
        # no shutdown before the 08:31:10 start: from the last line of the old one
        ("upgrade", "08:30:00", "08:31:10"),
        ("clean-shutdown", "08:40:00", None)]
    assert len(restarts) == 2  # two workers starting together are one start
    assert [(u.from_version, u.to_version) for u in upgrades] == [("33.0.2", "34.0.0")]


def test_uwsgi_lines_carry_their_own_times() -> None:
    events = parse(UWSGI)
    assert [(e.kind, e.at) for e in events] == [
        ("start", t("2026-11-22 08:40:06")),
        ("shutdown", t("2026-11-22 08:40:06")),  # no time on it: the last one seen
        ("start", t("2026-11-22 08:50:00"))]
    spans, restarts, _ = logs.timeline(events)
    assert [(s.cause, s.end) for s in spans] == [("clean-shutdown", t("2026-11-22 08:50:00"))]
    assert len(restarts) == 1


def test_binary_and_huge_lines_cost_their_length_only(tmp_path: Path) -> None:
    junk = tmp_path / "junk.log"
    junk.write_bytes(b"\x00\xff\xfe" * 100_000 + b"\n" + b"ready for connections " * 60_000
                     + b"\n" + (DATA / "mariadb-10.11.log").read_bytes())
    start = time.monotonic()
    events = logs.parse_file(junk, UTC)
    assert time.monotonic() - start < 5
    assert [e.kind for e in events][:2] == ["start", "ready"]


@pytest.mark.parametrize("line", ["", "2026-13-45 99:99:99 0 [Note] mysqld: Normal shutdown",
                                  "=INFO REPORT==== 31-Foo-2019::12:00:00 ==="])
def test_lines_with_impossible_times_are_skipped(line: str) -> None:
    assert parse(line + "\n") == []
