"""Loading reservation.yaml: parse, check every section, merge the provider's defaults.

The schema is the original Enos's (see the Provider, Customizations and Network Emulation
documentation) plus ``deployer``. :func:`load_config` is the only entry point phases use.

Sections and what is checked:

- ``provider``: a name or a mapping with ``type``; defaults to ``local``. The provider plug-in
  (:class:`enos.providers.base.Provider`) owns the section: its ``defaults`` are overlaid by
  the user's keys (a key whose default is None is required), its ``check_section`` checks
  its own keys, and its ``read_layout`` reads ``resources`` / ``topology`` /
  ``provider.resources`` (see :mod:`enos.config.resources`).
- ``deployer``: the deployer plug-in named by ``type`` (default: the provider's
  ``default_deployer``) checks its options (:meth:`enos.deployers.base.Deployer.check_section`).
- a section owned by a service (``network_constraints``: the network emulation), checked by
  :meth:`enos.services.base.Service.check_section`, which also reads its units: the parsed
  form is ``Config.parsed[section]``.
- ``registry``, ``patches``: see :mod:`enos.config.sections`.
- ``inventory``: a path relative to the file's directory; it must exist.
- ``kolla`` (free mapping), ``kolla_repo``, ``kolla_ref``, ``kolla-ansible``,
  ``docker_version``, ``enable_monitoring``, ``hosts`` (YAML anchors only).

Other top-level keys are kept and passed on (as Kolla variables), unless they look like a typo
of one of the keys above.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from enos import services
from enos.config import sections
from enos.config.checks import Checker, check_like
from enos.config.spec import Config, display_path
from enos.config.yamlio import parse
from enos.errors import ConfigError, EnosError

if TYPE_CHECKING:
    from enos.deployers.base import Deployer
    from enos.providers.base import Provider

# The top-level keys enos reads besides the sections that services own.
TOP_LEVEL_KEYS = (
    "provider",
    "resources",
    "topology",
    "hosts",
    "inventory",
    "registry",
    "enable_monitoring",
    "kolla",
    "kolla_repo",
    "kolla_ref",
    "kolla-ansible",
    "docker_version",
    "patches",
    "deployer",
)

# The inventory every example of the original documentation names. When the file has no such
# file next to it, the default template is used, as the original did.
DOCUMENTED_INVENTORY = "inventories/inventory.sample"

# Keys every provider understands besides its own.
_COMMON_PROVIDER_KEYS = ("type", "resources")


def load_config(path: str | os.PathLike[str]) -> Config:
    """Read, check and normalize the reservation file at ``path``.

    Raises :class:`ConfigError` (file, line, key, hint) for anything wrong in it.
    """
    from enos.utils.fs import UnreadableFile, read_bounded

    path = _user_path(path)
    source = display_path(path)
    try:
        text = read_bounded(path, what="reservation file")
    except UnreadableFile as exc:
        hint = exc.hint
        if exc.message == "no such file":
            hint = "write a sample with `enos new`, or point to your file with `enos -f FILE`"
        raise ConfigError(exc.message, source=source, line=exc.line, hint=hint) from None
    return loads_config(text, path)


def loads_config(text: str, path: str | os.PathLike[str]) -> Config:
    """Like :func:`load_config` for content already read; ``path`` locates relative paths."""
    path = _user_path(path)
    source = display_path(path)
    doc = parse(text, source)
    ck = Checker(source, doc.lines, doc.numbers)
    raw = doc.data
    if raw is None:
        raise ConfigError("the file is empty", source=source,
                          hint="write a sample with `enos new --provider NAME`")
    if not isinstance(raw, dict):
        raise ck.error("", "expected a mapping of keys (provider, resources, ...) at the top",
                       "start from a sample: `enos new -o -`")

    data: dict[str, Any] = _string_keys(raw)
    owned = services.sections()
    ck.known_keys(data, "", (*TOP_LEVEL_KEYS, *owned))

    provider = _provider(data, ck)
    _kolla(data, ck)  # before the deployer, which may read kolla_ref or openstack_release
    data["deployer"] = _deployer(data, provider, ck)
    data["registry"] = sections.registry(data.get("registry"), ck)
    data["enable_monitoring"] = (
        ck.boolean(data["enable_monitoring"], "enable_monitoring")
        if data.get("enable_monitoring") is not None else False
    )
    if "patches" in data:
        data["patches"] = sections.patches(data["patches"], ck)
    if "hosts" in data and not isinstance(data["hosts"], (dict, list)):
        raise ck.error("hosts", "expected a mapping of hosts (the targets of YAML anchors)",
                       "write `hosts: {1: &id001 {address: 10.0.0.1}}` or remove the key")
    inventory = _inventory(data.get("inventory"), path.parent, ck)

    layout = provider.read_layout(data, path.parent, ck)
    parsed: dict[str, Any] = {}
    for key, service in owned.items():
        if key in data:
            data[key], parsed[key] = service.check_section(data[key], layout.groups, ck)

    config = Config(
        path=path,
        raw=raw,
        data=data,
        machines=layout.machines,
        static_hosts=layout.static_hosts,
        groups=layout.groups,
        inventory=inventory,
        lines=dict(doc.lines),
        warnings=ck.warnings,
        parsed=parsed,
    )
    try:
        provider.validate(config)
    except ConfigError:
        raise
    except EnosError as exc:  # a provider's own check: still a mistake in the file
        raise ConfigError(exc.message, hint=exc.hint) from None
    return config


def _user_path(path: str | os.PathLike[str]) -> Path:
    """``path`` absolute, ``~`` expanded; a ConfigError for an unknown user or a path too long."""
    from enos.utils.fs import UnreadableFile, check_path_length

    try:
        check_path_length(path)
        return Path(path).expanduser().absolute()
    except UnreadableFile as exc:
        raise ConfigError(exc.message, source=str(path)[:80] + "...", hint=exc.hint) from None
    except RuntimeError:  # ~user of no such user
        raise ConfigError("no such user for '~' in the path", source=str(path),
                          hint="write the path without '~USER'") from None


def _string_keys(value: Any) -> Any:
    """A deep copy of ``value`` whose mapping keys are all strings (``hosts: {1: ...}``), so
    that the data sorts and serializes as JSON like any other."""
    if isinstance(value, dict):
        return {k if isinstance(k, str) else str(k): _string_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_string_keys(item) for item in value]
    return copy.deepcopy(value)


# -- provider and deployer -----------------------------------------------------------------
def _plugin(kind: str, name: str, key: str, ck: Checker) -> Any:
    from enos import plugins

    try:
        return plugins.load(kind, name)
    except EnosError as exc:
        raise ck.error(key, exc.message, exc.hint) from None


def _provider(data: dict[str, Any], ck: Checker) -> Provider:
    """Set ``data['provider']`` to the provider's defaults overlaid by the user's mapping."""
    from enos.providers import DEFAULT_PROVIDER

    value = data.get("provider", DEFAULT_PROVIDER)
    example = "`provider: local` or `provider: {type: g5k, ...}`"
    if isinstance(value, str):
        user: dict[str, Any] = {"type": value}
    elif isinstance(value, dict):
        user = dict(value)
        if user.get("type") is None:
            raise ck.error("provider", "the provider mapping has no 'type'",
                           "add `type: NAME` under provider:, e.g. `type: local`")
    else:
        raise ck.error("provider", "expected a provider name or a mapping with 'type'",
                       f"write {example}")
    name = ck.string(user["type"], "provider.type", "a provider name")
    key = "provider.type" if "provider.type" in ck.lines else "provider"
    provider: Provider = _plugin("provider", name, key, ck)
    defaults = provider.defaults

    known_keys = set(defaults) | set(_COMMON_PROVIDER_KEYS) | set(provider.keys)
    ck.known_keys(user, "provider", sorted(known_keys), warn=True)

    for key, default in defaults.items():
        if key in user and user[key] is not None:
            user[key] = check_like(default, user[key], f"provider.{key}", ck)
    provider.check_section(user, ck)
    merged: dict[str, Any] = {"type": name}
    merged.update(copy.deepcopy(defaults))
    merged.update(user)
    merged["type"] = name

    missing = [key for key, default in defaults.items()
               if default is None and merged.get(key) is None]
    if missing:
        names_ = " and ".join(", ".join(f"'{k}'" for k in missing).rsplit(", ", 1))
        keys = ", ".join(f"{k}: ..." for k in missing)
        hint = (f"add `{keys}` under provider:" if isinstance(value, dict) else
                f"write the provider as a mapping: `provider: {{type: {name}, {keys}}}`")
        raise ck.error("provider", f"the {name} provider needs {names_}", hint)
    data["provider"] = merged
    return provider


def _deployer(data: dict[str, Any], provider: Provider, ck: Checker) -> dict[str, Any]:
    """``native``, ``kolla`` or ``{type: native, fake_computes: 2, ...}`` -> a mapping with
    ``type`` first and the deployer's checked options."""
    value = data.get("deployer")
    if value is None:
        value = {}
    elif isinstance(value, str):
        value = {"type": value}
    section = ck.mapping(value, "deployer", "`deployer: native` or `deployer: {type: native}`")
    name = section.get("type")
    key = "deployer.type" if "deployer.type" in ck.lines else "deployer"
    name = provider.default_deployer if name is None else ck.string(name, key, "a deployer name")
    deployer: Deployer = _plugin("deployer", name, key, ck)
    options = deployer.check_section({k: v for k, v in section.items() if k != "type"}, data, ck)
    return {"type": name, **options}


