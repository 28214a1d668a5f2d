"""Services: what an experiment runs on its hosts besides OpenStack.

Each service is a :class:`enos.services.base.Service` registered in the entry point group
``enos.services``. The functions here are the loops that ``enos os``, ``destroy``, ``backup``,
``info`` and the configuration loader run over every service, so none of them names one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from enos import plugins

if TYPE_CHECKING:
    from enos.backup.archive import ArchiveSpec
    from enos.config.spec import Config
    from enos.experiment import Experiment
    from enos.output import Output
    from enos.services.base import Service


def all_services() -> list[Service]:
    return plugins.load_all("service")


def owner_of(section: str) -> Service | None:
    """The service that owns a top-level section of reservation.yaml, if any."""
    for service in all_services():
        if service.section == section:
            return service
    return None


def sections() -> dict[str, Service]:
    return {s.section: s for s in all_services() if s.section}


def phases() -> list[str]:
    """The experiment phases the services record (forgotten when the machines go)."""
    return [s.phase for s in all_services() if s.phase]


def deploy_enabled(config: Config, exp: Experiment, out: Output) -> list[str]:
    """Deploy (or converge) every service the configuration enables with OpenStack."""
    done = []
    for service in all_services():
        if service.enabled(config):
            exp.update(**{f"service_started.{service.name}": True})
            service.deploy(config, exp, out)
            done.append(service.name)
    return done


def stop_all(exp: Experiment, out: Output) -> list[str]:
    """Stop every service that started something, last registered first."""
    stopped: list[str] = []
    for service in reversed(all_services()):
        if service.started(exp):
            stopped += service.stop(exp, out)
            exp.state.pop(f"service_started.{service.name}", None)
            exp.save()
    return stopped


def backup_specs(exp: Experiment, with_secrets: bool) -> list[ArchiveSpec]:
    specs: list[ArchiveSpec] = []
    for service in all_services():
        specs += service.backup(exp, with_secrets)
    return specs


def own_dirs() -> set[str]:
    """Directories of the experiment that services archive themselves."""
    out: set[str] = set()
    for service in all_services():
        out |= set(service.dirs)
    return out


def info(exp: Experiment) -> dict[str, Any]:
    out = {}
    for service in all_services():
        data = service.info(exp)
        if data:
            out[service.name] = data
    return out


def status(exp: Experiment) -> list[dict[str, Any]]:
    """What every service runs on the hosts (rows of :meth:`Service.status`)."""
    out: list[dict[str, Any]] = []
    for service in all_services():
        if service.started(exp):
            out += service.status(exp)
    return out
