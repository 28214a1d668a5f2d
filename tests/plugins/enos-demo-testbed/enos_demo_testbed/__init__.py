"""A testbed plug-in: hosts made of network namespaces, with a key of its own."""

from __future__ import annotations

from typing import Any, ClassVar

from enos.providers.local import LocalProvider


class DemoTestbed(LocalProvider):
    label = "demo size"
    example_label = "small"
    defaults: ClassVar[dict[str, Any]] = {**LocalProvider.defaults, "prefix": "demo"}

    def check_section(self, section: dict[str, Any], ck: Any) -> None:
        super().check_section(section, ck)
        if "prefix" in section and not str(section["prefix"]).isalnum():
            raise ck.error("provider.prefix", f"'{section['prefix']}' is not a word",
                           "use letters and digits only")

    def init(self, config: Any, exp: Any, out: Any, force: bool = False) -> Any:
        resources = super().init(config, exp, out, force)
        for host in resources.hosts:
            host.extra["demo_prefix"] = config.provider["prefix"]
        out.say(f"demo testbed: {len(resources.hosts)} host(s)")
        return resources
