#!/usr/bin/env python3
"""Install a stage's programs into a host's supervisor, start them and wait until they serve.

Runs on the host (inside its network namespace) with the host's ``python3``, standard library
only. A bundle is a JSON file ``{"stage": NAME, "programs": {name: spec}}``; each spec is a
supervisor program spec plus enos keys the supervisor ignores:

- ``enos_configs``: files whose content the program reads; their digest goes into the
  program's environment, so that the supervisor restarts it when a file changes and only then;
- ``enos_check``: ``tcp:ADDR:PORT`` (something listens), ``http://...`` (an HTTP answer
  below 500: the application is loaded) or ``run`` (the process stays up a few seconds).

``files`` writes the files of a JSON bundle ``{"dirs": [...], "files": {path: {"content":
TEXT, "mode": "0600"} or {"copy_from": PATH}}}``, each only when its content differs.
``apply`` writes the stage's programs (removing the stage's programs the bundle no longer has),
runs ``supervisor.py up`` and waits. On failure it prints one JSON object naming the program,
its state, its log and the log's last lines, and exits 1. ``down`` stops every program and the
supervisor. Commands print ``changed`` or ``ok`` on their last line.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

TAIL_LINES = 12


def _write_if_changed(path: Path, data: str, mode: int = 0o600) -> bool:
    try:
        if path.read_text() == data:
            return False
    except OSError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(fd, "w") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.chmod(tmp, mode)
    os.replace(tmp, path)
    return True


def _digest(paths: list[str]) -> str:
    sha = hashlib.sha256()
    for name in paths:
        sha.update(name.encode())
        try:
            sha.update(Path(name).read_bytes())
        except OSError:
            sha.update(b"<missing>")
    return sha.hexdigest()[:16]


def _tail(path: str | None, lines: int = TAIL_LINES) -> str:
    if not path:
        return ""
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - 64 * 1024))
            text = handle.read().decode(errors="replace")
    except OSError as exc:
        return f"(cannot read the log: {exc})"
    return "\n".join(line[:240] for line in text.splitlines()[-lines:])


def _supervisor(sup: Path, root: Path, *args: str) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, str(sup), "--dir", str(root), *args],
        capture_output=True, text=True, check=False,
    )
    try:
        return json.loads(proc.stdout) if proc.stdout.strip() else {}
    except ValueError:
        return {"error": (proc.stderr or proc.stdout)[-2000:]}


def _listening(addr: str, port: int) -> bool:
    try:
        with socket.create_connection((addr, port), timeout=1):
            return True
    except OSError:
        return False


def _http_ok(url: str) -> bool:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return int(resp.status) < 500
    except urllib.error.HTTPError as exc:
        return exc.code < 500
    except (OSError, ValueError):
        return False


def _fail(name: str, what: str, spec: dict[str, Any], prog: dict[str, Any] | None) -> int:
    log = (prog or {}).get("log") or spec.get("log")
    print(json.dumps({
        "enos_service_failure": name,
        "what": what,
        "state": (prog or {}).get("state"),
        "exit_code": (prog or {}).get("exit_code"),
        "log": log,
        "tail": _tail(log),
    }))
    return 1


def write_files(bundle_path: Path) -> int:
    bundle = json.loads(bundle_path.read_text())
    for name in bundle.get("dirs") or []:
        Path(name).mkdir(parents=True, exist_ok=True)
    changed = []
    for name, spec in sorted((bundle.get("files") or {}).items()):
        if "copy_from" in spec:
            data = Path(spec["copy_from"]).read_text()
        else:
            data = spec["content"]
        if _write_if_changed(Path(name), data, int(str(spec.get("mode", "0600")), 8)):
            changed.append(name)
    for name in changed:
        print(f"wrote {name}")
    print("changed" if changed else "ok")
    return 0


def apply(  # noqa: C901 - the steps of one host's convergence, in order, in one place
        root: Path, sup: Path, bundle_path: Path, timeout: float) -> int:
    bundle = json.loads(bundle_path.read_text())
    stage = bundle["stage"]
    programs: dict[str, dict[str, Any]] = bundle.get("programs") or {}
    pdir = root / "programs"
    pdir.mkdir(parents=True, exist_ok=True)
    changed = False
    for name, spec in sorted(programs.items()):
        spec = dict(spec)
        spec["argv"] = [str(arg) for arg in spec["argv"]]
        spec["enos_stage"] = stage
        env = dict(spec.get("env") or {})
        env["ENOS_CONFIG_DIGEST"] = _digest(list(spec.get("enos_configs") or []))
        spec["env"] = env
        changed |= _write_if_changed(pdir / f"{name}.json",
                                     json.dumps(spec, indent=2, sort_keys=True) + "\n")
    for path in pdir.glob("*.json"):
        if path.stem in programs:
            continue
        try:
            old = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if old.get("enos_stage") == stage:
            path.unlink()
            changed = True
    status = _supervisor(sup, root, "up")
    if "error" in status and "programs" not in status:
        print(json.dumps({"enos_service_failure": "supervisor", "what": status["error"],
                          "log": str(root / "supervisor.log"),
                          "tail": _tail(str(root / "supervisor.log"))}))
        return 1
    # Wait for the stage's programs to serve.
    deadline = time.time() + timeout
    pending = dict(programs)
    while True:
        status = json.loads((root / "status.json").read_text())
        progs = status.get("programs", {})
        for name in list(pending):
            spec = pending[name]
            prog = progs.get(name)
            if prog is None:
                continue
            if prog["state"] == "failed":
                return _fail(name, "exited again and again", spec, prog)
            if prog["state"] != "running":
                continue
            check = str(spec.get("enos_check") or "run")
            if check.startswith("tcp:"):
                addr, _, port = check[4:].rpartition(":")
                if _listening(addr, int(port)):
                    del pending[name]
            elif check.startswith("http"):
                if _http_ok(check):
                    del pending[name]
            else:
                # A process that stays up for a few seconds has started.
                started = prog.get("started_at") or time.time()
                if time.time() - started >= float(spec.get("enos_settle", 3)):
                    del pending[name]
        if not pending:
            break
        if time.time() > deadline:
            name = min(pending)
            return _fail(name, f"not serving after {timeout:.0f} s", pending[name],
                         progs.get(name))
        time.sleep(0.3)
    print("changed" if changed else "ok")
    return 0


def down(root: Path, sup: Path, purge: list[str]) -> int:
    pid_file = root / "supervisor.pid"
    changed = False
    if pid_file.exists():
        _supervisor(sup, root, "shutdown")
        changed = True
    if purge:
        import shutil

        for path in purge:
            if os.path.lexists(path):
                shutil.rmtree(path, ignore_errors=True) if os.path.isdir(path) else os.unlink(path)
                changed = True
    print("changed" if changed else "ok")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dir", required=True, type=Path, help="the supervisor's directory")
    parser.add_argument("--supervisor", required=True, type=Path, help="path of supervisor.py")
    sub = parser.add_subparsers(dest="action", required=True)
    p_apply = sub.add_parser("apply")
    p_apply.add_argument("bundle", type=Path)
    p_apply.add_argument("--timeout", type=float, default=180.0)
    p_files = sub.add_parser("files")
    p_files.add_argument("bundle", type=Path)
    p_down = sub.add_parser("down")
    p_down.add_argument("--purge", nargs="*", default=[])
    args = parser.parse_args(argv)
    root = args.dir.absolute()
    if args.action == "apply":
        return apply(root, args.supervisor, args.bundle, args.timeout)
    if args.action == "files":
        return write_files(args.bundle)
    return down(root, args.supervisor, args.purge)


if __name__ == "__main__":
    sys.exit(main())
