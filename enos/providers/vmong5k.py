"""Provider ``vmong5k``: virtual machines on Grid'5000 nodes.

Its configuration schema and defaults are those of the reference documentation, so a
reservation.yaml written for it validates. Acquiring machines on this testbed is not built yet
(its class cannot acquire): ``enos up`` says so. The same ``resources`` run on this machine by
changing only ``provider: local``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from enos.errors import did_you_mean
from enos.providers.base import Provider
from enos.providers.g5k import check_walltime

if TYPE_CHECKING:
    from enos.config.checks import Checker
    from enos.config.spec import Config


DEFAULTS: dict[str, Any] = {
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
        if flavour is None or (isinstance(flavour, str) and flavour in FLAVOURS):
            continue
        hint = did_you_mean(str(flavour), FLAVOURS) or f"sizes: {', '.join(FLAVOURS)}"
        raise config.error(f"provider.resources.machines.{index}.flavour",
                           f"unknown VM size '{flavour}'", hint)


class VmonG5kProvider(Provider):
    label = "cluster"
    example_label = "paravance"
    defaults: ClassVar[dict[str, Any]] = DEFAULTS
    keys = ("resources", "image", "working_dir", "gateway")
    can_acquire = False

    def check_section(self, section: dict[str, Any], ck: Checker) -> None:
        check_walltime(section, ck)

    def validate(self, config: Config) -> None:
        validate(config)
