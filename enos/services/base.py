"""The contract of a service: something an experiment runs on its hosts besides OpenStack.

A service is a subclass of :class:`Service`, registered under its name in the entry point
group ``enos.services`` (see :mod:`enos.plugins`). It may own one top-level section of
reservation.yaml (checked once, at load, by :meth:`Service.check_section`), be deployed by
``enos os`` when the configuration enables it, record a phase, and take part in ``destroy``,
``backup`` and ``info``, which loop over the services instead of naming them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from enos.backup.archive import ArchiveSpec
    from enos.config.checks import Checker
    from enos.config.spec import Config
    from enos.experiment import Experiment
    from enos.output import Output


class Service:
    """A service. Subclasses set the class attributes and override what they support."""

    #: The registered name (set when the plug-in is loaded).
    name: str = ""
    #: The top-level key of reservation.yaml this service owns, if any.
    section: ClassVar[str | None] = None
    #: The phase it records in the experiment's state (``enos <phase>`` runs it), if any.
    phase: ClassVar[str | None] = None
    #: Directories of the experiment it writes; it archives them itself in :meth:`backup`.
    dirs: ClassVar[tuple[str, ...]] = ()

    def check_section(self, value: Any, groups: list[str], ck: Checker) -> tuple[Any, Any]:
        """Check the section once, at load: return ``(normalized, parsed)``. ``normalized`` goes
        into the configuration's data (what ``enos info`` shows), ``parsed`` (units read,
        ranges expanded) is what later phases compute with (``Config.parsed[section]``).
        ``groups`` are the topology's groups."""
        return value, None

    def enabled(self, config: Config) -> bool:
        """Whether ``enos os`` deploys this service with OpenStack."""
        return False

    def deploy(self, config: Config, exp: Experiment, out: Output) -> None:
        """Deploy or converge the service on the hosts."""

    def started(self, exp: Experiment) -> bool:
        """Whether something of this service may run on the hosts (its phase is done, or it
        was deployed, even half-way)."""
        if self.phase and exp.phase_done(self.phase):
            return True
        return bool(exp.state.get(f"service_started.{self.name}"))

    def stop(self, exp: Experiment, out: Output) -> list[str]:
        """Stop what runs on the hosts; return what was stopped (for ``enos destroy``)."""
        return []

    def backup(self, exp: Experiment, with_secrets: bool) -> list[ArchiveSpec]:
        """The archives of what this service produced (empty ones are skipped)."""
        return []

    def status(self, exp: Experiment) -> list[dict[str, Any]]:
        """What runs of this service on the hosts, one row per program and host, as
        :meth:`enos.deployers.base.Deployer.status` (``enos status``, ``enos logs``)."""
        return []

    def info(self, exp: Experiment) -> dict[str, Any] | None:
        """What ``enos info --out json`` shows of this service (None: nothing)."""
        return None
