"""Hostile inputs for the read-only commands, and a worker that runs them in-process.

A seeded generator mutates valid files (the reservation samples, the documentation's
examples, a workload, a state.json) at three levels: the data (a value replaced by a hostile
one: huge ranges, non-ASCII digits, /0 networks, long paths, deep structures...), the text (tabs,
control characters, duplicated lines, truncation, alias bombs, deep nesting, odd tags, bytes
that are not UTF-8) and the file (a directory, a FIFO, a broken link, /dev/zero, too big). Each
case is one command line of validate, info, new, tc --dry-run or bench --dry-run.

Case ``i`` of seed ``S`` is generated from ``random.Random(f"{S}-{i}")`` alone, so any case can
be replayed: ``ENOS_HOSTILE_SEED=S ENOS_HOSTILE_CASE=i pytest tests/test_hostile.py``.

Run as a program (``python tests/hostile.py SEED FIRST COUNT``), this file is the worker: it
limits its own address space, runs each case through ``enos.cli.main`` with an alarm, and
prints one JSON line per case.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import os
import random
import resource
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
SAMPLES = HERE.parent / "enos" / "config" / "samples"
DOCS = HERE / "data" / "docs"
WORKLOAD = HERE / "data" / "workload"

CASE_SECONDS = 10  # a case that takes longer hangs
MEMORY_BYTES = 1536 * 1024 * 1024  # the worker's address space
TRACEBACK = "Traceback (most recent call last)"

HOSTILE_VALUES: list[Any] = [
    None, "", " ", "~", "-", 0, -1, 1, 2**63, 10**30, 1.5, -0.0, True, False, "yes", "null",
    "grp[1-99999999999999999999]", "grp[\u00b2-3]", "grp[\u0661-\u0663]", "grp[1-3",
    "grp]1-3[", "grp[3-1]", "g[0-100000]", "g[0001-1001]", "[1-2]", "grp[1-2][3-4]", "grp[-]",
    "grp[1-2]x", "grp[ 1 - 2 ]", "grp1", "grp2", "grp[1-2]",
    "~nosuchuser/inv", "~nosuchuser", "a" * 6000, "/" + "a/" * 3000, "x" * 300,
    "../../../../etc/passwd", "/dev/zero", "/proc/self/mem", "\u202etxt.yaml", "\u00e9\u540d",
    "0.0.0.0/0", "10.0.0.0/1", "::/0", "300.1.1.1/24", "172.29.0.0/33", "172.29.0.0/28",
    "172.29.0.1", "fe80::1", "127.0.0.0/8",
    "25ms", "-5ms", "1e9999ms", "100%", "101%", "-1%", "banana", "1gbit", "0", "nan", "inf",
    [], {}, [[]], [{}], {"a": None}, [1, 2, 3], ["control"], {"control": 1},
    {"control": 10**12}, {"control": -3}, {"x": {"control": 1}},
    [[[[[[[[[[[[[[[[["deep"]]]]]]]]]]]]]]]]],
]
HOSTILE_KEYS = ["", "~", "<<", "grp[1-99999999999999999999]", "grp[\u00b2-3]", "k" * 5000,
                "provider", "resources", "topology", "1", "null", "true", "\u00e9"]
TEXT_SNIPPETS = ["\t", "\x01", "\x7f", "\x00", "\ufeff", "{", "}", "[", "]", ":", "&a", "*a",
                 "*nosuch", "!!set", "!!binary", "!!timestamp", "!!int", "!!float",
                 "!!python/object/apply:os.system ['true']", "%YAML 1.1\n", "---\n", "...\n",
                 "? ", "|", ">", "'", '"', "#", "@", "`", "\\", "\r", "\u2028", "\ud7ff"]


@dataclass
class Case:
    """One generated command line and the files it reads (relative to its directory)."""

    index: int
    kind: str
    argv: list[str]
    files: dict[str, str | bytes] = field(default_factory=dict)
    special: dict[str, str] = field(default_factory=dict)  # path -> dir|fifo|broken|loop|...

    def materialize(self, root: Path) -> None:
        for name, content in self.files.items():
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content, encoding="utf-8", errors="surrogatepass")
        for name, what in self.special.items():
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
            if what == "dir":
                path.mkdir(exist_ok=True)
            elif what == "fifo":
                os.mkfifo(path)
            elif what == "broken":
                path.symlink_to(root / "no-such-target")
            elif what == "loop":
                path.symlink_to(path.name)
            elif what.startswith("link:"):
                path.symlink_to(what[5:])
            elif what == "big":
                with path.open("wb") as handle:
                    handle.write(b"kolla: {a: 1}\n" + b"#" * (5 * 1024 * 1024))


# -- mutations ------------------------------------------------------------------------------
def _paths(tree: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(tree, dict):
        for key, value in tree.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(tree, list):
        for index, value in enumerate(tree):
            out += _paths(value, (*prefix, index))
    return out


def _get(tree: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        tree = tree[part]
    return tree


def mutate_tree(rng: random.Random, tree: Any, rounds: int) -> Any:
    """Replace, delete, rename or add values at random places of ``tree``."""
    tree = copy.deepcopy(tree)
    for _ in range(rounds):
        paths = _paths(tree)
        path = rng.choice(paths)
        value = copy.deepcopy(rng.choice(HOSTILE_VALUES))
        if not path:
            if rng.random() < 0.1:
                tree = value
            elif isinstance(tree, dict):
                tree[rng.choice(HOSTILE_KEYS)] = value
            continue
        parent = _get(tree, path[:-1])
        last = path[-1]
        op = rng.random()
        if op < 0.55:
            parent[last] = value
        elif op < 0.7 and isinstance(parent, dict):
            del parent[last]
        elif op < 0.85 and isinstance(parent, dict):
            parent[rng.choice(HOSTILE_KEYS)] = parent.pop(last)
        elif isinstance(parent, list):
            parent.append(copy.deepcopy(parent[last]) if rng.random() < 0.5 else value)
        else:
            parent[last] = copy.deepcopy(tree)  # a copy of the whole document inside itself
    return tree


def mutate_text(  # noqa: C901 - one branch per kind of damage
        rng: random.Random, text: str) -> str | bytes:
    """Damage ``text`` as a careless or hostile editor would."""
    op = rng.randrange(13)
    lines = text.splitlines(keepends=True) or ["\n"]
    n = rng.randrange(len(lines))
    if op == 0:  # a tab in the indentation
        lines[n] = "\t" + lines[n].lstrip(" ") if rng.random() < 0.5 else "  \t" + lines[n]
    elif op == 1:  # a snippet anywhere
        pos = rng.randrange(len(text) + 1)
        return text[:pos] + rng.choice(TEXT_SNIPPETS) + text[pos:]
    elif op == 2:  # a line twice (duplicate keys)
        lines.insert(n, lines[n])
    elif op == 3:  # cut short
        return text[:rng.randrange(len(text) + 1)]
    elif op == 4:  # nesting
        depth = rng.choice([65, 500, 5000, 50000])
        opener = rng.choice(["[", "{a: ", "- "])
        if opener == "- ":
            nested = "".join("  " * i + "- \n" for i in range(min(depth, 3000)))
            return text + "kolla:\n  x:\n" + nested
        closer = {"[": "]", "{a: ": "}"}[opener]
        return text + f"kolla: {{x: {opener * depth}1{closer * depth}}}\n"
    elif op == 5:  # billion laughs
        levels = rng.choice([4, 6, 9, 12])
        bomb = ["lol0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"]
        for i in range(1, levels):
            bomb.append(f"lol{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]\n")
        bomb.append(f"kolla: {{x: *l{levels - 1}}}\n")
        return "hosts:\n" + "".join("  " + b for b in bomb[:-1]) + text + bomb[-1]
    elif op == 6:  # an alias to itself
        return text + rng.choice(["kolla: &k {self: *k}\n", "kolla: &k [*k]\n",
                                  "kolla: {a: &x [1, {b: *x}]}\n"])
    elif op == 7:  # bytes that are not UTF-8
        raw = text.encode()
        pos = rng.randrange(len(raw) + 1)
        return raw[:pos] + bytes([rng.choice([0xff, 0xfe, 0xc3, 0x80, 0xed])]) + raw[pos:]
    elif op == 8:  # a huge number or string
        return text + rng.choice(["kolla: {x: " + "9" * 5000 + "}\n",
                                  "kolla: {x: '" + "y" * 200000 + "'}\n",
                                  "kolla: {x: !!int " + "1" * 5000 + "}\n",
                                  "kolla: {x: !!float nope}\n", "kolla: {x: !!int 0x}\n"])
    elif op == 9:  # many documents, or a directive
        return text + "---\n" + text if rng.random() < 0.5 else "%TAG ! tag:x,2000:\n---\n" + text
    elif op == 10:  # many aliases
        return "hosts:\n  a: &a 1\n" + text + "kolla: {x: [" + ", ".join(["*a"] * 1500) + "]}\n"
    elif op == 11:  # random characters replaced
        chars = list(text)
        for _ in range(rng.randint(1, 8)):
            if chars:
                chars[rng.randrange(len(chars))] = rng.choice(TEXT_SNIPPETS + ["\n", " ", "-"])
        return "".join(chars)
    else:  # a line indented differently
        lines[n] = " " * rng.randint(1, 9) + lines[n]
    return "".join(lines)


def _dump(tree: Any) -> str:
    try:
        return yaml.safe_dump(tree, sort_keys=False, allow_unicode=True, width=10**6)
    except (yaml.YAMLError, RecursionError, ValueError):
        return "kolla: {}\n"


# -- bases ----------------------------------------------------------------------------------
def _base_configs() -> list[str]:
    files = sorted(SAMPLES.glob("*.yaml")) + sorted(DOCS.glob("*.yaml"))
    return [f.read_text() for f in files]


TOPOLOGY = """\
provider:
  type: local
  networks:
    - {roles: [network_interface], cidr: 172.30.4.0/24}
    - {roles: [neutron_external_interface], cidr: 172.30.5.0/24}
