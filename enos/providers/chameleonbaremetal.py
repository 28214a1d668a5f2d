"""Provider ``chameleonbaremetal``: Chameleon Cloud bare-metal nodes leased through Blazar.

Its configuration schema and defaults are those of the reference documentation, so a
reservation.yaml written for it validates. Acquiring machines on this testbed is not built yet
(its class cannot acquire): ``enos up`` says so. The same ``resources`` run on this machine by
changing only ``provider: local``.
"""

from __future__ import annotations

from typing import Any, ClassVar

from enos.providers.base import Provider

DEFAULTS: dict[str, Any] = {
    "lease_name": "enos-lease",
    "image": "CC-Ubuntu16.04",
    "user": "cc",
    "configure_network": False,
    "network": {"name": "sharednet1"},
    "subnet": {"name": "sharednet1-subnet"},
    "dns_nameservers": ["130.202.101.6", "130.202.101.37"],
    "walltime": "02:00:00",
    "gateway": True,
    # required
    "key_name": None,
}


class ChameleonBaremetalProvider(Provider):
    label = "node type"
    example_label = "compute_haswell"
    defaults: ClassVar[dict[str, Any]] = DEFAULTS
    keys = ("prefix",)
    can_acquire = False
