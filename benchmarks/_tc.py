"""Helpers for the tc benchmarks: a local testbed, enos commands, processes in namespaces."""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

ENOS = shutil.which("enos") or "enos"


def enos(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([ENOS, *args], cwd=cwd, capture_output=True, text=True, check=False,
                          stdin=subprocess.DEVNULL)
    if proc.returncode != 0:
        raise SystemExit(f"enos {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    return proc


@contextlib.contextmanager
def testbed(topology: dict[str, Any], constraints: dict[str, Any]) -> Iterator[Path]:
    """A local experiment brought up with `enos up`; released (`destroy --hard`) after."""
    with tempfile.TemporaryDirectory(prefix="enos-bench-tc-") as tmp:
        cwd = Path(tmp)
        write(cwd, topology, constraints)
        try:
            enos(cwd, "up")
            yield cwd
        finally:
            subprocess.run([ENOS, "destroy", "--hard"], cwd=cwd, capture_output=True,
                           check=False)


def write(cwd: Path, topology: dict[str, Any], constraints: dict[str, Any]) -> None:
    doc: dict[str, Any] = {"provider": {"type": "local"},  # free ranges picked by enos
                           "topology": topology, "network_constraints": constraints}
    old = cwd / "reservation.yaml"
    if old.exists():  # keep the networks the testbed was brought up with
        doc["provider"] = yaml.safe_load(old.read_text())["provider"]
    old.write_text(yaml.safe_dump(doc, sort_keys=False))


def hosts(cwd: Path) -> list[dict[str, Any]]:
    state = json.loads((cwd / "current" / "state.json").read_text())
    return list(state["resources"]["hosts"])


def in_ns(host: dict[str, Any], *argv: str,
          timeout: float = 900) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", "netns", "exec", host["extra"]["netns"], *argv],
                          capture_output=True, text=True, check=False, timeout=timeout)


def delay_line_pids(host: dict[str, Any]) -> list[int]:
    out = []
    pids = subprocess.run(["ip", "netns", "pids", host["extra"]["netns"]], capture_output=True,
                          text=True, check=False).stdout.split()
    for pid in pids:
        try:
            if b"enos_delay.py" in Path(f"/proc/{pid}/cmdline").read_bytes():
                out.append(int(pid))
        except OSError:
            continue
    return out


def cpu_seconds(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / 100  # utime + stime, in ticks
    return total


def group_of(host: dict[str, Any]) -> str:
    return str(host["groups"][0])