# -- small top-level sections ---------------------------------------------------------------
def _kolla(data: dict[str, Any], ck: Checker) -> None:
    kolla = data.get("kolla")
    if kolla is None:
        data["kolla"] = {}
    else:
        ck.mapping(kolla, "kolla", "`kolla: {enable_heat: 'no'}`")
    for key in ("kolla_repo", "kolla_ref", "kolla-ansible", "docker_version"):
        if data.get(key) is not None:
            data[key] = ck.text(data[key], key, "a text value")


def _inventory(value: Any, cwd: Path, ck: Checker) -> Path | None:
    if value is None:
        return None
    from enos.utils.fs import UnreadableFile, check_path_length

    text = ck.string(value, "inventory", "a path to an inventory file")
    try:
        check_path_length(text)
        path = Path(text).expanduser()
    except UnreadableFile as exc:
        raise ck.error("inventory", exc.message, exc.hint) from None
    except RuntimeError:
        user = text[1:].split("/", 1)[0]
        raise ck.error("inventory", f"no user '{user}' on this machine for '~{user}'",
                       "write the path without '~USER', or relative to the configuration "
                       "file's directory") from None
    if not path.is_absolute():
        path = cwd / path
    try:
        check_path_length(path)
        is_file = path.is_file()
    except (UnreadableFile, OSError, ValueError) as exc:
        raise ck.error("inventory", f"cannot use the inventory path: {exc}",
                       "give a shorter path to an existing file") from None
    if is_file:
        return path.resolve()
    if Path(text) == Path(DOCUMENTED_INVENTORY):
        ck.warn("inventory", f"no file {text} next to the configuration: the default "
                "inventory is used")
        return None
    raise ck.error("inventory", f"no inventory file at {path}",
                   "give a path relative to the configuration file's directory, or remove "
                   "the key to use the default inventory")
