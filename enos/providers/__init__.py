"""The provider registry: one module per testbed.

A provider module defines:

- ``DEFAULT_CONFIG``: the keys of its ``provider:`` section with their defaults; a key whose
  default is ``None`` is required and must be given in reservation.yaml.
- ``LABEL``: what the first level of the basic ``resources`` syntax names on this testbed
  (a cluster, a VM size, a flavor).
- ``validate(config)`` (optional): extra checks on a loaded configuration.
- ``init(config, env, force=False) -> Resources`` and ``destroy(config, env, resources)``: acquire
  and release machines. A provider whose schema exists but whose acquisition is not built yet
  has no ``init``.

Modules are imported only when used, so that ``enos --help`` stays fast.
"""

from __future__ import annotations

import difflib
import importlib
from types import ModuleType

from enos.errors import EnosError

PROVIDERS: dict[str, str] = {
    "local": "enos.providers.local",
    "static": "enos.providers.static",
    "g5k": "enos.providers.g5k",
    "vagrant": "enos.providers.vagrant",
    "vmong5k": "enos.providers.vmong5k",
    "openstack": "enos.providers.openstack",
    "chameleonkvm": "enos.providers.chameleonkvm",
    "chameleonbaremetal": "enos.providers.chameleonbaremetal",
}

DEFAULT_PROVIDER = "local"


def names() -> list[str]:
    return list(PROVIDERS)


def load(name: str) -> ModuleType:
    """The module of provider ``name``; an EnosError naming the known ones otherwise."""
    try:
        path = PROVIDERS[name]
    except KeyError:
        close = difflib.get_close_matches(name, PROVIDERS, n=1)
        hint = f"did you mean '{close[0]}'?" if close else f"known providers: {', '.join(PROVIDERS)}"
        raise EnosError(f"unknown provider '{name}'", hint) from None
    return importlib.import_module(path)


def can_acquire(name: str) -> bool:
    """Whether enos can acquire machines on this testbed (not only validate its schema)."""
    return hasattr(load(name), "init")
