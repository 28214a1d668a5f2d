"""A stand-in for the subset of the Grid'5000 REST API that the g5k provider uses.

It answers as the API reference documents (https://api.grid5000.fr/doc), under ``/stable``:

- ``GET /sites``, ``GET /sites/{site}``;
- ``GET /sites/{site}/clusters``, ``.../clusters/{cluster}``, ``.../clusters/{cluster}/nodes``,
  ``.../nodes/{node}`` (the reference description: ``network_adapters`` with ``device``,
  ``ip``, ``mounted``, ``enabled``, ``management``...);
- ``POST /sites/{site}/jobs`` (OAR: ``resources`` as ``{cluster='X'}/nodes=N+...,walltime=H:M:S``,
  ``name``, ``command``, ``types``, ``queue``, ``reservation``), ``GET /sites/{site}/jobs``
  (``state`` and ``user`` filters, ``{"items": [...], "total", "offset"}``), ``GET`` and
  ``DELETE /sites/{site}/jobs/{uid}``; a job goes waiting -> launching -> running (then
  ``assigned_nodes`` lists the node names), waits while its nodes are taken, and ends
  ``error`` when deleted (as OAR's deleted jobs do) or ``terminated`` after its walltime;
- ``POST /sites/{site}/deployments`` (``nodes``, ``environment``, ``key``),
  ``GET /sites/{site}/deployments/{uid}``: processing -> terminated, with ``result`` per node;
  a terminated deployment puts the key in the nodes' authorized keys, as Kadeploy does for
  root.

Requests need HTTP basic authentication (401 otherwise). Its "nodes" are real hosts of the
local testbed (network namespaces with their own sshd, made by :mod:`enos.providers.local`),
whose addresses are the ``ip`` of their adapter, so that enos reaches them over SSH; or, for
unit tests, names with made-up addresses (``nodes=False``).

Run by hand: ``python tests/g5k_standin.py --dir /tmp/standin --cluster paravance:3``, then
point ``uri`` of ~/.python-grid5000.yaml at the URL it prints. Ctrl-C removes the nodes.
"""

from __future__ import annotations

import argparse
import base64
import itertools
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs, urlparse

_RESOURCE = re.compile(r"\{cluster='([\w-]+)'\}/nodes=(\d+)")


def _seconds(walltime: str) -> int:
    parts = [int(p) for p in walltime.split(":")] + [0, 0]
    return parts[0] * 3600 + parts[1] * 60 + parts[2]


