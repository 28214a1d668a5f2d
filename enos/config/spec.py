"""The validated configuration, as the phases see it.

:func:`enos.config.load_config` reads reservation.yaml, checks it and returns a :class:`Config`.
Phases never read the YAML themselves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from enos.errors import ConfigError


def nearest_line(lines: dict[str, int], key: str) -> int | None:
    """The line of ``key`` (dotted path) in ``lines``, or of its nearest parent that has one."""
    while key:
        if key in lines:
            return lines[key]
        key = key.rpartition(".")[0]
    return None


@dataclass
class MachineSpec:
    """``number`` machines that carry ``roles``.

    ``label`` is the first level of the basic syntax (a Grid'5000 cluster, a Vagrant size, an
    OpenStack flavor) or the ``cluster``/``flavor``/``flavour`` of the advanced syntax; ``group`` is
    the topology group (None without a topology); ``networks`` the network roles the machines are
    attached to; ``extra`` the other keys of an advanced ``machines`` entry.
    """

    roles: list[str]
    number: int
    label: str | None = None
    group: str | None = None
    networks: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Config:
    """A loaded reservation.yaml.

    - ``path``: the absolute path of the file; ``cwd`` its directory (relative paths in the file
      are relative to it).
    - ``raw``: the file's content as YAML gave it (anchors resolved).
    - ``data``: ``raw`` with defaults merged in (``provider`` is a mapping with ``type`` and the
      provider's defaults); this is what ``enos info`` shows and what Ansible receives.
    - ``provider``: ``data['provider']``.
    - ``machines``: what to acquire, for providers that acquire machines (not ``static``).
    - ``static_hosts``: role -> list of host mappings (address, alias, user, keyfile, port), for
      the ``static`` provider.
    - ``groups``: topology group names, expanded (``grp[2-4]`` -> grp2, grp3, grp4), in file order.
    - ``inventory``: the user's inventory file (absolute), or None for the default template.
    - ``lines``: dotted key path -> 1-based line in the file, for errors raised by later phases.
    - ``warnings``: what looked odd but is accepted (printed by ``enos validate``).
    - ``deployer``: ``data['deployer']``, a mapping with ``type`` (the deployer plug-in's name)
      and its checked options.
    - ``parsed``: section -> what its owning service read from it (units, expanded groups),
      e.g. ``parsed['network_constraints']`` is the network emulation's matrix.

    Later phases raise errors about the file with :meth:`error`, which names the file and line.
    """

    path: Path
    raw: dict[str, Any]
    data: dict[str, Any]
    machines: list[MachineSpec] = field(default_factory=list)
    static_hosts: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    groups: list[str] = field(default_factory=list)
    inventory: Path | None = None
    lines: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    parsed: dict[str, Any] = field(default_factory=dict)

    @property
    def cwd(self) -> Path:
        return self.path.parent

    @property
    def provider(self) -> dict[str, Any]:
        return self.data["provider"]

    @property
    def provider_type(self) -> str:
        return self.data["provider"]["type"]

    @property
    def deployer(self) -> dict[str, Any]:
        return self.data["deployer"]

    @property
    def roles(self) -> list[str]:
        """Every role the file asks for, in file order."""
        out: list[str] = []
        for spec in self.machines:
            out.extend(role for role in spec.roles if role not in out)
        out.extend(role for role in self.static_hosts if role not in out)
        return out

    @property
    def network_constraints(self) -> dict[str, Any] | None:
        return self.data.get("network_constraints")

    def line_of(self, key: str) -> int | None:
        """The line of ``key`` (dotted path) or of its nearest parent that has one."""
        return nearest_line(self.lines, key)

    def error(self, key: str, message: str, hint: str | None = None) -> ConfigError:
        """A :class:`ConfigError` about ``key`` (dotted path) of this file, with its line."""
        return ConfigError(
            message, source=display_path(self.path), line=self.line_of(key), key=key or None,
            hint=hint,
        )


def display_path(path: Path) -> str:
    """``path`` relative to the working directory when it is below it, absolute otherwise."""
    try:
        return str(path.relative_to(Path.cwd()))
    except (ValueError, OSError):
        return str(path)


def machine_aliases(machines: list[MachineSpec]) -> list[tuple[str, MachineSpec]]:
    """Every machine with its alias: its group and first role, numbered per such name
    (``compute-1``, ``grp2-compute-1``), in file order."""
    out: list[tuple[str, MachineSpec]] = []
    counters: dict[str, int] = {}
    for spec in machines:
        base = spec.roles[0] if spec.roles else "host"
        if spec.group:
            base = f"{spec.group}-{base}"
        for _ in range(spec.number):
            counters[base] = counters.get(base, 0) + 1
            out.append((f"{base}-{counters[base]}", spec))
    return out
