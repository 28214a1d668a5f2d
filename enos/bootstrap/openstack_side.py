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

import openstack


def main(path: str) -> int:
    spec = json.loads(Path(path).read_text())
    conn = openstack.connect(**spec["cloud"])
    created: list[str] = []
    found: list[str] = []

    def note(kind: str, name: str, new: bool) -> None:
        (created if new else found).append(f"{kind} {name}")

    # Roles.
    for role in ("member", "reader"):
        exists = conn.identity.find_role(role) is not None
        if not exists:
            conn.identity.create_role(name=role)
        note("role", role, not exists)
    admin = conn.identity.find_project("admin", ignore_missing=False)

    # Image and its aliases.
    image_spec = spec["image"]
    for name in [image_spec["name"], *image_spec.get("aliases", [])]:
        image = conn.image.find_image(name)
        if image is None or image.status != "active":
            if image is not None:
                conn.image.delete_image(image)
            conn.image.create_image(
                name=name, filename=image_spec["path"],
                disk_format=image_spec.get("disk_format", "raw"), container_format="bare",
                visibility="public", wait=True, timeout=300,
            )
        note("image", name, image is None or image.status != "active")

    # Flavors.
    for name, size in spec["flavors"].items():
        exists = conn.compute.find_flavor(name) is not None
        if not exists:
            conn.compute.create_flavor(name=name, vcpus=size["vcpus"], ram=size["ram"],
                                       disk=size["disk"], is_public=True)
        note("flavor", name, not exists)

    # Public network, from the external network's free pool.
    pub = spec["public"]
    net = conn.network.find_network("public")
    new = net is None
    if net is None:
        net = conn.network.create_network(
            name="public", is_router_external=True, is_shared=False,
            provider_network_type="flat", provider_physical_network=pub["physnet"],
        )
    note("network", "public", new)
    subnet = conn.network.find_subnet("public-subnet", network_id=net.id)
    if subnet is None:
        subnet = conn.network.create_subnet(
            name="public-subnet", network_id=net.id, ip_version=4, cidr=pub["cidr"],
            gateway_ip=pub["gateway"], is_dhcp_enabled=False,
            allocation_pools=[{"start": pub["start"], "end": pub["end"]}],
        )
        created.append("subnet public-subnet")
    else:
        found.append("subnet public-subnet")

    # Private network.
    priv = spec["private"]
    pnet = conn.network.find_network("private", project_id=admin.id)
    if pnet is None:
        pnet = conn.network.create_network(name="private", project_id=admin.id)
        created.append("network private")
    else:
        found.append("network private")
    psub = conn.network.find_subnet("private-subnet", network_id=pnet.id)
    if psub is None:
        psub = conn.network.create_subnet(
            name="private-subnet", network_id=pnet.id, ip_version=4, cidr=priv["cidr"],
            is_dhcp_enabled=True, dns_nameservers=priv.get("dns") or [],
            project_id=admin.id,
        )
        created.append("subnet private-subnet")
    else:
        found.append("subnet private-subnet")

    # Router between them.
    router = conn.network.find_router("router", project_id=admin.id)
    if router is None:
        router = conn.network.create_router(
            name="router", project_id=admin.id,
            external_gateway_info={"network_id": net.id},
        )
        created.append("router router")
    else:
        found.append("router router")
    ports = conn.network.ports(device_id=router.id, network_id=pnet.id)
    if not any(True for _ in ports):
        conn.network.add_interface_to_router(router, subnet_id=psub.id)
        created.append("router interface private-subnet")

    # Security rules: ICMP and SSH in the admin project's default group.
    group = conn.network.find_security_group("default", project_id=admin.id)
    if group is not None:
        rules = list(conn.network.security_group_rules(security_group_id=group.id))
        for proto, port in (("icmp", None), ("tcp", 22)):
            if any(r.protocol == proto and r.direction == "ingress"
                   and (port is None or r.port_range_min == port) for r in rules):
                continue
            conn.network.create_security_group_rule(
                security_group_id=group.id, direction="ingress", ethertype="IPv4",
                protocol=proto, port_range_min=port, port_range_max=port,
                remote_ip_prefix="0.0.0.0/0",
            )
            created.append(f"security rule {proto}{'/' + str(port) if port else ''}")

    # Open quotas for admin.
    conn.set_compute_quotas(admin.id, instances=-1, cores=-1, ram=-1, key_pairs=-1,
                            server_groups=-1, server_group_members=-1, metadata_items=-1)
    conn.set_network_quotas(admin.id, network=-1, subnet=-1, port=-1, router=-1,
                            floatingip=-1, security_group=-1, security_group_rule=-1)
    found.append("quotas admin (unlimited)")

    print(json.dumps({"created": created, "found": found}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
