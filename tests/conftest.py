"""Shared helpers: run the real `enos` command, and bring up local testbeds that clean up."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

ENOS = shutil.which("enos") or "enos"

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="the local testbed needs root")

_next_net = [0]


def run_enos(*args: str, cwd: Path, check: bool = True, timeout: float = 600,
             env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the installed `enos` command; with ``check``, fail the test on a non-zero exit."""
    proc = subprocess.run([ENOS, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, check=False, env=env, stdin=subprocess.DEVNULL)
    if check and proc.returncode != 0:
        pytest.fail(f"enos {' '.join(args)} exited {proc.returncode}\n"
                    f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}")
    return proc


def unique_networks() -> list[dict[str, Any]]:
    """Two /24 ranges no other test of this run uses (tests may run beside other testbeds)."""
    _next_net[0] += 1
    n = (os.getpid() * 7 + _next_net[0] * 2) % 250
    return [
        {"roles": ["network_interface"], "cidr": f"172.31.{n}.0/24"},
        {"roles": ["neutron_external_interface"], "cidr": f"172.31.{n + 1}.0/24"},
    ]


def netns_names() -> set[str]:
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True,
                         check=False).stdout
    return {line.split()[0] for line in out.splitlines() if line.strip()}


def link_names() -> set[str]:
    out = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True,
                         check=False).stdout
    return {line.split(":")[1].strip().split("@")[0] for line in out.splitlines()}


class Testbed:
    """A local experiment brought up by `enos up` in its own directory."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def enos(self, *args: str, check: bool = True, **kw: Any) -> subprocess.CompletedProcess[str]:
        return run_enos(*args, cwd=self.path, check=check, **kw)

    def info(self) -> dict[str, Any]:
        return json.loads(self.enos("info", "--out", "json").stdout)


@pytest.fixture
def local_testbed(tmp_path: Path) -> Iterator[Callable[..., Testbed]]:
    """Factory: write a local reservation.yaml from the given sections, run `enos up`.

    Every testbed made is destroyed (`enos destroy --hard`) at the end, and the test fails if
    a namespace, bridge or veth of it is left.
    """
    made: list[tuple[Testbed, str]] = []

    def make(up: bool = True, **sections: Any) -> Testbed:
        path = tmp_path / f"xp{len(made)}"
        path.mkdir()
        provider = {"type": "local", "networks": unique_networks()}
        provider.update(sections.pop("provider", {}))
        doc = {"provider": provider, **sections}
        (path / "reservation.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
        bed = Testbed(path)
        made.append((bed, ""))
        if up:
            bed.enos("up")
        return bed

    yield make
    for bed, _ in made:
        if (bed.path / "current" / "state.json").exists():
            state = json.loads((bed.path / "current" / "state.json").read_text())
            eid = (state.get("resources") or {}).get("provider_state", {}).get("id")
            run_enos("destroy", "--hard", cwd=bed.path, check=False)
            if eid:
                assert not [n for n in netns_names() if n.startswith(f"enos-{eid}-")]
                assert not [n for n in link_names() if eid in n]
