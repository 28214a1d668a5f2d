"""The experiment directory: where every phase reads and writes its state.

The first ``enos up`` creates ``enos_<timestamp>/`` next to reservation.yaml and points the
``current`` link at it; ``-e/--env DIR`` selects another one. Inside:

- ``state.json``: phases done, the merged configuration, the resources (written atomically);
- ``multinode``: the Ansible inventory; ``keys/``: the experiment's SSH key pair (0600);
- ``.lock``: held by the one enos command working on the experiment;
- ``events.jsonl``: the journal of commands, phases, benchmark runs, tc changes
  (:mod:`enos.events`).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from enos.errors import EnosError, LockedError, PhaseError, StateError, UsageError
from enos.model import Resources
from enos.utils.fs import atomic_write, atomic_write_json, flock

CURRENT = "current"
STATE = "state.json"

MAX_STATE_BYTES = 64 * 1024 * 1024

# The command that produces each phase, for "run this first" messages.
PHASE_COMMAND = {"up": "enos up", "os": "enos os", "init": "enos init"}


def env_exists(env: str | os.PathLike[str], directory: bool = False) -> bool:
    """Whether the ``-e/--env`` path exists (is a directory); a path the file system cannot
    even look up (a name too long, a file in the way) is a :class:`UsageError`."""
    try:
        path = Path(env)
        return path.is_dir() if directory else path.exists()
    except OSError as err:
        raise UsageError(
            f"experiment directory '{str(env)[:200]}' cannot be used: {err.strerror}",
            "pass the directory enos up created (see the 'current' link), a new directory for "
            "'enos up', or omit --env",
        ) from None


class Experiment:
    """One experiment directory."""

    def __init__(self, path: Path) -> None:
        self.path = path.resolve()
        self._state: dict[str, Any] | None = None
        self._begun: dict[str, float] = {}  # phases begun and not done: their start

    # -- locating ---------------------------------------------------------------------------
    @classmethod
    def find(cls, env: str | os.PathLike[str] | None, cwd: Path) -> Experiment | None:
        """The experiment named by ``--env``, else the one ``cwd/current`` points to, else None."""
        if env:
            path = Path(env)
            if not env_exists(env, directory=True):
                raise UsageError(
                    f"experiment directory '{str(env)[:200]}' does not exist",
                    "pass the directory enos up created (see the 'current' link), or omit --env",
                )
            return cls(path)
        link = cwd / CURRENT
        if link.is_dir():
            return cls(link)
        return None

    @classmethod
    def require(cls, env: str | os.PathLike[str] | None, cwd: Path, command: str) -> Experiment:
        """Like :meth:`find`, but an experiment must exist."""
        exp = cls.find(env, cwd)
        if exp is None:
            raise PhaseError(
                f"no experiment in {cwd} (no '{CURRENT}' link) for 'enos {command}'",
                "run 'enos up' first, or pass the experiment directory with -e/--env",
            )
        return exp

    @classmethod
    def create(cls, cwd: Path, env: str | os.PathLike[str] | None = None) -> Experiment:
        """A new experiment directory (``env`` or ``cwd/enos_<timestamp>``) and the link to it."""
        if env:
            path = Path(env)
            env_exists(env)  # a name the file system refuses is the user's error
        else:
            stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
            path = cwd / f"enos_{stamp}"
            n = 1
            while path.exists():
                n += 1
                path = cwd / f"enos_{stamp}-{n}"
        path.mkdir(parents=True, exist_ok=True)
        exp = cls(path)
        exp.link_current(cwd)
        return exp

    def link_current(self, cwd: Path) -> None:
        """Point ``cwd/current`` at this experiment (atomically: a new link renamed over it)."""
        link = cwd / CURRENT
        if link.exists() and not link.is_symlink():
            raise EnosError(
                f"{link} exists and is not a link; enos keeps its 'current' link there",
                "move that file away",
            )
        target = os.path.relpath(self.path, cwd)
        tmp = cwd / f".{CURRENT}.{os.getpid()}"
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        tmp.symlink_to(target)
        os.replace(tmp, link)

    # -- locking ----------------------------------------------------------------------------
    @contextlib.contextmanager
    def locked(self, command: str) -> Iterator[None]:
        """Hold the experiment's lock, or fail at once naming the command holding it."""
        lock = self.path / ".lock"
        try:
            handle = flock(lock, blocking=False)
            held = handle.__enter__()
        except OSError as exc:
            raise EnosError(f"cannot take the experiment's lock {lock}: {exc.strerror}",
                            f"{lock} must be a file enos can write; remove what is there "
                            "instead") from None
        with contextlib.ExitStack() as stack:
            stack.push(handle)
            if not held:
                holder = ""
                from enos.utils.fs import UnreadableFile, read_bounded

                with contextlib.suppress(UnreadableFile):
                    holder = read_bounded(self.path / ".lock.cmd", 4096).strip()
                raise LockedError(
                    f"another enos command ({holder or 'unknown'}) is working on {self.path}",
                    "wait for it to finish, then run this command again",
                )
            atomic_write(self.path / ".lock.cmd", f"enos {command} (pid {os.getpid()})\n")
            with self._journaled(command):
                yield

    @contextlib.contextmanager
    def _journaled(self, command: str) -> Iterator[None]:
        """Record the command's start, end or failure (and of the phases it began) in
        ``events.jsonl``."""
        from enos import events

        start = time.monotonic()
        events.record(self, "command", command, event="start", pid=os.getpid())
        try:
            yield
        except BaseException as exc:
            error = getattr(exc, "message", None) or str(exc) or type(exc).__name__
            for phase, began in self._begun.items():
                events.record(self, "phase", phase, event="failure", error=error,
                              seconds=round(time.monotonic() - began, 3))
            self._begun.clear()
            events.record(self, "command", command, event="failure", error=error,
                          seconds=round(time.monotonic() - start, 3))
            raise
        events.record(self, "command", command, event="end",
                      seconds=round(time.monotonic() - start, 3))

    def begin(self, phase: str) -> None:
        """A phase starts (recorded in ``events.jsonl``; :meth:`mark_done` records its end, the
        lock its failure)."""
        from enos import events

        self._begun[phase] = time.monotonic()
        events.record(self, "phase", phase, event="start")

    # -- state ------------------------------------------------------------------------------
    @property
    def state_path(self) -> Path:
        return self.path / STATE

    @property
    def state(self) -> dict[str, Any]:
        if self._state is None:
            self._state = self._read_state()
        return self._state

    def _read_state(self) -> dict[str, Any]:
        """The state file, checked: a :class:`StateError` naming what is damaged."""
        from enos.utils.fs import UnreadableFile, read_bounded

        try:
            text = read_bounded(self.state_path, MAX_STATE_BYTES, what="state file")
        except UnreadableFile as exc:
            if exc.message == "no such file" and not self.state_path.is_symlink():
                return {"phases": {}}
            raise StateError(self.state_path, exc.message) from None
        try:
            data = json.loads(text)
        except ValueError as exc:  # JSONDecodeError, or a number of too many digits
            raise StateError(self.state_path, f"not valid JSON ({exc})") from None
        except RecursionError:
            raise StateError(self.state_path, "nested too deeply to be a state file") from None
        problem = state_problem(data)
        if problem:
            raise StateError(self.state_path, problem)
        return data

    def set_aside_state(self) -> Path:
        """Move a damaged state file aside (``state.json.damaged``) and start from an empty
        state; returns where the damaged file went."""
        aside = self.state_path.with_name(STATE + ".damaged")
        with contextlib.suppress(FileNotFoundError):
            os.replace(self.state_path, aside)
        self._state = {"phases": {}}
        return aside

    def save(self) -> None:
        atomic_write_json(self.state_path, self.state)

    def update(self, **values: Any) -> None:
        """Set top-level state keys and save at once."""
        self.state.update(values)
        self.save()

    def phase_done(self, phase: str) -> bool:
        return phase in self.state.get("phases", {})

    def mark_done(self, phase: str, **info: Any) -> None:
        from enos import events

        info["at"] = _dt.datetime.now().isoformat(timespec="seconds")
        self.state.setdefault("phases", {})[phase] = info
        self.save()
        began = self._begun.pop(phase, None)
        seconds = info.get("seconds")
        if began is not None and not isinstance(seconds, int | float):
            seconds = round(time.monotonic() - began, 3)
        extra: dict[str, Any] = {k: v for k, v in info.items()
                                 if k not in ("at", "seconds")
                                 and isinstance(v, str | int | float)}
        events.record(self, "phase", phase, event="end", seconds=seconds, **extra)

    def forget(self, *phases: str) -> None:
        for phase in phases:
            self.state.get("phases", {}).pop(phase, None)
        self.save()

    def need(self, phase: str, command: str) -> None:
        """Fail with the command to run first unless ``phase`` is done."""
        if not self.phase_done(phase):
            raise PhaseError(
                f"'enos {command}' needs the '{phase}' phase, which this experiment "
                f"({self.path.name}) has not done",
                f"run '{PHASE_COMMAND.get(phase, 'enos ' + phase)}' first",
            )

    @property
    def resources(self) -> Resources | None:
        data = self.state.get("resources")
        return Resources.from_dict(data) if data else None

    def set_resources(self, resources: Resources | None) -> None:
        if resources is None:
            self.state.pop("resources", None)
        else:
            self.state["resources"] = resources.to_dict()
        self.save()

    # -- well-known paths -------------------------------------------------------------------
    @property
    def inventory_path(self) -> Path:
        return self.path / "multinode"

    @property
    def keys_dir(self) -> Path:
        return self.path / "keys"


