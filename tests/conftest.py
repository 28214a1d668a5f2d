"""Shared helpers: run the real `enos` command, and bring up local testbeds that clean up."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

ENOS = shutil.which("enos") or "enos"

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="the local testbed needs root")

_next_net = [0]


def run_enos(*args: str, cwd: Path, check: bool = True, timeout: float = 600,
             env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the installed `enos` command; with ``check``, fail the test on a non-zero exit."""
    proc = subprocess.run([ENOS, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, check=False, env=env, stdin=subprocess.DEVNULL)
    if check and proc.returncode != 0:
        pytest.fail(f"enos {' '.join(args)} exited {proc.returncode}\n"
                    f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}")
    return proc


def unique_networks() -> list[dict[str, Any]]:
    """Two /24 ranges no other test of this run uses (tests may run beside other testbeds)."""
    import ipaddress

    routes = []
    out = subprocess.run(["ip", "-o", "-4", "route"], capture_output=True, text=True,
                         check=False).stdout
    for line in out.splitlines():
        with contextlib.suppress(ValueError, IndexError):
            if not line.startswith("default"):
                routes.append(ipaddress.ip_network(line.split()[0], strict=False))
    for _ in range(125):  # skip the ranges other experiments on this machine use
        _next_net[0] += 1
        n = (os.getpid() * 7 + _next_net[0] * 2) % 250
        mine = [ipaddress.ip_network(f"172.31.{n + i}.0/24") for i in (0, 1)]
        if not any(a.overlaps(b) for a in mine for b in routes):
            break
    return [
        {"roles": ["network_interface"], "cidr": f"172.31.{n}.0/24"},
        {"roles": ["neutron_external_interface"], "cidr": f"172.31.{n + 1}.0/24"},
    ]


def processes_under(path: Path) -> list[str]:
    """Processes whose command line or environment names ``path`` (an experiment's)."""
    out = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            env = Path(f"/proc/{pid}/environ").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if str(path) in cmd or str(path) in env:
            out.append(f"{pid} {cmd[:150]}")
    return out


def netns_names() -> set[str]:
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True,
                         check=False).stdout
    return {line.split()[0] for line in out.splitlines() if line.strip()}


def link_names() -> set[str]:
    out = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True,
                         check=False).stdout
    return {line.split(":")[1].strip().split("@")[0] for line in out.splitlines()}


