"""A deployer plug-in: one supervised HTTP server per host, bound to the host's address."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from enos.ansible.runner import run_playbook
from enos.deployers.base import Deployer, Endpoint

HERE = Path(__file__).parent
PORT = 8999


class DemoDeployer(Deployer):
    options: ClassVar[dict[str, Any]] = {"greeting": "hello"}
    tags = ("web",)

    def deploy(self, config: Any, exp: Any, out: Any, tags: Any = None,
               reconfigure: bool = False) -> dict[str, Any]:
        greeting = config.deployer["greeting"]
        run_playbook(HERE / "site.yml", exp.inventory_path, title="demo deploy",
                     extravars={"demo_greeting": greeting, "demo_port": PORT,
                                "demo_supervisor": _supervisor()},
                     log_dir=exp.path / "logs", quiet=out.quiet, verbosity=out.verbosity)
        hosts = [h.address for h in exp.resources.hosts]
        return {"auth_url": None, "endpoints": {"web": f"http://{hosts[0]}:{PORT}/"},
                "greeting": greeting}

    def destroy(self, exp: Any, out: Any) -> None:
        run_playbook(HERE / "destroy.yml", exp.inventory_path, title="demo destroy",
                     extravars={"demo_supervisor": _supervisor()},
                     log_dir=exp.path / "logs", quiet=out.quiet, verbosity=out.verbosity)

    def endpoints(self, exp: Any) -> list[Endpoint]:
        return [Endpoint("web", f"http://{h.address}:{PORT}/", "ui", h.alias)
                for h in exp.resources.hosts]


def _supervisor() -> str:
    from enos import supervisor

    return str(supervisor.__file__)
