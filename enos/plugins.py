"""Where testbeds, deployers and services are found: Python entry points.

Three groups, one per kind of plug-in; enos's own plug-ins are registered in them the same
way as a third party's (see ``[project.entry-points]`` in pyproject.toml)::

    enos.providers   name -> a Provider subclass   (enos.providers.base)
    enos.deployers   name -> a Deployer subclass   (enos.deployers.base)
    enos.services    name -> a Service subclass    (enos.services.base)

A plug-in is imported only when it is used: listing the names reads the installed packages'
metadata and imports nothing, and ``enos --help`` does not even do that. Two distributions
registering one name in one group is an error when that group is read.
"""

from __future__ import annotations

import functools
from importlib import metadata
from typing import Any

from enos.errors import EnosError, did_you_mean

GROUPS = {
    "provider": "enos.providers",
    "deployer": "enos.deployers",
    "service": "enos.services",
}

# The kind's word in messages, and what a user may do about an unknown name.
_WORDS = {
    "provider": "provider",
    "deployer": "deployer",
    "service": "service",
}


class PluginError(EnosError):
    """A plug-in that cannot be loaded: unknown, registered twice, or broken."""

    exit_code = 2


@functools.cache
def _all_entry_points() -> Any:
    """One scan of the installed distributions' metadata for the three groups (Python 3.11
    returns a SelectableGroups, 3.12 an EntryPoints: both have ``select(group=)``)."""
    return metadata.entry_points()


@functools.cache
def _entry_points(kind: str) -> dict[str, metadata.EntryPoint]:
    group = GROUPS[kind]
    found: dict[str, metadata.EntryPoint] = {}
    owners: dict[str, str] = {}
    for ep in _all_entry_points().select(group=group):
        dist = ep.dist.name if ep.dist is not None else "?"
        if ep.name in found and found[ep.name].value != ep.value:
            raise PluginError(
                f"two packages register the {_WORDS[kind]} '{ep.name}' in the entry point "
                f"group {group}: {owners[ep.name]} ({found[ep.name].value}) and {dist} "
                f"({ep.value})",
                f"uninstall one of them (pip uninstall {dist})",
            )
        found[ep.name] = ep
        owners[ep.name] = dist
    return found


def names(kind: str) -> list[str]:
    """The registered names of a kind, enos's own first (in registration order), then the
    others sorted."""
    eps = _entry_points(kind)
    own = [n for n, ep in eps.items() if ep.value.startswith("enos.")]
    return own + sorted(n for n in eps if n not in own)


def registered(kind: str, name: str) -> bool:
    return name in _entry_points(kind)


@functools.cache
def load(kind: str, name: str) -> Any:
    """An instance of the plug-in ``name`` of ``kind``; a clear error for an unknown one."""
    eps = _entry_points(kind)
    ep = eps.get(name)
    if ep is None:
        known = names(kind)
        raise PluginError(
            f"unknown {_WORDS[kind]} '{name}'",
            did_you_mean(name, known) or f"known {kind}s: {', '.join(known) or 'none'}",
        )
    try:
        cls = ep.load()
    except ImportError as exc:
        dist = ep.dist.name if ep.dist is not None else ep.value
        raise PluginError(
            f"the {_WORDS[kind]} '{name}' cannot be loaded: {exc}",
            f"reinstall {dist}, or install what it needs",
        ) from None
    plugin = cls()
    plugin.name = name
    return plugin


def load_all(kind: str) -> list[Any]:
    """Every plug-in of ``kind``, in :func:`names` order."""
    return [load(kind, name) for name in names(kind)]
