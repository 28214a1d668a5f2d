"""Deployers: what installs OpenStack on the hosts, one :class:`Deployer` subclass each.

The contract is :mod:`enos.deployers.base`; deployers are found through the entry point group
``enos.deployers`` (:mod:`enos.plugins`) and imported only when used. The ``deployer:`` section
of a loaded configuration always has its ``type`` (the provider's default deployer when the
file names none) and the deployer's checked options.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from enos import plugins

if TYPE_CHECKING:
    from enos.config.spec import Config
    from enos.deployers.base import Deployer
    from enos.experiment import Experiment
    from enos.output import Output


def names() -> list[str]:
    return plugins.names("deployer")


def load(name: str) -> Deployer:
    deployer: Deployer = plugins.load("deployer", name)
    return deployer


def of(config: Config) -> Deployer:
    """The deployer of a loaded configuration."""
    return load(str(config.deployer["type"]))


def recorded(exp: Experiment) -> str | None:
    """The deployer that deployed (or started deploying) the experiment's cloud."""
    phase = exp.state.get("phases", {}).get("os") or {}
    name = phase.get("deployer") or exp.state.get("deployer_started")
    return str(name) if name else None


def stop(exp: Experiment, out: Output) -> list[str]:
    """``enos destroy``: stop the experiment's OpenStack services and drop their state.

    Also stops what a failed or interrupted ``enos os`` started (``deployer_started``).
    Returns what was stopped (for the command's summary).
    """
    name = recorded(exp)
    if name is None or not plugins.registered("deployer", name):
        return []
    load(name).destroy(exp, out)
    exp.state.pop("deployer_started", None)
    exp.forget("os", "init")
    return [f"OpenStack ({name} deployer)"]
