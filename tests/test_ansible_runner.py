"""The Ansible runner with real ansible-playbook on this machine (local connection)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from enos.ansible.runner import run_playbook
from enos.errors import EnosError

PLAYBOOK = """- hosts: all
  gather_facts: false
  tasks:
    - name: quick
      debug: {msg: hello}
    - name: slow
      command: sleep {{ 1.5 if inventory_hostname == 'h1' else 0 }}
    - name: broken
      command: /bin/false
      when: fail | default(false) | bool
"""


def _setup(tmp_path: Path) -> tuple[Path, Path]:
    inventory = tmp_path / "hosts"
    inventory.write_text("".join(
        f"{h} ansible_connection=local ansible_python_interpreter={sys.executable}\n"
        for h in ("h1", "h2")))
    playbook = tmp_path / "play.yml"
    playbook.write_text(PLAYBOOK)
    return inventory, playbook


def test_each_task_is_timed_on_each_host(tmp_path: Path) -> None:
    inventory, playbook = _setup(tmp_path)
    result = run_playbook(playbook, inventory, title="timing run", quiet=True)
    timings = json.loads((tmp_path / "logs" / "ansible-timing_run.tasks.json").read_text())
    assert timings["title"] == "timing run" and timings["returncode"] == 0
    assert timings["seconds"] >= 1.5 and timings["started_at"]
    tasks = {(t["host"], t["task"]): t for t in timings["tasks"]}
    assert set(tasks) == {(h, t) for h in ("h1", "h2") for t in ("quick", "slow", "broken")}
    # The module's own start-up (about half a second) is in both.
    assert tasks[("h1", "slow")]["seconds"] >= tasks[("h2", "slow")]["seconds"] + 1.0
    assert tasks[("h1", "broken")]["status"] == "skipped"
    assert result.tasks == timings["tasks"]


def test_a_failed_run_keeps_its_timings(tmp_path: Path) -> None:
    inventory, playbook = _setup(tmp_path)
    with pytest.raises(EnosError, match="failed at task 'broken'"):
        run_playbook(playbook, inventory, title="failing", quiet=True,
                     extravars={"fail": True})
    timings = json.loads((tmp_path / "logs" / "ansible-failing.tasks.json").read_text())
    assert timings["returncode"] != 0
    assert {t["status"] for t in timings["tasks"] if t["task"] == "broken"} == {"failed"}
