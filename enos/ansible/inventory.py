"""Write the Ansible inventory of an experiment (``<experiment>/multinode``).

The file has one group per role with its hosts and their variables, then the service-group
template: enos's default (``inventories/inventory.sample``) or the user's ``inventory:`` file,
which maps OpenStack services onto the roles. ``group_vars/all.yml`` beside it carries the
experiment-wide variables (networks, the ``kolla`` section, paths).
"""

from __future__ import annotations

import configparser
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from enos.errors import ConfigError
from enos.model import Host, Resources
from enos.utils.fs import atomic_write

if TYPE_CHECKING:
    from enos.config.spec import Config

DEFAULT_TEMPLATE = Path(__file__).parent / "inventories" / "inventory.sample"

_SAFE = re.compile(r"^[A-Za-z0-9_./:@+-]+$")


def _quote(value: Any) -> str:
    text = str(value)
    return text if _SAFE.match(text) else '"' + text.replace('"', '\\"') + '"'


def host_vars(host: Host) -> dict[str, Any]:
    """The variables of one host: connection, and per network role its interface and address."""
    out: dict[str, Any] = {
        "ansible_host": host.address,
        "ansible_port": host.port,
        "ansible_user": host.user,
        "enos_address": host.address,
    }
    if host.keyfile:
        out["ansible_ssh_private_key_file"] = host.keyfile
    for role, iface in sorted(host.interfaces.items()):
        out[role] = iface
    for role, addr in sorted(host.addresses.items()):
        out[f"{role}_address"] = addr
    for key, value in sorted(host.extra.items()):
        out[key if key.startswith(("enos_", "ansible_")) else f"enos_{key}"] = value
    if host.groups:
        out["enos_groups"] = ",".join(host.groups)
    return out


def template_text(config: Config) -> tuple[str, Path]:
    """The service-group template and where it comes from; checked to be a valid INI file."""
    path = config.inventory or DEFAULT_TEMPLATE
    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigError(
            f"cannot read the inventory {path}: {exc.strerror}",
            source=str(config.path), line=config.line_of("inventory"), key="inventory",
            hint="fix the path (relative to reservation.yaml) or remove the key for the default",
        ) from None
    parser = configparser.ConfigParser(allow_no_value=True, delimiters=("=",), strict=False)
    try:
        parser.read_string(text, source=str(path))
    except configparser.Error as exc:
        raise ConfigError(
            f"the inventory {path} is not an Ansible INI inventory: {exc}",
            source=str(config.path), line=config.line_of("inventory"), key="inventory",
            hint="start from enos's inventory.sample",
        ) from None
    return text, path


def render(config: Config, resources: Resources) -> str:
    """The whole inventory text."""
    template, source = template_text(config)
    by_role = resources.by_role()
    lines = ["# Written by 'enos up': role groups with their hosts, then the service groups",
             f"# of {source}.", ""]
    for role in sorted(by_role):
        lines.append(f"[{role}]")
        for host in by_role[role]:
            hv = " ".join(f"{k}={_quote(v)}" for k, v in host_vars(host).items())
            lines.append(f"{host.alias} {hv}")
        lines.append("")
    # Topology groups become groups too, so that plays can target them.
    for group, hosts in sorted(resources.by_group().items()):
        if group in by_role:
            continue
        lines.append(f"[{group}]")
        lines += [h.alias for h in hosts]
        lines.append("")
    lines.append(template)
    return "\n".join(lines)


def group_vars(config: Config, resources: Resources, expdir: Path) -> dict[str, Any]:
    nets = []
    for net in resources.networks:
        nets.append({
            "roles": net.roles, "cidr": net.cidr, "gateway": net.gateway, "dns": net.dns,
            "start": net.start, "end": net.end, "extra_ips": net.extra_ips,
        })
    out: dict[str, Any] = dict(config.data.get("kolla") or {})
    out.update({
        "enos_experiment_dir": str(expdir),
        "enos_config_dir": str(config.cwd),
        "enos_provider": config.provider_type,
        "enos_networks": nets,
    })
    return out


def write(config: Config, resources: Resources, expdir: Path) -> Path:
    """Write ``multinode`` and ``group_vars/all.yml`` in ``expdir``; return the inventory path."""
    path = expdir / "multinode"
    atomic_write(path, render(config, resources))
    gv = yaml.safe_dump(group_vars(config, resources, expdir), sort_keys=True)
    atomic_write(expdir / "group_vars" / "all.yml", "# Written by 'enos up'.\n" + gv)
    return path
