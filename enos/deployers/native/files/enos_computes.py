"""Wait until the expected nova-compute services are up and mapped to a cell.

Runs with the OpenStack virtualenv's python on a nova-api host:
``python enos_computes.py SPEC.json``; SPEC holds ``auth`` (auth_url, password, region),
``hosts`` (the compute services' host names), ``nodes_per_compute`` (1: each service is
its one node; M: its nodes are ``<host>-n1`` .. ``<host>-nM``), ``nova_manage`` (argv prefix of
nova-manage) and ``timeout`` (seconds, plus one per node with several nodes per service). Waits
until each service is up and each node has its resource provider, then maps them to the cell
(``discover_hosts``). Prints ``ok`` or ``changed`` (hosts were mapped); on timeout
prints which hosts are missing and exits 1.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import openstack


def main(path: str) -> int:
    spec = json.loads(Path(path).read_text())
    auth = spec["auth"]
    conn = openstack.connect(
        auth_url=auth["auth_url"], username="admin", password=auth["password"],
        project_name="admin", user_domain_name="Default", project_domain_name="Default",
        region_name=auth["region"],
    )
    expected = set(spec["hosts"])
    per_service = int(spec.get("nodes_per_compute") or 1)
    nodes = expected if per_service == 1 else \
        {f"{h}-n{i}" for h in expected for i in range(1, per_service + 1)}
    timeout = float(spec.get("timeout", 300)) + (len(nodes) if per_service > 1 else 0)
    deadline = time.time() + timeout
    while True:
        up = {s.host for s in conn.compute.services(binary="nova-compute")
              if s.state == "up" and s.status == "enabled"}
        # A compute registers its node (which discover_hosts maps to the cell) before the
        # node's resource provider, named after it: the node exists once its provider does.
        # (The compute API lists hypervisors only once they are mapped.)
        providers = {rp.name for rp in conn.placement.resource_providers()} \
            if not expected - up else set()
        missing = (expected - up) or (nodes - providers)
        if not missing:
            break
        if time.time() > deadline:
            names = ", ".join(sorted(missing)[:10])
            what = "without a resource provider" if not expected - up else "not up"
            print(json.dumps({"enos_service_failure": "nova-compute",
                              "what": f"{what} after {timeout:.0f} s: {names}"
                                      + (f" (+{len(missing) - 10})" if len(missing) > 10 else ""),
                              "log": spec.get("log_hint"), "tail": ""}))
            return 1
        time.sleep(0.5 if len(nodes) <= 50 else 2.0)  # listing many providers is not free
    # Maps the hosts of the compute nodes not mapped yet (idempotent: nothing to do prints
    # nothing); one nova-manage, the slow part of this wait.
    proc = subprocess.run([*spec["nova_manage"], "cell_v2", "discover_hosts", "--verbose"],
                          check=False, capture_output=True, text=True)
    if proc.returncode != 0:
        print(json.dumps({"enos_service_failure": "nova-compute",
                          "what": "nova-manage cell_v2 discover_hosts failed",
                          "log": spec.get("log_hint"),
                          "tail": (proc.stdout + proc.stderr)[-1500:]}))
        return 1
    print("changed" if "Creating host mapping" in proc.stdout else "ok")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
