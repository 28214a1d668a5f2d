"""What ``enos destroy`` stops, phase by phase.

Each later phase that leaves something running on the hosts registers here a function
``stop(experiment, options) -> list[str]`` (what it stopped). They run in reverse phase order.
"""

from __future__ import annotations

import importlib
from typing import Any

# phase -> "module:function", in phase order.
STOPPERS: dict[str, str] = {
    "tc": "enos.netem.apply:stop",
}


def run(exp: Any, opts: Any) -> list[str]:
    stopped: list[str] = []
    for phase, target in reversed(list(STOPPERS.items())):
        if not exp.phase_done(phase):
            continue
        module, _, func = target.partition(":")
        stopped += getattr(importlib.import_module(module), func)(exp, opts)
    return stopped