class Testbed:
    """A local experiment brought up by `enos up` in its own directory."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def enos(self, *args: str, check: bool = True, **kw: Any) -> subprocess.CompletedProcess[str]:
        return run_enos(*args, cwd=self.path, check=check, **kw)

    def info(self) -> dict[str, Any]:
        return json.loads(self.enos("info", "--out", "json").stdout)


@pytest.fixture
def workdir() -> Iterator[Path]:
    """A directory for an experiment whose services live for minutes: not under pytest's own
    temporary directories (other pytest runs rotate them), and short, since unix socket paths
    under it must stay under 108 bytes. Removed after the test."""
    import tempfile

    path = Path(tempfile.mkdtemp(prefix="enos-w", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def local_testbed(tmp_path: Path) -> Iterator[Callable[..., Testbed]]:
    """Factory: write a local reservation.yaml from the given sections, run `enos up`.

    Every testbed made is destroyed (`enos destroy --hard`) at the end, and the test fails if
    a namespace, bridge or veth of it is left.
    """
    made: list[tuple[Testbed, str]] = []

    def make(up: bool = True, **sections: Any) -> Testbed:
        path = tmp_path / f"xp{len(made)}"
        path.mkdir()
        provider = {"type": "local", "networks": unique_networks()}
        provider.update(sections.pop("provider", {}))
        doc = {"provider": provider, **sections}
        (path / "reservation.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
        bed = Testbed(path)
        made.append((bed, ""))
        if up:
            bed.enos("up")
        return bed

    yield make
    for bed, _ in made:
        if (bed.path / "current" / "state.json").exists():
            state = json.loads((bed.path / "current" / "state.json").read_text())
            eid = (state.get("resources") or {}).get("provider_state", {}).get("id")
            run_enos("destroy", "--hard", cwd=bed.path, check=False)
            if eid:
                assert not [n for n in netns_names() if n.startswith(f"enos-{eid}-")]
                assert not [n for n in link_names() if eid in n]


# -- nothing left behind ---------------------------------------------------------------------------
# At the end of the session, nothing the tests started may remain: no namespace, bridge, veth,
# process, tc/iptables/nft rule, mount or temporary file outside the tests' directories. What
# was there at the start (other users' experiments) is ignored, and so is what others create
# meanwhile: a leftover is attributed to this session by the experiments under its base
# directory (their ids name namespaces, links and rules), by its mark in a process's
# environment or command line, and by the session's own TMPDIR. ENOS_LEFTOVERS=warn makes
# what is found a warning instead of an error.
SESSION_MARK = "ENOS_TEST_SESSION"


def _lines(*argv: str) -> set[str]:
    try:
        out = subprocess.run(list(argv), capture_output=True, text=True, check=False,
                             timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired):
        return set()
    return {line.strip() for line in out.splitlines() if line.strip()}


def _processes() -> dict[int, tuple[str, str, str]]:
    """pid -> (start time, command line, environment) of every process."""
    out: dict[int, tuple[str, str, str]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as handle:
                start = handle.read().rsplit(")", 1)[1].split()[19]
            with open(f"/proc/{entry.name}/cmdline", "rb") as handle:
                cmd = handle.read().replace(b"\0", b" ").decode(errors="replace").strip()
            try:
                with open(f"/proc/{entry.name}/environ", "rb") as handle:
                    environ = handle.read().decode(errors="replace")
            except OSError:
                environ = ""
        except (OSError, IndexError):
            continue
        out[int(entry.name)] = (start, cmd, environ)
    return out


def machine_state() -> dict[str, set[str]]:
    """What a test may leave on the machine, as sets of text lines."""
    mounts = set()
    with contextlib.suppress(OSError), open("/proc/self/mountinfo") as handle:
        mounts = {" ".join(line.split()[3:5]) for line in handle}
    return {
        "namespace": netns_names(),
        "link": link_names(),
        "mount": mounts,
        "tc rule": _lines("tc", "qdisc", "show") | _lines("tc", "filter", "show"),
        "iptables rule": _lines("iptables-save"),
        "nft rule": _lines("nft", "list", "ruleset"),
    }


def experiment_ids(base: Path) -> set[str]:
    """The local-provider ids of every experiment under ``base``."""
    import hashlib

    ids = set()
    for state in base.rglob("state.json"):
        ids.add(hashlib.sha1(str(state.parent.resolve()).encode()).hexdigest()[:6])
        with contextlib.suppress(OSError, ValueError, LookupError, TypeError, RecursionError):
            ident = json.loads(state.read_text())["resources"]["provider_state"]["id"]
            ids.add(str(ident))
    return ids


def leftovers(base: Path, mark: str, before: dict[str, set[str]],
              procs_before: dict[int, tuple[str, str, str]],
              tmpdir: Path | None = None) -> list[str]:
    """What this session (experiments under ``base``, processes marked ``mark``) left."""
    ids = experiment_ids(base)
    inside = f"{base}/"  # not a prefix of another session's directory (pytest-5, pytest-50)
    found: list[str] = []
    after = machine_state()
    for kind, lines in after.items():
        for line in sorted(lines - before[kind]):
            if any(i in line for i in ids) or inside in line:
                found.append(f"{kind}: {line}")
    for pid, (start, cmd, environ) in sorted(_processes().items()):
        if pid == os.getpid() or procs_before.get(pid, ("",))[0] == start:
            continue
        if f"{SESSION_MARK}={mark}" in environ or inside in cmd:
            found.append(f"process {pid}: {cmd[:200]}")
    if tmpdir is not None and tmpdir.exists():
        for path in sorted(tmpdir.rglob("*")):
            # A module Ansible was running on a host when a crash test killed enos leaves its
            # payload directory (Ansible's, on hosts sharing this file system): not enos's.
            if "_payload_" in path.parent.name and path.parent.name.startswith("ansible_"):
                continue
            if path.is_file() or path.is_symlink() or path.is_socket():
                found.append(f"temporary file: {path}")
    return found


@pytest.fixture(scope="session", autouse=True)
def nothing_left_behind(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    import tempfile
    import time
    import uuid

    base = tmp_path_factory.getbasetemp()
    mark = uuid.uuid4().hex
    # Short (unix socket paths under it must stay short) and this session's own.
    tmpdir = Path(tempfile.mkdtemp(prefix="enos-t", dir="/tmp"))
    saved = {k: os.environ.get(k) for k in ("TMPDIR", SESSION_MARK)}
    os.environ["TMPDIR"] = str(tmpdir)
    os.environ[SESSION_MARK] = mark
    tempfile.tempdir = None
    before = machine_state()
    procs_before = _processes()
    yield
    found: list[str] = []
    for _ in range(20):  # what is stopping may take a few seconds to go
        found = leftovers(base, mark, before, procs_before, tmpdir)
        if not found:
            break
        time.sleep(0.5)
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    tempfile.tempdir = None
    import shutil

    shutil.rmtree(tmpdir, ignore_errors=True)
    message = "the tests left behind:\n" + "\n".join(found[:50])
    if found and os.environ.get("ENOS_LEFTOVERS") == "warn":
        import warnings

        warnings.warn(message, stacklevel=1)
        return
    assert not found, message
