"""The contract of a testbed provider: what a new testbed implements.

A provider is a subclass of :class:`Provider`, registered under its name in the entry point
group ``enos.providers`` (see :mod:`enos.plugins`). Everything about a testbed lives in its
class: the keys of its ``provider:`` section and their defaults, how it reads the
``resources``/``topology`` syntax, how it acquires and releases machines, and what it offers
to the rest of enos (its default deployer, how hosts are reached, whether they share this
machine). Nothing outside the provider's module compares its name.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from enos.errors import NotBuiltError

if TYPE_CHECKING:
    from enos.config.checks import Checker
    from enos.config.resources import Layout
    from enos.config.spec import Config
    from enos.experiment import Experiment
    from enos.model import Resources
    from enos.output import Output


@dataclass(frozen=True)
class Gateway:
    """An SSH jump host that Ansible (and ``ssh -J``) go through to reach the hosts."""

    address: str
    user: str = "root"
    port: int = 22
    keyfile: str | None = None

    def proxy_jump(self) -> str:
        return f"{self.user}@{self.address}:{self.port}"


class Provider:
    """A testbed. Subclasses set the class attributes and override what they support."""

    #: The registered name (set when the plug-in is loaded).
    name: str = ""
    #: What the first level of the basic ``resources`` syntax names (a cluster, a VM size...).
    label: ClassVar[str] = "label"
    #: An example of such a label, for hints.
    example_label: ClassVar[str | None] = None
    #: The keys of the ``provider:`` section and their defaults; ``None`` means required.
    defaults: ClassVar[dict[str, Any]] = {}
    #: Other keys the section accepts, without a default.
    keys: ClassVar[tuple[str, ...]] = ()
    #: The deployer used when reservation.yaml names none.
    default_deployer: ClassVar[str] = "kolla"
    #: Hosts share this machine's kernel, process table and file system (the local testbed).
    shares_machine: ClassVar[bool] = False
    #: ``resources: {ROLE: COUNT}`` (without a label level) is accepted.
    takes_role_counts: ClassVar[bool] = False
    #: Whether :meth:`init` is built (False: the configuration validates, ``enos up`` refuses).
    can_acquire: ClassVar[bool] = True

    # -- configuration (called once, when reservation.yaml is loaded) --------------------------
    def check_section(self, section: dict[str, Any], ck: Checker) -> None:
        """Check and normalize the provider's own keys of ``section`` in place (defaults are
        merged after). Errors go through ``ck`` so they name the file, line and key."""

    def read_layout(self, data: dict[str, Any], cwd: Path, ck: Checker) -> Layout:
        """The machines the file asks for (``resources``, ``topology``, advanced syntax)."""
        from enos.config import resources

        return resources.read_machines(data, self, ck)

    def example(self) -> str:
        """A one-line example of ``resources`` for this testbed, for hints."""
        roles = "{control: 1, network: 1, compute: 1}"
        if self.takes_role_counts:
            return f"`resources: {roles}`"
        return f"`resources: {{{self.example_label or 'LABEL'}: {roles}}}`"

    def validate(self, config: Config) -> None:
        """Checks that need the whole loaded configuration (labels, sizes...)."""

    def sample(self) -> str | None:
        """A commented reservation.yaml for this testbed (``enos new``), or None. enos's own
        testbeds keep theirs in ``enos/config/samples/<name>.yaml``."""
        from enos.config.samples import HERE

        path = HERE / f"{self.name}.yaml"
        return path.read_text(encoding="utf-8") if path.is_file() else None

    # -- machines ------------------------------------------------------------------------------
    def require_built(self) -> None:
        """Refuse, saying so, when acquiring machines on this testbed is not built."""
        if not self.can_acquire:
            raise self._not_built()

    def init(self, config: Config, exp: Experiment, out: Output,
             force: bool = False) -> Resources:
        """Acquire the machines (idempotent: a rerun keeps and checks what exists)."""
        raise self._not_built()

    def _not_built(self) -> NotBuiltError:
        return NotBuiltError(
            f"provider '{self.name}' is valid, but acquiring its machines is not built in this "
            "version of enos",
            "run the same resources on this machine with 'provider: local', or describe "
            "existing machines with 'provider: static'",
        )

    def destroy(self, config: Config | None, exp: Experiment, resources: Resources | None,
                out: Output) -> None:
        """Release the machines (``config`` may be None: it works without a valid file)."""

    # -- what the provider offers ----------------------------------------------------------------
    def gateway(self, resources: Resources) -> Gateway | None:
        """The SSH jump host to reach the hosts through, if any."""
        return None

    def build(self, config: Config, exp: Experiment, out: Output) -> Path:
        """Build a base image for this testbed (``enos build``)."""
        raise NotBuiltError(f"building a base image for provider '{self.name}' is not built "
                            "in this version of enos")
