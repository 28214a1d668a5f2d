"""Commented sample reservation files, one per provider (``enos new --provider NAME``)."""

from __future__ import annotations

from pathlib import Path

_HERE = Path(__file__).parent


def sample_providers() -> list[str]:
    """The providers a sample exists for, in the registry's order."""
    from enos.providers import names

    return [name for name in names() if (_HERE / f"{name}.yaml").is_file()]


def sample(provider: str = "local") -> str:
    """The text of the sample reservation.yaml for ``provider``."""
    return (_HERE / f"{provider}.yaml").read_text(encoding="utf-8")
