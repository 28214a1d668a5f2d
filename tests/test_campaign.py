"""`enos campaign`: the campaign file, its grid, and a small delay study on the local testbed
(deployed once, killed after its first point, resumed), whose report opens in a real browser."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from browser import needs_chromium, open_page
from conftest import ENOS, processes_under, run_enos, unique_networks

from enos.campaign import spec
from enos.errors import ConfigError

BASE = {"provider": {"type": "local"},
        "topology": {"grp1": {"any": {"control": 1, "network": 1}},
                     "grp2": {"any": {"compute": 1}}},
        "network_constraints": {"enable": True, "default_delay": "0ms",
                                "default_rate": "10gbit", "default_loss": "0%",
                                "constraints": [{"src": "grp1", "dst": "grp2",
                                                 "delay": "1ms"}]}}
# Rally polls a booting server every 0.2 s (not 2 s): boot times to 0.2 s.
RUN = {"rally": {"config": {"openstack": {"nova_server_boot_prepoll_delay": 0.2,
                                          "nova_server_boot_poll_interval": 0.2}},
                 "args": {"concurrency": [1], "times": [5]},
                 "scenarios": [{"name": "boot and list", "file": "nova-boot-list-cc.yml",
                                "args": {"times": 3}}]}}


def _files(tmp_path: Path, campaign: dict[str, Any] | str,
           base: dict[str, Any] | None = None) -> Path:
    from enos.bench.samples import WORKLOAD

    (tmp_path / "reservation.yaml").write_text(yaml.safe_dump(base or BASE, sort_keys=False))
    workload = tmp_path / "workload"
    workload.mkdir(exist_ok=True)
    shutil.copy(WORKLOAD / "nova-boot-list-cc.yml", workload)
    (workload / "run.yml").write_text(yaml.safe_dump(RUN, sort_keys=False))
    path = tmp_path / "study.yaml"
    path.write_text(campaign if isinstance(campaign, str)
                    else yaml.safe_dump(campaign, sort_keys=False))
    return path


def test_grid_points_and_what_each_change_needs(tmp_path: Path) -> None:
    path = _files(tmp_path, {
        "base": "reservation.yaml", "workload": "workload", "repeat": 2,
        "parameters": {"network_constraints.default_delay": ["0ms", "50ms"],
                       "network_constraints.constraints.0.delay": ["5ms"],
                       "workload.args.times": [2, 4]}})
    campaign = spec.load(path)
    assert campaign.name == "study" and campaign.repeat == 2
    assert campaign.directory == tmp_path / "campaign" / "study"
    assert [p.label() for p in campaign.points] == [
        f"network_constraints.default_delay={d}, network_constraints.constraints.0.delay=5ms, "
        f"workload.args.times={t}" for d in ("0ms", "50ms") for t in (2, 4)]
    last = campaign.points[-1]
    assert last.reservation["network_constraints"]["default_delay"] == "50ms"
    assert last.reservation["network_constraints"]["constraints"][0]["delay"] == "5ms"
    # workload.args.X: every type's args, and a scenario's own value of X.
    assert last.run["rally"]["args"]["times"] == [4]
    assert last.run["rally"]["scenarios"][0]["args"]["times"] == 4
    assert BASE["network_constraints"]["default_delay"] == "0ms"  # the base is untouched

    assert [spec.scope(k) for k in ("workload.args.times", "network_constraints.default_delay",
                                    "deployer.release", "enable_monitoring", "resources.any",
                                    "topology.grp1")] == ["bench", "tc", "os", "os", "up", "up"]
    a, b = (spec.keys_of(p.reservation) for p in campaign.points[:3:2])
    assert a["up"] == b["up"] and a["os"] == b["os"] and a["tc"] != b["tc"]


@pytest.mark.parametrize(("text", "key", "words"), [
    ("base: reservation.yaml\nworkload: workload\nparameter: {a: [1]}\n", "parameter",
     "did you mean 'parameters'"),
    ("base: nowhere.yaml\nworkload: workload\nparameters: {a: [1]}\n", "base",
     "is not a reservation.yaml"),
    ("base: reservation.yaml\nworkload: workload\nparameters: {a: 1}\n", "parameters.a",
     "non-empty list"),
    ("base: reservation.yaml\nworkload: workload\nparameters: {a: []}\n", "parameters.a",
     "non-empty list"),
    ("base: reservation.yaml\nworkload: workload\nparameters: {}\n", "parameters",
     "dotted keys"),
    ("base: reservation.yaml\nworkload: workload\nrepeat: 0\nparameters: {a: [1]}\n",
     "repeat", "from 1 to"),
    ("base: reservation.yaml\nworkload: workload\nname: 'a/b'\nparameters: {a: [1]}\n",
     "name", "not a directory name"),
    ("base: reservation.yaml\nworkload: workload\nparameters:\n"
     "  network_constraints.constraints.3.delay: [1ms]\n",
     "parameters.network_constraints.constraints.3.delay", "not an index"),
    ("base: reservation.yaml\nworkload: workload\nparameters:\n"
     "  network_constraints.default_delay.x: [1ms]\n",
     "parameters.network_constraints.default_delay.x", "single value"),
    ("base: reservation.yaml\nworkload: workload\nparameters: {workload: [1]}\n",
     "parameters.workload", "names no workload key"),
    ("base: reservation.yaml\nworkload: workload\nparameters:\n"
     + "".join(f"  k{i}: [1, 2, 3, 4]\n" for i in range(6)), "parameters.k4", "more than"),
])
def test_bad_campaign_files(tmp_path: Path, text: str, key: str, words: str) -> None:
    path = _files(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        spec.load(path)
    assert err.value.key == key, err.value
    assert words in str(err.value) and str(path) in str(err.value)
    proc = run_enos("campaign", "run", str(path), cwd=tmp_path, check=False)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert not (tmp_path / "campaign").exists()  # nothing ran


def _wait_for(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(1)


@pytest.mark.integration
@pytest.mark.skipif(os.geteuid() != 0, reason="the local testbed needs root")
@needs_chromium
def test_a_delay_study_killed_after_its_first_point_resumes(tmp_path: Path) -> None:
    # The default delay applies between the two groups, both ways.
    constraints = {k: v for k, v in BASE["network_constraints"].items() if k != "constraints"}
    base = {**BASE, "provider": {"type": "local", "networks": unique_networks()},
            "network_constraints": constraints}
    path = _files(tmp_path, {"name": "delay", "base": "reservation.yaml",
                             "workload": "workload",
                             "parameters": {"network_constraints.default_delay": ["0ms",
                                                                                  "50ms"],
                                            "workload.args.times": [3]}}, base)
    directory = tmp_path / "campaign" / "delay"
    state = directory / "campaign.json"

    def recorded() -> dict[str, Any]:
        try:
            return dict(json.loads(state.read_text())["points"])
        except (OSError, ValueError, KeyError):
            return {}

    log = (tmp_path / "first.log").open("w")
    first = subprocess.Popen([ENOS, "campaign", "run", str(path)], cwd=tmp_path,
                             stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                             start_new_session=True)
    try:
        try:
            _wait_for(lambda: "1" in recorded() or first.poll() is not None, 1500,
                      "the first point")
            assert first.poll() is None, (tmp_path / "first.log").read_text()
            time.sleep(3)  # into the second point's steps
            os.kill(first.pid, signal.SIGKILL)
            first.wait(30)
            # The commands it ran die with it (a death signal), releasing the experiment.
            _wait_for(lambda: not [p for p in processes_under(directory)
                                   if " -m enos " in p or "ansible-playbook" in p],
                      120, "the killed campaign's commands to end")
            status = run_enos("campaign", "status", str(path), cwd=tmp_path).stdout
            assert "1 point(s) done, 1 left" in status, status

            second = run_enos("campaign", "run", str(path), cwd=tmp_path, timeout=1500)
            out = second.stdout + second.stderr
            assert "point 1/2 (network_constraints.default_delay=0ms, " \
                   "workload.args.times=3): done" in out, out
            assert "point 2/2" in out and "deploy (up, os, init)" not in out, out
        finally:
            log.close()
            if first.poll() is None:
                os.kill(first.pid, signal.SIGKILL)
                first.wait(30)
    finally:
        # Whatever happened, no cloud of the campaign is left running.
        for experiment in directory.glob("points/*/enos_*"):
            if (experiment / "state.json").is_file():
                run_enos("-e", str(experiment), "destroy", "--hard", cwd=tmp_path, check=False)

    results = json.loads((directory / "results.json").read_text())
    points = results["points"]
    assert [p["params"]["network_constraints.default_delay"] for p in points] == ["0ms", "50ms"]
    assert all(len(p["bench"]) == 1 and p["bench"][0]["status"] == "ok" for p in points)
    # Only the network emulation changed: one experiment served both points.
    assert points[0]["experiment"] == points[1]["experiment"]
    assert Path(points[0]["experiment"]).parent == directory / "points" / "1"
    boot = {p["params"]["network_constraints.default_delay"]:
            p["bench"][0]["actions"]["nova.boot_server"]["median"] for p in points}
    # 50 ms each way between control and compute: 100 ms more per round trip on a boot's
    # critical path (about ten of them: the README's figures).
    assert boot["50ms"] > boot["0ms"] + 0.3, boot
    print(f"boot median: {boot}")
    total = next(s for s in results["summary"] if s["action"] == "total")
    assert [r["median"] is not None for r in total["points"]] == [True, True]
    assert not processes_under(directory)
    assert json.loads(state.read_text())["deployment"] is None  # destroyed once done

    page = open_page(directory / "report" / "index.html", tmp_path / "campaign.png",
                     selectors=("[data-line] canvas",))
    assert page.errors == []
    assert page.counts["[data-line] canvas"] == len(results["summary"])
    md = (directory / "report" / "report.md").read_text()
    assert "| network_constraints.default_delay | workload.args.times | median |" in md


def test_plots_follow_the_one_parameter_that_varies() -> None:
    from enos.campaign import report

    def point(index: int, delay: str, times: int, median: float) -> dict[str, Any]:
        return {"index": index, "params": {"d": delay, "t": times},
                "bench": [{"scenario": "boot", "actions": {"total": {
                    "median": median, "failed": 0}}}]}

    points = [point(1, "100ms", 3, 3.0), point(2, "0ms", 3, 1.0), point(3, "50ms", 3, 2.0)]
    doc = {"parameters": {"d": ["100ms", "0ms", "50ms"], "t": [3]},
           "summary": report.summary(points)}
    (plot,) = report.lines(doc).values()
    assert plot["x_label"] == "d" and plot["x"] == [0.0, 50.0, 100.0]
    assert plot["series"][0]["values"] == [1.0, 2.0, 3.0]
    doc["parameters"]["t"] = [3, 4]  # two parameters vary: against the points' numbers
    (plot,) = report.lines(doc).values()
    assert plot["x_label"] == "point" and plot["x"] == [1.0, 2.0, 3.0]
