"""enos.outages.logs: the server logs read for outages.

Samples in tests/data/logs/:

- real logs of this machine's clouds, cut short (paths shortened to /srv/enos/control-1):
  ``mariadb-10.11.log`` (started, stopped; hours space-padded), ``mariadb-10.11-restarts.log``
  (two stop/start cycles), ``rabbitmq-3.10-killed.log`` (killed, started again by its
  supervisor, then stopped), ``rabbitmq-3.10-stop.log`` (SIGTERM), ``nova-scheduler.log``
  (cotyledon's SIGTERM lines), ``nova-conductor-upgrade.log`` (a 33.0.2 conductor log, its
  end unlogged, followed by a 34.0.0 one), ``keystone-uwsgi.log`` and ``neutron-server-uwsgi.log``
  (uWSGI's own lines, request lines, oslo.log lines);
- written as those servers write them: ``mysql-5.5.log`` (mysqld_safe, a ``got signal 11``
  report, mysqld_safe's restart), ``mysql-5.6.log``, ``mysql-5.7-utc.log``,
  ``mysql-5.7-system-tz.log`` (``+02:00`` times, killed and restarted with no shutdown),
  ``mysql-8.0.log`` (a crash, X Plugin lines), ``mysql-5.7-to-8.0.log`` (an upgrade),
  ``mariadb-10.1-crash.log``, ``mariadb-11.4-docker.log`` (the image's first server, on port
  0), ``rabbitmq-3.6-to-3.7.log`` (3.6 reports, then 3.7's lager lines and multi-line
  messages), ``rabbitmq-4.0-oom-crash.log`` (the Erlang VM's crash dump line).
"""

from __future__ import annotations

import datetime as dt
import io
import time
import tracemalloc
from pathlib import Path

import pytest

from enos.outages import logs

DATA = Path(__file__).parent / "data" / "logs"
UTC = dt.UTC
PLUS1 = dt.timezone(dt.timedelta(hours=1))  # a zone given for times written without one
PLUS2 = dt.timezone(dt.timedelta(hours=2))

Row = tuple[str, dt.datetime, dt.datetime | None]


