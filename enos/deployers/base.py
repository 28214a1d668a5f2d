"""The contract of a deployer: what installs OpenStack on the hosts of an experiment.

A deployer is a subclass of :class:`Deployer`, registered under its name in the entry point
group ``enos.deployers`` (see :mod:`enos.plugins`). Its options (the ``deployer:`` section)
are declared and checked by its class only, once, when reservation.yaml is loaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from enos.errors import NotBuiltError

if TYPE_CHECKING:
    from enos.config.checks import Checker
    from enos.config.spec import Config
    from enos.experiment import Experiment
    from enos.output import Output


@dataclass(frozen=True)
class Endpoint:
    """Something a deployer or a service exposes on a host: a web UI, an API, a metrics
    target. ``kind`` is ``ui``, ``api``, ``metrics`` (a Prometheus endpoint), or what a TCP
    service is: ``db``, ``mq``, ``cache``, ``tcp``. ``host`` is the alias of the host serving
    it, ``program`` the service (a name :meth:`Deployer.services` gives) that serves it."""

    name: str
    url: str
    kind: str = "api"
    host: str | None = None
    program: str | None = None


# What :meth:`Deployer.control` does to one service (``enos fault``, a workload's ``faults:``).
ACTIONS = ("restart", "kill", "stop", "start")


class Deployer:
    """A way to deploy OpenStack. Subclasses set the class attributes and override."""

    #: The registered name (set when the plug-in is loaded).
    name: str = ""
    #: The keys of the ``deployer:`` section (besides ``type``) with their defaults.
    options: ClassVar[dict[str, Any]] = {}
    #: What ``enos os --tags`` accepts.
    tags: ClassVar[tuple[str, ...]] = ()
    #: Whether :meth:`deploy` is built (False: the configuration validates, ``enos os`` refuses).
    can_deploy: ClassVar[bool] = True
    #: Whether servers boot as real instances (False for a fake hypervisor: no data plane).
    real_instances: ClassVar[bool] = True
    #: What each host's ``enos_root`` holds that backups archive.
    host_paths: ClassVar[tuple[str, ...]] = ("log", "etc", "supervisor")

    # -- configuration -------------------------------------------------------------------------
    def check_section(self, section: dict[str, Any], data: dict[str, Any],
                      ck: Checker) -> dict[str, Any]:
        """The ``deployer:`` mapping (``type`` removed) checked, with defaults merged.

        ``data`` is the whole file (for deployers that read other sections). The default
        checks each key against the kind of its default and warns on unknown keys.
        """
        from enos.config.checks import check_like

        out = dict(self.options)
        ck.known_keys(section, "deployer", ("type", *self.options), warn=True, cutoff=0.6)
        for key, value in section.items():
            if key in self.options and value is not None:
                out[key] = check_like(self.options[key], value, f"deployer.{key}", ck)
            elif key not in self.options:
                out[key] = value
        return out

    # -- the phases ----------------------------------------------------------------------------
    def require_built(self) -> None:
        """Refuse, saying so, when deploying with this deployer is not built."""
        if not self.can_deploy:
            raise self._not_built()

    def deploy(self, config: Config, exp: Experiment, out: Output,
               tags: list[str] | None = None, reconfigure: bool = False) -> dict[str, Any]:
        """Deploy (or converge) OpenStack; write ``admin-openrc`` and ``clouds.yaml`` (cloud
        ``enos``) in the experiment directory; return what ``enos info`` shows of the cloud
        (``auth_url``, ``endpoints``, ``compute_hosts``...)."""
        raise self._not_built()

    def _not_built(self) -> NotBuiltError:
        return NotBuiltError(
            f"the {self.name} deployer is not built in this version of enos",
            "use 'deployer: native' (OpenStack services as processes, on local or static "
            "hosts)",
        )

    def destroy(self, exp: Experiment, out: Output) -> None:
        """Stop every service of the deployment and drop its state. Safe to rerun."""

    def python(self, exp: Experiment) -> Path:
        """A Python that has openstacksdk, for ``enos init``."""
        raise NotBuiltError(f"the {self.name} deployer gives no Python for 'enos init'")

    def credentials(self, exp: Experiment) -> Path:
        """The ``clouds.yaml`` of the deployed cloud (cloud name ``enos``)."""
        return exp.path / "clouds.yaml"

    def endpoints(self, exp: Experiment) -> list[Endpoint]:
        """The APIs, web UIs and metrics targets of the deployed cloud."""
        return []

    # -- what runs (enos status, enos logs) ------------------------------------------------------
    def status(self, exp: Experiment) -> list[dict[str, Any]]:
        """One row per service and host (see :mod:`enos.status`): ``host``, ``service``,
        ``state``, ``running``, ``since``, ``restarts``, ``listen``, ``log``, ``last_error``."""
        return []

    def log_path(self, exp: Experiment, host: str, service: str) -> str | None:
        """The log file of ``service`` on ``host`` (a path on that host), or None."""
        for row in self.status(exp):
            if row["host"] == host and row["service"] == service:
                return row.get("log")
        return None

    def versions(self, exp: Experiment) -> dict[str, str]:
        """What the deployed cloud runs: ``openstack`` (the release) and the versions of its
        main components and of the tools that deployed it (``enos report``). Empty when
        unknown."""
        return {}

    # -- one service at a time (fault injection) and pass-through --------------------------------
    def services(self, exp: Experiment) -> list[str]:
        """The names of the services :meth:`control` acts on."""
        return []

    def control(self, exp: Experiment, service: str, action: str, out: Output,
                hosts: list[str] | None = None,
                pause: float | None = None) -> dict[str, dict[str, Any]]:
        """``action`` (start, stop, restart, kill) one service, on all its hosts or on
        ``hosts``. ``kill`` is a crash (SIGKILL; the service's supervisor restarts it);
        ``pause``: a stop lasts that many seconds, then the service starts again; a restart
        waits that long between its stop and its start (timed on the host).

        Returns, per host, ``{"done": stopped|started|restarted|killed|absent, "at",
        "done_at", "back_at", "up_at"}``: epoch seconds on the host's clock (None: not done)."""
        raise NotBuiltError(f"the {self.name} deployer cannot {action} one service")

    def passthrough(self, exp: Experiment, args: list[str], out: Output) -> int:
        """Run the deployer's own tool with ``args`` (``enos kolla -- ...``)."""
        raise NotBuiltError(f"the {self.name} deployer has no command of its own")
