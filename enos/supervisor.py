#!/usr/bin/env python3
"""A small process supervisor, one per host (or per experiment for the local testbed's sshds).

Machines without an init system (and network-namespace hosts) still need long-running
processes that are started in order, restarted when they crash, stopped in reverse order and
reaped. This file does that with the standard library only, so it can be copied to any host and
run with that host's ``python3``.

State lives in one directory ``D``:

- ``D/programs/<name>.json``: what to run, written by the caller::

      {"argv": ["memcached", "-u", "memcache"], "env": {}, "cwd": "/", "log": "/x/memcached.log",
       "priority": 10, "stop_signal": "TERM", "stop_timeout": 10, "netns": null}

  ``priority``: started in ascending order, stopped in descending order. ``netns``: run the
  program in that network namespace (``ip netns exec``); without it, children share the
  supervisor's namespace.
- ``D/supervisor.pid``, ``D/status.json`` (written atomically by the daemon).
- ``D/history.jsonl``: one line per start, requested stop or kill, and exit of a program
  (``{"at": EPOCH, "program", "event": "start"|"stop"|"kill"|"exit", "pid", "code",
  "expected"}``; an exit is expected when a stop asked for it), what ``enos outages`` reads to
  tell a crash from a clean stop.

Commands (``python3 supervisor.py --dir D COMMAND``):

- ``up``: start the daemon if it is not running, make the running programs match the spec
  files (start new ones, restart changed ones, stop removed ones), print the status as JSON.
- ``status``: print the status as JSON (exit 3 when the daemon is not running).
- ``restart NAME...`` / ``stop NAME...``: restart or stop programs (a stopped program stays
  stopped until its spec changes or ``up`` is called after ``restart``).
- ``start NAME...``: start programs that are stopped (or failed); running ones are left alone.
- ``kill NAME...``: SIGKILL the programs' process groups, as a crash would: each is restarted
  like a program that exited on its own (fault injection).
- ``shutdown``: stop every program in descending priority, then the daemon exits.

A program that exits on its own is restarted with a growing delay; after 5 exits within 60 s it
is marked ``failed`` and left alone.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

MAX_RESTARTS = 5
RESTART_WINDOW = 60.0


def _atomic_json(path: Path, obj: Any) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(fd, "w") as handle:
        json.dump(obj, handle, indent=2, sort_keys=True)
        handle.flush()
        os.fsync(handle.fileno())
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie answers kill(0) but is dead.
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


class Program:
    def __init__(self, name: str, spec: dict[str, Any], digest: str) -> None:
        self.name = name
        self.spec = spec
        self.digest = digest
        self.pid: int | None = None
        self.state = "stopped"
        self.exit_code: int | None = None
        self.started_at: float | None = None
        self.exits: list[float] = []
        self.restart_at: float | None = None
        self.history: Path | None = None

    def note(self, event: str, **detail: Any) -> None:
        """Append one line to the supervisor's history (never fails the daemon)."""
        if self.history is None:
            return
        line = json.dumps({"at": round(time.time(), 3), "program": self.name, "event": event,
                           "pid": self.pid, **detail}, sort_keys=True) + "\n"
        try:
            with self.history.open("a") as handle:
                handle.write(line)
        except OSError:
            pass

    @property
    def priority(self) -> int:
        return int(self.spec.get("priority", 50))

    def start(self) -> None:
        argv = list(self.spec["argv"])
        if self.spec.get("netns"):
            argv = ["ip", "netns", "exec", self.spec["netns"], *argv]
        log = self.spec.get("log")
        env = dict(os.environ)
        env.update({k: str(v) for k, v in (self.spec.get("env") or {}).items()})
        pid = os.fork()
        if pid == 0:  # child
            try:
                os.setsid()
                signal.signal(signal.SIGHUP, signal.SIG_DFL)
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                signal.pthread_sigmask(signal.SIG_SETMASK, [])
                devnull = os.open(os.devnull, os.O_RDONLY)
                os.dup2(devnull, 0)
                if log:
                    Path(log).parent.mkdir(parents=True, exist_ok=True)
                    out = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o640)
                else:
                    out = os.open(os.devnull, os.O_WRONLY)
                os.dup2(out, 1)
                os.dup2(out, 2)
                os.closerange(3, 65536)
                if self.spec.get("cwd"):
                    os.chdir(self.spec["cwd"])
                os.execvpe(argv[0], argv, env)
            except BaseException as exc:  # noqa: BLE001 - report and leave the child
                try:
                    os.write(2, f"supervisor: cannot start {argv!r}: {exc}\n".encode())
                finally:
                    os._exit(127)
        self.pid = pid
        self.state = "running"
        self.exit_code = None
        self.started_at = time.time()
        self.restart_at = None
        self.note("start")

    def signal_stop(self) -> None:
        if self.pid is None:
            return
        sig = getattr(signal, "SIG" + str(self.spec.get("stop_signal", "TERM")).upper())
        try:
            os.killpg(self.pid, sig)
        except ProcessLookupError:
            pass

    def kill(self) -> None:
        if self.pid is None:
            return
        self.note("kill")
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def status(self) -> dict[str, Any]:
        return {
            "pid": self.pid,
            "state": self.state,
            "exit_code": self.exit_code,
            "started_at": self.started_at,
            "restarts": len(self.exits),
            "log": self.spec.get("log"),
            "priority": self.priority,
        }


