"""Run Ansible playbooks with a progress display and errors that name hosts and tasks.

``ansible-playbook`` runs as a subprocess from enos's own virtualenv, with enos's ansible.cfg
(``ANSIBLE_CONFIG`` in the environment wins) and the ``enos_progress`` callback, which reports
events as JSON lines. Ansible's full output goes to a log file in the experiment directory
(``logs/ansible-<title>.log``), and how long each task took on each host to
``logs/ansible-<title>.tasks.json`` (``enos report`` shows the slowest).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from enos import events as events_mod
from enos.errors import EnosError
from enos.utils.fs import atomic_write_json

HERE = Path(__file__).parent
PLAYBOOKS = HERE / "playbooks"
ANSIBLE_CFG = HERE / "ansible.cfg"
CALLBACKS = HERE / "plugins" / "callback"


@dataclass
class HostFailure:
    host: str
    task: str
    status: str  # failed | unreachable
    msg: str


@dataclass
class RunResult:
    returncode: int
    failures: list[HostFailure] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)
    changed: dict[str, int] = field(default_factory=dict)
    # host -> the enos_* facts the playbook set (set_fact): values reported back to enos.
    facts: dict[str, dict[str, Any]] = field(default_factory=dict)
    log: Path | None = None
    seconds: float = 0.0
    # Every task result with its duration on its host: {host, task, status, seconds}.
    tasks: list[dict[str, Any]] = field(default_factory=list)


# Says more about one host's failure than Ansible's message, or None.
Describe = Callable[[HostFailure], "str | None"]


def _bin(name: str) -> str:
    candidate = Path(sys.executable).parent / name
    return str(candidate) if candidate.exists() else name


class _Display:
    """A one-line live status on a terminal; plain task lines otherwise."""

    def __init__(self, title: str, quiet: bool) -> None:
        self.title = title
        self.quiet = quiet
        self.start = time.monotonic()
        self.live = None
        self.task = ""
        self.hosts: list[str] = []
        self.done: set[str] = set()
        self.tasks_seen = 0
        if not quiet and sys.stderr.isatty():
            from rich.console import Console
            from rich.live import Live

            self.console = Console(stderr=True)
            self.live = Live(console=self.console, refresh_per_second=8, transient=True)
            self.live.start()

    def _render(self) -> None:
        elapsed = time.monotonic() - self.start
        line = (f"{self.title}: task {self.tasks_seen} '{self.task}' "
                f"[{len(self.done)}/{len(self.hosts)} hosts] {elapsed:5.1f}s")
        if self.live is not None:
            from rich.text import Text

            self.live.update(Text(line, style="bold"))

    def event(self, ev: dict[str, Any]) -> None:
        kind = ev.get("event")
        if kind == "play":
            self.hosts = ev.get("hosts", [])
        elif kind == "task":
            self.task = ev.get("name", "")
            self.tasks_seen += 1
            self.done = set()
            if self.live is None and not self.quiet:
                elapsed = time.monotonic() - self.start
                print(f"  [{elapsed:6.1f}s] {self.title}: {self.task}", file=sys.stderr,
                      flush=True)
        elif kind == "result":
            self.done.add(ev.get("host", ""))
        self._render()

    def stop(self) -> None:
        if self.live is not None:
            self.live.stop()


def run_playbook(
    playbook: str | Path,
    inventory: str | Path,
    *,
    extravars: dict[str, Any] | None = None,
    tags: list[str] | None = None,
    limit: str | None = None,
    title: str | None = None,
    log_dir: Path | None = None,
    quiet: bool = False,
    verbosity: int = 0,
    check: bool = True,
    retry_hint: str | None = None,
    describe: Describe | None = None,
    forks: int | None = None,
) -> RunResult:
    """Run ``playbook`` (a path, or a name under enos/ansible/playbooks) on ``inventory``.

    With ``check`` (the default), any failed or unreachable host raises an :class:`EnosError`
    that names each host, the task and Ansible's message, and ``retry_hint``; ``describe``
    may say more about a failure than Ansible's message (None: the default line).
    ``forks``: how many hosts the run works on at once (the number of hosts, so that every
    host runs each task at once; at most ``MAX_FORKS``; ``ANSIBLE_FORKS`` in the environment
    wins), else ansible.cfg's.
    """
    path = Path(playbook)
    if not path.is_absolute() and not path.exists():
        path = PLAYBOOKS / path
    title = title or path.stem
    argv = [_bin("ansible-playbook"), "-i", str(inventory), str(path)]
    if extravars:
        argv += ["-e", json.dumps(extravars)]
    if tags:
        argv += ["--tags", ",".join(tags)]
    if limit:
        argv += ["--limit", limit]
    if verbosity > 1:
        argv.append("-" + "v" * (verbosity - 1))

    env = dict(os.environ)
    env.setdefault("ANSIBLE_CONFIG", str(ANSIBLE_CFG))
    env["ANSIBLE_CALLBACK_PLUGINS"] = os.pathsep.join(
        p for p in (str(CALLBACKS), env.get("ANSIBLE_CALLBACK_PLUGINS", "")) if p
    )
    env["ANSIBLE_STDOUT_CALLBACK"] = "enos_progress"
    env["PYTHONUNBUFFERED"] = "1"
    if forks is not None:
        env.setdefault("ANSIBLE_FORKS", str(max(1, min(forks, MAX_FORKS))))
    # One SSH connection per host, reused by the tasks and the runs that follow (closed by
    # `enos destroy`, or after CONTROL_PERSIST idle): a rerun pays no SSH logins.
    env.setdefault("ANSIBLE_SSH_ARGS", ssh_args(Path(inventory).parent))

    log_dir = log_dir or Path(inventory).parent / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    log = log_dir / f"ansible-{title.replace(' ', '_')}.log"

    # This run's scratch (Ansible's local temp, the events file) is in the log directory, not
    # /tmp, and named after this process: what a killed enos leaves is removed by the next run.
    _remove_stale_scratch(log_dir)
    scratch = Path(tempfile.mkdtemp(prefix=f"{SCRATCH}{os.getpid()}-", dir=log_dir))
    env.setdefault("ANSIBLE_LOCAL_TEMP", str(scratch / "ansible"))
    events_fd, events_path = tempfile.mkstemp(prefix="events-", suffix=".jsonl", dir=scratch)
    os.close(events_fd)
    env["ENOS_EVENTS"] = events_path
    display = _Display(title, quiet)
    result = RunResult(returncode=0, log=log)
    start = time.monotonic()
    started_at = events_mod.now()
    try:
        with open(log, "w") as logf, open(events_path) as events:
            proc = subprocess.Popen(argv, stdout=logf, stderr=subprocess.STDOUT, env=env,
                                    stdin=subprocess.DEVNULL,
                                    preexec_fn=death_signal())  # noqa: PLW1509 (prctl only)
            try:
                _follow(proc, events, display, result)
            except BaseException:
                # Interrupted (Ctrl-C) or failed: ansible-playbook must not outlive enos.
                _stop(proc)
                raise
            result.returncode = proc.returncode
    finally:
        display.stop()
        shutil.rmtree(scratch, ignore_errors=True)
        result.seconds = time.monotonic() - start
        _write_timings(log, title, started_at, result)
    if check and (result.failures or result.returncode != 0):
        raise failure_error(result, title, retry_hint, describe)
    return result


SCRATCH = ".run-"
MAX_FORKS = 200  # Ansible's worker processes at most, whatever the number of hosts
CONTROL_PERSIST = "120s"
SSH_OPTIONS = ("-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR "
               "-o ConnectTimeout=10")


def control_dir(experiment: Path) -> Path:
    """Where the SSH master connections of an experiment's runs wait: a short path (a socket's
    is at most 107 bytes), private to root, one directory per experiment."""
    import hashlib

    digest = hashlib.sha256(str(Path(experiment).resolve()).encode()).hexdigest()[:12]
    base = Path("/run/enos-ssh") if os.access("/run", os.W_OK) else \
        Path(tempfile.gettempdir()) / f"enos-ssh-{os.getuid()}"
    return base / digest


def ssh_args(experiment: Path) -> str:
    directory = control_dir(experiment)
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    return (f"-o ControlMaster=auto -o ControlPersist={CONTROL_PERSIST} "
            f"-o ControlPath={directory}/%C {SSH_OPTIONS}")


def close_connections(experiment: Path) -> int:
    """Close the experiment's SSH master connections, each through its socket (``ssh -O
    exit``); returns how many were open."""
    directory = control_dir(experiment)
    closed = 0
    if not directory.is_dir():
        return 0
    for socket_path in directory.iterdir():
        proc = subprocess.run(["ssh", "-o", f"ControlPath={socket_path}", "-O", "exit",
                               "enos-host"], capture_output=True, text=True, timeout=10,
                              check=False, stdin=subprocess.DEVNULL)
        closed += proc.returncode == 0
        socket_path.unlink(missing_ok=True)
    shutil.rmtree(directory, ignore_errors=True)
    return closed


def _remove_stale_scratch(log_dir: Path) -> None:
    """Remove the scratch directories of enos processes that are gone (killed)."""
    for path in log_dir.glob(f"{SCRATCH}*"):
        pid = path.name[len(SCRATCH):].split("-", 1)[0]
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(path, ignore_errors=True)
        except PermissionError:
            continue


def death_signal() -> Callable[[], None] | None:
    """A ``preexec_fn`` that makes the child get SIGTERM when enos dies, even by SIGKILL.

    Everything is looked up before the fork: the child only calls prctl (no import, no lock).
    None where prctl does not exist.
    """
    import ctypes
    import signal

    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    term = int(signal.SIGTERM)

    def preexec() -> None:
        prctl(1, term, 0, 0, 0)  # PR_SET_PDEATHSIG

    return preexec


def _follow(proc: subprocess.Popen[bytes], events: Any, display: _Display,
            result: RunResult) -> None:
    """Consume the callback's events until ansible-playbook exits."""
    buf = ""
    while True:
        chunk = events.read()
        if chunk:
            buf += chunk
            *lines, buf = buf.split("\n")
            for line in lines:
                if line.strip():
                    _consume(json.loads(line), display, result)
        elif proc.poll() is not None:
            break
        else:
            time.sleep(0.05)


