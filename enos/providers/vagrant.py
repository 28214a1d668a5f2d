"""Provider ``vagrant``: Vagrant virtual machines (VirtualBox or libvirt).

Its configuration schema and defaults are those of the reference documentation, so a
reservation.yaml written for it validates. Acquiring machines on this testbed is not built yet
(its class cannot acquire): ``enos up`` says so. The same ``resources`` run on this machine by
changing only ``provider: local``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from enos.errors import did_you_mean
from enos.providers.base import Provider

if TYPE_CHECKING:
    from enos.config.spec import Config


BACKENDS = ("virtualbox", "libvirt")

DEFAULTS: dict[str, Any] = {
    "backend": "virtualbox",
    "box": "generic/debian9",
    "user": "root",
}

# The VM sizes (cpu, memory in MiB), as the original Enos's Vagrant provider defines them.
FLAVOURS = {
    "tiny": (1, 512),
    "small": (1, 1024),
    "medium": (2, 2048),
    "big": (3, 3072),
    "large": (4, 4096),
    "extra-large": (6, 6144),
}


def validate(config: Config) -> None:
    """The backend and the VM sizes must be known ones."""
    backend = config.provider.get("backend")
    if backend not in BACKENDS:
        raise config.error("provider.backend", f"unknown Vagrant backend '{backend}'",
                           f"choose one of: {', '.join(BACKENDS)}")
    advanced = config.provider.get("resources") is not None
    for index, spec in enumerate(config.machines):
        if spec.label is None or spec.label in FLAVOURS:
            continue
        if advanced:
            key = f"provider.resources.machines.{index}"
        else:
            key = ".".join(p for p in ("topology" if spec.group else "resources",
                                       _group_key(config, spec.group), spec.label) if p)
        hint = did_you_mean(spec.label, FLAVOURS) or f"sizes: {', '.join(FLAVOURS)}"
        raise config.error(key, f"unknown VM size '{spec.label}'", hint)


def _group_key(config: Config, group: str | None) -> str | None:
    """The topology key a group comes from (``grp[2-4]`` for grp3)."""
    if group is None:
        return None
    from enos.config import expand_group

    for name in config.raw.get("topology") or {}:
        if isinstance(name, str) and group in expand_group(name):
            return name
    return group


class VagrantProvider(Provider):
    label = "size"
    example_label = "medium"
    defaults: ClassVar[dict[str, Any]] = DEFAULTS
    keys = ("resources", "name_prefix", "config_extra")
    can_acquire = False

    def validate(self, config: Config) -> None:
        validate(config)
