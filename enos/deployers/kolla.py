"""The ``kolla`` deployer: Kolla-Ansible, the original Enos's deployer on real testbeds.

Its configuration (the ``kolla``, ``kolla_repo``, ``kolla_ref``, ``registry`` and ``patches``
sections) validates, so reservation.yaml files written for the original load unchanged, and it
is the default deployer of every testbed but ``local``. Deploying with it is not built yet:
``enos os`` says so and points at ``deployer: native``.
"""

from __future__ import annotations

from enos.deployers.base import Deployer


class KollaDeployer(Deployer):
    can_deploy = False
