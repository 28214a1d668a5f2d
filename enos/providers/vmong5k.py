"""Provider ``vmong5k``: virtual machines on Grid'5000 nodes.

Its configuration schema and defaults are those of the reference documentation, so a
reservation.yaml written for it validates. Acquiring machines on this testbed is not built yet
(the module has no ``init``): ``enos up`` says so. The same ``resources`` run on this machine by
changing only ``provider: local``.
"""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from enos.config.spec import Config

LABEL = "cluster"
EXAMPLE_LABEL = "paravance"

# Keys understood besides DEFAULT_CONFIG (``resources`` is the advanced syntax).
KEYS = ("resources", "image", "working_dir", "gateway")

DEFAULT_CONFIG = {
    "job_name": "enos-vmong5k",
    "walltime": "02:00:00",
}

DEFAULT_FLAVOUR_BY_ROLE = {
    "control": "extra-large",
    "network": "large",
    "compute": "medium",
}


def validate(config: Config) -> None:
    """The VM sizes (``flavour`` of the advanced syntax) must be known ones."""
    from enos.providers.vagrant import FLAVOURS

    for index, spec in enumerate(config.machines):
        flavour = spec.extra.get("flavour", spec.extra.get("flavor"))
        if flavour is None or flavour in FLAVOURS:
            continue
        close = difflib.get_close_matches(str(flavour), list(FLAVOURS), n=1)
        hint = f"did you mean '{close[0]}'?" if close else f"sizes: {', '.join(FLAVOURS)}"
        raise config.error(f"provider.resources.machines.{index}.flavour",
                           f"unknown VM size '{flavour}'", hint)
