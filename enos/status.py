"""What runs on the hosts, read from the supervisors' state: ``enos status`` and ``enos logs``.

Every long-running process enos starts on a host runs under a supervisor (:mod:`enos.supervisor`)
whose directory holds ``programs/<name>.json`` (what to run, with its log file and the check
that says it serves) and ``status.json`` (state, pid, start time, restarts). A deployer or a
service reads those directories into rows (:func:`rows`), one per program and host::

    {"host": "control-1", "service": "keystone", "owner": "native", "state": "running",
     "running": true, "since": "2026-11-22T08:30:01+00:00", "restarts": 0, "pid": 1234,
     "listen": "172.30.60.10:5000", "log": ".../log/keystone.log", "last_error": null}

The directories are read in place when the hosts share this machine's file system (the local
testbed), else over SSH.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import re
import shlex
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from enos.model import Host

if TYPE_CHECKING:
    from enos.experiment import Experiment

# What a log line that reports an error looks like (oslo.log, Go's logfmt, RabbitMQ, MariaDB).
ERROR_LINE = re.compile(r"\b(ERROR|CRITICAL|FATAL|Traceback|level=error|\[error\]|"
                        r"\[ERROR\])")
TAIL_BYTES = 256 * 1024


def shares_machine(exp: Experiment) -> bool:
    """Whether the experiment's hosts share this machine's file system (read in place)."""
    from enos import plugins

    name = exp.state.get("provider")
    return bool(name and plugins.registered("provider", name)
                and plugins.load("provider", name).shares_machine)


def _iso(ts: float | None) -> str | None:
    if not ts:
        return None
    return _dt.datetime.fromtimestamp(ts, _dt.UTC).astimezone().isoformat(
        timespec="seconds")


def listen_of(spec: dict[str, Any]) -> str | None:
    """The address a program serves, from the check that waits for it."""
    check = str(spec.get("enos_check") or "")
    if check.startswith("tcp:"):
        return check[4:]
    if check.startswith("http"):
        return urlsplit(check).netloc or None
    return None


def last_error(text: str) -> str | None:
    for line in reversed(text.splitlines()):
        if ERROR_LINE.search(line):
            return line.strip()[:300]
    return None


def tail_text(path: Path, size: int = TAIL_BYTES) -> str:
    try:
        with path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - size))
            return handle.read().decode(errors="replace")
    except OSError:
        return ""


def rows_from(host: str, owner: str, status: dict[str, Any], specs: dict[str, dict[str, Any]],
              read_log: Callable[[str], str]) -> list[dict[str, Any]]:
    """One row per program of a supervisor: its status joined with its spec."""
    progs = status.get("programs") or {}
    daemon = status.get("pid")
    out = []
    for name in sorted(set(specs) | set(progs)):
        spec, prog = specs.get(name) or {}, progs.get(name) or {}
        state = str(prog.get("state") or "unknown") if daemon else "stopped"
        log = prog.get("log") or spec.get("log")
        out.append({
            "host": host, "service": name, "owner": owner, "state": state,
            "running": state == "running",
            "since": _iso(prog.get("started_at")) if state == "running" else None,
            "restarts": int(prog.get("restarts") or 0), "pid": prog.get("pid"),
            "exit_code": prog.get("exit_code"), "listen": listen_of(spec), "log": log,
            "last_error": last_error(read_log(log)) if log else None,
        })
    return out


def _read_local(sup: Path) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    from enos.supervisor import daemon_pid

    status: dict[str, Any] = {}
    if daemon_pid(sup) is not None:
        try:
            status = json.loads((sup / "status.json").read_text())
        except (OSError, ValueError):
            status = {}
    specs = {}
    for path in sorted((sup / "programs").glob("*.json")):
        try:
            specs[path.stem] = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
    return status, specs


# Run on a remote host: print the supervisor's status, specs and each log's tail as JSON.
_REMOTE = r"""
import json, os, sys
sup = sys.argv[1]
out = {"status": {}, "specs": {}, "tails": {}}
try:
    pid = int(open(os.path.join(sup, "supervisor.pid")).read())
    os.kill(pid, 0)
    out["status"] = json.load(open(os.path.join(sup, "status.json")))
except Exception:
    pass
