"""Install, start or converge the delay line under its supervisor, in one python3 process.

Run on a host by the apply script of enos tc (enos/netem/scripts.py), which puts the line
``PAYLOAD = '<JSON>'`` before this file and feeds the whole to ``python3 - TC_DIR`` (on stdin:
the command line of the processes it starts stays ``python3 - TC_DIR``).

PAYLOAD: ``files`` (``supervisor.py``, ``enos_delay.py``: their text), ``queues`` (the
delay line's ``QUEUE:MILLISECONDS``) and ``sha1`` (of the delay line's code: a new version
restarts it). Writes ``TC_DIR/bin/<file>`` and the program's spec (``bin/enos-delay.json``,
copied to ``programs/``) only when they changed; starts the supervisor when it is not running
(under its start lock, and asks it anything only once it has written its status: it handles
requests from then on); asks it ``up`` (its answer goes to ``TC_DIR/log/up.json``); then waits
until the delay line says in its log that it runs with the PID the supervisor has. Exit 1,
with the reason on stderr, when a program failed or the delay line did not start within 10 s.
Standard library only.
"""

import fcntl
import json
import os
import sys
import time
from pathlib import Path

tc_dir = sys.argv[1]
d = Path(tc_dir)
payload = json.loads(globals()["PAYLOAD"])
for sub in ("bin", "programs", "log"):
    (d / sub).mkdir(parents=True, exist_ok=True)


def install(path, text):
    """Write ``text`` to ``path`` unless it holds it already."""
    try:
        if path.read_text() == text:
            return
    except (OSError, ValueError):
        pass
    new = path.with_name(f".{path.name}.new")
    new.write_text(text)
    os.replace(new, path)


for name, text in payload["files"].items():
    install(d / "bin" / name, text)
spec = json.dumps({
    "argv": ["python3", f"{tc_dir}/bin/enos_delay.py"]
    + [f"--queue={q}" for q in payload["queues"]],
    "log": f"{tc_dir}/log/enos-delay.log", "priority": 10, "stop_signal": "TERM",
    "stop_timeout": 5, "env": {"ENOS_DELAY_SHA1": payload["sha1"]},
}) + "\n"
install(d / "bin" / "enos-delay.json", spec)
install(d / "programs" / "enos-delay.json", spec)

sys.path.insert(0, str(d / "bin"))
import supervisor  # type: ignore[import-not-found]  # noqa: E402

if supervisor.daemon_pid(d) is None:
    lock = os.open(d / "start.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if supervisor.daemon_pid(d) is None:
            (d / "status.json").unlink(missing_ok=True)
            supervisor.start_daemon(d)
            deadline = time.monotonic() + 30
            while not (d / "status.json").exists() and time.monotonic() < deadline:
                time.sleep(0.01)
    finally:
        os.close(lock)

status = supervisor.request(d, "up", [])
(d / "log" / "up.json").write_text(json.dumps(status, indent=2) + "\n")
failed = [n for n, p in status.get("programs", {}).items() if p.get("state") == "failed"]
if failed:
    print(f"the supervisor in {d} has failed program(s): {', '.join(failed)}", file=sys.stderr)
    sys.exit(1)

log_path = d / "log" / "enos-delay.log"
deadline = time.monotonic() + 10
while True:
    try:
        prog = json.loads((d / "status.json").read_text())["programs"].get("enos-delay", {})
        log = log_path.read_text()
    except (OSError, ValueError, KeyError):
        prog, log = {}, ""
    if prog.get("state") == "running" and f"pid {prog.get('pid')}," in log:
        break
    if time.monotonic() > deadline:
        try:
            tail = "\n".join(log_path.read_text().splitlines()[-5:])
        except OSError as exc:
            tail = str(exc)
        print(f"the delay line did not start: {tail}", file=sys.stderr)
        sys.exit(1)
    time.sleep(0.02)
