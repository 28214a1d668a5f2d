"""Benchmarks as a service: the ``bench`` phase and the archives of its runs.

``enos bench`` runs the workload (Rally, and Shaker where instances are real); everything it
writes is under ``<experiment>/bench/``, which this service archives itself: Rally's database,
configuration and run directories in ``rally.tar.gz``, Shaker's runs in ``shaker.tar.gz``.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from enos.services.base import Service

if TYPE_CHECKING:
    from enos.backup.archive import ArchiveSpec
    from enos.experiment import Experiment

RALLY_FILES = ("rally.db", "rally.conf", "rally-env.json")


def _run_type(run_dir: Path) -> str:
    with contextlib.suppress(OSError, ValueError, AttributeError):
        return str(json.loads((run_dir / "run.json").read_text()).get("type") or "rally")
    return "rally"


class BenchService(Service):
    phase = "bench"
    dirs = ("bench",)

    def backup(self, exp: Experiment, with_secrets: bool) -> list[ArchiveSpec]:
        from enos.backup import archive
        from enos.backup.archive import ArchiveSpec, Member

        bench = exp.path / "bench"
        rally = ArchiveSpec("rally.tar.gz", "rally")
        shaker = ArchiveSpec("shaker.tar.gz", "shaker")
        if not bench.is_dir():
            return []
        for name in RALLY_FILES:
            path = bench / name
            if path.is_file():
                rally.members.append(Member(f"bench/{name}", path,
                                            archive.mode_for(path, name, with_secrets)))
        rally.members += archive.tree(bench / "sessions", "bench/sessions",
                                      with_secrets=with_secrets)
        for run_dir in sorted(p for p in bench.iterdir() if p.is_dir() and p.name != "sessions"):
            members = archive.tree(run_dir, f"bench/{run_dir.name}", with_secrets=with_secrets)
            (shaker if _run_type(run_dir) == "shaker" else rally).members += members
        return [rally, shaker]

    def info(self, exp: Experiment) -> dict[str, Any] | None:
        phase = exp.state.get("phases", {}).get("bench")
        if not phase:
            return None
        return {k: phase.get(k) for k in ("session", "workload", "at") if k in phase}
