"""Shaker: data-plane benchmarks, which need instances that really run and exchange traffic.

A Shaker scenario (``file`` is the alias of a scenario Shaker ships, such as
``openstack/dense_l3_east_west``) boots VMs from Shaker's image and measures traffic between
them. Whether that can work depends on the deployment:

- a deployer whose servers are not real instances (``Deployer.real_instances`` is false, as
  for the native deployer's fake virt driver) has nothing to measure; Shaker scenarios are
  skipped with that reason, up front;
- a deployment with real hypervisors can run Shaker; a runner for a deployer registers in
  :data:`RUNNERS` (deployer name -> factory), and ``enos bench`` uses it for the Shaker runs.
  None is registered in this version, so these runs are skipped, saying so.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from enos.bench.results import RunOutcome
from enos.bench.workload import Run


class ShakerRunner(Protocol):
    """What a deployer-specific Shaker runner provides."""

    def prepare(self) -> None:
        """Install Shaker, build its image, check the cloud: once before the runs."""

    def run(self, run: Run, run_dir: Path, run_id: str) -> RunOutcome:
        """Run one scenario; keep its report and results in ``run_dir``."""


# deployer name -> factory(expdir, state) of a runner.
RUNNERS: dict[str, Callable[[Path, dict[str, Any]], ShakerRunner]] = {}


def deployer_type(expdir: Path, state: dict[str, Any]) -> str:
    """The deployer of the experiment: what the deployment recorded, else its configuration."""
    try:
        recorded = json.loads((expdir / "cloud.json").read_text()).get("deployer")
    except (OSError, ValueError, AttributeError):
        recorded = None
    if recorded:
        return str(recorded)
    recorded = ((state.get("phases") or {}).get("os") or {}).get("deployer")
    if recorded:
        return str(recorded)
    section = (state.get("config") or {}).get("deployer")
    if isinstance(section, str):
        return section
    if isinstance(section, dict) and section.get("type"):
        return str(section["type"])
    return "unknown"


def skip_reason(deployer: str) -> str | None:
    """Why Shaker scenarios cannot run on this deployment, or None if they can."""
    from enos import plugins

    if plugins.registered("deployer", deployer) and \
            not plugins.load("deployer", deployer).real_instances:
        return (f"the '{deployer}' deployer runs Nova with the fake virt driver: no instance "
                "really boots, so there is no data plane for Shaker to measure")
    if deployer not in RUNNERS:
        return (f"running Shaker on a '{deployer}' deployment is not built in this version "
                "of enos")
    return None


def runner(deployer: str, expdir: Path, state: dict[str, Any]) -> ShakerRunner:
    return RUNNERS[deployer](expdir, state)