def t(text: str, tz: dt.tzinfo = UTC) -> dt.datetime:
    """``2026-11-22 09:22:09[.123]`` in ``tz``."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=tz)


def read(name: str, tz: dt.tzinfo = UTC) -> list[logs.LogEvent]:
    return logs.parse_file(DATA / name, tz, source=name)


def text(sample: str, tz: dt.tzinfo = UTC) -> list[logs.LogEvent]:
    return logs.parse(sample.splitlines(keepends=True), "sample.log", tz)


def kinds(events: list[logs.LogEvent]) -> list[tuple[str, dt.datetime]]:
    return [(e.kind, e.at) for e in events]


def outages(events: list[logs.LogEvent]) -> list[Row]:
    return [(s.cause, s.start, s.end) for s in logs.timeline(events)[0]]


def restarts(events: list[logs.LogEvent]) -> list[dt.datetime]:
    return [r.at for r in logs.timeline(events)[1]]


def upgrades(events: list[logs.LogEvent]) -> list[tuple[str, str, dt.datetime]]:
    return [(u.from_version, u.to_version, u.at) for u in logs.timeline(events)[2]]


# -- real logs of this machine --------------------------------------------------------------------
def test_mariadb_10_11_times_with_space_padded_hours_in_the_zone_given() -> None:
    events = read("mariadb-10.11.log", PLUS1)
    assert kinds(events) == [("start", t("2026-11-22 09:22:09", PLUS1)),
                             ("ready", t("2026-11-22 09:22:09", PLUS1)),
                             ("shutdown", t("2026-11-22 09:24:29", PLUS1)),
                             ("stopped", t("2026-11-22 09:24:29", PLUS1))]
    start, ready = events[:2]
    assert (start.server, start.version) == ("mariadb", "10.11.19-MariaDB-0+deb12u1")
    # The Version: line that follows the ready line is merged into it.
    assert (ready.server, ready.version, ready.port) == ("mariadb", "10.11.19-MariaDB-0+deb12u1",
                                                         3306)
    assert ready.evidence == (
        "mariadb-10.11.log:20: 2026-11-22  9:22:09 0 [Note] /usr/sbin/mariadbd: ready for "
        "connections. Version: '10.11.19-MariaDB-0+deb12u1'  socket: "
        "'/run/enos/d40bca711aef/mysqld.sock'  port: 3306  Debian 12")
    assert outages(events) == [("clean-shutdown", t("2026-11-22 09:24:29", PLUS1), None)]
    assert restarts(events) == [] and upgrades(events) == []


def test_mariadb_10_11_stopped_and_started_twice() -> None:
    events = read("mariadb-10.11-restarts.log")
    assert [e.kind for e in events] == ["shutdown", "stopped", "start", "ready"] * 2
    assert outages(events) == [
        ("clean-shutdown", t("2026-11-22 13:24:40"), t("2026-11-22 13:24:47")),
        ("clean-shutdown", t("2026-11-22 13:25:04"), t("2026-11-22 13:25:09"))]
    assert restarts(events) == [t("2026-11-22 13:24:47"), t("2026-11-22 13:25:09")]


def test_rabbitmq_3_10_killed_then_started_by_its_supervisor_is_a_crash() -> None:
    events = read("rabbitmq-3.10-killed.log", PLUS1)  # its times have a zone: PLUS1 unused
    assert kinds(events) == [
        ("start", t("2026-11-22 13:20:40.635461")), ("ready", t("2026-11-22 13:20:52.303575")),
        ("start", t("2026-11-22 13:25:23.156892")), ("ready", t("2026-11-22 13:25:31.797407")),
        ("shutdown", t("2026-11-22 13:33:01.027386")),
        ("shutdown", t("2026-11-22 13:33:01.027576"))]
    assert all(e.at.utcoffset() == dt.timedelta(0) for e in events)
    assert {(e.server, e.version) for e in events if e.kind == "start"} == {("rabbitmq",
                                                                             "3.10.8")}
    # No shutdown before the second start: a crash, from the last line before that start
    # (the new instance's first lines come before it: that time is an upper bound).
    assert outages(events) == [
        ("crash", t("2026-11-22 13:25:23.156892"), t("2026-11-22 13:25:31.797407")),
        ("clean-shutdown", t("2026-11-22 13:33:01.027386"), None)]
    assert events[2].last_seen == t("2026-11-22 13:25:23.156892")
    assert restarts(events) == [t("2026-11-22 13:25:23.156892")]


def test_rabbitmq_3_10_sigterm() -> None:
    events = read("rabbitmq-3.10-stop.log")
    assert kinds(events) == [("start", t("2026-11-22 09:22:13.717401")),
                             ("ready", t("2026-11-22 09:22:25.307511")),
                             ("shutdown", t("2026-11-22 09:24:29.197321"))]
    assert events[2].evidence == ("rabbitmq-3.10-stop.log:21: 2026-11-22 09:24:29.197321+00:00 "
                                  "[notice] <0.61.0> SIGTERM received - shutting down")
    assert outages(events) == [("clean-shutdown", t("2026-11-22 09:24:29.197321"), None)]


def test_nova_scheduler_cotyledon_sigterm() -> None:
    events = read("nova-scheduler.log")
    assert kinds(events) == [("start", t("2026-11-22 08:17:42.510")),
                             ("shutdown", t("2026-11-22 08:19:04.525")),
                             ("shutdown", t("2026-11-22 08:19:04.526")),
                             ("shutdown", t("2026-11-22 08:19:04.530"))]
    assert (events[0].server, events[0].version) == ("openstack", "33.0.2")
    spans = logs.timeline(events)[0]
    assert [(s.cause, s.start, s.end) for s in spans] == [
        ("clean-shutdown", t("2026-11-22 08:19:04.525"), None)]
    assert [e.split(":")[1] for e in spans[0].evidence] == ["13", "14", "15"]


def test_nova_conductor_started_again_in_a_new_version_without_a_logged_shutdown() -> None:
    events = read("nova-conductor-upgrade.log")
    # Its lines quote MySQL's errors ("Can't connect to MySQL server"): not MySQL events.
    assert {e.server for e in events} == {"openstack"}
    assert [(e.kind, e.version) for e in events] == [
        ("start", "33.0.2"), ("start", "34.0.0"), ("shutdown", None), ("shutdown", None),
        ("shutdown", None)]
    assert outages(events) == [
        ("upgrade", t("2026-11-22 13:21:43.127"), t("2026-11-22 13:21:43.197")),
        ("clean-shutdown", t("2026-11-22 13:32:53.839"), None)]
    assert restarts(events) == [t("2026-11-22 13:21:43.197")]
    assert upgrades(events) == [("33.0.2", "34.0.0", t("2026-11-22 13:21:43.197"))]


def test_uwsgi_start_line_and_request_lines_carry_the_times() -> None:
    keystone = read("keystone-uwsgi.log")
    # SIGINT/SIGTERM has no time: that of the request line before it (08:18:47), not that of
    # the last oslo.log line (08:18:47.349).
    assert kinds(keystone) == [("start", t("2026-11-22 08:16:37")),
                               ("shutdown", t("2026-11-22 08:18:47")),
                               ("stopped", t("2026-11-22 08:18:47"))]
    assert keystone[1].evidence == ("keystone-uwsgi.log:55: SIGINT/SIGTERM received...killing "
                                    "workers...")
    assert outages(keystone) == [("clean-shutdown", t("2026-11-22 08:18:47"), None)]
    neutron = read("neutron-server-uwsgi.log", PLUS1)
    assert kinds(neutron) == [("start", t("2026-11-22 08:17:06", PLUS1)),
                              ("start", t("2026-11-22 08:17:17.592", PLUS1)),
                              ("start", t("2026-11-22 08:17:17.861", PLUS1)),
                              ("shutdown", t("2026-11-22 08:18:47", PLUS1)),
                              ("stopped", t("2026-11-22 08:18:47", PLUS1))]
    # uWSGI, then the two workers it runs: one start, no restart.
    assert restarts(neutron) == []
    assert outages(neutron) == [("clean-shutdown", t("2026-11-22 08:18:47", PLUS1), None)]


# -- the formats of older servers -----------------------------------------------------------------
def test_mysql_5_5_crash_report_in_utc_then_mysqld_safe_restarts_it() -> None:
    events = read("mysql-5.5.log", PLUS1)
    assert kinds(events) == [
        ("start", t("2012-10-18 09:48:50", PLUS1)),  # mysqld_safe, zero-padded hour
        ("start", t("2012-10-18 09:48:50", PLUS1)),  # mysqld, space-padded hour
        ("ready", t("2012-10-18 09:48:51", PLUS1)),
        ("crash", t("2012-10-18 12:30:00", UTC)),  # "12:30:00 UTC - mysqld got signal 11 ;"
        ("crash", t("2012-10-18 13:30:02", PLUS1)), ("crash", t("2012-10-18 13:30:02", PLUS1)),
        ("start", t("2012-10-18 13:30:02", PLUS1)), ("ready", t("2012-10-18 13:30:05", PLUS1)),
        ("shutdown", t("2012-10-18 14:02:10", PLUS1)),
        ("stopped", t("2012-10-18 14:02:11", PLUS1))]
    assert {e.server for e in events} == {"mysql"}
    assert [(e.version, e.port) for e in events if e.kind == "ready"] == [
        ("5.5.62-0ubuntu0.14.04.1", 3306)] * 2
    assert events[3].evidence == "mysql-5.5.log:20: 12:30:00 UTC - mysqld got signal 11 ;"
    assert outages(events) == [
        ("crash", t("2012-10-18 13:30:00", PLUS1), t("2012-10-18 13:30:05", PLUS1)),
        ("clean-shutdown", t("2012-10-18 14:02:10", PLUS1), None)]
    # mysqld_safe's start and mysqld's are one start.
    assert restarts(events) == [t("2012-10-18 13:30:02", PLUS1)]


def test_mysql_5_6_stopped_and_started_through_mysqld_safe() -> None:
    events = read("mysql-5.6.log", PLUS1)
    assert kinds(events) == [
        ("start", t("2015-03-23 10:25:01", PLUS1)), ("start", t("2015-03-23 10:25:01", PLUS1)),
        ("ready", t("2015-03-23 10:25:02", PLUS1)),
        ("shutdown", t("2015-03-23 11:00:00", PLUS1)),
        ("stopped", t("2015-03-23 11:00:01", PLUS1)),
        ("start", t("2015-03-23 11:00:04", PLUS1)), ("start", t("2015-03-23 11:00:05", PLUS1)),
        ("ready", t("2015-03-23 11:00:06", PLUS1))]
    assert [(e.version, e.port) for e in events if e.kind == "ready"] == [("5.6.23-log", 3306)] * 2
    assert outages(events) == [
        ("clean-shutdown", t("2015-03-23 11:00:00", PLUS1), t("2015-03-23 11:00:06", PLUS1))]
    assert restarts(events) == [t("2015-03-23 11:00:04", PLUS1)]


def test_mysql_5_7_utc_times_ignore_the_zone_given() -> None:
    events = read("mysql-5.7-utc.log", PLUS1)
    assert kinds(events) == [
        ("start", t("2017-05-01 12:00:00.123789")), ("ready", t("2017-05-01 12:00:00.854567")),
        ("shutdown", t("2017-05-01 12:30:00.499")), ("stopped", t("2017-05-01 12:30:01.950")),
        ("start", t("2017-05-01 12:30:04.000123")), ("ready", t("2017-05-01 12:30:04.700321"))]
    assert all(e.at.tzinfo == UTC for e in events)
    assert outages(events) == [
        ("clean-shutdown", t("2017-05-01 12:30:00.499"), t("2017-05-01 12:30:04.700321"))]
    assert upgrades(events) == []


def test_mysql_5_7_system_time_zone_killed_and_restarted_without_a_shutdown() -> None:
    events = read("mysql-5.7-system-tz.log", UTC)
    assert kinds(events) == [
        ("start", t("2019-07-10 14:00:00.101010", PLUS2)),
        ("ready", t("2019-07-10 14:00:01.202020", PLUS2)),
        ("start", t("2019-07-10 16:12:31.414141", PLUS2)),
        ("ready", t("2019-07-10 16:12:33.707070", PLUS2))]
    assert all(e.at.utcoffset() == dt.timedelta(hours=2) for e in events)
    # A crash from the last line the old instance wrote to the next ready.
    assert outages(events) == [("crash", t("2019-07-10 16:10:00", PLUS2),
                                t("2019-07-10 16:12:33.707070", PLUS2))]
    assert restarts(events) == [t("2019-07-10 16:12:31.414141", PLUS2)]


def test_mysql_8_0_crash_and_restart_and_x_plugin_lines() -> None:
    events = read("mysql-8.0.log")
    assert kinds(events) == [
        ("start", t("2024-02-01 10:00:00.000001")), ("ready", t("2024-02-01 10:00:01.612345")),
        ("crash", t("2024-02-01 10:30:00")),
        ("start", t("2024-02-01 10:30:02.000001")), ("ready", t("2024-02-01 10:30:03.512345")),
        ("shutdown", t("2024-02-01 11:00:00.0001")), ("stopped", t("2024-02-01 11:00:02.0001"))]
    # Version and port on the ready line itself; X Plugin's "ready for connections" is not.
    assert [(e.version, e.port) for e in events if e.kind == "ready"] == [("8.0.36", 3306)] * 2
    assert outages(events) == [
        ("crash", t("2024-02-01 10:30:00"), t("2024-02-01 10:30:03.512345")),
        ("clean-shutdown", t("2024-02-01 11:00:00.0001"), None)]
    assert restarts(events) == [t("2024-02-01 10:30:02.000001")]


def test_mysql_upgrade_from_5_7_to_8_0() -> None:
    events = read("mysql-5.7-to-8.0.log")
    assert [(e.kind, e.version) for e in events] == [
        ("start", "5.7.28"), ("ready", "5.7.28"), ("shutdown", None), ("stopped", None),
        ("start", "8.0.19"), ("ready", "8.0.19")]
    assert upgrades(events) == [("5.7.28", "8.0.19", t("2020-01-01 10:00:00"))]
    assert outages(events) == [("upgrade", t("2020-01-01 09:59:50"), t("2020-01-01 10:00:05"))]
    assert restarts(events) == [t("2020-01-01 10:00:00")]


def test_mariadb_10_1_crash_line_and_mysqld_safe_restart() -> None:
    events = read("mariadb-10.1-crash.log", PLUS1)
    assert [(e.kind, e.server, e.at) for e in events] == [
        ("start", "mysql", t("2017-01-01 12:00:00", PLUS1)),  # nothing said MariaDB yet
        ("start", "mariadb", t("2017-01-01 12:00:00", PLUS1)),
        ("ready", "mariadb", t("2017-01-01 12:00:01", PLUS1)),
        # "170101 12:30:00 [ERROR] mysqld got signal 11 ;": a MariaDB log's, by its past lines
        ("crash", "mariadb", t("2017-01-01 12:30:00", PLUS1)),
        ("crash", "mariadb", t("2017-01-01 12:30:04", PLUS1)),
        ("crash", "mariadb", t("2017-01-01 12:30:04", PLUS1)),
        ("start", "mariadb", t("2017-01-01 12:30:04", PLUS1)),
        ("ready", "mariadb", t("2017-01-01 12:30:06", PLUS1))]
    assert events[2].version == "10.1.48-MariaDB-0+deb9u2"
    spans = logs.timeline(events)[0]
    assert [(s.server, s.cause, s.start, s.end) for s in spans] == [
        ("mariadb", "crash", t("2017-01-01 12:30:00", PLUS1), t("2017-01-01 12:30:06", PLUS1))]
    assert restarts(events) == [t("2017-01-01 12:30:04", PLUS1)]


def test_mariadb_11_4_first_server_on_port_0_leaves_tcp_clients_cut_off() -> None:
    events = read("mariadb-11.4-docker.log")
    assert [(e.kind, e.at, e.port) for e in events] == [
        ("start", t("2024-03-01 08:00:03"), None), ("ready", t("2024-03-01 08:00:03"), 0),
        ("shutdown", t("2024-03-01 08:00:06"), None), ("stopped", t("2024-03-01 08:00:06"), None),
        ("start", t("2024-03-01 08:00:06"), None), ("ready", t("2024-03-01 08:00:07"), 3306)]
    assert {(e.server, e.version) for e in events if e.version} == {
        ("mariadb", "11.4.2-MariaDB-ubu2404")}
    # Ready on no TCP port: the outage begins there and ends at the ready on port 3306.
    assert outages(events) == [
        ("no-tcp-listener", t("2024-03-01 08:00:03"), t("2024-03-01 08:00:07"))]
    assert restarts(events) == [t("2024-03-01 08:00:06")]


SKIP_NETWORKING = (
    "2024-02-01T10:00:00.000001Z 0 [System] [MY-010116] [Server] /usr/sbin/mysqld (mysqld 8.0.36) "
    "starting as process 1\n"
    "2024-02-01T10:00:01.612345Z 0 [System] [MY-010931] [Server] /usr/sbin/mysqld: ready for "
    "connections. Version: '8.0.36'  socket: '/var/run/mysqld/mysqld.sock'  port: 0  MySQL "
    "Community Server - GPL.\n")


def test_a_ready_on_port_0_and_nothing_after_is_an_outage_still_open() -> None:
    events = text(SKIP_NETWORKING)
    assert [(e.kind, e.port) for e in events] == [("start", None), ("ready", 0)]
    assert outages(events) == [("no-tcp-listener", t("2024-02-01 10:00:01.612345"), None)]


def test_a_crash_then_a_ready_on_port_0_is_still_an_outage_of_tcp_clients() -> None:
    events = text(
        "2024-02-01T09:00:00Z UTC - mysqld got signal 11 ;\n"
        + SKIP_NETWORKING
        + "2024-02-01T10:05:00.000000Z 0 [System] [MY-010931] [Server] /usr/sbin/mysqld: ready for "
          "connections. Version: '8.0.36'  socket: '/var/run/mysqld/mysqld.sock'  port: 3306  "
          "MySQL Community Server - GPL.\n")
    assert outages(events) == [("no-tcp-listener", t("2024-02-01 09:00:00"),
                                t("2024-02-01 10:05:00"))]


def test_rabbitmq_3_6_reports_then_3_7_multi_line_messages_and_the_upgrade() -> None:
    events = read("rabbitmq-3.6-to-3.7.log", PLUS1)
    assert kinds(events) == [
        ("start", t("2019-01-01 12:00:00", PLUS1)), ("ready", t("2019-01-01 12:00:04", PLUS1)),
        ("shutdown", t("2019-01-01 13:00:00", PLUS1)),
        ("stopped", t("2019-01-01 13:00:01", PLUS1)),
        ("start", t("2019-01-01 13:05:01.250", PLUS1)),
        ("ready", t("2019-01-01 13:05:04.500", PLUS1)),
        ("shutdown", t("2019-01-01 14:00:00.001", PLUS1)),
        ("shutdown", t("2019-01-01 14:00:00.100", PLUS1)),
        ("stopped", t("2019-01-01 14:00:01.900", PLUS1))]
    assert {e.server for e in events} == {"rabbitmq"}
    # 3.7 writes " Starting RabbitMQ ..." on the line after the time, as 3.6 does.
    assert [(e.version, e.evidence) for e in events if e.kind == "start"] == [
        ("3.6.16", "rabbitmq-3.6-to-3.7.log:3: Starting RabbitMQ 3.6.16 on Erlang 20.3.8.1"),
        ("3.7.15", "rabbitmq-3.6-to-3.7.log:38: Starting RabbitMQ 3.7.15 on Erlang 21.3.8.4")]
    assert outages(events) == [
        ("upgrade", t("2019-01-01 13:00:00", PLUS1), t("2019-01-01 13:05:04.500", PLUS1)),
        ("clean-shutdown", t("2019-01-01 14:00:00.001", PLUS1), None)]
    assert upgrades(events) == [("3.6.16", "3.7.15", t("2019-01-01 13:05:01.250", PLUS1))]
    assert restarts(events) == [t("2019-01-01 13:05:01.250", PLUS1)]


def test_rabbitmq_4_0_erlang_crash_dump_line_is_a_crash() -> None:
    events = read("rabbitmq-4.0-oom-crash.log")
    assert kinds(events) == [
        ("start", t("2025-05-02 07:00:01.015331")), ("ready", t("2025-05-02 07:00:09.512218")),
        ("crash", t("2025-05-02 08:10:00.231907")),  # no time of its own: the last one
        ("start", t("2025-05-02 08:10:22.117042")), ("ready", t("2025-05-02 08:10:30.066921"))]
    assert events[0].version == "4.0.5"
    assert events[2].evidence.startswith("rabbitmq-4.0-oom-crash.log:19: Crash dump is being")
    assert outages(events) == [
        ("crash", t("2025-05-02 08:10:00.231907"), t("2025-05-02 08:10:30.066921"))]
    assert restarts(events) == [t("2025-05-02 08:10:22.117042")]


@pytest.mark.parametrize("line", [
    "Caught SIGTERM, exiting",
    "Caught SIGTERM, stopping children",
    "Caught SIGTERM signal, graceful exiting of master process"])
def test_oslo_service_and_cotyledon_sigterm_lines(line: str) -> None:
    events = text("2026-11-22 08:17:40.823 24820 INFO nova.service [-] Starting conductor node "
                  "(version 33.0.2)\n"
                  f"2026-11-22 08:19:04.526 24820 INFO oslo_service.service [-] {line}\n"
                  "2026-11-22 08:19:09.100 25001 INFO nova.service [-] Starting conductor node "
                  "(version 33.0.2)\n")
    assert [e.kind for e in events] == ["start", "shutdown", "start"]
    # An OpenStack service's start is its ready: the outage ends there.
    assert outages(events) == [("clean-shutdown", t("2026-11-22 08:19:04.526"),
                                t("2026-11-22 08:19:09.100"))]
    assert restarts(events) == [t("2026-11-22 08:19:09.100")]


def test_phrases_of_a_server_quoted_by_another_program_are_not_its_events() -> None:
    events = text(
        "2026-11-22 13:25:08.468 6099 ERROR oslo_db [-] (1053, 'Server shutdown in progress') "
        "/usr/sbin/mysqld: Normal shutdown; /usr/sbin/mysqld: ready for connections.\n"
        "2026-11-22 13:25:09.000 6099 WARNING nova [-] Starting RabbitMQ 3.10.8 on Erlang 25\n"
        "[pid: 1|app: 0|req: 1/1] 10.0.0.1 () {24 vars in 269 bytes} [Sun Nov 22 13:27:47 2026] "
        "GET /Caught%20SIGTERM => generated 250 bytes\n")
    assert events == []


# -- reading -------------------------------------------------------------------------------------
def test_evidence_is_source_line_number_and_at_most_300_characters_of_the_line() -> None:
    line = "2015-03-23 11:00:00 1820 [Note] /usr/sbin/mysqld: Normal shutdown " + "x" * 1000
    (event,) = text("\n\n" + line + "\n")
    assert event.evidence == "sample.log:3: " + line[:300]
    (event,) = logs.parse_file(DATA / "mysql-8.0.log", UTC)[-1:]
    assert event.evidence.startswith(f"{DATA / 'mysql-8.0.log'}:26: 2024-02-01T11:00:02")


def test_a_file_object_parses_as_parse_file_does() -> None:
    with open(DATA / "rabbitmq-3.6-to-3.7.log", encoding="utf-8") as handle:
        assert logs.parse(handle, "rabbitmq-3.6-to-3.7.log", PLUS1) == read(
            "rabbitmq-3.6-to-3.7.log", PLUS1)


def test_binary_junk_and_one_megabyte_lines_cost_their_length_only(tmp_path: Path) -> None:
    sample = (DATA / "mariadb-10.11.log").read_bytes()
    huge = tmp_path / "huge.log"
    # Binary, a 1 MB line with no line end before the real log, a 1 MB line whose phrase
    # comes after what a pattern sees (MAX_LINE characters).
    huge.write_bytes(bytes(range(256)) * 400 + b"\n"
                     + b"ready for connections " * 50_000 + b"\n"
                     + b"2026-11-22  9:30:00 0 [Note] " + b"x" * 1_000_000
                     + b" /usr/sbin/mariadbd: Normal shutdown\n" + sample)
    start = time.monotonic()
    events = logs.parse_file(huge, UTC, source="huge.log")
    assert time.monotonic() - start < 1.0
    expected = read("mariadb-10.11.log")
    assert kinds(events) == kinds(expected)
    # Line numbers are the file's: a line read in pieces is still one line.
    lines_before = 3 + 400  # a lone "\r" ends no line
    assert [int(e.evidence.split(":")[1]) for e in events] == [
        int(e.evidence.split(":")[1]) + lines_before for e in expected]


def test_a_long_line_is_read_in_bounded_memory(tmp_path: Path) -> None:
    huge = tmp_path / "huge.log"
    huge.write_bytes(b"2026-11-22  9:30:00 0 [Note] " + b"y" * 8_000_000 + b"\n"
                     + (DATA / "mariadb-10.11.log").read_bytes())
    tracemalloc.start()
    try:
        events = logs.parse_file(huge, UTC)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(events) == 4
    assert peak < 1_000_000, peak


def test_lines_of_cuts_long_lines_and_parse_counts_them_once() -> None:
    long = "z" * (3 * logs.MAX_LINE + 5)
    pieces = list(logs.lines_of(io.StringIO(long + "\nshort\n")))
    assert [len(p) for p in pieces] == [logs.MAX_LINE] * 3 + [6, 6]
    events = logs.parse(
        logs.lines_of(io.StringIO(long + "\n" + SKIP_NETWORKING)), "cut.log", UTC)
    assert [e.evidence.split(":")[1] for e in events] == ["2", "3"]


@pytest.mark.parametrize("sample", [
    "2026-13-45 99:99:99 0 [Note] /usr/sbin/mysqld: Normal shutdown\n",
    "2019-07-10T16:12:31.4+99:99 0 [Note] /usr/sbin/mysqld: Normal shutdown\n",
    "=INFO REPORT==== 31-Foo-2019::12:00:00 ===\nStopping RabbitMQ\n",
    "12:30:00 UTC - mysqld got signal 11 ;\n",  # no line before it tells the date
    "SIGINT/SIGTERM received...killing workers...\n",  # nor the time
])
def test_lines_with_no_real_time_are_skipped(sample: str) -> None:
    assert text(sample) == []


def test_a_time_of_day_alone_after_midnight_is_on_the_next_day() -> None:
    events = text("121018 23:59:58 [Note] /usr/sbin/mysqld: ready for connections.\n"
                  "Version: '5.5.62'  socket: '/var/run/mysqld/mysqld.sock'  port: 3306  x\n"
                  "00:00:03 UTC - mysqld got signal 11 ;\n")
    assert kinds(events) == [("ready", t("2012-10-18 23:59:58")),
                             ("crash", t("2012-10-19 00:00:03"))]


# -- the timeline on its own ----------------------------------------------------------------------
BASE = t("2026-01-01 00:00:00")


def sec(seconds: float) -> dt.datetime:
    return BASE + dt.timedelta(seconds=seconds)


def ev(kind: str, second: float, server: str = "mysql", version: str | None = None,
       port: int | None = None, last_seen: float | None = None,
       evidence: str | None = None) -> logs.LogEvent:
    return logs.LogEvent(sec(second), kind, server, version, port,
                         evidence or f"x.log:{second:g}: {kind}",
                         None if last_seen is None else sec(last_seen))


def test_timeline_stopped_with_no_shutdown_logged_is_a_clean_shutdown() -> None:
    events = [ev("start", 0), ev("ready", 1, port=3306), ev("stopped", 50), ev("start", 60),
              ev("ready", 61, port=3306)]
    assert outages(events) == [("clean-shutdown", sec(50), sec(61))]


def test_timeline_versions_differing_by_a_log_suffix_are_no_upgrade() -> None:
    events = [ev("start", 0, version="5.7.18"), ev("ready", 1, version="5.7.18-log", port=3306),
              ev("shutdown", 10), ev("start", 20, version="5.7.19-log"),
              ev("ready", 21, version="5.7.19-log", port=3306)]
    assert upgrades(events) == [("5.7.18-log", "5.7.19-log", sec(20))]
    assert outages(events) == [("upgrade", sec(10), sec(21))]


def test_timeline_starts_close_together_are_one_far_apart_a_restart_after_a_crash() -> None:
    events = [ev("start", 0, server="openstack"), ev("start", 5, server="openstack"),
              ev("start", 100, server="openstack", last_seen=90)]
    assert outages(events) == [("crash", sec(90), sec(100))]
    assert restarts(events) == [sec(100)]


def test_timeline_a_launcher_start_then_its_program_start_are_one_start() -> None:
    events = [ev("start", 0, evidence="x.log:1: 121018 10:02:13 mysqld_safe Starting mysqld "
                                      "daemon with databases from /var/lib/mysql"),
              ev("start", 40, version="5.5.62"), ev("ready", 41, port=3306)]
    assert restarts(events) == [] and outages(events) == []


def test_timeline_keeps_a_bounded_evidence_per_outage() -> None:
    events = [ev("start", 0), ev("ready", 1, port=3306)]
    events += [ev("shutdown", 2 + i / 1000) for i in range(100)]
    events.append(ev("ready", 30, port=3306))
    (span,) = logs.timeline(events)[0]
    assert len(span.evidence) == logs.MAX_SPAN_EVIDENCE
    assert span.evidence[0] == "x.log:2: shutdown" and span.evidence[-1] == "x.log:30: ready"


def test_last_seen_is_not_part_of_an_events_identity() -> None:
    assert ev("start", 5, last_seen=1) == ev("start", 5, last_seen=4)
    assert ev("start", 5) != ev("start", 6)
