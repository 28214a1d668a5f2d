"""Provider ``vagrant``: Vagrant virtual machines (VirtualBox or libvirt).

Its configuration schema and defaults are those of the reference documentation, so a
reservation.yaml written for it validates. Acquiring machines on this testbed is not built yet
(the module has no ``init``): ``enos up`` says so. The same ``resources`` run on this machine by
changing only ``provider: local``.
"""

LABEL = "size"

DEFAULT_CONFIG = {
    "backend": "virtualbox",
    "box": "generic/debian9",
    "user": "root",
}
