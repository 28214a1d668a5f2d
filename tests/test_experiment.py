"""The experiment directory: creation, the current link, state, lock, phase order."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from enos.errors import LockedError, PhaseError
from enos.experiment import Experiment
from enos.model import Host, Network, Resources
from enos.utils.fs import atomic_write, write_private


def test_create_links_current_and_state_round_trips(tmp_path: Path) -> None:
    exp = Experiment.create(tmp_path)
    assert exp.path.name.startswith("enos_")
    assert (tmp_path / "current").resolve() == exp.path
    res = Resources(hosts=[Host("h1", "10.0.0.2", roles=["control"], groups=["g1"])],
                    networks=[Network(["network_interface"], "10.0.0.0/24",
                                      start="10.0.0.250", end="10.0.0.252")])
    exp.set_resources(res)
    exp.mark_done("up", hosts=1)
    again = Experiment.find(None, tmp_path)
    assert again is not None and again.phase_done("up")
    assert again.resources == res
    assert again.resources.network("network_interface").pool() == [
        "10.0.0.250", "10.0.0.251", "10.0.0.252"]
    second = Experiment.create(tmp_path)
    assert second.path != exp.path and (tmp_path / "current").resolve() == second.path


def test_need_names_the_command_to_run(tmp_path: Path) -> None:
    exp = Experiment.create(tmp_path)
    with pytest.raises(PhaseError) as err:
        exp.need("os", "init")
    assert "run 'enos os' first" in str(err.value)


def test_require_without_experiment(tmp_path: Path) -> None:
    with pytest.raises(PhaseError) as err:
        Experiment.require(None, tmp_path, "info")
    assert "enos up" in str(err.value)


def test_lock_refuses_a_second_holder(tmp_path: Path) -> None:
    exp = Experiment.create(tmp_path)
    with exp.locked("up"):
        with pytest.raises(LockedError) as err, Experiment(exp.path).locked("destroy"):
            pass
        assert "enos up" in str(err.value)
    with Experiment(exp.path).locked("destroy"):
        pass


def test_corrupt_state_is_a_clear_error(tmp_path: Path) -> None:
    exp = Experiment.create(tmp_path)
    exp.state_path.write_text("{not json")
    with pytest.raises(Exception) as err:
        Experiment(exp.path).state  # noqa: B018
    assert "state.json" in str(err.value) and "not valid JSON" in str(err.value)


def test_atomic_and_private_writes(tmp_path: Path) -> None:
    target = tmp_path / "a" / "f.json"
    atomic_write(target, json.dumps({"x": 1}))
    assert json.loads(target.read_text()) == {"x": 1}
    write_private(tmp_path / "secret", "pw")
    assert (tmp_path / "secret").stat().st_mode & 0o777 == 0o600
    assert [p.name for p in target.parent.iterdir()] == ["f.json"]  # no temp file left
    assert os.stat(target).st_mode & 0o777 == 0o644


def test_an_env_the_file_system_refuses_is_a_usage_error(tmp_path: Path) -> None:
    from enos.errors import UsageError

    long = tmp_path / ("x" * 300)  # longer than a file name may be
    for call in (lambda: Experiment.find(long, tmp_path),
                 lambda: Experiment.create(tmp_path, long)):
        with pytest.raises(UsageError, match="cannot be used: File name too long") as err:
            call()
        assert err.value.exit_code == 2
    with pytest.raises(UsageError, match="does not exist"):
        Experiment.find(tmp_path / "nothing", tmp_path)
