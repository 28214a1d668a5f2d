"""The machine-wide cache of enos: virtualenvs and files shared by experiments.

Virtualenvs are named after a hash of what they are made of (a constraints file and a package
list), so a change of pins makes a new one and an unchanged one is reused.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from pathlib import Path


def cache_dir() -> Path:
    """``$ENOS_CACHE_DIR``, default ``/var/cache/enos``."""
    return Path(os.environ.get("ENOS_CACHE_DIR", "/var/cache/enos"))


def release_id(constraints: Path, packages: Iterable[str]) -> str:
    """A short hash of a constraints file and a package list."""
    sha = hashlib.sha256(constraints.read_bytes())
    sha.update("\n".join(packages).encode())
    return sha.hexdigest()[:12]
