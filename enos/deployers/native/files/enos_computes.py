"""Wait until the expected nova-compute services are up and mapped to a cell.

Runs with the OpenStack virtualenv's python on a nova-api host:
``python enos_computes.py SPEC.json``; SPEC holds ``auth`` (auth_url, password, region),
``hosts`` (the compute host names), ``nova_manage`` (argv prefix of nova-manage) and
``timeout``. Prints ``ok`` or ``changed`` (hosts were mapped); on timeout prints which hosts
are missing and exits 1.
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
    deadline = time.time() + float(spec.get("timeout", 300))
    changed = False
    missing = set(expected)
    while True:
        up = {s.host for s in conn.compute.services(binary="nova-compute")
              if s.state == "up" and s.status == "enabled"}
        missing = expected - up
        if not missing:
            unmapped = expected - _mapped(spec["nova_manage"])
            if not unmapped:
                break
            subprocess.run([*spec["nova_manage"], "cell_v2", "discover_hosts"],
                           check=False, capture_output=True)
            changed = True
            missing = unmapped
        if time.time() > deadline:
            names = ", ".join(sorted(missing)[:10])
            what = "not mapped to a cell" if not expected - up else "not up"
            print(json.dumps({"enos_service_failure": "nova-compute",
                              "what": f"{what} after {spec.get('timeout', 300)} s: {names}",
                              "log": spec.get("log_hint"), "tail": ""}))
            return 1
        time.sleep(2)
    print("changed" if changed else "ok")
    return 0


def _mapped(nova_manage: list[str]) -> set[str]:
    """Compute hosts mapped to a cell (``nova-manage cell_v2 list_hosts``, a table)."""
    proc = subprocess.run([*nova_manage, "cell_v2", "list_hosts"], check=False,
                          capture_output=True, text=True)
    hosts = set()
    for line in proc.stdout.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and not line.startswith("+"):
            hosts.add(cells[2])
    return hosts


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
