"""The process supervisor with real processes: start, restart on crash, stop order, shutdown."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from enos import supervisor

SUP = [sys.executable, supervisor.__file__]


def sup(root: Path, *args: str) -> dict:
    proc = subprocess.run([*SUP, "--dir", str(root), *args], capture_output=True, text=True,
                          check=False, timeout=60)
    assert proc.returncode in (0, 1, 3), proc.stderr
    return json.loads(proc.stdout)


def program(root: Path, name: str, argv: list[str], priority: int = 10) -> None:
    (root / "programs").mkdir(parents=True, exist_ok=True)
    spec = {"argv": argv, "priority": priority, "log": str(root / f"{name}.log"),
            "stop_timeout": 5}
    (root / "programs" / f"{name}.json").write_text(json.dumps(spec))


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_lifecycle(tmp_path: Path) -> None:
    root = tmp_path / "sup"
    order = tmp_path / "order"
    trap = f"trap 'echo $0 >> {order}; exit 0' TERM; while :; do sleep 0.1; done"
    program(root, "db", ["sh", "-c", trap, "db"], priority=1)
    program(root, "api", ["sh", "-c", trap, "api"], priority=2)
    try:
        status = sup(root, "up")
        daemon = status["pid"]
        pids = {n: p["pid"] for n, p in status["programs"].items()}
        assert all(p["state"] == "running" for p in status["programs"].values())
        assert all(alive(pid) for pid in pids.values())

        # Rerunning `up` with unchanged specs changes nothing.
        assert {n: p["pid"] for n, p in sup(root, "up")["programs"].items()} == pids

        # A changed spec restarts that program only.
        program(root, "api", ["sh", "-c", trap + " ", "api"], priority=2)
        after = sup(root, "up")["programs"]
        assert after["db"]["pid"] == pids["db"] and after["api"]["pid"] != pids["api"]

        # A crash is restarted.
        subprocess.run(["kill", "-KILL", str(after["db"]["pid"])], check=True)
        deadline = time.time() + 10
        while time.time() < deadline:
            now = sup(root, "status")["programs"]["db"]
            if now["state"] == "running" and now["pid"] != after["db"]["pid"]:
                break
            time.sleep(0.2)
        assert now["restarts"] == 1 and alive(now["pid"])

        # Shutdown stops by descending priority, then the daemon exits.
        order.write_text("")
        running = [p["pid"] for p in sup(root, "status")["programs"].values()]
        sup(root, "shutdown")
        assert order.read_text().split() == ["api", "db"]
        assert not [p for p in running if alive(p)]
        assert not alive(daemon)
        assert sup(root, "status")["pid"] is None
    finally:
        sup(root, "shutdown")


def test_program_that_keeps_failing_is_marked_failed(tmp_path: Path) -> None:
    root = tmp_path / "sup"
    program(root, "bad", ["sh", "-c", "echo broken; exit 3"])
    try:
        sup(root, "up")
        deadline = time.time() + 20
        while time.time() < deadline:
            state = sup(root, "status")["programs"]["bad"]
            if state["state"] == "failed":
                break
            time.sleep(0.3)
        assert state["state"] == "failed" and state["exit_code"] == 3
        assert "broken" in (root / "bad.log").read_text()
    finally:
        sup(root, "shutdown")


def test_stop_and_restart_named(tmp_path: Path) -> None:
    root = tmp_path / "sup"
    program(root, "a", ["sleep", "300"])
    program(root, "b", ["sleep", "300"])
    try:
        first = sup(root, "up")["programs"]
        stopped = sup(root, "stop", "a")["programs"]
        assert stopped["a"]["state"] == "stopped" and not alive(first["a"]["pid"])
        assert stopped["b"]["pid"] == first["b"]["pid"]
        # `up` leaves a program stopped on request alone; `restart` brings it back.
        assert sup(root, "up")["programs"]["a"]["state"] == "stopped"
        back = sup(root, "restart", "a")["programs"]["a"]
        assert back["state"] == "running" and alive(back["pid"])
    finally:
        sup(root, "shutdown")


def test_kill_is_a_crash_start_leaves_running_ones_and_history_tells(tmp_path: Path) -> None:
    root = tmp_path / "sup"
    program(root, "db", ["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 0.1; done"])
    try:
        first = sup(root, "up")["programs"]["db"]["pid"]
        # start on a running program changes nothing.
        assert sup(root, "start", "db")["programs"]["db"]["pid"] == first
        # kill: SIGKILL, then restarted by the supervisor as after a crash.
        sup(root, "kill", "db")
        deadline = time.monotonic() + 10
        while True:
            now = sup(root, "status")["programs"]["db"]
            if now["pid"] not in (None, first) and now["state"] == "running":
                break
            assert time.monotonic() < deadline, now
            time.sleep(0.1)
        assert now["restarts"] == 1 and not alive(first)
        # stop keeps it down; start brings it back.
        assert sup(root, "stop", "db")["programs"]["db"]["state"] == "stopped"
        assert sup(root, "start", "db")["programs"]["db"]["state"] == "running"
        history = [json.loads(line) for line in (root / "history.jsonl").read_text()
                   .splitlines()]
        events = [(h["event"], h.get("expected")) for h in history]
        assert events == [("start", None), ("kill", None), ("exit", False), ("start", None),
                          ("stop", None), ("exit", True), ("start", None)], events
        assert history[2]["code"] == -9 and history[2]["pid"] == first
        assert all(h["program"] == "db" and h["at"] > 0 for h in history)
    finally:
        sup(root, "shutdown")
