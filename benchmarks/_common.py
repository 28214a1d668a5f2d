"""Helpers for the benchmark scripts: run a command several times, report medians."""

from __future__ import annotations

import statistics
import subprocess
import time
from collections.abc import Callable
from pathlib import Path


def timed(argv: list[str], cwd: Path | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(argv, cwd=cwd, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    return time.perf_counter() - start


def median_of(runs: int, fn: Callable[[], float]) -> tuple[float, list[float]]:
    values = [fn() for _ in range(runs)]
    return statistics.median(values), values


def fmt(values: list[float]) -> str:
    return ", ".join(f"{v:.3f}" for v in values)


def enos_ok(*args: str, cwd: Path, env: dict[str, str] | None = None) -> str:
    """`enos ARGS` in ``cwd``; its output, or the benchmark stops with its last lines."""
    import shutil

    proc = subprocess.run([shutil.which("enos") or "enos", *args], cwd=cwd, capture_output=True,
                          text=True, check=False, env=env, stdin=subprocess.DEVNULL)
    if proc.returncode != 0:
        raise SystemExit(f"enos {' '.join(args)} failed:\n{proc.stdout[-3000:]}\n"
                         f"{proc.stderr[-3000:]}")
    return proc.stdout + proc.stderr


def tree(pid: int) -> list[int]:
    """A process and its descendants."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += children.get(p, [])
    return out


def memory_mib(pids: list[int]) -> tuple[float, float]:
    """(RSS, PSS) in MiB of these processes (those gone are skipped)."""
    rss = pss = 0
    for pid in pids:
        try:
            text = Path(f"/proc/{pid}/smaps_rollup").read_text()
        except OSError:
            continue
        for line in text.splitlines():
            if line.startswith("Rss:"):
                rss += int(line.split()[1])
            elif line.startswith("Pss:"):
                pss += int(line.split()[1])
    return rss / 1024, pss / 1024
