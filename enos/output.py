"""What domain code prints through: a small output object, never the command line itself.

Phases, deployers, providers and services receive an :class:`Output` (the command line's
options implement it) and use it to report progress, warnings and the next step. Tests and
plug-ins can pass :class:`Plain` or their own object with the same attributes.
"""

from __future__ import annotations

import sys
from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class Output(Protocol):
    """Where a phase reports to. ``quiet`` silences everything but errors; ``verbosity`` 0..2
    (2 shows Ansible's own output)."""

    quiet: bool
    verbosity: int

    def say(self, message: str = "", **style: Any) -> None:
        """One line for the user (``fg=``/``bold=`` styles may be ignored)."""

    def next_step(self, message: str) -> None:
        """The last line of a phase: what to do next."""


class Plain:
    """An :class:`Output` that writes plain lines to a stream (default: standard error)."""

    def __init__(self, quiet: bool = False, verbosity: int = 0, stream: Any = None) -> None:
        self.quiet = quiet
        self.verbosity = verbosity
        self.stream = stream

    def say(self, message: str = "", **style: Any) -> None:
        if not self.quiet:
            print(message, file=self.stream or sys.stderr)

    def next_step(self, message: str) -> None:
        self.say(f"next: {message}")
