"""Provider ``vmong5k``: virtual machines on Grid'5000 nodes.

Its configuration schema and defaults are those of the reference documentation, so a
reservation.yaml written for it validates. Acquiring machines on this testbed is not built yet
(the module has no ``init``): ``enos up`` says so. The same ``resources`` run on this machine by
changing only ``provider: local``.
"""

LABEL = "cluster"

DEFAULT_CONFIG = {
    "job_name": "enos-vmong5k",
    "walltime": "02:00:00",
}

DEFAULT_FLAVOUR_BY_ROLE = {
    "control": "extra-large",
    "network": "large",
    "compute": "medium",
}