class Daemon:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.programs: dict[str, Program] = {}
        self.stopped_by_request: set[str] = set()
        self.wakeups: list[str] = []
        self.shutting_down = False

    # -- specs -------------------------------------------------------------------------------
    def read_specs(self) -> dict[str, tuple[dict[str, Any], str]]:
        out = {}
        for path in sorted((self.root / "programs").glob("*.json")):
            try:
                raw = path.read_bytes()
                spec = json.loads(raw)
            except (OSError, ValueError):
                continue
            out[path.stem] = (spec, hashlib.sha256(raw).hexdigest())
        return out

    def write_status(self, token: str | None = None) -> None:
        status = {
            "pid": os.getpid(),
            "token": token or self._token,
            "programs": {n: p.status() for n, p in sorted(self.programs.items())},
        }
        _atomic_json(self.root / "status.json", status)

    _token: str | None = None

    # -- actions -----------------------------------------------------------------------------
    def stop_programs(self, programs: list[Program]) -> None:
        for prio in sorted({p.priority for p in programs}, reverse=True):
            batch = [p for p in programs if p.priority == prio and p.pid is not None]
            for prog in batch:
                prog.note("stop")
                prog.state = "stopping"
                prog.signal_stop()
            deadline = time.time() + max(float(p.spec.get("stop_timeout", 10)) for p in batch) \
                if batch else time.time()
            while batch and time.time() < deadline:
                self.reap()
                batch = [p for p in batch if p.pid is not None]
                if batch:
                    time.sleep(0.05)
            for prog in batch:
                prog.kill()
            while batch:
                self.reap()
                batch = [p for p in batch if p.pid is not None]
                if batch:
                    time.sleep(0.05)
        for prog in programs:
            prog.state = "stopped"
            prog.restart_at = None

    def reconcile(self, restart: set[str] | None = None) -> None:
        specs = self.read_specs()
        removed = [p for n, p in self.programs.items() if n not in specs]
        changed = [
            p for n, p in self.programs.items()
            if n in specs and (specs[n][1] != p.digest or n in (restart or set()))
        ]
        self.stop_programs(removed + changed)
        for prog in removed:
            del self.programs[prog.name]
        for prog in changed:
            prog.spec, prog.digest = specs[prog.name]
            prog.exits.clear()
            self.stopped_by_request.discard(prog.name)
        for name, (spec, digest) in specs.items():
            if name not in self.programs:
                self.programs[name] = Program(name, spec, digest)
                self.programs[name].history = self.root / "history.jsonl"
        if restart:
            self.stopped_by_request -= restart
        to_start = [
            p for p in self.programs.values()
            if p.pid is None and p.name not in self.stopped_by_request and p.state != "failed"
        ]
        for prog in sorted(to_start, key=lambda p: (p.priority, p.name)):
            prog.start()

    def reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            for prog in self.programs.values():
                if prog.pid == pid:
                    prog.exit_code = os.waitstatus_to_exitcode(status)
                    prog.note("exit", code=prog.exit_code,
                              expected=prog.state != "running" or self.shutting_down)
                    prog.pid = None
                    if prog.state == "running" and not self.shutting_down:
                        now = time.time()
                        prog.exits = [t for t in prog.exits if now - t < RESTART_WINDOW] + [now]
                        if len(prog.exits) >= MAX_RESTARTS:
                            prog.state = "failed"
                        else:
                            prog.state = "backoff"
                            prog.restart_at = now + min(2 ** len(prog.exits) * 0.25, 10)
                    elif prog.state == "running":
                        prog.state = "exited"

    def handle_requests(self) -> None:
        req_dir = self.root / "requests"
        for path in sorted(req_dir.glob("*.json")):
            try:
                req = json.loads(path.read_text())
            except (OSError, ValueError):
                continue
            finally:
                path.unlink(missing_ok=True)
            action, names = req.get("action"), set(req.get("names") or [])
            self._token = req.get("token")
            if action == "up":
                self.reconcile()
            elif action == "restart":
                self.reconcile(restart=names)
            elif action == "stop":
                progs = [p for n, p in self.programs.items() if n in names]
                self.stop_programs(progs)
                self.stopped_by_request |= names
            elif action == "start":
                self.stopped_by_request -= names
                for prog in self.programs.values():
                    if prog.name in names and prog.state == "failed":
                        prog.state, prog.exits = "stopped", []
                self.reconcile()
            elif action == "kill":
                for prog in self.programs.values():
                    if prog.name in names:
                        prog.kill()  # reaped as an exit: restarted after the usual delay
            elif action == "shutdown":
                self.shutting_down = True
                self.stop_programs(list(self.programs.values()))
            self.write_status()

    def run(self) -> None:
        (self.root / "requests").mkdir(parents=True, exist_ok=True)
        wake_r, wake_w = os.pipe()
        os.set_blocking(wake_w, False)
        os.set_blocking(wake_r, False)

        def wake(signum: int, frame: object) -> None:
            try:
                os.write(wake_w, b"x")
            except BlockingIOError:
                pass

        for sig in (signal.SIGHUP, signal.SIGCHLD, signal.SIGTERM):
            signal.signal(sig, wake)

        def terminate(signum: int, frame: Any) -> None:
            self.term = True
            wake(signum, frame)

        signal.signal(signal.SIGTERM, terminate)
        self.term = False
        self.reconcile()
        self.write_status()
        import select

        while True:
            select.select([wake_r], [], [], 1.0)
            try:
                os.read(wake_r, 4096)
            except BlockingIOError:
                pass
            self.reap()
            self.handle_requests()
            if self.term and not self.shutting_down:
                self.shutting_down = True
                self.stop_programs(list(self.programs.values()))
            if self.shutting_down:
                self.write_status()
                (self.root / "supervisor.pid").unlink(missing_ok=True)
                return
            now = time.time()
            for prog in self.programs.values():
                if prog.state == "backoff" and prog.restart_at and now >= prog.restart_at:
                    prog.start()
            self.write_status()


