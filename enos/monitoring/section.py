"""The ``monitoring:`` section of reservation.yaml, checked once when the file loads.

::

    enable_monitoring: true        # enos os deploys the monitoring service after OpenStack
    monitoring:
      scrape_interval: 1s          # probes and node-exporter (a Prometheus duration)
      slow_scrape_interval: 5s     # process-exporter, MariaDB, RabbitMQ, Prometheus, blackbox
      retention: 15d               # how long Prometheus keeps samples
      collector: monitor           # the host (alias) or role that runs Prometheus; default:
                                   # hosts of role monitor or monitoring, else the first control
"""

from __future__ import annotations

import re
from typing import Any

from enos.config.checks import Checker, join

KEY = "monitoring"
DEFAULTS: dict[str, Any] = {
    "scrape_interval": "1s",
    "slow_scrape_interval": "5s",
    "retention": "15d",
    "collector": None,
}
# Prometheus' duration syntax (units in decreasing order, each at most once).
DURATION = re.compile(r"^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?"
                      r"(?:(\d+)ms)?$")
SECONDS = (365 * 86400, 7 * 86400, 86400, 3600, 60, 1, 0.001)


def seconds(text: str) -> float:
    """A Prometheus duration (checked) in seconds."""
    match = DURATION.match(text)
    if not match or not text:
        raise ValueError(text)
    return sum(int(v) * s for v, s in zip(match.groups(), SECONDS, strict=True) if v)


def _duration(value: Any, key: str, ck: Checker, low: float, example: str) -> str:
    text = ck.text(value, key, f"a duration such as {example}")
    try:
        value_s = seconds(text)
    except ValueError:
        raise ck.error(key, f"'{text}' is not a duration",
                       f"write a Prometheus duration such as {example} (units y, w, d, h, m, "
                       "s, ms, largest first)") from None
    if value_s < low:
        raise ck.error(key, f"{text} is too short", f"give at least {low:g}s")
    return text


def check(value: Any, ck: Checker) -> dict[str, Any]:
    """The section with its defaults merged; durations checked."""
    section = {} if value is None else dict(ck.mapping(
        value, KEY, "`monitoring: {scrape_interval: 1s, retention: 15d}`"))
    ck.known_keys(section, KEY, tuple(DEFAULTS), cutoff=0.6)
    unknown = [k for k in section if k not in DEFAULTS]
    if unknown:
        raise ck.error(join(KEY, unknown[0]), f"unknown key '{unknown[0]}' in monitoring",
                       f"known keys: {', '.join(DEFAULTS)}")
    out = dict(DEFAULTS)
    for name, example, low in (("scrape_interval", "1s", 0.1),
                               ("slow_scrape_interval", "5s", 0.1),
                               ("retention", "15d", 3600)):
        if section.get(name) is not None:
            out[name] = _duration(section[name], join(KEY, name), ck, low, example)
    if seconds(out["slow_scrape_interval"]) < seconds(out["scrape_interval"]):
        out["slow_scrape_interval"] = out["scrape_interval"]
    if section.get("collector") is not None:
        out["collector"] = ck.string(section["collector"], join(KEY, "collector"),
                                     "a host alias or a role")
    return out
