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
from typing import Any

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


# -- what the cache holds, who used it, pruning (enos cache) ----------------------------------
USED = ".used"  # <cache>/.used/<entry>/<digest of an experiment's path>.json


def mark_used(entry: Path, experiment: Path) -> None:
    """Record that ``experiment`` uses the cache entry ``entry`` (a virtualenv, ``images``):
    one small file per experiment and entry, written atomically (never fails the caller)."""
    import contextlib
    import datetime as _dt
    import json

    from enos.utils.fs import atomic_write

    path = Path(experiment).resolve()
    digest = hashlib.sha256(str(path).encode()).hexdigest()[:16]
    record = cache_dir() / USED / entry.name / f"{digest}.json"
    with contextlib.suppress(OSError):
        record.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(record, json.dumps({"experiment": str(path), "at": _dt.datetime.now(
            _dt.UTC).astimezone().isoformat(timespec="seconds")}) + "\n")


def _size(path: Path) -> int:
    """Bytes of the files (and links) under ``path``."""
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                continue
    return total


def _users(name: str) -> list[dict[str, str]]:
    import contextlib
    import json

    out = []
    for record in sorted((cache_dir() / USED / name).glob("*.json")):
        with contextlib.suppress(OSError, ValueError):
            data = json.loads(record.read_text())
            if isinstance(data, dict) and data.get("experiment"):
                out.append({"experiment": str(data["experiment"]), "at": str(data.get("at")),
                            "record": str(record)})
    return sorted(out, key=lambda u: u["at"], reverse=True)


def entries() -> list[dict[str, Any]]:
    """Each entry of the cache: name, kind, path, bytes, whether it is complete, and the
    experiments that used it (``alive``: those whose directory still exists)."""
    root = cache_dir()
    out: list[dict[str, Any]] = []
    if not root.is_dir():
        return out
    for path in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        kind = path.name.split("-", 1)[0] if "-" in path.name else path.name
        users = _users(path.name)
        alive = [u for u in users if (Path(u["experiment"]) / "state.json").is_file()]
        out.append({
            "name": path.name, "kind": kind, "path": str(path), "bytes": _size(path),
            "complete": venv_ready(path) if kind in ("openstack", "rally") else True,
            "last_used": users[0]["at"] if users else None,
            "experiments": [u["experiment"] for u in alive],
            "gone": [u["experiment"] for u in users if u not in alive],
        })
    return out


def prune(everything: bool = False, dry_run: bool = False) -> list[dict[str, Any]]:
    """Remove the entries no existing experiment uses (``everything``: all of them), each
    under its build lock (an entry being built or checked is skipped). Returns what was (or,
    with ``dry_run``, would be) removed."""
    import contextlib
    import shutil

    from enos.utils.fs import flock

    removed = []
    for entry in entries():
        if entry["experiments"] and not everything:
            continue
        path = Path(str(entry["path"]))
        if dry_run:
            removed.append(entry)
            continue
        with flock(path.parent / f"{path.name}.lock", blocking=False) as held:
            if not held:
                continue
            # The completion mark goes first: a half-removed virtualenv is never reused.
            with contextlib.suppress(FileNotFoundError):
                (path / COMPLETE).unlink()
            shutil.rmtree(path, ignore_errors=True)
            for extra in (path.parent / f"{path.name}.install.log",):
                extra.unlink(missing_ok=True)
            shutil.rmtree(cache_dir() / USED / path.name, ignore_errors=True)
        removed.append(entry)
    return removed
