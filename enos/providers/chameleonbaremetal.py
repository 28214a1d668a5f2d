"""Provider ``chameleonbaremetal``: Chameleon Cloud bare-metal nodes leased through Blazar.

Its configuration schema and defaults are those of the reference documentation, so a
reservation.yaml written for it validates. Acquiring machines on this testbed is not built yet
(the module has no ``init``): ``enos up`` says so. The same ``resources`` run on this machine by
changing only ``provider: local``.
"""

LABEL = "node type"
EXAMPLE_LABEL = "compute_haswell"

# Keys understood besides DEFAULT_CONFIG.
KEYS = ("prefix",)

DEFAULT_CONFIG = {
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
