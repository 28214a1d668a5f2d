"""Crash safety: `enos up` and `enos deploy` killed (SIGKILL) or interrupted (SIGINT) anywhere.

After each kill: the lock is free, state.json is whole and its shape is right, a rerun
converges, and `enos destroy --hard` leaves nothing of the experiment (namespace, bridge, veth,
process, mount, rule). Kill points are drawn at random over the measured length of the command;
the seed is printed (``ENOS_CRASH_SEED`` replays it). ``ENOS_CRASH_POINTS`` (default 4) sets the
number of SIGKILL points of `enos up`; ``ENOS_CRASH_DEPLOY_POINTS`` (default 1) those of
`enos deploy` on the native deployer, each of which costs a deploy and a half (~3 min here).
"""

from __future__ import annotations

import fcntl
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import (
    ENOS,
    SESSION_MARK,
    _processes,
    leftovers,
    machine_state,
    needs_root,
    run_enos,
    unique_networks,
)

from enos.experiment import state_problem

pytestmark = [pytest.mark.integration, needs_root]


def _seed() -> int:
    seed = int(os.environ.get("ENOS_CRASH_SEED") or random.SystemRandom().randrange(10**6))
    print(f"crash points: seed {seed} (replay: ENOS_CRASH_SEED={seed})")
    return seed


@pytest.fixture(autouse=True)
def _released(tmp_path: Path) -> Any:
    """Whatever happens in the test, its experiment is released at the end."""
    yield
    if (tmp_path / "xp" / "current").exists():
        run_enos("destroy", "--hard", cwd=tmp_path / "xp", check=False, timeout=300)


def _experiment(tmp_path: Path, **sections: Any) -> Path:
    path = tmp_path / "xp"
    path.mkdir()
    doc = {"provider": {"type": "local", "networks": unique_networks()},
           "resources": {"control": 1, "network": 1, "compute": 1}, **sections}
    (path / "reservation.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def _start(path: Path, *argv: str) -> subprocess.Popen[str]:
    def default_sigint() -> None:  # a background shell may have ignored it for us
        signal.signal(signal.SIGINT, signal.SIG_DFL)

    return subprocess.Popen([ENOS, *argv], cwd=path, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL,
                            preexec_fn=default_sigint)  # noqa: PLW1509 (no threads)


def _consistent(path: Path) -> None:
    """The lock is free and state.json is whole, of the right shape."""
    current = path / "current"
    if not current.exists():
        return
    lock = current / ".lock"
    if lock.exists():
        fd = os.open(lock, os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # raises if still held
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)
    state = current / "state.json"
    if state.exists():
        assert state_problem(json.loads(state.read_text())) is None
    assert not list(current.glob(".state.json.*")), "a temporary state file is left"


def _converges(path: Path, command: str, hosts: int = 3) -> float:
    start = time.monotonic()
    run_enos(command, cwd=path, timeout=900)
    took = time.monotonic() - start
    info = json.loads(run_enos("info", "--out", "json", cwd=path).stdout)
    assert sum(len(v) for v in info["rsc"].values()) >= hosts
    assert "up" in info["phases"]
    return took


def _destroyed(path: Path, before: dict[str, set[str]],
               procs: dict[int, tuple[str, str, str]]) -> None:
    run_enos("destroy", "--hard", cwd=path, timeout=300)
    found: list[str] = []
    for _ in range(20):
        found = leftovers(path, os.environ.get(SESSION_MARK, "-"), before, procs)
        if not found:
            return
        time.sleep(0.5)
    pytest.fail("enos destroy --hard left:\n" + "\n".join(found))


def test_up_killed_anywhere(tmp_path: Path) -> None:
    rng = random.Random(_seed())
    points = int(os.environ.get("ENOS_CRASH_POINTS", "4"))
    path = _experiment(tmp_path)
    before, procs = machine_state(), _processes()
    start = time.monotonic()
    run_enos("up", cwd=path)
    full = time.monotonic() - start
    _destroyed(path, before, procs)
    report = []
    for k in range(points):
        delay = rng.uniform(0.05, full)
        proc = _start(path, "up")
        time.sleep(delay)
        proc.kill()
        proc.communicate(timeout=60)
        _consistent(path)
        if k % 2 == 0:  # rerun, then release
            took = _converges(path, "up")
            report.append(f"kill at {delay:.2f}s -> rerun {took:.1f}s")
            _destroyed(path, before, procs)
        else:  # release what the killed command left
            report.append(f"kill at {delay:.2f}s -> destroy --hard")
            _destroyed(path, before, procs)
    print(f"enos up takes {full:.1f}s; " + "; ".join(report))


def test_up_interrupted_anywhere(tmp_path: Path) -> None:
    rng = random.Random(_seed() + 1)
    path = _experiment(tmp_path)
    before, procs = machine_state(), _processes()
    start = time.monotonic()
    run_enos("up", cwd=path)
    full = time.monotonic() - start
    _destroyed(path, before, procs)
    report = []
    for _ in range(2):
        delay = rng.uniform(0.3, full * 0.9)
        proc = _start(path, "up")
        time.sleep(delay)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=120)
        assert "Traceback" not in out + err
        if proc.returncode == 0:  # it was done already
            report.append(f"SIGINT at {delay:.2f}s: had finished")
        else:
            assert proc.returncode == 130, err
            assert "interrupted: the experiment is left as it was" in err
            assert "aborted" not in err
            assert err.strip().splitlines()[-1].startswith("interrupted"), err
            report.append(f"SIGINT at {delay:.2f}s: interrupted")
        _consistent(path)
        # a second command is not refused: the lock went with the interrupted one
        assert run_enos("info", cwd=path, check=False).returncode in (0, 1)
        _converges(path, "up")
    _destroyed(path, before, procs)
    print("; ".join(report))


