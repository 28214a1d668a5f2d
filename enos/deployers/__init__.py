"""The deployer registry: what installs OpenStack on the hosts of an experiment.

A deployer module defines:

- ``DEFAULT_CONFIG``: the keys of its ``deployer:`` section with their defaults;
- ``deploy(config, env, opts, tags=None, reconfigure=False) -> dict``: deploy (or converge)
  OpenStack on the inventory's hosts, write ``admin-openrc`` and ``clouds.yaml`` in the
  experiment directory, and return what ``enos info`` shows of the cloud;
- ``destroy(config, env, opts) -> None``: stop every service and remove its state (``config``
  may be None: destroy works without a valid configuration);
- ``python(config, env) -> Path``: the Python that has openstacksdk for ``enos init``.

Modules are imported only when used.
"""

from __future__ import annotations

import difflib
import importlib
from types import ModuleType
from typing import TYPE_CHECKING, Any

from enos.errors import ConfigError

if TYPE_CHECKING:
    from enos.commands.common import Options
    from enos.config.spec import Config
    from enos.experiment import Experiment

DEPLOYERS: dict[str, str] = {
    "native": "enos.deployers.native",
}

DEFAULT_DEPLOYER = "native"


def names() -> list[str]:
    return list(DEPLOYERS)


def section(config: Config) -> dict[str, Any]:
    """The ``deployer:`` section of the configuration, ``type`` always set."""
    raw = config.data.get("deployer")
    if raw is None:
        return {"type": DEFAULT_DEPLOYER}
    if isinstance(raw, str):
        return {"type": raw}
    if not isinstance(raw, dict):
        raise ConfigError(
            "'deployer' must be a mapping such as {type: native, fake_computes: 1}",
            source=str(config.path), line=config.line_of("deployer"), key="deployer",
        )
    out = dict(raw)
    out.setdefault("type", DEFAULT_DEPLOYER)
    return out


def load(config: Config) -> ModuleType:
    """The module of the configuration's deployer; a ConfigError naming the known ones."""
    name = str(section(config)["type"])
    if name == "kolla":
        raise ConfigError(
            "the kolla deployer is not available in this version of enos",
            source=str(config.path), line=config.line_of("deployer"), key="deployer",
            hint="use 'deployer: native' (OpenStack services as processes, on local or "
                 "static hosts)",
        )
    try:
        path = DEPLOYERS[name]
    except KeyError:
        close = difflib.get_close_matches(name, DEPLOYERS, n=1)
        hint = f"did you mean '{close[0]}'?" if close else f"known deployers: {', '.join(DEPLOYERS)}"
        raise ConfigError(
            f"unknown deployer '{name}'", source=str(config.path),
            line=config.line_of("deployer.type"), key="deployer.type", hint=hint,
        ) from None
    return importlib.import_module(path)


def stop(exp: Experiment, opts: Options) -> list[str]:
    """``enos destroy``: stop the OpenStack services of the experiment and drop their state.

    Computes first, then the control services, then the infrastructure. Forgets the ``os`` and
    ``init`` phases. Also stops what a failed or interrupted ``enos os`` started (the state's
    ``deployer_started``). Returns what was stopped (for the command's summary).
    """
    phase = exp.state.get("phases", {}).get("os") or {}
    name = str(phase.get("deployer") or exp.state.get("deployer_started") or "")
    if name not in DEPLOYERS:
        return []
    module = importlib.import_module(DEPLOYERS[name])
    module.destroy(None, exp, opts)
    exp.state.pop("deployer_started", None)
    exp.forget("os", "init")
    return [f"OpenStack ({name} deployer)"]
