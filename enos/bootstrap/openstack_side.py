"""Bootstrap a fresh cloud with the bare necessities (idempotent).

Runs with a Python that has openstacksdk: ``python openstack_side.py SPEC.json``. SPEC holds
``cloud`` (a clouds.yaml entry: auth, region_name), ``image`` (name, aliases, path,
disk_format), ``flavors`` (name -> vcpus, ram, disk), ``public`` (cidr, gateway, start, end,
physnet), ``private`` (cidr, dns). It prints one JSON object: what it created and what it found.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import openstack


class Bootstrap:
    """Creates what is missing, notes what was found."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.created: list[str] = []
        self.found: list[str] = []

    def note(self, what: str, new: bool) -> None:
        (self.created if new else self.found).append(what)

    def roles(self) -> Any:
        for role in ("member", "reader"):
            exists = self.conn.identity.find_role(role) is not None
            if not exists:
                self.conn.identity.create_role(name=role)
            self.note(f"role {role}", not exists)
        return self.conn.identity.find_project("admin", ignore_missing=False)

    def images(self, spec: dict[str, Any]) -> None:
        for name in [spec["name"], *spec.get("aliases", [])]:
            image = self.conn.image.find_image(name)
            fresh = image is None or image.status != "active"
            if fresh:
                if image is not None:
                    self.conn.image.delete_image(image)
                self.conn.image.create_image(
                    name=name, filename=spec["path"],
                    disk_format=spec.get("disk_format", "raw"), container_format="bare",
                    visibility="public", wait=True, timeout=300,
                )
            self.note(f"image {name}", fresh)

    def flavors(self, flavors: dict[str, dict[str, int]]) -> None:
        for name, size in flavors.items():
            exists = self.conn.compute.find_flavor(name) is not None
            if not exists:
                self.conn.compute.create_flavor(name=name, vcpus=size["vcpus"],
                                                ram=size["ram"], disk=size["disk"],
                                                is_public=True)
            self.note(f"flavor {name}", not exists)

    def public(self, pub: dict[str, Any]) -> Any:
        """The public network, from the external network's free pool."""
        net = self.conn.network.find_network("public")
        self.note("network public", net is None)
        if net is None:
            net = self.conn.network.create_network(
                name="public", is_router_external=True, is_shared=False,
                provider_network_type="flat", provider_physical_network=pub["physnet"],
            )
        subnet = self.conn.network.find_subnet("public-subnet", network_id=net.id)
        self.note("subnet public-subnet", subnet is None)
        if subnet is None:
            self.conn.network.create_subnet(
                name="public-subnet", network_id=net.id, ip_version=4, cidr=pub["cidr"],
                gateway_ip=pub["gateway"], is_dhcp_enabled=False,
                allocation_pools=[{"start": pub["start"], "end": pub["end"]}],
            )
        return net

    def private(self, priv: dict[str, Any], admin: Any) -> tuple[Any, Any]:
        pnet = self.conn.network.find_network("private", project_id=admin.id)
        self.note("network private", pnet is None)
        if pnet is None:
            pnet = self.conn.network.create_network(name="private", project_id=admin.id)
        psub = self.conn.network.find_subnet("private-subnet", network_id=pnet.id)
        self.note("subnet private-subnet", psub is None)
        if psub is None:
            psub = self.conn.network.create_subnet(
                name="private-subnet", network_id=pnet.id, ip_version=4, cidr=priv["cidr"],
                is_dhcp_enabled=True, dns_nameservers=priv.get("dns") or [],
                project_id=admin.id,
            )
        return pnet, psub

    def router(self, admin: Any, public: Any, pnet: Any, psub: Any) -> None:
        router = self.conn.network.find_router("router", project_id=admin.id)
        self.note("router router", router is None)
        if router is None:
            router = self.conn.network.create_router(
                name="router", project_id=admin.id,
                external_gateway_info={"network_id": public.id},
            )
        ports = self.conn.network.ports(device_id=router.id, network_id=pnet.id)
        if not any(True for _ in ports):
            self.conn.network.add_interface_to_router(router, subnet_id=psub.id)
            self.created.append("router interface private-subnet")

    def security(self, admin: Any) -> None:
        """ICMP and SSH in the admin project's default group."""
        group = self.conn.network.find_security_group("default", project_id=admin.id)
        if group is None:
            return
        rules = list(self.conn.network.security_group_rules(security_group_id=group.id))
        for proto, port in (("icmp", None), ("tcp", 22)):
            if any(r.protocol == proto and r.direction == "ingress"
                   and (port is None or r.port_range_min == port) for r in rules):
                continue
            self.conn.network.create_security_group_rule(
                security_group_id=group.id, direction="ingress", ethertype="IPv4",
                protocol=proto, port_range_min=port, port_range_max=port,
                remote_ip_prefix="0.0.0.0/0",
            )
            self.created.append(f"security rule {proto}{'/' + str(port) if port else ''}")

    def quotas(self, admin: Any) -> None:
        self.conn.set_compute_quotas(admin.id, instances=-1, cores=-1, ram=-1, key_pairs=-1,
                                     server_groups=-1, server_group_members=-1,
                                     metadata_items=-1)
        self.conn.set_network_quotas(admin.id, network=-1, subnet=-1, port=-1, router=-1,
                                     floatingip=-1, security_group=-1,
                                     security_group_rule=-1)
        self.found.append("quotas admin (unlimited)")


def main(path: str) -> int:
    spec = json.loads(Path(path).read_text())
    boot = Bootstrap(openstack.connect(**spec["cloud"]))
    admin = boot.roles()
    boot.images(spec["image"])
    boot.flavors(spec["flavors"])
    public = boot.public(spec["public"])
    pnet, psub = boot.private(spec["private"], admin)
    boot.router(admin, public, pnet, psub)
    boot.security(admin)
    boot.quotas(admin)
    print(json.dumps({"created": boot.created, "found": boot.found}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
