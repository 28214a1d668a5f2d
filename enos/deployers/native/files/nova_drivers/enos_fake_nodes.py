"""Nova's fake virt driver, with several nodes per nova-compute service.

One nova-compute serves ``[enos_fake_nodes] count`` nodes named ``<host>-n1`` ..
``<host>-n<count>``, each its own hypervisor and Placement resource provider, as a compute of
Ironic does: the scheduler weighs every node, while the RPC load grows with the services only.

Loaded by nova-compute as ``compute_driver = enos_fake_nodes.FakeNodesDriver``: Nova loads its
drivers from ``nova.virt`` only, where ``install-openstack.sh`` copies this module. A node's
UUID derives from its name, so that a restarted service finds its nodes, their resource
providers and their servers again; the first node's UUID is the service's local node identity
(``compute_id`` in its state path), which Nova requires after the first start.
"""

from __future__ import annotations

import os
import time
import uuid

import nova.conf
import nova.virt.node
from nova.virt import fake
from oslo_config import cfg

CONF = nova.conf.CONF
CONF.register_opts(
    [cfg.IntOpt("count", default=1, min=1, max=2000, help="nodes this service serves")],
    group="enos_fake_nodes")

# Node UUIDs: uuid5 of this namespace and the node's name.
NAMESPACE = uuid.UUID("5f0c5b4e-3c2a-4b8e-9a43-6e6f735f6e6f")


def node_uuid(name: str) -> str:
    return str(uuid.uuid5(NAMESPACE, name))


class FakeNodesDriver(fake.FakeDriver):
    """FakeDriver serving ``[enos_fake_nodes] count`` nodes with stable UUIDs."""

    def init_host(self, host: str) -> None:
        super().init_host(host)
        names = [f"{host}-n{i}" for i in range(1, CONF.enos_fake_nodes.count + 1)]
        self._set_nodes(names)
        self._node_uuids = {name: node_uuid(name) for name in names}
        self._started = time.monotonic()
        if nova.virt.node.read_local_node_uuid() is None:
            os.makedirs(CONF.state_path, exist_ok=True)
            nova.virt.node.write_local_node_uuid(self._node_uuids[names[0]])

    def get_available_resource(self, nodename: str) -> dict:
        resources = super().get_available_resource(nodename)
        if resources:
            resources["uuid"] = self._node_uuids[nodename]
        return resources

    def get_nodenames_by_uuid(self, refresh: bool = False) -> dict[str, str]:
        return {u: name for name, u in self._node_uuids.items()}

    def get_host_uptime(self) -> str:
        minutes = int(time.monotonic() - self._started) // 60
        return (f" {time.strftime('%H:%M:%S')} up {minutes // 60}:{minutes % 60:02d},  0 users,"
                "  load average: 0.00, 0.00, 0.00")
