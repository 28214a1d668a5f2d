"""Register the service users, services and endpoints in Keystone (idempotent).

Runs with the OpenStack virtualenv's python: ``python enos_catalog.py SPEC.json``. SPEC holds
``auth`` (auth_url, password of admin, region) and ``services``: a list of
``{name, type, url, user, password}``. Prints ``changed`` or ``ok``.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import openstack


def connect(auth: dict[str, Any]) -> Any:
    deadline = time.time() + 60
    while True:
        try:
            conn = openstack.connect(
                auth_url=auth["auth_url"], username="admin", password=auth["password"],
                project_name="admin", user_domain_name="Default",
                project_domain_name="Default", region_name=auth["region"],
                identity_interface="public",
            )
            conn.identity.get_token()
            return conn
        except Exception:
            if time.time() > deadline:
                raise
            time.sleep(1)


def main(path: str) -> int:
    spec = json.loads(Path(path).read_text())
    conn = connect(spec["auth"])
    ident = conn.identity
    region = spec["auth"]["region"]
    changed = False

    domain = ident.find_domain("default", ignore_missing=False)
    project = ident.find_project("service", domain_id=domain.id)
    if project is None:
        project = ident.create_project(name="service", domain_id=domain.id,
                                       description="Service users")
        changed = True
    roles = {}
    for role_name in ("admin", "service", "member", "reader"):
        role = ident.find_role(role_name)
        if role is None:
            role = ident.create_role(name=role_name)
            changed = True
        roles[role_name] = role

    services = {s.type: s for s in ident.services()}
    endpoints = list(ident.endpoints())
    users = {u.name: u for u in ident.users(domain_id=domain.id)}
    for svc in spec["services"]:
        user = users.get(svc["user"])
        if user is None:
            user = ident.create_user(name=svc["user"], password=svc["password"],
                                     domain_id=domain.id, default_project_id=project.id)
            users[svc["user"]] = user
            changed = True
        for role_name in ("admin", "service"):
            if not ident.validate_user_has_project_role(project, user, roles[role_name]):
                ident.assign_project_role_to_user(project, user, roles[role_name])
                changed = True
        service = services.get(svc["type"])
        if service is None:
            service = ident.create_service(name=svc["name"], type=svc["type"], is_enabled=True)
            services[svc["type"]] = service
            changed = True
        for interface in ("public", "internal", "admin"):
            found = [e for e in endpoints
                     if e.service_id == service.id and e.interface == interface]
            if found and found[0].url == svc["url"]:
                continue
            if found:
                ident.update_endpoint(found[0], url=svc["url"])
            else:
                ident.create_endpoint(service_id=service.id, interface=interface,
                                      url=svc["url"], region_id=region, is_enabled=True)
            changed = True
    print("changed" if changed else "ok")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
