"""Provider ``chameleonkvm``: Chameleon Cloud KVM servers.

Its configuration schema and defaults are those of the reference documentation, so a
reservation.yaml written for it validates. Acquiring machines on this testbed is not built yet
(its class cannot acquire): ``enos up`` says so. The same ``resources`` run on this machine by
changing only ``provider: local``.
"""

from __future__ import annotations

from typing import Any, ClassVar

from enos.providers.base import Provider

DEFAULTS: dict[str, Any] = {
    "configure_network": True,
    "network": {"name": "enos-network"},
    "subnet": {"name": "enos-subnet", "cidr": "10.87.23.0/24"},
    "allocation_pool": {"start": "10.87.23.10", "end": "10.87.23.100"},
    "gateway": True,
    "image": "CC-Ubuntu16.04",
    "user": "cc",
    "dns_nameservers": ["129.114.97.1", "129.114.97.2", "129.116.84.203"],
    # required
    "key_name": None,
}


class ChameleonKvmProvider(Provider):
    label = "flavor"
    example_label = "m1.medium"
    defaults: ClassVar[dict[str, Any]] = DEFAULTS
    keys = ("prefix",)
    can_acquire = False
