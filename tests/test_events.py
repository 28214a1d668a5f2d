"""The experiment's journal (enos/events.py) and the hooks that write it."""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing
from pathlib import Path

import pytest

from enos import events
from enos.errors import EnosError
from enos.experiment import Experiment


def _append_many(path: str, worker: int) -> None:
    for i in range(200):
        events.record(Path(path), "test", f"w{worker}", i=i, pad="x" * 300)


def test_record_appends_one_json_line_with_a_time_zone(tmp_path: Path) -> None:
    events.record(tmp_path, "tc", "apply", hosts=3, rate_only=True)
    events.record(tmp_path, "bench", "run-1", event="end", task_id="abc")
    lines = (tmp_path / "events.jsonl").read_text().splitlines()
    assert len(lines) == 2
    first = json.loads(lines[0])
    assert set(first) == {"at", "kind", "name", "detail"}
    assert (first["kind"], first["name"]) == ("tc", "apply")
    assert first["detail"] == {"hosts": 3, "rate_only": True}
    assert dt.datetime.fromisoformat(first["at"]).tzinfo is not None
    assert [e["name"] for e in events.read(tmp_path)] == ["apply", "run-1"]


def test_concurrent_appends_lose_and_mix_no_line(tmp_path: Path) -> None:
    procs = [multiprocessing.Process(target=_append_many, args=(str(tmp_path), w))
             for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    lines = (tmp_path / "events.jsonl").read_text().splitlines()
    assert len(lines) == 800
    parsed = [json.loads(line) for line in lines]  # every line is whole
    for w in range(4):
        assert [e["detail"]["i"] for e in parsed if e["name"] == f"w{w}"] == list(range(200))


def test_a_torn_line_is_skipped_when_reading(tmp_path: Path) -> None:
    events.record(tmp_path, "phase", "up", event="end")
    with (tmp_path / "events.jsonl").open("a") as handle:
        handle.write('{"at": "2026-01-01T00:00:00+00:00", "ki')
    assert len(events.read(tmp_path)) == 1


def test_commands_and_phases_are_recorded_with_durations(tmp_path: Path) -> None:
    exp = Experiment(tmp_path)
    with exp.locked("os"):
        exp.begin("os")
        exp.mark_done("os", deployer="native", seconds=12.5)
    with pytest.raises(EnosError), exp.locked("bench"):
        exp.begin("bench")
        raise EnosError("rally failed", "fix it")
    got = [(e["kind"], e["name"], e["detail"].get("event")) for e in events.read(exp)]
    assert got == [
        ("command", "os", "start"), ("phase", "os", "start"), ("phase", "os", "end"),
        ("command", "os", "end"),
        ("command", "bench", "start"), ("phase", "bench", "start"),
        ("phase", "bench", "failure"), ("command", "bench", "failure"),
    ]
    journal = events.read(exp)
    assert journal[2]["detail"]["seconds"] == 12.5
    assert journal[2]["detail"]["deployer"] == "native"
    assert journal[6]["detail"]["error"] == "rally failed"
    assert isinstance(journal[7]["detail"]["seconds"], float)


def test_events_become_grafana_annotations(tmp_path: Path) -> None:
    events.record(tmp_path, "phase", "os", event="start")
    events.record(tmp_path, "phase", "os", event="end", seconds=10)
    events.record(tmp_path, "tc", "apply", hosts=3)
    notes = events.grafana_annotations(events.read(tmp_path))
    assert len(notes) == 2  # a start is the beginning of its end's region
    region, point = notes
    assert region["timeEnd"] - region["time"] == 10000
    assert "os" in region["tags"] and region["text"].startswith("phase os end")
    assert point["time"] == point["timeEnd"] and "hosts=3" in point["text"]