def _stop(proc: subprocess.Popen[bytes], timeout: float = 5.0) -> None:
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _write_timings(log: Path, title: str, started_at: str, result: RunResult) -> None:
    """``<log>.tasks.json``: the run's tasks with their duration on each host (also after a
    failure or an interruption: what ran until then)."""
    with contextlib.suppress(OSError):
        atomic_write_json(log.with_suffix(".tasks.json"), {
            "title": title, "started_at": started_at, "seconds": round(result.seconds, 3),
            "returncode": result.returncode, "tasks": result.tasks,
        })


def _consume(ev: dict[str, Any], display: _Display, result: RunResult) -> None:
    display.event(ev)
    if ev.get("event") == "result":
        if isinstance(ev.get("seconds"), int | float):
            result.tasks.append({"host": ev.get("host"), "task": ev.get("task"),
                                 "status": ev.get("status"), "seconds": ev["seconds"]})
        if ev["status"] in ("failed", "unreachable") and not ev.get("ignored"):
            msg = ev.get("msg") or ev.get("stdout") or ""
            result.failures.append(HostFailure(ev["host"], ev["task"], ev["status"], msg))
        if ev.get("changed"):
            result.changed[ev["host"]] = result.changed.get(ev["host"], 0) + 1
    elif ev.get("event") == "facts":
        result.facts.setdefault(ev["host"], {}).update(ev.get("facts") or {})
    elif ev.get("event") == "stats":
        result.stats = ev.get("hosts", {})


