"""Network emulation as a service: it owns ``network_constraints`` and the ``tc`` phase.

The section is checked and its units read once, when reservation.yaml loads (``validate``
refuses what ``enos tc`` would); ``enos tc`` enforces the matrix; ``enos destroy`` removes the
rules through :meth:`NetemService.stop`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from enos.services.base import Service

if TYPE_CHECKING:
    from enos.config.checks import Checker
    from enos.experiment import Experiment
    from enos.output import Output


class NetemService(Service):
    section = "network_constraints"
    phase = "tc"

    def check_section(self, value: Any, groups: list[str], ck: Checker) -> tuple[Any, Any]:
        from enos.netem import section
        from enos.netem.constraints import matrix_of

        normalized = section.check(value, groups, ck)
        return normalized, matrix_of(normalized, groups, ck.error)

    def started(self, exp: Experiment) -> bool:
        # `enos tc` records tc_started before it changes any host, until the rules are removed.
        return super().started(exp) or bool(exp.state.get("tc_started"))

    def stop(self, exp: Experiment, out: Output) -> list[str]:
        from enos.netem.apply import stop

        return stop(exp, out)

    def info(self, exp: Experiment) -> dict[str, Any] | None:
        phase = exp.state.get("phases", {}).get("tc")
        if not phase:
            return None
        return {"rules": phase.get("rules"), "hosts": phase.get("hosts"),
                "rate_only": phase.get("rate_only"), "networks": phase.get("networks")}