topology:
  grp1:
    any: {control: 1, network: 1}
  grp[2-3]:
    any: {compute: 1}
network_constraints:
  enable: true
  default_delay: 25ms
  default_rate: 100mbit
  default_loss: 0%
  constraints:
    - {src: grp1, dst: 'grp[2-3]', delay: 10ms, rate: 1gbit, loss: 0.1%, symmetric: true}
  except: [grp3]
"""


def base_state() -> dict[str, Any]:
    hosts = []
    for i, (role, grp) in enumerate([("control", "grp1"), ("network", "grp1"),
                                     ("compute", "grp2"), ("compute", "grp3")]):
        hosts.append({
            "alias": f"{grp}-{role}-1", "address": f"172.30.4.{10 + i}", "user": "root",
            "keyfile": "/nonexistent/keys/id_ed25519", "port": 22, "roles": [role],
            "groups": [grp],
            "interfaces": {"network_interface": "eth0", "neutron_external_interface": "eth1"},
            "addresses": {"network_interface": f"172.30.4.{10 + i}",
                          "neutron_external_interface": f"172.30.5.{10 + i}"},
            "extra": {"netns": f"enos-abcdef-{i}", "enos_root": f"/nonexistent/hosts/{i}"},
        })
    networks = [
        {"roles": ["network_interface"], "cidr": "172.30.4.0/24", "gateway": "172.30.4.1",
         "dns": None, "start": "172.30.4.128", "end": "172.30.4.254", "extra_ips": [],
         "extra": {}},
        {"roles": ["neutron_external_interface"], "cidr": "172.30.5.0/24",
         "gateway": "172.30.5.1", "dns": None, "start": "172.30.5.128", "end": "172.30.5.254",
         "extra_ips": [], "extra": {}},
    ]
    return {
        "phases": {"up": {"at": "2026-01-01T00:00:00", "hosts": 4}},
        "provider": "local", "config_file": "reservation.yaml",
        "config": {"provider": {"type": "local"}, "kolla": {}},
        "resources": {"hosts": hosts, "networks": networks,
                      "provider_state": {"id": "abcdef", "bridges": ["ebabcdef0"]}},
    }


def _workload_files() -> dict[str, str]:
    return {f"workload/{p.relative_to(WORKLOAD)}": p.read_text()
            for p in WORKLOAD.rglob("*") if p.is_file()}


# -- the generator --------------------------------------------------------------------------
SPECIALS = ["dir", "fifo", "broken", "loop", "big", "link:/dev/zero", "link:/dev/null"]


def _hostile_file(rng: random.Random, text: str, tree: Any) -> tuple[str, str | bytes]:
    level = rng.random()
    if level < 0.45:
        return "data", _dump(mutate_tree(rng, tree, rng.randint(1, 4)))
    if level < 0.9:
        return "text", mutate_text(rng, text)
    return "text2", mutate_text(rng, _dump(mutate_tree(rng, tree, 1)))


def make_case(seed: str, index: int) -> Case:
    rng = random.Random(f"{seed}-{index}")
    choice = rng.random()
    if choice < 0.12:
        return _info_case(rng, index)
    if choice < 0.24:
        return _bench_case(rng, index)
    if choice < 0.3:
        return _new_case(rng, index)
    if choice < 0.34:
        return _argv_case(rng, index)
    return _config_case(rng, index)


def _config_case(rng: random.Random, index: int) -> Case:
    bases = _base_configs() + [TOPOLOGY] * 4
    text = rng.choice(bases)
    try:
        tree = yaml.safe_load(text)
    except yaml.YAMLError:
        tree = {}
    command = rng.choice([["validate"], ["validate"], ["tc", "--dry-run"],
                          ["tc", "--dry-run", "--out", "json"]])
    case = Case(index, "config", [])
    name = "reservation.yaml"
    if rng.random() < 0.08:
        case.kind = "config-file"
        what = rng.choice(SPECIALS + ["missing", "long"])
        if what == "missing":
            name = "nosuch.yaml"
        elif what == "long":
            name = "/".join(["d" * 200] * 30)
        else:
            case.special[name] = what
    else:
        case.kind, content = _hostile_file(rng, text, tree)
        case.files[name] = content
    if command[0] == "tc" and command[-1] == "json" or rng.random() < 0.2:
        state = base_state() if rng.random() < 0.7 else mutate_tree(rng, base_state(), 2)
        case.files["xp/state.json"] = json.dumps(state)
        command = [*command, "-e", "xp"]
    where = rng.random()
    if where < 0.4:
        case.argv = ["-f", name, *command]
    elif where < 0.6 and command[0] == "validate":
        case.argv = ["validate", "-f", name]
    elif name == "reservation.yaml":
        case.argv = command
    else:
        case.argv = [*command, "-f", name]
    return case


def _info_case(rng: random.Random, index: int) -> Case:
    state = base_state()
    case = Case(index, "state", ["info", "-e", "xp"])
    if rng.random() < 0.5:
        case.argv += ["--out", rng.choice(["json", "yaml", "text"])]
    level = rng.random()
    if level < 0.55:
        case.files["xp/state.json"] = json.dumps(mutate_tree(rng, state, rng.randint(1, 3)),
                                                 default=str)
    elif level < 0.85:
        text = json.dumps(state, indent=2)
        op = rng.randrange(4)
        if op == 0:
            text = text[:rng.randrange(len(text))]
        elif op == 1:
            text = "[" * rng.choice([100, 5000, 200000]) + "]" * 3
        elif op == 2:
            pos = rng.randrange(len(text))
            text = text[:pos] + rng.choice(["\x00", "}", "\"", "\xff", "NaN", "1e999"]) + \
                text[pos:]
        else:
            text = rng.choice(["", "null", "[]", "\"x\"", "1", "{\"phases\": []}",
                               "{\"phases\": {\"up\": {\"at\": " + "1" * 5000 + "}}}",
                               "{\"resources\": {\"hosts\": [{}]}}"])
        case.files["xp/state.json"] = text
    else:
        case.files["xp/.keep"] = ""
        case.special["xp/state.json"] = rng.choice(SPECIALS)
    return case


def _bench_case(rng: random.Random, index: int) -> Case:
    files = _workload_files()
    text = files["workload/run.yml"]
    tree = yaml.safe_load(text)
    case = Case(index, "workload", ["bench", "--dry-run", "--workload", "workload"])
    if rng.random() < 0.5:
        case.argv += ["--out", "json"]
    case.files.update(files)
    level = rng.random()
    if level < 0.1:
        del case.files["workload/run.yml"]
        case.special["workload/run.yml"] = rng.choice(SPECIALS)
    elif level < 0.2:
        big = {"rally": {"args": {f"a{i}": list(range(rng.choice([10, 100]))) for i in
                                  range(rng.choice([3, 5, 9]))},
                         "scenarios": [{"name": "s", "file": "nova-boot-list-cc.yml"}]}}
        case.files["workload/run.yml"] = _dump(big)
    else:
        case.kind, case.files["workload/run.yml"] = _hostile_file(rng, text, tree)
    return case


def _new_case(rng: random.Random, index: int) -> Case:
    case = Case(index, "new", ["new"])
    if rng.random() < 0.5:
        case.argv += ["--provider", rng.choice(["local", "static", "g5k", "nope", "", "l" * 3000,
                                                "openstack", "\u00e9"])]
    out = rng.choice(["-", "out.yaml", "dir", "fifo", "broken", "exists.yaml", "/dev/full",
                      "/".join(["d" * 250] * 20), "a" * 300, "nodir/x.yaml", ""])
    if out in ("dir", "fifo", "broken"):
        case.special[out] = out
    if out == "exists.yaml":
        case.files[out] = "x: 1\n"
    if out == "-" and rng.random() < 0.5:
        out = None  # default: reservation.yaml
    if out is not None:
        case.argv += ["-o", out]
    if rng.random() < 0.3:
        case.argv.append("--force")
    return case


def _argv_case(rng: random.Random, index: int) -> Case:
    words = ["validate", "info", "new", "tc", "bench", "help", "--dry-run", "--out", "json",
             "-f", "-e", "--env", "-o", "--workload", "-v", "-vv", "-q", "--", "--nope", "x" * 5000,
             "--out=xml", "--env=", "-f=", "\u00e9", "--version", "-h"]
    argv = [rng.choice(words) for _ in range(rng.randint(1, 6))]
    for i, word in enumerate(argv):  # keep it read-only: nothing that acquires or changes
        if word in ("tc",):
            argv.insert(i + 1, "--dry-run")
            break
        if word == "bench":
            argv.insert(i + 1, "--dry-run")
            break
    return Case(index, "argv", argv)


# -- the worker -----------------------------------------------------------------------------
class Hang(BaseException):
    """Raised by the alarm: a case ran longer than CASE_SECONDS."""


def _alarm(signum: int, frame: Any) -> None:
    raise Hang()


def run_case(case: Case, root: Path) -> dict[str, Any]:
    from enos.cli import main

    workdir = Path(tempfile.mkdtemp(prefix=f"case{case.index}-", dir=root))
    case.materialize(workdir)
    out, err = io.StringIO(), io.StringIO()
    code: int | str = 0
    start = time.monotonic()
    here = os.getcwd()
    os.chdir(workdir)
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(CASE_SECONDS)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            main(list(case.argv))
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except Hang:
        code = "hang"
    except MemoryError:
        code = "memory"
    except BaseException as exc:  # noqa: BLE001 - what escapes main is the finding
        code = f"escaped {type(exc).__name__}: {exc}"[:300]
    finally:
        signal.alarm(0)
        os.chdir(here)
    seconds = time.monotonic() - start
    logs = [str(p.relative_to(workdir)) for p in workdir.rglob("enos-errors.log")]
    shutil.rmtree(workdir, ignore_errors=True)
    stdout, stderr = out.getvalue(), err.getvalue()
    problem = problem_of(code, stdout, stderr, seconds)
    return {
        "case": case.index, "kind": case.kind, "argv": [a[:80] for a in case.argv],
        "code": code, "seconds": round(seconds, 3), "problem": problem,
        "stderr": stderr[-600:] if problem else "", "logs": logs,
        "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
    }


def problem_of(code: int | str, stdout: str, stderr: str, seconds: float) -> str | None:
    """What is wrong with an outcome, or None."""
    # Exit code 1 is for what the input cannot cause, except a command run before the phase
    # it needs ("run 'enos up' first"), which a generated command line may well be.
    if code == 1 and "run 'enos up' first" in stderr and TRACEBACK not in stderr:
        return None
    if code not in (0, 2):
        return f"exit code {code}"
    if TRACEBACK in stdout or TRACEBACK in stderr:
        return "a traceback was printed"
    if seconds > CASE_SECONDS / 2:
        return f"took {seconds:.1f}s"
    if code == 2 and "rror" not in stderr:
        return "exit code 2 without an error message"
    return None


def worker(seed: str, first: int, count: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    root = Path(tempfile.mkdtemp(prefix="enos-hostile-"))
    try:
        for index in range(first, first + count):
            case = make_case(seed, index)
            # Written before running, so that a crash of the process names its case.
            print(json.dumps({"start": index}), flush=True)
            print(json.dumps(run_case(case, root)), flush=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.setrecursionlimit(3000)
    worker(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