class StandIn:
    """The API's state: sites, clusters, nodes, jobs and deployments, under a lock."""

    def __init__(self, site: str = "rennes", clusters: dict[str, int] | None = None,
                 user: str = "alice", password: str = "secret", step: float = 0.3,
                 workdir: Path | None = None, nodes: bool = False,
                 networks: list[dict[str, Any]] | None = None,
                 user_key: str | None = None) -> None:
        self.site = site
        self.clusters = clusters or {"paravance": 3}
        self.user, self.password = user, password
        self.step = step  # seconds per job or deployment state
        self.workdir = workdir
        self.lock = threading.Lock()
        self.jobs: dict[int, dict[str, Any]] = {}
        self.deployments: dict[str, dict[str, Any]] = {}
        self.requests: list[tuple[str, str]] = []
        self.uids = itertools.count(4242)
        self.fail_jobs = False  # a submitted job ends in error instead of running
        self.fail_nodes: set[str] = set()  # nodes a deployment fails on
        self.addresses: dict[str, str] = {}
        self.local: Any = None
        if nodes:
            self._make_nodes(networks, user_key)
        else:
            for cluster, count in self.clusters.items():
                for n in range(1, count + 1):
                    self.addresses[self.fqdn(cluster, n)] = f"10.16.{len(self.addresses)}.1"
        self.server: ThreadingHTTPServer | None = None

    def fqdn(self, cluster: str, n: int) -> str:
        return f"{cluster}-{n}.{self.site}.grid5000.fr"

    # -- nodes: local testbed hosts -------------------------------------------------------------
    def _make_nodes(self, networks: list[dict[str, Any]] | None, user_key: str | None) -> None:
        from enos.config.spec import MachineSpec
        from enos.experiment import Experiment
        from enos.providers import local

        assert self.workdir is not None
        self.workdir.mkdir(parents=True, exist_ok=True)
        exp = Experiment(self.workdir)
        nets = networks or local.DEFAULTS["networks"]
        config = SimpleNamespace(
            provider={"networks": nets, "user": "root"},
            raw={"provider": {"networks": nets}} if networks else {},
            machines=[MachineSpec([cluster], count, label=cluster)
                      for cluster, count in self.clusters.items()],
        )
        self.local = (local, exp)
        resources = local.init(config, exp)  # type: ignore[arg-type]
        exp.set_resources(resources)
        for host in resources.hosts:
            cluster, n = host.alias.rsplit("-", 1)
            self.addresses[self.fqdn(cluster, int(n))] = host.address
        if user_key:
            self._authorize(user_key)

    def _authorize(self, key: str) -> None:
        if self.local is None:
            return
        _local, exp = self.local
        path = exp.keys_dir / "authorized_keys"
        keys = path.read_text().splitlines()
        if key.strip() not in keys:
            path.write_text("\n".join([*keys, key.strip()]) + "\n")

    def remove_nodes(self) -> None:
        if self.local is not None:
            local, exp = self.local
            local.destroy(None, exp, exp.resources)
            self.local = None

    # -- the state machine ----------------------------------------------------------------------
    def _taken(self) -> set[str]:
        return {n for j in self.jobs.values() if j["state"] in ("launching", "running")
                for n in j["assigned_nodes"]}

    def _advance(self) -> None:
        now = time.time()
        for job in sorted(self.jobs.values(), key=lambda j: j["uid"]):
            age = now - job["_submitted"]
            start = job.get("_start", 0)
            if job["state"] == "waiting" and age >= self.step and now >= start:
                if self.fail_jobs:
                    job["state"] = "error"
                    continue
                nodes = self._allocate(job["_wanted"])
                if nodes is not None:
                    job.update(state="launching", assigned_nodes=nodes,
                               started_at=int(now))
            elif job["state"] == "launching" and now - job["started_at"] >= self.step:
                job["state"] = "running"
            elif job["state"] == "running" and now - job["started_at"] > job["walltime"]:
                job["state"] = "terminated"
        for dep in self.deployments.values():
            if dep["status"] == "processing" and now - dep["created_at"] >= self.step:
                dep["status"] = "terminated"
                dep["result"] = {n: {"state": "KO" if n in self.fail_nodes else "OK",
                                     "macro": None, "micro": None}
                                 for n in dep["nodes"]}
                dep["updated_at"] = int(now)
                if dep.get("key"):
                    self._authorize(dep["key"])

    def _allocate(self, wanted: list[tuple[str, int]]) -> list[str] | None:
        taken = self._taken()
        nodes: list[str] = []
        for cluster, count in wanted:
            free = [self.fqdn(cluster, n) for n in range(1, self.clusters.get(cluster, 0) + 1)
                    if self.fqdn(cluster, n) not in taken]
            if len(free) < count:
                return None
            nodes += free[:count]
        return nodes

    # -- resources ------------------------------------------------------------------------------
    def _job_view(self, job: dict[str, Any]) -> dict[str, Any]:
        out = {k: v for k, v in job.items() if not k.startswith("_")}
        base = f"/stable/sites/{self.site}/jobs/{job['uid']}"
        out["links"] = [{"rel": "self", "href": base, "type": "application/vnd.grid5000.item+json"},
                        {"rel": "parent", "href": f"/stable/sites/{self.site}"}]
        return out

    def _node(self, cluster: str, uid: str) -> dict[str, Any] | None:
        name = f"{uid}.{self.site}.grid5000.fr"
        if name not in self.addresses or node_cluster(uid) != cluster:
            return None
        return {
            "uid": uid, "type": "node", "architecture": {"nb_cores": 2},
            "network_adapters": [
                {"device": "eth0", "interface": "Ethernet", "ip": self.addresses[name],
                 "mac": "02:00:00:00:00:01", "mounted": True, "mountable": True,
                 "enabled": True, "management": False, "network_address": name,
                 "rate": 10_000_000_000},
                {"device": "eth1", "interface": "Ethernet", "mounted": False,
                 "mountable": True, "enabled": False, "management": False},
                {"device": "bmc", "interface": "Ethernet", "ip": "10.99.0.1",
                 "mounted": False, "enabled": True, "management": True},
            ],
            "links": [{"rel": "self",
                       "href": f"/stable/sites/{self.site}/clusters/{cluster}/nodes/{uid}"}],
        }

    def handle(self, method: str, path: str, query: dict[str, list[str]],
               body: Any) -> tuple[int, Any]:
        with self.lock:
            self.requests.append((method, path))
            self._advance()
            return self._route(method, path.rstrip("/").split("/")[1:], query, body)

    @staticmethod
    def _items(items: list[Any]) -> dict[str, Any]:
        return {"items": items, "total": len(items), "offset": 0, "links": []}

    def _route(self, method: str, parts: list[str], query: dict[str, list[str]],
               body: Any) -> tuple[int, Any]:
        if not parts or parts[0] != "stable":
            return 404, {"code": 404, "message": "Not found"}
        parts = parts[1:]
        site = {"uid": self.site, "type": "site", "links": []}
        if parts == ["sites"]:
            return 200, self._items([site])
        if len(parts) < 2 or parts[0] != "sites" or parts[1] != self.site:
            return 404, {"code": 404, "message": f"no such resource /{'/'.join(parts)}"}
        rest = parts[2:]
        if not rest:
            return 200, site
        kind = rest[0]
        if kind == "clusters":
            return self._clusters(rest[1:])
        if kind == "jobs":
            return self._jobs(method, rest[1:], query, body)
        if kind == "deployments":
            return self._deployments(method, rest[1:], body)
        return 404, {"code": 404, "message": f"no such resource {kind}"}

    def _clusters(self, rest: list[str]) -> tuple[int, Any]:
        if not rest:
            return 200, self._items([{"uid": c, "type": "cluster"} for c in self.clusters])
        if rest[0] not in self.clusters:
            return 404, {"code": 404, "message": f"no cluster {rest[0]}"}
        cluster = rest[0]
        if len(rest) == 1:
            return 200, {"uid": cluster, "type": "cluster"}
        if rest[1:] == ["nodes"]:
            return 200, self._items([self._node(cluster, f"{cluster}-{n}")
                                     for n in range(1, self.clusters[cluster] + 1)])
        node = self._node(cluster, rest[2]) if len(rest) == 3 else None
        if node is None:
            return 404, {"code": 404, "message": "no such node"}
        return 200, node

    def _jobs(self, method: str, rest: list[str], query: dict[str, list[str]],
              body: Any) -> tuple[int, Any]:
        if not rest and method == "GET":
            states = set(",".join(query.get("state", [])).split(",")) - {""}
            users = set(query.get("user", []))
            items = [self._job_view(j) for j in sorted(self.jobs.values(),
                                                        key=lambda j: j["uid"])
                     if (not states or j["state"] in states)
                     and (not users or j["user"] in users)]
            return 200, self._items(items)
        if not rest and method == "POST":
            return self._submit(body)
        try:
            job = self.jobs[int(rest[0])]
        except (ValueError, KeyError):
            return 404, {"code": 404, "message": f"no job {rest[0]}"}
        if method == "GET":
            return 200, self._job_view(job)
        if method == "DELETE":
            if job["state"] in ("waiting", "launching", "running"):
                job["state"] = "error"
                job["events"] = [{"type": "FRAG_JOB_REQUEST", "description": "deleted"}]
            return 202, {"uid": job["uid"], "status": "Delete request registered",
                         "oardel_output": f"Deleting the job = {job['uid']} ...REGISTERED."}
        return 405, {"code": 405, "message": "method not allowed"}

    def _submit(self, body: Any) -> tuple[int, Any]:
        if not isinstance(body, dict) or "command" not in body:
            return 400, {"code": 400, "message": "a job needs a command"}
        text = str(body.get("resources", "nodes=1"))
        walltime = text.split("walltime=", 1)[1] if "walltime=" in text else "1:00:00"
        wanted = [(c, int(n)) for c, n in _RESOURCE.findall(text)]
        unknown = [c for c, _ in wanted if c not in self.clusters]
        if not wanted or unknown:
            return 400, {"code": 400, "message": f"bad resources '{text}'"}
        uid = next(self.uids)
        start = 0.0
        if body.get("reservation"):
            start = time.mktime(time.strptime(str(body["reservation"]), "%Y-%m-%d %H:%M:%S"))
        job = {
            "uid": uid, "user": self.user, "user_uid": self.user, "name": body.get("name"),
            "state": "waiting", "queue": body.get("queue", "default"),
            "types": list(body.get("types") or []), "command": body["command"],
            "walltime": _seconds(walltime), "submitted_at": int(time.time()),
            "scheduled_at": int(start or time.time()), "started_at": 0,
            "assigned_nodes": [], "resources_by_type": {"cores": []}, "project": "default",
            "mode": "PASSIVE", "directory": f"/home/{self.user}", "properties": "",
            "_wanted": wanted, "_start": start, "_submitted": time.time(),
        }
        self.jobs[uid] = job
        return 201, self._job_view(job)

    def _deployments(self, method: str, rest: list[str], body: Any) -> tuple[int, Any]:
        if not rest and method == "POST":
            nodes = body.get("nodes") if isinstance(body, dict) else None
            if not nodes or not body.get("environment"):
                return 400, {"code": 400, "message": "nodes and environment are needed"}
            unknown = [n for n in nodes if n not in self.addresses]
            if unknown:
                return 400, {"code": 400, "message": f"unknown nodes {unknown}"}
            uid = f"D-{len(self.deployments) + 1:08x}-standin"
            dep = {"uid": uid, "site_uid": self.site, "user_uid": self.user,
                   "status": "processing", "nodes": list(nodes),
                   "environment": body["environment"], "key": body.get("key"),
                   "created_at": time.time(), "updated_at": int(time.time()), "result": {},
                   "links": [{"rel": "self",
                              "href": f"/stable/sites/{self.site}/deployments/{uid}"}]}
            self.deployments[uid] = dep
            return 201, dep
        if not rest:
            return 200, self._items(list(self.deployments.values()))
        dep = self.deployments.get(rest[0])
        if dep is None:
            return 404, {"code": 404, "message": f"no deployment {rest[0]}"}
        return 200, dep

    # -- serving --------------------------------------------------------------------------------
    def serve(self, port: int = 0) -> str:
        """Start answering on 127.0.0.1 in a thread; returns the API's base URL."""
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _answer(self, method: str) -> None:
                auth = self.headers.get("Authorization", "")
                expected = base64.b64encode(
                    f"{standin.user}:{standin.password}".encode()).decode()
                url = urlparse(self.path)
                if auth != f"Basic {expected}":
                    code, data = 401, {"code": 401, "message": "Unauthorized",
                                       "title": "Unauthorized"}
                else:
                    length = int(self.headers.get("Content-Length") or 0)
                    raw = self.rfile.read(length) if length else b""
                    try:
                        body = json.loads(raw) if raw else None
                    except ValueError:
                        body = None
                    code, data = standin.handle(method, url.path, parse_qs(url.query), body)
                text = json.dumps(data).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(text)))
                self.end_headers()
                self.wfile.write(text)

            def do_GET(self) -> None:  # noqa: N802 - http.server's names
                self._answer("GET")

            def do_POST(self) -> None:  # noqa: N802
                self._answer("POST")

            def do_DELETE(self) -> None:  # noqa: N802
                self._answer("DELETE")

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self.server.server_address[1]}/stable"

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None
        self.remove_nodes()


def node_cluster(uid: str) -> str:
    return uid.rsplit("-", 1)[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--dir", required=True, type=Path, help="where the nodes live")
    parser.add_argument("--cluster", action="append", default=[],
                        help="NAME:COUNT (repeat), default paravance:3")
    parser.add_argument("--site", default="rennes")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--user", default="alice")
    parser.add_argument("--password", default="secret")
    parser.add_argument("--user-key", help="a public key every node accepts (the home's)")
    args = parser.parse_args()
    clusters = {c.split(":")[0]: int(c.split(":")[1]) for c in args.cluster} or None
    key = Path(args.user_key).read_text() if args.user_key else None
    standin = StandIn(args.site, clusters, args.user, args.password, workdir=args.dir,
                      nodes=True, user_key=key)
    try:
        print(standin.serve(args.port), flush=True)
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        standin.stop()


if __name__ == "__main__":
    main()
