"""The machine-wide cache of enos: virtualenvs and files shared by experiments.

Virtualenvs are named after a hash of what they are made of (a constraints file and a package
list), so a change of pins makes a new one and an unchanged one is reused.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from enos.errors import EnosError

# Builds one pinned virtualenv under a lock; also shipped to hosts by the native deployer.
ENSURE_VENV = Path(__file__).parent / "files" / "ensure-venv.sh"
COMPLETE = ".enos-complete"


def cache_dir() -> Path:
    """``$ENOS_CACHE_DIR``, default ``/var/cache/enos``."""
    return Path(os.environ.get("ENOS_CACHE_DIR", "/var/cache/enos"))


def release_id(constraints: Path, packages: Iterable[str]) -> str:
    """A short hash of a constraints file and a package list."""
    sha = hashlib.sha256(constraints.read_bytes())
    sha.update("\n".join(packages).encode())
    return sha.hexdigest()[:12]


def venv_ready(venv: Path) -> bool:
    return (venv / COMPLETE).exists()


def ensure_venv(venv: Path, constraints: Path, packages: Iterable[str], *, what: str,
                say: Callable[[str], None] = lambda _m: None) -> Path:
    """The virtualenv ``venv`` of ``packages`` pinned by ``constraints``, built first if needed
    (one builder at a time, the others wait); its output goes to ``<venv>.install.log``."""
    if venv_ready(venv):
        return venv
    venv.parent.mkdir(parents=True, exist_ok=True)
    log = venv.parent / f"{venv.name}.install.log"
    say(f"installing {what} in {venv}: once per machine")
    start = time.monotonic()
    with open(log, "w") as out:
        proc = subprocess.run(["sh", str(ENSURE_VENV), str(venv), str(constraints), *packages],
                              stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                              check=False)
    if proc.returncode != 0:
        lines = [ln for ln in log.read_text(errors="replace").splitlines()
                 if "WARNING: Location" not in ln]
        raise EnosError(f"installing {what} failed (exit code {proc.returncode}):\n"
                        + "\n".join(lines[-12:]),
                        f"see {log}; check that PyPI is reachable, then run the command again")
    say(f"{what} installed in {time.monotonic() - start:.0f}s")
    return venv
