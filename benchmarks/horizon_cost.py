#!/usr/bin/env python3
"""What the dashboard (Horizon) costs the native deployer on the local testbed.

    python benchmarks/horizon_cost.py [--runs 1] [--pages 20]

For fresh experiments of 3 hosts (control, network, compute), alternately with
`deployer.horizon` on and off (the OpenStack virtualenv and the schema snapshots warm, as
usual): the seconds of `enos os`, and, with Horizon on, the seconds of its own Ansible tasks
and the time a collection of the static files takes (once per virtualenv), the time from
Horizon's start to its first answer, and the resident (RSS) and proportional (PSS) memory of
its uwsgi processes (master and workers) once deployed, then after a login and --pages views of
the instances, images and networks pages. Medians when --runs > 1. Needs root; destroys every
testbed it makes.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import re
import shutil
import statistics
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import yaml
from _common import enos_ok as enos
from _common import memory_mib, tree

ENOS = shutil.which("enos") or "enos"






def memory(pid: int) -> dict[str, float]:
    """RSS and PSS (MiB) of a process and its descendants, and how many they are."""
    pids = tree(pid)
    rss, pss = memory_mib(pids)
    return {"rss_mib": rss, "pss_mib": pss, "processes": len(pids)}


def browse(url: str, password: str, pages: int) -> float:
    """Log in as admin and view the project's pages ``pages`` times; seconds per page."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    form = opener.open(url + "auth/login/", timeout=60).read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form)
    region = re.search(r'name="region" value="([^"]*)"', form)
    data = {"username": "admin", "password": password, "domain": "Default",
            "csrfmiddlewaretoken": token.group(1) if token else "",
            "region": region.group(1) if region else ""}
    request = urllib.request.Request(url + "auth/login/", urllib.parse.urlencode(data).encode(),
                                     headers={"Referer": url + "auth/login/"})
    landed = opener.open(request, timeout=60).geturl()
    if "/auth/login" in landed:
        raise SystemExit(f"logging in to {url} failed (still on {landed})")
    start = time.monotonic()
    for _ in range(pages):
        for path in ("project/instances/", "project/images/", "project/networks/"):
            opener.open(url + path, timeout=60).read()
    return (time.monotonic() - start) / (3 * pages) if pages else 0.0


def run_once(workdir: Path, horizon: bool, pages: int) -> dict[str, Any]:
    doc = {"provider": {"type": "local"}, "resources": {"control": 1, "network": 1, "compute": 1},
           "deployer": {"type": "native", "horizon": horizon}}
    (workdir / "reservation.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    try:
        enos("up", cwd=workdir)
        start = time.monotonic()
        enos("os", cwd=workdir)
        out: dict[str, Any] = {"os": time.monotonic() - start}
        exp = (workdir / "current").resolve()
        tasks = json.loads((exp / "logs" / "ansible-enos_os.tasks.json").read_text())["tasks"]
        own = [t for t in tasks if "Horizon" in t["task"]]
        out["horizon_tasks"] = sum(float(t.get("seconds") or 0) for t in own)
        if horizon:
            cloud = json.loads((exp / "cloud.json").read_text())
            host = cloud["dashboard"]["host"]
            root = Path(next(h["extra"]["enos_root"] for h in json.loads(
                (exp / "state.json").read_text())["resources"]["hosts"] if h["alias"] == host))
            prog = json.loads((root / "supervisor" / "status.json").read_text())["programs"][
                "horizon"]
            out["first_answer"] = first_answer(root / "log" / "horizon.log", prog)
            out["idle"] = memory(int(prog["pid"]))
            out["static"] = collect_static(cloud["venv"], root)
            password = next(line.split("=", 1)[1].strip("'") for line in
                            (exp / "admin-openrc").read_text().splitlines()
                            if line.startswith("export OS_PASSWORD="))
            enos("init", cwd=workdir)
            out["page_seconds"] = browse(cloud["dashboard"]["url"], password, pages)
            out["browsed"] = memory(int(prog["pid"]))
        return out
    finally:
        subprocess.run([ENOS, "destroy", "--hard"], cwd=workdir, capture_output=True,
                       check=False, stdin=subprocess.DEVNULL)


def collect_static(venv: str, root: Path) -> float:
    """Seconds to collect and compress Horizon's static files (done once per virtualenv),
    into a scratch directory, with the deployed host's settings."""
    from enos.deployers import native

    scratch = Path(tempfile.mkdtemp(prefix="horizon-static-", dir=Path(venv).parent))
    try:
        start = time.monotonic()
        subprocess.run(["sh", str(native.FILES / "install-horizon.sh"), venv,
                        str(scratch / "static"), str(root / "etc" / "horizon" / "local" /
                                                     "local_settings.py")],
                       check=True, capture_output=True)
        return time.monotonic() - start
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def first_answer(log: Path, prog: dict[str, Any]) -> float | None:
    """Seconds from Horizon's (last) start to its first request served, from uwsgi's log."""
    started = float(prog.get("started_at") or 0)
    for line in log.read_text(errors="replace").splitlines():
        m = re.search(r"\{[^}]*\} \[(\w{3} \w{3} +\d+ [\d:]+ \d{4})\] GET ", line)
        if m:
            at = time.mktime(time.strptime(m.group(1), "%a %b %d %H:%M:%S %Y"))
            if at >= int(started):
                return at - started
    return None


def med(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=1, help="runs each way (medians)")
    parser.add_argument("--pages", type=int, default=20,
                        help="views of each of the 3 project pages before the second memory "
                             "sample")
    args = parser.parse_args()
    on: list[dict[str, Any]] = []
    off: list[dict[str, Any]] = []
    for _ in range(args.runs):
        for horizon, into in ((True, on), (False, off)):
            workdir = Path(tempfile.mkdtemp(prefix="enos-horizon-bench-"))
            try:
                into.append(run_once(workdir, horizon, args.pages))
            finally:
                shutil.rmtree(workdir, ignore_errors=True)
            print(f"horizon {'on ' if horizon else 'off'}: {json.dumps(into[-1])}", flush=True)
    os_on, os_off = med([r["os"] for r in on]), med([r["os"] for r in off])
    print(f"enos os, Horizon on:  {os_on:6.1f} s   off: {os_off:6.1f} s   "
          f"added: {os_on - os_off:+.1f} s  (runs: {args.runs})")
    print(f"Horizon's own tasks:  {med([r['horizon_tasks'] for r in on]):6.1f} s (they overlap "
          "the rest); collecting the static files (once per virtualenv): "
          f"{med([r['static'] for r in on]):.1f} s")
    answers = [r["first_answer"] for r in on if r.get("first_answer") is not None]
    if answers:
        print(f"first page served:    {med(answers):6.1f} s after uwsgi started")
    for key, what in (("idle", "deployed"), ("browsed", f"after {args.pages} x 3 pages")):
        rss = med([r[key]["rss_mib"] for r in on])
        pss = med([r[key]["pss_mib"] for r in on])
        procs = on[0][key]["processes"]
        print(f"memory, {what:<22} RSS {rss:6.0f} MiB  PSS {pss:6.0f} MiB  ({procs} uwsgi "
              "processes)")
    print(f"a project page:       {med([r['page_seconds'] for r in on]):6.2f} s (server side)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
