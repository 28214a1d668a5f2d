"""What ``enos destroy`` stops: every service that started something, then OpenStack.

Services (network emulation, benchmarks, and plug-ins) are stopped last registered first,
each if :meth:`enos.services.base.Service.started` says something of it may run (its phase is
done, or it was deployed, even half-way); then the deployer that deployed (or started to
deploy: ``deployer_started`` in the state) the cloud stops it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from enos.experiment import Experiment
    from enos.output import Output


def run(exp: Experiment, out: Output) -> list[str]:
    from enos import deployers, services
    from enos.ansible.runner import close_connections

    stopped = services.stop_all(exp, out) + deployers.stop(exp, out)
    if close_connections(exp.path):
        stopped.append("the SSH connections to the hosts")
    return stopped


def forget_machines(exp: Experiment) -> None:
    """Drop every phase that needs the machines (after they are released or replaced)."""
    from enos import services
    from enos.ansible.runner import close_connections

    exp.forget("up", "os", "init", *services.phases())
    # A run after `teardown.run` (the provider's own) may have opened connections again.
    close_connections(exp.path)
