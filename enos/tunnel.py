"""SSH port forwarding to an experiment's web UIs and APIs (``enos ssh-tunnel``).

The targets are the deployer's endpoints of kind ``ui`` (the dashboard) and ``api`` (the
public APIs) and, with monitoring, Prometheus' UI. They are reached through the testbed's
gateway (:meth:`enos.providers.base.Provider.gateway`: a Grid'5000 access machine, an OpenStack
provider's gateway server...) when it has one; otherwise the hosts are reached from the machine
that runs enos, so the URLs work as they are on it (on the local testbed the hosts are network
namespaces of this machine), and another machine forwards through this one.
"""

from __future__ import annotations

import getpass
import shlex
import socket
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from enos.providers.base import Gateway

if TYPE_CHECKING:
    from enos.experiment import Experiment

# Local ports below this are privileged: such a remote port is forwarded from 8000 + port.
FIRST_FREE_PORT = 1024


@dataclass(frozen=True)
class Target:
    """A web UI or API to reach: its name, kind (``ui``, ``api``) and URL on the testbed."""

    name: str
    kind: str
    url: str


@dataclass(frozen=True)
class Forward:
    """One ``-L LOCAL:HOST:PORT``: ``local_url`` is the target's URL through it."""

    name: str
    kind: str
    url: str
    host: str
    port: int
    local_port: int
    local_url: str

    def spec(self) -> str:
        return f"{self.local_port}:{self.host}:{self.port}"


@dataclass
class Tunnel:
    """What ``enos ssh-tunnel`` prints: through ``jump`` (``via``: ``gateway`` of the testbed,
    or ``this-machine`` when the hosts are reached from the machine that runs enos, where the
    URLs then work ``direct``)."""

    name: str
    via: str
    direct: bool
    jump: Gateway
    forwards: list[Forward]

    def command(self) -> str:
        args = ["ssh", "-N"]
        for f in self.forwards:
            args += ["-L", f.spec()]
        if self.jump.port != 22:
            args += ["-p", str(self.jump.port)]
        if self.jump.keyfile:
            args += ["-i", self.jump.keyfile]
        args.append(f"{self.jump.user}@{self.jump.address}")
        return " ".join(shlex.quote(a) for a in args)

    def config(self) -> str:
        lines = [f"Host {self.name}", f"    HostName {self.jump.address}",
                 f"    User {self.jump.user}", f"    Port {self.jump.port}"]
        if self.jump.keyfile:
            lines.append(f"    IdentityFile {self.jump.keyfile}")
        lines += [f"    LocalForward {f.local_port} {f.host}:{f.port}" for f in self.forwards]
        return "\n".join(lines) + "\n"

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "via": self.via, "direct": self.direct,
                "jump": asdict(self.jump), "forwards": [asdict(f) for f in self.forwards],
                "command": self.command(), "config": self.config()}


def forwards(targets: list[Target]) -> list[Forward]:
    """One forward per target, each on a local port of its own: the remote port when it is
    not privileged, else 8000 + it (80 -> 8080), the next free one on a clash."""
    used: set[int] = set()
    out = []
    for t in targets:
        parts = urlsplit(t.url)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        local = port if port >= FIRST_FREE_PORT else 8000 + port
        while local in used:
            local += 1
        used.add(local)
        netloc = f"localhost:{local}"
        out.append(Forward(t.name, t.kind, t.url, host, port, local,
                           urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))))
    return out


def plan(name: str, targets: list[Target], gateway: Gateway | None,
         here: Gateway | None = None) -> Tunnel:
    """The tunnel of an experiment ``name``: through ``gateway`` when the testbed has one,
    else through ``here`` (this machine; its name and user by default)."""
    if gateway is not None:
        return Tunnel(f"enos-{name}", "gateway", False, gateway, forwards(targets))
    if here is None:
        here = Gateway(address=socket.gethostname() or "localhost", user=getpass.getuser())
    return Tunnel(f"enos-{name}", "this-machine", True, here, forwards(targets))


def targets(exp: Experiment) -> list[Target]:
    """The experiment's dashboard, Prometheus (with monitoring) and public APIs, in that
    order, each once."""
    from enos import deployers, services

    cloud = exp.state.get("cloud") or {}
    found: list[Target] = []
    name = str(cloud.get("deployer") or "")
    if name:
        endpoints = deployers.load(name).endpoints(exp)
        found += [Target(e.name, "ui", e.url) for e in endpoints if e.kind == "ui"]
        monitoring = services.info(exp).get("monitoring") or {}
        if monitoring.get("prometheus"):
            found.append(Target("prometheus", "ui", str(monitoring["prometheus"])))
        found += [Target(e.name, "api", e.url) for e in endpoints if e.kind == "api"]
    seen: set[str] = set()
    out = []
    for t in found:
        if t.url not in seen:
            seen.add(t.url)
            out.append(t)
    return out


def for_experiment(exp: Experiment) -> Tunnel:
    """The tunnel to ``exp``'s targets through its provider's gateway."""
    from enos import providers

    resources = exp.resources
    provider_name = str(exp.state.get("provider") or "")
    gateway = None
    if provider_name and resources is not None:
        gateway = providers.load(provider_name).gateway(resources)
    return plan(exp.path.name.removeprefix("enos_"), targets(exp), gateway)
