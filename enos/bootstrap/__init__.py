"""``enos init``: give a fresh cloud the bare necessities.

A ``member`` role, an image ``cirros.uec`` (alias ``cirros``), flavors m1.tiny..m1.xlarge, a
``public`` network and ``public-subnet`` from the free pool of the ``neutron_external_interface``
network, a ``private`` network and ``private-subnet``, a ``router`` between them, ICMP and SSH
in the admin project's default security group, and unlimited quotas for admin. Idempotent.

The work is done by openstacksdk from the deployer's Python (the OpenStack virtualenv), not
from enos's own environment.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from enos.errors import EnosError
from enos.model import NEUTRON_EXTERNAL_INTERFACE
from enos.utils.fs import atomic_write, write_private

if TYPE_CHECKING:
    from enos.config.spec import Config
    from enos.experiment import Experiment
    from enos.output import Output

SCRIPT = Path(__file__).parent / "openstack_side.py"  # runs with the deployer's Python

IMAGE_NAME = "cirros.uec"
IMAGE_ALIASES = ["cirros"]
IMAGE_SIZE = 1024 * 1024  # a blank raw disk: the fake virt driver never reads it

FLAVORS: dict[str, dict[str, int]] = {
    "m1.tiny": {"vcpus": 1, "ram": 512, "disk": 1},
    "m1.small": {"vcpus": 1, "ram": 2048, "disk": 20},
    "m1.medium": {"vcpus": 2, "ram": 4096, "disk": 40},
    "m1.large": {"vcpus": 4, "ram": 8192, "disk": 80},
    "m1.xlarge": {"vcpus": 8, "ram": 16384, "disk": 160},
}

PRIVATE_CIDR = "10.0.0.0/24"


def image_file() -> Path:
    """A small blank disk image, made once per machine."""
    from enos.utils.cache import cache_dir

    path = cache_dir() / "images" / "blank-1MiB.raw"
    if not path.exists() or path.stat().st_size != IMAGE_SIZE:
        atomic_write(path, b"\0" * IMAGE_SIZE)
    return path


def spec_for(env: Experiment) -> dict[str, Any]:
    clouds_path = env.path / "clouds.yaml"  # written by every deployer (Deployer.credentials)
    if not clouds_path.exists():
        raise EnosError(f"{clouds_path} does not exist", "run 'enos os' first")
    cloud = yaml.safe_load(clouds_path.read_text())["clouds"]["enos"]
    resources = env.resources
    ext = resources.network(NEUTRON_EXTERNAL_INTERFACE) if resources else None
    if ext is None:
        raise EnosError(
            f"the experiment {env.path.name} has no '{NEUTRON_EXTERNAL_INTERFACE}' network",
            "give a network that role in reservation.yaml (provider.networks), then run "
            "'enos up' and 'enos os' again",
        )
    pool = ext.pool()
    # The APIs' VIP (several API hosts) may be in that pool when one network has both roles:
    # the public range is the longer side of it.
    vip = (env.state.get("cloud") or {}).get("vip")
    if vip in pool:
        cut = pool.index(vip)
        pool = pool[cut + 1:] if len(pool) - cut - 1 >= cut else pool[:cut]
    if len(pool) < 2:
        raise EnosError(
            f"the '{NEUTRON_EXTERNAL_INTERFACE}' network {ext.cidr} has no free address pool "
            "for the public network",
            "leave part of that network unused by hosts (start/end in provider.networks)",
        )
    image = image_file()
    from enos.utils import cache

    cache.mark_used(image.parent, env.path)
    return {
        "cloud": {"auth": cloud["auth"], "region_name": cloud.get("region_name")},
        "image": {"name": IMAGE_NAME, "aliases": IMAGE_ALIASES, "path": str(image),
                  "disk_format": "raw"},
        "flavors": FLAVORS,
        "public": {"cidr": ext.cidr, "gateway": ext.gateway, "start": pool[0],
                   "end": pool[-1], "physnet": "physnet1"},
        "private": {"cidr": PRIVATE_CIDR, "dns": [ext.dns] if ext.dns else []},
    }


def bootstrap(config: Config, env: Experiment, opts: Output) -> dict[str, Any]:
    """Run the bootstrap; return ``{"created": [...], "found": [...], "seconds": s}``."""
    from enos import deployers

    python = deployers.of(config).python(env)
    if not python.exists():
        raise EnosError(f"the OpenStack virtualenv's python {python} does not exist",
                        "run 'enos os' first (it installs it)")
    spec = spec_for(env)
    spec_path = env.path / "init" / "bootstrap.json"
    write_private(spec_path, json.dumps(spec, indent=2))
    start = time.monotonic()
    opts.say("enos init: member role, image, flavors, networks, router, quotas ...")
    from enos.ansible.runner import death_signal

    # The script dies with enos: a killed `enos init` must not go on creating beside its rerun.
    proc = subprocess.run([str(python), str(SCRIPT), str(spec_path)],
                          capture_output=True, text=True, check=False, preexec_fn=death_signal())
    if proc.returncode != 0:
        tail = "\n    ".join((proc.stderr or proc.stdout).strip().splitlines()[-12:])
        raise EnosError(f"bootstrapping the cloud failed:\n    {tail}",
                        "check the services with 'openstack --os-cloud enos ...' "
                        "(clouds.yaml is in the experiment directory), then rerun 'enos init'")
    try:
        result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        result = {"created": [], "found": []}
    result["seconds"] = round(time.monotonic() - start, 1)
    return result
