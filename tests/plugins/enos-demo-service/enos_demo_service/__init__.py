"""A service plug-in: records each host's kernel release when `enos os` deploys it."""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any

from enos.backup import archive
from enos.backup.archive import ArchiveSpec
from enos.services.base import Service


class DemoProbe(Service):
    section = "demo_probe"
    dirs = ("demo_probe",)

    def check_section(self, value: Any, groups: list[str], ck: Any) -> tuple[Any, Any]:
        section = ck.mapping(value, "demo_probe", "`demo_probe: {enable: true}`")
        ck.known_keys(section, "demo_probe", ("enable", "label"), warn=True)
        enable = ck.boolean(section.get("enable", False), "demo_probe.enable")
        label = ck.text(section.get("label", "probe"), "demo_probe.label")
        return {"enable": enable, "label": label}, None

    def enabled(self, config: Any) -> bool:
        return bool((config.data.get("demo_probe") or {}).get("enable"))

    def deploy(self, config: Any, exp: Any, out: Any) -> None:
        found = {}
        for host in exp.resources.hosts:
            proc = subprocess.run(
                ["ssh", "-i", host.keyfile, "-o", "StrictHostKeyChecking=no",
                 "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes",
                 f"{host.user}@{host.address}", "uname -r"],
                capture_output=True, text=True, check=True, timeout=30)
            found[host.alias] = proc.stdout.strip()
        directory = exp.path / "demo_probe"
        directory.mkdir(exist_ok=True)
        label = config.data["demo_probe"]["label"]
        (directory / "kernels.json").write_text(json.dumps({"label": label, "hosts": found}))
        out.say(f"demo_probe: {len(found)} host(s) probed")

    def stop(self, exp: Any, out: Any) -> list[str]:
        shutil.rmtree(exp.path / "demo_probe", ignore_errors=True)
        return ["demo_probe"]

    def backup(self, exp: Any, with_secrets: bool) -> list[ArchiveSpec]:
        spec = ArchiveSpec("demo_probe.tar.gz", "demo_probe")
        spec.members = archive.tree(exp.path / "demo_probe", "demo_probe",
                                    with_secrets=with_secrets)
        return [spec]

    def info(self, exp: Any) -> dict[str, Any] | None:
        path = exp.path / "demo_probe" / "kernels.json"
        return json.loads(path.read_text()) if path.exists() else None
