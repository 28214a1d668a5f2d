"""`enos cache list|prune` on a cache of its own (ENOS_CACHE_DIR), with a real virtualenv built
by the same script as OpenStack's and Rally's."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from conftest import run_enos

from enos.experiment import Experiment
from enos.utils import cache


@pytest.fixture
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "cache"
    monkeypatch.setenv("ENOS_CACHE_DIR", str(root))
    return root


def _experiment(path: Path) -> Path:
    exp = Experiment(path)
    path.mkdir(parents=True)
    exp.update(provider="local")
    return path


def test_list_and_prune_follow_the_experiments(private_cache: Path, tmp_path: Path) -> None:
    constraints = tmp_path / "constraints.txt"
    constraints.write_text("six==1.17.0\n")
    venv = cache.ensure_venv(private_cache / "tool-abc", constraints, ["six"], what="six")
    image = private_cache / "images"
    image.mkdir()
    (image / "blank.raw").write_bytes(b"\0" * 4096)
    kept = _experiment(tmp_path / "enos_kept")
    gone = _experiment(tmp_path / "enos_gone")
    cache.mark_used(venv, kept)
    cache.mark_used(venv, gone)
    cache.mark_used(image, gone)
    (gone / "state.json").unlink()  # that experiment's directory was removed

    env = {**os.environ, "ENOS_CACHE_DIR": str(private_cache)}
    listed = json.loads(run_enos("cache", "list", "--out", "json", cwd=tmp_path,
                                 env=env).stdout)
    by_name = {e["name"]: e for e in listed}
    assert set(by_name) == {"tool-abc", "images"}
    assert by_name["tool-abc"]["experiments"] == [str(kept.resolve())]
    assert by_name["tool-abc"]["gone"] == [str(gone.resolve())]
    assert by_name["tool-abc"]["bytes"] > 10_000 and by_name["tool-abc"]["complete"]
    assert by_name["images"]["bytes"] == 4096 and by_name["images"]["experiments"] == []
    text = run_enos("cache", "list", cwd=tmp_path, env=env).stdout
    assert f"used by {kept.resolve()}" in text and "2 entries" in text

    dry = run_enos("cache", "prune", "--dry-run", cwd=tmp_path, env=env).stdout
    assert "would remove images" in dry and image.is_dir()
    out = run_enos("cache", "prune", cwd=tmp_path, env=env).stdout
    assert "removed images" in out and "tool-abc" not in out
    assert not image.exists() and cache.venv_ready(venv)

    # An entry being built (its lock held) is left alone, even with --all.
    from enos.utils.fs import flock

    with flock(private_cache / "tool-abc.lock") as held:
        assert held
        assert cache.prune(everything=True) == []
    assert venv.is_dir()
    run_enos("cache", "prune", "--all", cwd=tmp_path, env=env)
    assert not venv.exists() and not (private_cache / ".used" / "tool-abc").exists()
    assert "is empty" in run_enos("cache", "list", cwd=tmp_path, env=env).stdout
