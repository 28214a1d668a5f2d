"""Hostile input for the read-only commands: never a traceback, bounded time and memory.

``test_generated_inputs`` runs thousands of generated cases (see tests/hostile.py) through
``enos.cli.main`` in two worker processes limited to 1.5 GB of address space, with a 10 s alarm
per case. Every run draws a new seed (printed; ``ENOS_HOSTILE_SEED`` fixes it,
``ENOS_HOSTILE_CASES`` sets the number of cases, ``ENOS_HOSTILE_CASE=i`` replays one case and
prints what it did). The other tests pin the findings of the first hostile-user run, in
process and as real `enos` processes under resource limits.
"""

from __future__ import annotations

import json
import os
import random
import resource
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import hostile
import pytest
from conftest import ENOS

from enos.cli import main

WORKERS = 2
DEFAULT_CASES = 2400


def _seed() -> str:
    return os.environ.get("ENOS_HOSTILE_SEED") or str(random.SystemRandom().randrange(10**9))


def test_generated_inputs(capsys: pytest.CaptureFixture[str]) -> None:
    seed = _seed()
    replay = os.environ.get("ENOS_HOSTILE_CASE")
    if replay is not None:
        _replay(seed, int(replay))
        return
    total = int(os.environ.get("ENOS_HOSTILE_CASES", DEFAULT_CASES))
    with capsys.disabled():
        print(f"\nhostile inputs: seed {seed}, {total} cases "
              f"(replay one: ENOS_HOSTILE_SEED={seed} ENOS_HOSTILE_CASE=N)")
    share = -(-total // WORKERS)
    start = time.monotonic()
    procs = [
        subprocess.Popen(
            [sys.executable, str(Path(hostile.__file__)), seed, str(first),
             str(min(share, total - first))],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for first in range(0, total, share)
    ]
    results: list[dict[str, Any]] = []
    failures: list[str] = []
    for proc in procs:
        out, err = proc.communicate(timeout=600)
        lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
        done = [r for r in lines if "case" in r]
        results += done
        if proc.returncode != 0:
            started = [r["start"] for r in lines if "start" in r]
            failures.append(f"a worker died (exit {proc.returncode}) during case "
                            f"{started[-1] if started else '?'}: {err[-800:]}")
    seconds = time.monotonic() - start
    counts: dict[str, int] = {}
    for r in results:
        counts[str(r["code"])] = counts.get(str(r["code"]), 0) + 1
        if r["problem"]:
            failures.append(f"case {r['case']} ({r['kind']}) enos {' '.join(r['argv'])}: "
                            f"{r['problem']}\n{r['stderr']}")
    peak = max((r["maxrss_mb"] for r in results), default=0)
    with capsys.disabled():
        print(f"hostile inputs: {len(results)} cases in {seconds:.1f}s, exit codes {counts}, "
              f"peak memory of a worker {peak} MB, {len(failures)} failure(s)")
    assert not failures, (f"seed {seed}: {len(failures)} failure(s); replay one with "
                          f"ENOS_HOSTILE_SEED={seed} ENOS_HOSTILE_CASE=N\n"
                          + "\n".join(failures[:15]))
    assert len(results) == total
    assert peak < 1024


def _replay(seed: str, index: int) -> None:
    import tempfile

    case = hostile.make_case(seed, index)
    print(f"case {index} of seed {seed} ({case.kind}): enos {' '.join(case.argv)[:500]}")
    for name, content in case.files.items():
        print(f"--- {name}\n{content[:3000]!r}")
    with tempfile.TemporaryDirectory() as root:
        result = hostile.run_case(case, Path(root))
    print(json.dumps(result, indent=2))
    assert result["problem"] is None, result


# -- the findings of the first hostile run, one by one ------------------------------------------
def enos(tmp_path: Path, *argv: str) -> tuple[int, str, str]:
    """Run ``enos ARGV`` in process in ``tmp_path``: exit code, stdout, stderr."""
    import contextlib
    import io

    out, err = io.StringIO(), io.StringIO()
    here = os.getcwd()
    os.chdir(tmp_path)
    code = 0
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            main(list(argv))
    except SystemExit as exc:
        code = int(exc.code or 0)
    finally:
        os.chdir(here)
    assert hostile.TRACEBACK not in out.getvalue() + err.getvalue()
    return code, out.getvalue(), err.getvalue()


LOCAL = "provider: local\nresources: {control: 1, network: 1, compute: 1}\n"
TOPO = textwrap.dedent("""\
    provider: local
    topology:
      grp1: {any: {control: 1, network: 1}}
      grp2: {any: {compute: 1}}
    """)
NC = textwrap.dedent("""\
    network_constraints:
      default_delay: 25ms
      default_rate: 100mbit
      default_loss: 0%
    """)


def _validate(tmp_path: Path, text: str) -> tuple[int, str]:
    (tmp_path / "reservation.yaml").write_text(text)
    start = time.monotonic()
    code, _, err = enos(tmp_path, "validate")
    assert time.monotonic() - start < 5
    return code, err


@pytest.mark.parametrize(("text", "words"), [
    (TOPO.replace("grp2:", "'grp[1-99999999999999999999]':"), "more than 9 digits"),
    (TOPO.replace("grp2:", "'grp[2-100000]':"), "names 99999 groups, more than 1000"),
    (TOPO.replace("grp2:", "'grp[\u00b2-3]':"), "digits 0-9"),
    (TOPO + NC + "  constraints: [{src: grp1, dst: 'grp[1-99999999999]'}]\n", "more than 9"),
    (TOPO + NC + "  except: ['grp[1-999999]']\n", "more than 1000"),
    (LOCAL + "kolla: &k {self: *k}\n", "contains it"),
    (LOCAL + "kolla: {x: " + "[" * 40000 + "]" * 40000 + "}\n", "nest more than 64"),
    (LOCAL + "kolla:\n" + "".join("  " * i + "- \n" for i in range(1, 400)), "nest more than"),
    ("hosts:\n  a: &a [x, x, x, x, x, x, x, x, x]\n"
     + "".join(f"  {c}: &{c} [{', '.join(['*' + p] * 9)}]\n"
               for p, c in zip("abcdefgh", "bcdefghi", strict=True))
     + LOCAL + "kolla: {x: *i}\n", "expand to"),
    (LOCAL + "inventory: '~nosuchuser/inv'\n", "no user 'nosuchuser'"),
    (LOCAL + "inventory: '" + "a/" * 3000 + "'\n", "characters long"),
    (LOCAL.replace("provider: local", "provider:\n  type: local\n  networks:\n"
                   "    - {roles: [network_interface], cidr: 0.0.0.0/0}"),
     "is not an IPv4 range of /16 to /28"),
    (LOCAL + "provider: static\n", "given twice, on lines 1 and 3"),
    (LOCAL + "kolla: {x: " + "9" * 5000 + "}\n", "a number of 5000 characters"),
    (LOCAL + "kolla: {x: !!set {a, b}}\n", "a set"),
    (("provider:\n  type: static\n  networks:\n    - {roles: [network_interface], cidr: "
      "10.0.0.0/24, start: 10.0.0.3, end: 'fe80::1'}\nresources: {control: [{address: a}], "
      "network: [{address: a}], compute: [{address: a}]}\n"), "same IP version"),
])
def test_bounded_and_checked(tmp_path: Path, text: str, words: str) -> None:
    code, err = _validate(tmp_path, text)
    assert code == 2, err
    assert words in err, err
    assert "reservation.yaml" in err


def test_duplicate_key_names_both_lines_and_the_key(tmp_path: Path) -> None:
    code, err = _validate(tmp_path, LOCAL + "kolla:\n  a: 1\n  b: 2\n  a: 3\n")
    assert code == 2
    assert "reservation.yaml:6 [kolla.a]: key 'a' is given twice, on lines 4 and 6" in err
    assert "keep one" in err


def test_tabs_and_control_characters_give_the_line(tmp_path: Path) -> None:
    code, err = _validate(tmp_path, "provider: local\nresources:\n\tcontrol: 1\n")
    assert code == 2 and "reservation.yaml:3" in err and "tab" in err and "spaces" in err
    code, err = _validate(tmp_path, "provider: local\nkolla: {a: b\x07c}\n")
    assert code == 2 and "reservation.yaml:2" in err and "U+0007" in err


@pytest.mark.parametrize("kind", ["dir", "fifo", "broken", "big", "link:/dev/zero"])
def test_config_file_types(tmp_path: Path, kind: str) -> None:
    hostile.Case(0, "file", [], special={"reservation.yaml": kind}).materialize(tmp_path)
    start = time.monotonic()
    code, _, err = enos(tmp_path, "validate")
    assert time.monotonic() - start < 5
    assert code == 2, err
    expected = {"dir": "is a directory", "fifo": "named pipe", "broken": "broken link",
                "big": "more than the", "link:/dev/zero": "character device"}[kind]
    assert expected in err and "reservation.yaml" in err


@pytest.mark.parametrize("kind", ["dir", "fifo", "broken"])
def test_run_yml_file_types_say_one_thing(tmp_path: Path, kind: str) -> None:
    (tmp_path / "workload").mkdir()
    (tmp_path / "workload" / "other.yml").write_text("x: 1\n")
    hostile.Case(0, "file", [], special={"workload/run.yml": kind}).materialize(tmp_path)
    code, _, err = enos(tmp_path, "bench", "--dry-run", "--workload", "workload")
    assert code == 2, err
    assert "no run.yml" not in err  # it is there, just not a file
    assert {"dir": "directory", "fifo": "named pipe", "broken": "broken link"}[kind] in err


def test_workload_combinations_are_counted_first(tmp_path: Path) -> None:
    (tmp_path / "workload").mkdir()
    (tmp_path / "workload" / "s.yml").write_text("{}\n")
    args = ", ".join(f"a{i}: [{', '.join(str(v) for v in range(10))}]" for i in range(9))
    (tmp_path / "workload" / "run.yml").write_text(
        f"rally:\n  args: {{{args}}}\n  scenarios:\n    - {{name: s, file: s.yml}}\n")
    start = time.monotonic()
    code, _, err = enos(tmp_path, "bench", "--dry-run", "--workload", "workload", "--out", "json")
    assert time.monotonic() - start < 5
    assert code == 2 and "1000000000 runs" in err and "more than 10000" in err


def test_circular_alias_in_run_yml(tmp_path: Path) -> None:
    (tmp_path / "workload").mkdir()
    (tmp_path / "workload" / "run.yml").write_text("rally: &r {scenarios: [*r]}\n")
    code, _, err = enos(tmp_path, "bench", "--dry-run", "--workload", "workload", "--out", "json")
    assert code == 2 and "run.yml:1" in err


def _state(tmp_path: Path, text: str) -> Path:
    xp = tmp_path / "xp"
    xp.mkdir(exist_ok=True)
    (xp / "state.json").write_text(text)
    return xp


@pytest.mark.parametrize(("text", "words"), [
    ("{", "not valid JSON"),
    ("[]", "top level is not a mapping"),
    ('{"phases": []}', "'phases' is not a mapping"),
    ('{"phases": {"up": 1}}', "phases.up is not a mapping"),
    ('{"resources": {"hosts": [{}]}}', "resources.hosts.0 has no 'alias'"),
    ('{"resources": {"hosts": [{"alias": "a", "address": 1}]}}', "wrong type"),
    ('{"resources": {"hosts": [{"alias": "a", "address": "b", "x": 1}]}}', "unknown key 'x'"),
    ('{"resources": {"networks": [{"roles": [], "cidr": "nope"}]}}', "does not appear"),
    ('{"resources": {"networks": [{"roles": [{}], "cidr": "10.0.0.0/24"}]}}', "roles holds"),
    ("[" * 100000, "nested too deeply"),
    ('{"config": ' + '{"a": ' * 500 + "1" + "}" * 501, "nests more than 100 levels"),
    ('{"phases": {"up": {"hosts": ' + "1" * 5000 + "}}}", "not valid JSON"),
])
def test_damaged_state(tmp_path: Path, text: str, words: str) -> None:
    _state(tmp_path, text)
    (tmp_path / "reservation.yaml").write_text(TOPO + NC)
    for argv in (["info", "-e", "xp"], ["info", "-e", "xp", "--out", "json"],
                 ["tc", "--dry-run", "-e", "xp", "--out", "json"]):
        code, _, err = enos(tmp_path, *argv)
        assert code == 2, (argv, err)
        assert "state.json is damaged" in err and words in err, err
        assert "enos destroy --hard" in err


def test_destroy_hard_sets_a_damaged_state_aside(tmp_path: Path) -> None:
    xp = _state(tmp_path, '{"phases": 3}')
    code, _, err = enos(tmp_path, "destroy", "--hard", "-e", "xp")
    assert code == 0, err
    assert (xp / "state.json.damaged").read_text() == '{"phases": 3}'
    assert json.loads((xp / "state.json").read_text())["phases"] == {}
    assert enos(tmp_path, "info", "-e", "xp")[0] == 0


def test_unexpected_error_is_one_line_and_a_log(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from enos.commands import validate

    def boom(*_: Any, **__: Any) -> None:
        raise ZeroDivisionError("planted")

    monkeypatch.setattr("enos.config.summarize", boom)
    (tmp_path / "reservation.yaml").write_text(LOCAL)
    assert validate.command is not None
    code, _, err = enos(tmp_path, "validate")
    assert code == 1
    assert err.count("\n") == 1 and "unexpected ZeroDivisionError: planted" in err
    log = tmp_path / "enos-errors.log"
    assert str(log) in err and "Traceback" in log.read_text()
    # with an experiment, the log goes to its logs/ directory
    (tmp_path / "xp").mkdir()
    (tmp_path / "current").symlink_to("xp")
    code, _, err = enos(tmp_path, "validate")
    assert code == 1 and str(tmp_path / "xp" / "logs" / "enos-errors.log") in err


def test_new_on_a_full_disk(tmp_path: Path) -> None:
    proc = subprocess.run([ENOS, "new", "-o", "-"], stdout=open("/dev/full", "w"),  # noqa: SIM115
                          stderr=subprocess.PIPE, text=True, cwd=tmp_path, check=False)
    assert proc.returncode == 1 and "No space left on device" in proc.stderr
    assert "Traceback" not in proc.stderr


# -- real processes under limits ------------------------------------------------------------
def _limits() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


@pytest.mark.parametrize("case", [
    "deep", "bomb", "zero", "fifo", "range", "network", "workload", "state",
])
def test_real_process_under_limits(tmp_path: Path, case: str) -> None:
    argv = ["validate"]
    if case == "deep":  # the C loader crashed the process past ~30 000 levels
        (tmp_path / "reservation.yaml").write_text(LOCAL + "kolla: " + "[" * 100000 + "\n")
    elif case == "bomb":
        (tmp_path / "reservation.yaml").write_text(
            "hosts:\n  a: &a [x, x, x, x, x, x, x, x, x]\n"
            + "".join(f"  {c}: &{c} [{', '.join(['*' + p] * 9)}]\n"
                      for p, c in zip("abcdefghijk", "bcdefghijkl", strict=True))
            + LOCAL + "kolla: {x: *l}\n")
    elif case == "zero":
        argv = ["-f", "/dev/zero", "validate"]
    elif case == "fifo":
        os.mkfifo(tmp_path / "reservation.yaml")
    elif case == "range":
        (tmp_path / "reservation.yaml").write_text(
            TOPO.replace("grp2:", "'grp[1-999999999]':"))
    elif case == "network":
        (tmp_path / "reservation.yaml").write_text(LOCAL.replace(
            "provider: local", "provider: {type: local, networks: [{roles: [network_interface],"
            " cidr: 0.0.0.0/0}]}"))
    elif case == "workload":
        (tmp_path / "workload").mkdir()
        args = ", ".join(f"a{i}: [{', '.join(str(v) for v in range(100))}]" for i in range(5))
        (tmp_path / "workload" / "run.yml").write_text(
            f"rally:\n  args: {{{args}}}\n  scenarios:\n    - {{name: s, file: s.yml}}\n")
        (tmp_path / "workload" / "s.yml").write_text("{}\n")
        argv = ["bench", "--dry-run", "--workload", "workload", "--out", "json"]
    elif case == "state":
        _state(tmp_path, '{"resources": {"hosts": [{"alias": "a"}]}}')
        argv = ["info", "-e", "xp"]
    start = time.monotonic()
    proc = subprocess.run([ENOS, *argv], cwd=tmp_path, capture_output=True, text=True,
                          timeout=30, preexec_fn=_limits, check=False,
                          stdin=subprocess.DEVNULL)
    assert time.monotonic() - start < 10
    assert "Traceback" not in proc.stderr + proc.stdout
    # A huge local network is refused at once, without listing its addresses.
    assert proc.returncode == 2, proc.stderr


def test_lock_that_is_not_a_file(tmp_path: Path) -> None:
    (tmp_path / "xp" / ".lock").mkdir(parents=True)
    code, _, err = enos(tmp_path, "-f", "none.yaml", "destroy", "-e", "xp")
    assert code == 1 and "cannot take the experiment's lock" in err and "Is a directory" in err
