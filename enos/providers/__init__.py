"""Testbed providers: one module (or package) per testbed, one :class:`Provider` subclass each.

The contract is :mod:`enos.providers.base`; providers are found through the entry point group
``enos.providers`` (:mod:`enos.plugins`), enos's own ones included, and imported only when used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from enos import plugins

if TYPE_CHECKING:
    from enos.providers.base import Provider

DEFAULT_PROVIDER = "local"


def names() -> list[str]:
    return plugins.names("provider")


def load(name: str) -> Provider:
    """The provider ``name``; an error naming the known ones otherwise."""
    provider: Provider = plugins.load("provider", name)
    return provider
