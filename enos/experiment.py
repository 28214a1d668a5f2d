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

from enos.errors import EnosError, LockedError, PhaseError
from enos.model import Resources
from enos.utils.fs import atomic_write_json, flock

CURRENT = "current"
STATE = "state.json"

# The command that produces each phase, for "run this first" messages.
PHASE_COMMAND = {"up": "enos up", "os": "enos os", "init": "enos init"}


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
            if not path.is_dir():
                raise EnosError(
                    f"experiment directory '{env}' does not exist",
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
        with flock(lock, blocking=False) as held:
            if not held:
                holder = ""
                with contextlib.suppress(OSError):
                    holder = (self.path / ".lock.cmd").read_text().strip()
                raise LockedError(
                    f"another enos command ({holder or 'unknown'}) is working on {self.path}",
                    "wait for it to finish, then run this command again",
                )
            (self.path / ".lock.cmd").write_text(f"enos {command} (pid {os.getpid()})\n")
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
            try:
                self._state = json.loads(self.state_path.read_text())
            except FileNotFoundError:
                self._state = {"phases": {}}
            except json.JSONDecodeError as exc:
                raise EnosError(
                    f"{self.state_path} is not valid JSON ({exc})",
                    "restore it from a backup, or start a new experiment with 'enos up "
                    "--force-deploy'",
                ) from None
        return self._state

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
        events.record(self, "phase", phase, event="end", seconds=seconds,
                      **{k: v for k, v in info.items()
                         if k not in ("at", "seconds") and isinstance(v, str | int | float)})

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