def failure_error(result: RunResult, title: str, hint: str | None = None,
                  describe: Describe | None = None) -> EnosError:
    """One error for a failed run: each failed host with its task and Ansible's message (or
    what ``describe`` makes of it), at most 20; without failures, the log's last lines."""
    log = result.log or Path("ansible.log")
    if not result.failures:
        tail = ""
        try:
            tail = "\n".join(log.read_text().splitlines()[-15:])
        except OSError:
            pass
        return EnosError(
            f"{title}: ansible-playbook exited with code {result.returncode}:\n{tail}",
            hint or f"see {log}",
        )
    lines = []
    for f in result.failures[:20]:
        described = describe(f) if describe else None
        if described:
            lines.append("  " + described.replace("\n", "\n  "))
            continue
        what = "unreachable" if f.status == "unreachable" else f"failed at task '{f.task}'"
        msg = " ".join(f.msg.split())[:400]
        lines.append(f"  {f.host}: {what}: {msg}")
    more = len(result.failures) - 20
    if more > 0:
        lines.append(f"  ... and {more} more")
    hosts = sorted({f.host for f in result.failures})
    return EnosError(
        f"{title}: {len(hosts)} host(s) failed ({', '.join(hosts[:10])}):\n" + "\n".join(lines),
        (hint + "; " if hint else "") + f"Ansible's full output is in {log}",
    )
