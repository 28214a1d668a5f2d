"""Running a campaign: each point, doing again only what its change needs, then its bench runs.

The campaign's progress is ``campaign/<name>/campaign.json`` (written atomically after each
step)::

    {"name", "file", "points": {"<n>": {"params", "runs": [{"repeat", "experiment",
     "session", "at"}]}}, "deployment": {"experiment", "up", "os", "tc"}}

``deployment`` is the cloud that runs now and the fingerprints of what it was made with
(:func:`enos.campaign.spec.keys_of`): a point whose machines differ gets a new experiment (the
previous one is destroyed first), one whose deployment differs gets ``enos os`` and ``enos
init`` again, one whose network emulation differs gets ``enos tc`` (or ``--reset``). Each step
is the real ``enos`` command, run on the point's reservation.yaml. A run is recorded once its
bench ended: a rerun after an interruption (even SIGKILL) starts at the first run not recorded,
and the enos commands it runs again are idempotent.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from enos.ansible.runner import death_signal
from enos.campaign.spec import Campaign, Point, keys_of
from enos.errors import EnosError
from enos.utils.fs import atomic_write, atomic_write_json, flock

STATE = "campaign.json"


def state_of(campaign: Campaign) -> dict[str, Any]:
    path = campaign.directory / STATE
    with contextlib.suppress(OSError, ValueError):
        data = json.loads(path.read_text())
        if isinstance(data, dict) and isinstance(data.get("points"), dict):
            return data
    return {"name": campaign.name, "file": str(campaign.file), "points": {},
            "deployment": None}


def runs_done(state: dict[str, Any], point: Point) -> list[dict[str, Any]]:
    entry = state["points"].get(str(point.index)) or {}
    return [r for r in entry.get("runs") or [] if isinstance(r, dict)]


class Runner:
    def __init__(self, campaign: Campaign, say: Callable[..., None],
                 verbosity: int = 0, quiet: bool = False) -> None:
        self.campaign = campaign
        self.say = say
        self.verbosity = verbosity
        self.quiet = quiet
        self.state = state_of(campaign)

    def save(self) -> None:
        atomic_write_json(self.campaign.directory / STATE, self.state)

    # -- the enos commands ----------------------------------------------------------------------
    def enos(self, *args: str, what: str, point: Point) -> None:
        # Each command shows its own progress (the bench: iterations, failures, time left).
        flags = ["-q"] if self.quiet else ["-" + "v" * self.verbosity] if self.verbosity else []
        argv = [sys.executable, "-m", "enos", *flags, *args]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        begin = time.monotonic()
        # The command must not outlive the campaign (killed, it would hold the experiment).
        proc = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, check=False,
                              preexec_fn=death_signal())  # noqa: PLW1509 (prctl only)
        if proc.returncode != 0:
            raise EnosError(
                f"point {point.index} ({point.label()}): '{what}' failed (exit code "
                f"{proc.returncode}), see its output above",
                f"fix the cause, then run 'enos campaign run {self.campaign.file.name}' again: "
                "it goes on from this point")
        self.say(f"  {what}: done in {time.monotonic() - begin:.0f}s")

    # -- one point ------------------------------------------------------------------------------
    def prepare(self, point: Point) -> tuple[Path, Path]:
        """The point's reservation.yaml and workload directory, written (atomically)."""
        directory = self.campaign.point_dir(point)
        directory.mkdir(parents=True, exist_ok=True)
        reservation = directory / "reservation.yaml"
        text = yaml.safe_dump(point.reservation, sort_keys=False)
        if not reservation.is_file() or reservation.read_text() != text:
            atomic_write(reservation, text)
        workload = directory / "workload"
        if not workload.is_dir():
            scratch = directory / f".workload-{os.getpid()}"
            shutil.rmtree(scratch, ignore_errors=True)
            shutil.copytree(self.campaign.workload, scratch, symlinks=False)
            os.replace(scratch, workload)
        run = workload / "run.yml"
        run_text = yaml.safe_dump(point.run, sort_keys=False)
        if not run.is_file() or run.read_text() != run_text:
            atomic_write(run, run_text)
        return reservation, workload

    def converge(self, point: Point, reservation: Path) -> Path:
        """Make the cloud the point needs run; its experiment directory."""
        keys = keys_of(point.reservation)
        current = self.state.get("deployment") or {}
        experiment = Path(current["experiment"]) if current.get("experiment") else None
        conf = ["-f", str(reservation)]
        if experiment is None or current.get("up") != keys["up"] \
                or not (experiment / "state.json").is_file():
            if experiment is not None and (experiment / "state.json").is_file():
                self.enos("-e", str(experiment), "destroy", "--hard",
                          what="destroy the previous experiment (other machines)", point=point)
            self.state["deployment"] = None
            self.save()
            self.enos(*conf, "deploy", what="deploy (up, os, init)", point=point)
            experiment = (reservation.parent / "current").resolve()
            self.state["deployment"] = {"experiment": str(experiment), "up": keys["up"],
                                        "os": keys["os"], "tc": None}
            self.save()
        elif current.get("os") != keys["os"]:
            self.enos(*conf, "-e", str(experiment), "os", what="os (the deployment changed)",
                      point=point)
            self.enos(*conf, "-e", str(experiment), "init", what="init", point=point)
            self.state["deployment"] = {**current, "os": keys["os"]}
            self.save()
        current = self.state["deployment"]
        if current.get("tc") != keys["tc"]:
            constraints = point.reservation.get("network_constraints")
            enabled = isinstance(constraints, dict) and constraints.get("enable") not in (
                False, "false", "no", "False", "No")
            if constraints and enabled:
                self.enos(*conf, "-e", str(experiment), "tc", what="tc", point=point)
            elif current.get("tc") is not None:
                self.enos(*conf, "-e", str(experiment), "tc", "--reset", what="tc --reset",
                          point=point)
            self.state["deployment"] = {**current, "tc": keys["tc"]}
            self.save()
        return experiment

    def bench(self, point: Point, reservation: Path, workload: Path, experiment: Path,
              repeat: int) -> None:
        self.enos("-f", str(reservation), "-e", str(experiment), "bench", "--workload",
                  str(workload), what=f"bench, run {repeat}/{self.campaign.repeat}",
                  point=point)
        latest = (experiment / "bench" / "latest").read_text().strip()
        entry = self.state["points"].setdefault(str(point.index),
                                                {"params": point.params, "runs": []})
        entry["params"] = point.params
        entry["runs"].append({"repeat": repeat, "experiment": str(experiment),
                              "session": latest,
                              "at": time.strftime("%Y-%m-%dT%H:%M:%S%z")})
        self.save()

    # -- the whole campaign -------------------------------------------------------------------
    def run(self) -> None:
        campaign = self.campaign
        campaign.directory.mkdir(parents=True, exist_ok=True)
        with flock(campaign.directory / ".lock", blocking=False) as held:
            if not held:
                raise EnosError(f"another 'enos campaign run' works on {campaign.directory}",
                                "wait for it to finish")
            self._run()

    def _run(self) -> None:
        campaign = self.campaign
        total = len(campaign.points) * campaign.repeat
        begin = time.monotonic()
        ran = 0
        for point in campaign.points:
            done = len(runs_done(self.state, point))
            if done >= campaign.repeat:
                self.say(f"point {point.index}/{len(campaign.points)} ({point.label()}): "
                         f"done")
                continue
            finished = sum(min(len(runs_done(self.state, p)), campaign.repeat)
                           for p in campaign.points)
            left = ""
            if ran:
                pace = (time.monotonic() - begin) / ran
                left = f", about {pace * (total - finished) / 60:.0f} min left"
            self.say(f"point {point.index}/{len(campaign.points)} ({point.label()}): "
                     f"{finished}/{total} runs done{left}", fg="cyan")
            reservation, workload = self.prepare(point)
            experiment = self.converge(point, reservation)
            for repeat in range(done + 1, campaign.repeat + 1):
                self.bench(point, reservation, workload, experiment, repeat)
                ran += 1

    def destroy(self) -> None:
        current = self.state.get("deployment") or {}
        if current.get("experiment") and (Path(current["experiment"]) / "state.json").is_file():
            argv = [sys.executable, "-m", "enos", "-q", "-e", current["experiment"], "destroy",
                    "--hard"]
            if subprocess.run(argv, stdin=subprocess.DEVNULL, check=False).returncode != 0:
                raise EnosError(f"could not destroy {current['experiment']}",
                                f"run 'enos -e {current['experiment']} destroy --hard'")
        self.state["deployment"] = None
        self.save()
