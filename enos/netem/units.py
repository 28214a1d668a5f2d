"""Delay, rate and loss as reservation.yaml writes them, read the way ``tc`` reads them.

- delay: a number with ``us``/``usec``, ``ms``/``msec`` or ``s``/``sec`` (``25ms``, ``0.5s``);
  a bare ``0`` means no delay.
- rate: a number with ``bit``, ``kbit``, ``mbit``, ``gbit``, ``tbit`` (bits per second, powers
  of 1000), ``kibit``... (powers of 1024), or ``bps``, ``kbps``, ``mbps``, ``gbps``, ``tbps``
  (BYTES per second, as tc counts them: ``1mbps`` is 8 Mbit/s). Case does not matter.
- loss: a percentage, ``0.1%`` or ``0.1`` (a bare number is a percentage, as netem reads it).

Anything else is an error that names the file, line and key and says what to write.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from enos.errors import ConfigError

# Raised with the key, the message and the hint; the caller adds file and line.
ErrorFactory = Callable[[str, str, str], ConfigError]

_NUMBER = re.compile(
    r"^\s*(?P<num>[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*(?P<unit>[A-Za-z%/]*)\s*$")

DELAY_UNITS = {
    "us": 0.001, "usec": 0.001, "usecs": 0.001,
    "ms": 1.0, "msec": 1.0, "msecs": 1.0,
    "s": 1000.0, "sec": 1000.0, "secs": 1000.0,
}
RATE_UNITS = {
    "bit": 1, "kbit": 10**3, "mbit": 10**6, "gbit": 10**9, "tbit": 10**12,
    "kibit": 2**10, "mibit": 2**20, "gibit": 2**30, "tibit": 2**40,
    "bps": 8, "kbps": 8 * 10**3, "mbps": 8 * 10**6, "gbps": 8 * 10**9, "tbps": 8 * 10**12,
    "kibps": 8 * 2**10, "mibps": 8 * 2**20, "gibps": 8 * 2**30, "tibps": 8 * 2**40,
}
# Below this tc's HTB cannot shape meaningfully (and a rate of 0 stops all traffic).
MIN_RATE = 8000  # 1kbps

DELAY_HINT = "write a delay such as 25ms (units: us, ms, s)"
RATE_HINT = ("write a rate such as 100mbit (units: kbit, mbit, gbit in bits/s; "
             "kbps, mbps, gbps in bytes/s as tc counts them)")
LOSS_HINT = "write a loss percentage such as 0.1% (from 0% to 100%)"


def _split(text: str) -> tuple[float, str] | None:
    match = _NUMBER.match(str(text))
    if match is None:
        return None
    return float(match["num"]), match["unit"]


def parse_delay(text: str, key: str, error: ErrorFactory) -> float:
    """Milliseconds."""
    parts = _split(text)
    if parts is None:
        raise error(key, f"'{text}' is not a delay", DELAY_HINT)
    value, unit = parts
    if not unit:
        if value == 0:
            return 0.0
        raise error(key, f"the delay '{text}' has no unit",
                    f"write {text}ms for milliseconds ({DELAY_HINT})")
    scale = DELAY_UNITS.get(unit.lower())
    if scale is None:
        raise error(key, f"'{unit}' is not a unit of delay in '{text}'", DELAY_HINT)
    return value * scale


def parse_rate(text: str, key: str, error: ErrorFactory) -> int:
    """Bits per second."""
    parts = _split(text)
    if parts is None:
        raise error(key, f"'{text}' is not a rate", RATE_HINT)
    value, unit = parts
    if not unit:
        raise error(key, f"the rate '{text}' has no unit",
                    f"write {text}mbit for megabits per second ({RATE_HINT})")
    scale = RATE_UNITS.get(unit.lower())
    if scale is None:
        hint = RATE_HINT
        if unit.lower() in ("b", "k", "m", "g", "kb", "mb", "gb", "kbit/s", "mbit/s"):
            hint = f"write {value:g}{unit[0].lower()}bit for bits per second ({RATE_HINT})"
        raise error(key, f"'{unit}' is not a unit of rate in '{text}'", hint)
    bits = round(value * scale)
    if bits < MIN_RATE:
        raise error(key, f"the rate '{text}' is below {MIN_RATE} bit/s",
                    "write a rate of at least 8kbit (a zero rate would stop all traffic)")
    return bits


def parse_loss(text: str, key: str, error: ErrorFactory) -> float:
    """Percent (0 to 100)."""
    parts = _split(text)
    if parts is None:
        raise error(key, f"'{text}' is not a loss percentage", LOSS_HINT)
    value, unit = parts
    if unit not in ("", "%"):
        raise error(key, f"'{unit}' is not a unit of loss in '{text}'", LOSS_HINT)
    if value > 100:
        raise error(key, f"the loss '{text}' is above 100%", LOSS_HINT)
    return value


def bytes_rate_note(text: str) -> str | None:
    """For a rate written in bytes per second (``100mbps``), what it is read as and how to
    write megabits; None for any other value. Such a rate is almost always meant in bits."""
    parts = _split(str(text))
    if parts is None:
        return None
    value, unit = parts
    unit = unit.lower()
    if not unit.endswith("bps") or unit not in RATE_UNITS:
        return None
    bits = value * RATE_UNITS[unit]
    meant = f"{value:g}{unit[:-3]}bit"
    return (f"the rate '{text}' is in bytes per second, as tc reads it: {human_rate(bits)} "
            f"({bits / 10**6:g} Mbit/s); for {value:g} {unit[:-3]}bits per second write "
            f"`{meant}`")


# -- writing values back ----------------------------------------------------------------------
def tc_time(ms: float) -> str:
    """A delay for tc, exact to the microsecond."""
    return f"{round(ms * 1000)}us"


def tc_rate(bps: int) -> str:
    return f"{bps}bit"


def tc_loss(pct: float) -> str:
    return f"{pct:g}%"


def human_delay(ms: float) -> str:
    return f"{ms:g}ms"


def human_rate(bps: float) -> str:
    for unit, scale in (("gbit", 10**9), ("mbit", 10**6), ("kbit", 10**3)):
        if bps >= scale:
            return f"{bps / scale:.4g}{unit}"
    return f"{bps:.4g}bit"


def human_loss(pct: float) -> str:
    return f"{pct:g}%"
