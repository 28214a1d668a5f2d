"""Provider ``g5k``: Grid'5000 bare-metal nodes reserved through OAR.

Its configuration schema and defaults are those of the reference documentation, so a
reservation.yaml written for it validates. Acquiring machines on this testbed is not built yet
(the module has no ``init``): ``enos up`` says so. The same ``resources`` run on this machine by
changing only ``provider: local``.
"""

LABEL = "cluster"
EXAMPLE_LABEL = "paravance"

# Keys understood besides DEFAULT_CONFIG (``resources`` is the advanced syntax).
KEYS = ("resources", "role_distribution")

DEFAULT_CONFIG = {
    "job_name": "Enos",
    "walltime": "02:00:00",
    "env_name": "debian9-x64-nfs",
    "reservation": "",
    "job_type": "deploy",
    "queue": "default",
}
