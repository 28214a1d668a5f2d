"""A sample workload directory (run.yml and the Rally scenario it names), for `enos new`."""

from __future__ import annotations

from pathlib import Path

WORKLOAD = Path(__file__).parent / "workload"


def workload_files() -> list[Path]:
    """The files of the sample workload directory (run.yml first)."""
    files = sorted(p for p in WORKLOAD.iterdir() if p.suffix in (".yml", ".yaml"))
    return sorted(files, key=lambda p: p.name != "run.yml")
