"""An ML2 mechanism driver that binds every port it is asked to bind.

Ports get ``vif_type`` ``ovs`` and status ACTIVE at once: no L2 agent has to wire them. With
Nova's fake virt driver this is all a server needs to boot.
"""

from __future__ import annotations

from typing import Any

from neutron_lib import constants
from neutron_lib.api.definitions import portbindings
from neutron_lib.plugins.ml2 import api


class BindAllMechanismDriver(api.MechanismDriver):
    """Bind the first segment offered, whatever the host."""

    def initialize(self) -> None:
        return None

    @property
    def connectivity(self) -> str:
        return str(portbindings.CONNECTIVITY_L2)

    def bind_port(self, context: Any) -> None:
        for segment in context.segments_to_bind:
            context.set_binding(
                segment[api.ID],
                portbindings.VIF_TYPE_OVS,
                {portbindings.CAP_PORT_FILTER: True, portbindings.OVS_HYBRID_PLUG: False},
                status=constants.PORT_STATUS_ACTIVE,
            )
            return

    def check_vlan_transparency(self, context: Any) -> bool:
        return True
