"""What ``enos destroy`` stops, phase by phase.

Each later phase that leaves something running on the hosts registers here a function
``stop(experiment, options) -> list[str]`` (what it stopped). They run in reverse phase order,
for every phase that is done or was started (a phase interrupted half-way left things running
too: it records ``<key>`` of ``STARTED`` in the state before it starts anything).
"""

from __future__ import annotations

import importlib
from typing import Any

# phase -> "module:function", in phase order.
STOPPERS: dict[str, str] = {
    "os": "enos.deployers:stop",
    "tc": "enos.netem.apply:stop",
}

# phase -> the state key that says the phase started something.
STARTED: dict[str, str] = {
    "os": "deployer_started",
}


def run(exp: Any, opts: Any) -> list[str]:
    stopped: list[str] = []
    for phase, target in reversed(list(STOPPERS.items())):
        started = phase in STARTED and exp.state.get(STARTED[phase])
        if not exp.phase_done(phase) and not started:
            continue
        module, _, func = target.partition(":")
        stopped += getattr(importlib.import_module(module), func)(exp, opts)
    return stopped