# -- checking a state file read back ------------------------------------------------------------
_HOST_TYPES: dict[str, tuple[type, ...]] = {
    "alias": (str,), "address": (str,), "user": (str,), "keyfile": (str, type(None)),
    "port": (int,), "roles": (list,), "groups": (list,), "interfaces": (dict,),
    "addresses": (dict,), "extra": (dict,),
}
_NETWORK_TYPES: dict[str, tuple[type, ...]] = {
    "roles": (list,), "cidr": (str,), "gateway": (str, type(None)), "dns": (str, list, type(None)),
    "start": (str, type(None)), "end": (str, type(None)), "extra_ips": (list,), "extra": (dict,),
}


MAX_STATE_DEPTH = 100


def _depth(data: Any) -> int:
    """How deep mappings and lists nest in ``data`` (iteratively: no recursion)."""
    deepest = 0
    stack = [(data, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = list(item.values())
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth)
        if deepest > MAX_STATE_DEPTH:
            break
        stack.extend((child, depth + 1) for child in children)
    return deepest


def _fields(item: Any, where: str, types: dict[str, tuple[type, ...]],
            required: tuple[str, ...]) -> str | None:
    if not isinstance(item, dict):
        return f"{where} is not a mapping"
    for name in required:
        if name not in item:
            return f"{where} has no '{name}'"
    for name, value in item.items():
        if name not in types:
            return f"{where} has an unknown key '{name}'"
        if not isinstance(value, types[name]) or isinstance(value, bool):
            return f"{where}.{name} has the wrong type ({type(value).__name__})"
    return None


def state_problem(data: Any) -> str | None:  # noqa: C901 - one check per key commands read
    """What is wrong with the content of a state file, or None when its shape is right.

    Checks what the commands read: the top level, ``phases``, ``resources`` (hosts, networks
    with valid addresses). Other keys are a phase's own business.
    """
    import ipaddress

    if not isinstance(data, dict):
        return "the top level is not a mapping"
    if _depth(data) > MAX_STATE_DEPTH:
        return f"it nests more than {MAX_STATE_DEPTH} levels deep"
    phases = data.get("phases", {})
    if not isinstance(phases, dict):
        return "'phases' is not a mapping"
    for name, info in phases.items():
        if not isinstance(info, dict):
            return f"phases.{name} is not a mapping"
    for key in ("config_file", "provider"):
        if data.get(key) is not None and not isinstance(data[key], str):
            return f"'{key}' is not a string"
    if data.get("config") is not None and not isinstance(data["config"], dict):
        return "'config' is not a mapping"
    rsc = data.get("resources")
    if rsc is None:
        return None
    if not isinstance(rsc, dict):
        return "'resources' is not a mapping"
    if not isinstance(rsc.get("hosts", []), list) or not isinstance(rsc.get("networks", []), list):
        return "resources.hosts or resources.networks is not a list"
    if not isinstance(rsc.get("provider_state", {}), dict):
        return "resources.provider_state is not a mapping"
    for i, host in enumerate(rsc.get("hosts", [])):
        problem = _fields(host, f"resources.hosts.{i}", _HOST_TYPES, ("alias", "address"))
        if problem:
            return problem
        for name in ("roles", "groups"):
            if not all(isinstance(v, str) for v in host.get(name, [])):
                return f"resources.hosts.{i}.{name} holds something else than names"
        for name in ("interfaces", "addresses"):
            if not all(isinstance(v, str) for v in host.get(name, {}).values()):
                return f"resources.hosts.{i}.{name} holds something else than names"
    for i, net in enumerate(rsc.get("networks", [])):
        where = f"resources.networks.{i}"
        problem = _fields(net, where, _NETWORK_TYPES, ("roles", "cidr"))
        if problem:
            return problem
        dns = net.get("dns")
        for name, values in (("roles", net["roles"]), ("extra_ips", net.get("extra_ips", [])),
                             ("dns", dns if isinstance(dns, list) else [])):
            if not all(isinstance(v, str) for v in values):
                return f"{where}.{name} holds something else than names or addresses"
        try:
            ipaddress.ip_network(net["cidr"], strict=False)
            for name in ("gateway", "start", "end"):
                if net.get(name) is not None:
                    ipaddress.ip_address(net[name])
            for ip in net.get("extra_ips", []):
                ipaddress.ip_address(ip)
        except (ValueError, TypeError) as exc:
            return f"{where}: {exc}"
    try:
        Resources.from_dict(rsc)
    except (TypeError, ValueError, KeyError) as exc:
        return f"resources cannot be read back: {exc}"
    return None
