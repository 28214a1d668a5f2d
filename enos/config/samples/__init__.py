"""Commented sample reservation files of enos's own testbeds (``enos new --provider NAME``).

Each provider gives its sample through :meth:`enos.providers.base.Provider.sample`; enos's own
read theirs from this directory (``<name>.yaml``).
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).parent


def sample_providers() -> list[str]:
    """The providers that have a sample, in the registry's order."""
    from enos import plugins

    return [name for name in plugins.names("provider")
            if plugins.load("provider", name).sample() is not None]


def sample(provider: str | None = None) -> str:
    """The text of the sample reservation.yaml for ``provider`` (default: the default one)."""
    from enos import plugins
    from enos.providers import DEFAULT_PROVIDER

    text = plugins.load("provider", provider or DEFAULT_PROVIDER).sample()
    if text is None:
        raise KeyError(provider)
    return str(text)