# -- client side ----------------------------------------------------------------------------
def daemon_pid(root: Path) -> int | None:
    try:
        pid = int((root / "supervisor.pid").read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if _pid_alive(pid) else None


def start_daemon(root: Path) -> int:
    root.mkdir(parents=True, exist_ok=True)
    (root / "programs").mkdir(exist_ok=True)
    (root / "requests").mkdir(exist_ok=True)
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        os.setsid()
        if os.fork() != 0:
            os._exit(0)
        devnull = os.open(os.devnull, os.O_RDWR)
        log = os.open(root / "supervisor.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o640)
        os.dup2(devnull, 0)
        os.dup2(log, 1)
        os.dup2(log, 2)
        # Keep no descriptor of the caller (an SSH session waits for its pipes to close).
        os.closerange(3, write_fd)
        os.closerange(write_fd + 1, 65536)
        # A client may signal as soon as the pid file exists, before Daemon.run() installs its
        # handlers: SIGHUP's default would kill the daemon. Ignored until then; the request
        # file is read on the daemon's first turn anyway.
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        pidfile = root / "supervisor.pid"
        pidfile.write_text(f"{os.getpid()}\n")
        os.write(write_fd, b"ok")
        os.close(write_fd)
        try:
            Daemon(root).run()
        finally:
            os._exit(0)
    os.close(write_fd)
    os.waitpid(pid, 0)
    os.read(read_fd, 2)
    os.close(read_fd)
    new = daemon_pid(root)
    if new is None:
        raise SystemExit(f"supervisor in {root} did not start; see {root / 'supervisor.log'}")
    return new


def request(root: Path, action: str, names: list[str], timeout: float = 300.0) -> dict[str, Any]:
    pid = daemon_pid(root)
    if pid is None:
        raise SystemExit(3)
    token = f"{os.getpid()}-{time.time_ns()}"
    req_dir = root / "requests"
    req_dir.mkdir(exist_ok=True)
    _atomic_json(req_dir / f"{time.time_ns()}-{os.getpid()}.json",
                 {"action": action, "names": names, "token": token})
    os.kill(pid, signal.SIGHUP)
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            status = json.loads((root / "status.json").read_text())
        except (OSError, ValueError):
            status = {}
        if status.get("token") == token:
            return status
        if action == "shutdown" and not _pid_alive(pid):
            return status
        time.sleep(0.05)
    raise SystemExit(f"supervisor in {root} did not answer '{action}' within {timeout:.0f} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dir", required=True, type=Path, help="the supervisor's directory")
    parser.add_argument("action", choices=["up", "status", "restart", "stop", "start", "kill",
                                           "shutdown"])
    parser.add_argument("names", nargs="*")
    args = parser.parse_args(argv)
    root: Path = args.dir.absolute()
    if args.action == "status":
        if daemon_pid(root) is None:
            print(json.dumps({"pid": None, "programs": {}}))
            return 3
        print((root / "status.json").read_text())
        return 0
    if args.action == "shutdown":
        if daemon_pid(root) is None:
            print(json.dumps({"pid": None, "programs": {}}))
            return 0
        print(json.dumps(request(root, "shutdown", []), indent=2))
        return 0
    if args.action == "up" and daemon_pid(root) is None:
        # Two clients at once (a rerun beside a killed command's) must not start two daemons.
        import fcntl

        root.mkdir(parents=True, exist_ok=True)
        lock = os.open(root / "start.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if daemon_pid(root) is None:
                start_daemon(root)
        finally:
            os.close(lock)
    status = request(root, args.action, args.names)
    print(json.dumps(status, indent=2))
    failed = [n for n, p in status.get("programs", {}).items() if p["state"] == "failed"]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
