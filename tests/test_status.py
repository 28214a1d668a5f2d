"""enos status and enos logs without a testbed: rows from a real supervisor, log following."""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path

from enos import status
from enos.model import Host


def test_rows_of_a_real_supervisor(tmp_path: Path) -> None:
    import subprocess

    from enos import supervisor

    sup = tmp_path / "supervisor"
    (sup / "programs").mkdir(parents=True)
    log = tmp_path / "sleeper.log"
    (sup / "programs" / "sleeper.json").write_text(json.dumps({
        "argv": [sys.executable, "-c", "import sys, time; print('ERROR boom', flush=True); "
                 "print('INFO fine', flush=True); time.sleep(60)"],
        "log": str(log), "enos_check": "tcp:10.0.0.1:5000"}))
    run = [sys.executable, supervisor.__file__, "--dir", str(sup)]
    subprocess.run([*run, "up"], check=True, capture_output=True)
    try:
        host = Host("h1", "10.0.0.1", extra={"enos_root": str(tmp_path)})
        deadline = time.monotonic() + 10
        while "INFO fine" not in (log.read_text() if log.exists() else ""):
            assert time.monotonic() < deadline
            time.sleep(0.1)
        [row] = status.rows([host], lambda h: sup, "test", local=True)
        assert row["host"] == "h1" and row["service"] == "sleeper" and row["running"]
        assert row["listen"] == "10.0.0.1:5000" and row["since"] and row["restarts"] == 0
        assert row["last_error"] == "ERROR boom"
        subprocess.run([*run, "stop", "sleeper"], check=True, capture_output=True)
        [row] = status.rows([host], lambda h: sup, "test", local=True)
        assert row["state"] == "stopped" and not row["running"] and row["since"] is None
    finally:
        subprocess.run([*run, "shutdown"], check=True, capture_output=True)
    [row] = status.rows([host], lambda h: sup, "test", local=True)
    assert row["state"] == "stopped"  # the supervisor itself is gone


def test_last_error_is_a_line_at_error_level() -> None:
    text = ("2026 INFO neutron show failed (client error): not found\n"
            "ts=1 level=error msg=boom\n2026 WARNING x\n")
    assert status.last_error(text) == "ts=1 level=error msg=boom"
    assert status.last_error("all INFO\n") is None


def test_follow_prints_the_tail_then_appended_lines(tmp_path: Path) -> None:
    log = tmp_path / "x.log"
    log.write_text("one\ntwo\nthree\n")
    seen: list[str] = []
    status.follow(log, 2, forever=False, echo=seen.append)
    assert seen == ["two", "three"]
    seen.clear()

    def writer() -> None:
        time.sleep(0.5)
        with log.open("a") as handle:
            handle.write("four\nfi")
            handle.flush()
            time.sleep(0.3)
            handle.write("ve\n")

    threading.Thread(target=writer, daemon=True).start()
    lines = status.appended(log, log.stat().st_size, 0.05)
    assert [next(lines), next(lines)] == ["four", "five"]