def test_deploy_killed_and_rerun(tmp_path: Path) -> None:
    """`enos deploy` (native) killed during `enos os`, `enos os` interrupted with Ctrl-C,
    `enos init` killed: each rerun converges; destroy cleans."""
    rng = random.Random(_seed() + 2)
    points = int(os.environ.get("ENOS_CRASH_DEPLOY_POINTS", "1"))
    if points < 1:
        pytest.skip("ENOS_CRASH_DEPLOY_POINTS=0")
    path = _experiment(tmp_path)
    before, procs = machine_state(), _processes()
    report = []
    for _ in range(points):
        proc = _start(path, "deploy")
        # enos up takes ~5 s, enos os ~100 s here: kill early in os
        delay = rng.uniform(8, 45)
        time.sleep(delay)
        proc.kill()
        proc.communicate(timeout=60)
        _consistent(path)
        took = _converges(path, "deploy")
        report.append(f"kill at {delay:.0f}s -> rerun deploy {took:.0f}s")
        info = json.loads(run_enos("info", "--out", "json", cwd=path).stdout)
        assert {"up", "os", "init"} <= set(info["phases"])

    # Ctrl-C during `enos os` (the cloud stopped first, so that it has work to do): a clean
    # message, the lock released, the state whole; `enos os` again converges.
    run_enos("destroy", cwd=path, timeout=600)
    proc = _start(path, "os")
    delay = rng.uniform(5, 30)
    time.sleep(delay)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=300)
    assert "Traceback" not in out + err
    assert proc.returncode in (0, 130), err
    if proc.returncode == 130:
        assert err.strip().splitlines()[-1].startswith("interrupted"), err
    _consistent(path)
    took = _converges(path, "os")
    report.append(f"SIGINT in os at {delay:.0f}s -> rerun os {took:.0f}s")

    # SIGKILL during `enos init` (after the cloud forgot what init made: a new image, flavors
    # and networks to create), then `enos init` again creates what is missing.
    proc = _start(path, "init")
    delay = rng.uniform(1, 6)
    time.sleep(delay)
    proc.kill()
    proc.communicate(timeout=60)
    _consistent(path)
    took = _converges(path, "init")
    report.append(f"kill in init at {delay:.1f}s -> rerun init {took:.0f}s")
    info = json.loads(run_enos("info", "--out", "json", cwd=path).stdout)
    assert {"up", "os", "init"} <= set(info["phases"])
    _destroyed(path, before, procs)
    print("; ".join(report))


def test_leftover_check_sees_what_is_left(tmp_path: Path) -> None:
    """The check the crash tests (and the session) rely on finds each kind of leftover."""
    xp = tmp_path / "enos_x"
    xp.mkdir()
    (xp / "state.json").write_text(json.dumps({"resources": {"provider_state": {"id": "c0ffee"}}}))
    before, procs = machine_state(), _processes()
    ns, link = "enos-c0ffee-0", "ebc0ffee0"
    subprocess.run(["ip", "netns", "add", ns], check=True)
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)",
                                str(xp / "m")])
    try:
        subprocess.run(["ip", "link", "add", link, "type", "veth", "peer", "name", "ec0ffee0h0"],
                       check=True)
        found = "\n".join(leftovers(tmp_path, os.environ.get(SESSION_MARK, "-"), before, procs))
        assert f"namespace: {ns}" in found
        assert f"link: {link}" in found
        assert f"/run/netns/{ns}" in found  # the namespace's mount
        assert f"process {sleeper.pid}:" in found
    finally:
        sleeper.kill()
        sleeper.wait()
        subprocess.run(["ip", "link", "delete", link], check=False)
        subprocess.run(["ip", "netns", "delete", ns], check=False)
    assert not leftovers(tmp_path, os.environ.get(SESSION_MARK, "-"), before, procs)