d = os.path.join(sup, "programs")
for name in sorted(os.listdir(d)) if os.path.isdir(d) else []:
    try:
        spec = json.load(open(os.path.join(d, name)))
    except Exception:
        continue
    out["specs"][name[:-5]] = spec
    log = spec.get("log")
    try:
        with open(log, "rb") as f:
            f.seek(0, 2); f.seek(max(0, f.tell() - 65536))
            out["tails"][log] = f.read().decode(errors="replace")
    except Exception:
        pass
print(json.dumps(out))
"""


def _local_tail(log: str) -> str:
    return tail_text(Path(log))


def ssh_argv(host: Host, command: list[str]) -> list[str]:
    argv = ["ssh", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
            "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
            "-o", "ConnectTimeout=10", "-p", str(host.port)]
    if host.keyfile:
        argv += ["-i", host.keyfile]
    return [*argv, f"{host.user}@{host.address}", shlex.join(command)]


def rows(hosts: list[Host], sup_of: Callable[[Host], Path], owner: str, *,
         local: bool) -> list[dict[str, Any]]:
    """Rows of the supervisor directory ``sup_of(host)`` of every host (read in place when
    ``local``, else over SSH; an unreachable host gives a row saying so)."""
    out: list[dict[str, Any]] = []
    for host in hosts:
        sup = sup_of(host)
        if local:
            status, specs = _read_local(sup)
            if specs:
                out += _with_history(rows_from(host.alias, owner, status, specs,
                                               _local_tail), sup)
            continue
        proc = subprocess.run(ssh_argv(host, ["python3", "-c", _REMOTE, str(sup)]),
                              capture_output=True, text=True, timeout=60, check=False)
        try:
            data = json.loads(proc.stdout)
        except ValueError:
            out.append({"host": host.alias, "service": "*", "owner": owner,
                        "state": "unreachable", "running": False,
                        "last_error": (proc.stderr or proc.stdout).strip()[-300:]})
            continue
        if data["specs"]:
            tails: dict[str, str] = data["tails"]
            out += _with_history(rows_from(
                host.alias, owner, data["status"], data["specs"],
                lambda log, tails=tails: tails.get(log, "")), sup)  # type: ignore[misc]
    return out


def _with_history(rows: list[dict[str, Any]], sup: Path) -> list[dict[str, Any]]:
    """Each row names its supervisor's history (starts, stops, kills, exits: see
    :mod:`enos.supervisor`), on the host."""
    for row in rows:
        row["history"] = str(sup / "history.jsonl")
    return rows


def follow(path: Path, lines: int, *, forever: bool, echo: Callable[[str], None],
           poll: float = 0.25) -> None:
    """Print the last ``lines`` lines of a log; with ``forever``, then what is appended to it
    (from where the tail ended: no line is lost or shown twice; reopened when the file is
    replaced or truncated) until interrupted."""
    try:
        size = path.stat().st_size
    except OSError:
        size = 0
    text = ""
    try:
        with path.open("rb") as handle:
            handle.seek(max(0, size - TAIL_BYTES))
            text = handle.read(size - handle.tell()).decode(errors="replace")
    except OSError:
        pass
    for line in text.splitlines()[-lines:] if lines > 0 else []:
        echo(line)
    if forever:
        for line in appended(path, size, poll):
            echo(line)


def appended(path: Path, position: int, poll: float = 0.25) -> Iterator[str]:
    """The lines appended to ``path`` after byte ``position``, forever."""
    handle = None
    inode: int | None = None
    pending = ""
    with contextlib.suppress(OSError):
        inode = path.stat().st_ino
    while True:
        try:
            st = path.stat()
        except OSError:
            time.sleep(poll)
            continue
        if st.st_ino != inode or st.st_size < position:  # replaced or truncated
            if handle:
                handle.close()
            handle, inode, position = None, st.st_ino, 0
        if handle is None:
            handle = path.open("rb")
            handle.seek(position)
        data = handle.read()
        if data:
            position += len(data)
            pending += data.decode(errors="replace")
            *complete, pending = pending.split("\n")
            yield from complete
        else:
            time.sleep(poll)


def collect(exp: Experiment) -> list[dict[str, Any]]:
    """The rows of the deployer that deployed the cloud, then of every started service."""
    from enos import deployers, services

    rows: list[dict[str, Any]] = []
    name = deployers.recorded(exp)
    if name:
        rows += deployers.load(name).status(exp)
    rows += services.status(exp)
    return rows
