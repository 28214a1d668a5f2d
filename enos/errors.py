"""Errors a user can act on.

Every expected failure (bad configuration, unreachable host, phase run out of order) raises an
:class:`EnosError`. The command line prints its message and hint and exits non-zero, without a
traceback. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

from collections.abc import Iterable


class EnosError(Exception):
    """An error the user can fix: ``message`` says what is wrong, ``hint`` what to do."""

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message}\n  hint: {self.hint}"
        return self.message


class ConfigError(EnosError):
    """The configuration file is malformed or asks for something impossible.

    ``source`` is the file, ``line`` the 1-based line when known, ``key`` the dotted key path.
    """

    exit_code = 2

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        line: int | None = None,
        key: str | None = None,
        hint: str | None = None,
    ) -> None:
        where = ""
        if source:
            where = source + (f":{line}" if line else "")
        if key:
            where = f"{where} [{key}]" if where else f"[{key}]"
        super().__init__(f"{where}: {message}" if where else message, hint)
        self.source = source
        self.line = line
        self.key = key


class UsageError(EnosError):
    """A command line asks for something impossible (an unknown name, a path that cannot be)."""

    exit_code = 2


class PhaseError(EnosError):
    """A phase was run before the phase it needs."""


class LockedError(EnosError):
    """Another enos command works on the same experiment."""


class NotBuiltError(EnosError):
    """A plug-in declares a capability (a testbed's ``init``, a deployer's ``deploy``...) that
    this version does not implement. Exit code 2: the configuration asks for it."""

    exit_code = 2


def close_match(word: str, candidates: Iterable[str], cutoff: float = 0.6) -> str | None:
    """The candidate ``word`` is most likely a typo of, if any."""
    import difflib

    found = difflib.get_close_matches(word, list(candidates), n=1, cutoff=cutoff)
    return found[0] if found else None


def did_you_mean(word: str, candidates: Iterable[str], cutoff: float = 0.6) -> str | None:
    """``did you mean 'X'?`` for the closest candidate, or None."""
    close = close_match(word, candidates, cutoff)
    return f"did you mean '{close}'?" if close else None


class StateError(EnosError):
    """The experiment's state file is damaged (edited by hand, disk full, an old format)."""

    exit_code = 2

    def __init__(self, path: object, problem: str) -> None:
        super().__init__(
            f"the experiment's state file {path} is damaged: {problem}",
            "restore it from a backup (enos backup keeps a copy) or fix it by hand; or start "
            "over: 'enos destroy --hard' moves it aside (state.json.damaged) and releases the "
            "machines, then 'enos up' makes new ones",
        )
        self.path = path
        self.problem = problem
