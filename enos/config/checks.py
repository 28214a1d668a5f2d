"""Small checks shared by the configuration schema.

Each check takes the value and its dotted key path, returns the value normalized, or raises a
:class:`ConfigError` that names the file, the line, the key and what to write instead.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from enos import errors
from enos.config.spec import nearest_line
from enos.errors import ConfigError

TRUE_WORDS = {"yes", "true", "on", "y", "1"}
FALSE_WORDS = {"no", "false", "off", "n", "0"}


def truth(value: Any) -> bool | None:
    """A yes/no value as YAML files write it (true, yes, on, y, 1, quoted or not, and their
    negations), or None when it is none of them. The one reading of booleans in enos."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
    return None


def close_match(word: str, candidates: Iterable[str], cutoff: float = 0.8) -> str | None:
    """The candidate ``word`` is most likely a typo of, if any (strict by default: an unknown
    key close to a known one is an error)."""
    return errors.close_match(word, candidates, cutoff)


def type_name(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the string '{value}'"
    return type(value).__name__


class Checker:
    """Checks values of one file; knows the line of every key path."""

    def __init__(self, source: str, lines: dict[str, int], numbers: dict[str, str]) -> None:
        self.source = source
        self.lines = lines
        self.numbers = numbers
        self.warnings: list[str] = []

    # -- errors -----------------------------------------------------------------------------
    def line_of(self, key: str) -> int | None:
        return nearest_line(self.lines, key)

    def error(self, key: str, message: str, hint: str | None = None) -> ConfigError:
        return ConfigError(
            message, source=self.source, line=self.line_of(key), key=key or None, hint=hint
        )

    def warn(self, key: str, message: str) -> None:
        line = self.line_of(key)
        where = self.source + (f":{line}" if line else "")
        self.warnings.append(f"{where} [{key}]: {message}" if key else f"{where}: {message}")

    # -- types ------------------------------------------------------------------------------
    def mapping(self, value: Any, key: str, example: str | None = None) -> dict[Any, Any]:
        if not isinstance(value, dict):
            hint = f"write it as a mapping, e.g. {example}" if example else "write it as a mapping"
            raise self.error(key, f"expected a mapping, got {type_name(value)}", hint)
        return value

    def listing(self, value: Any, key: str, example: str | None = None) -> list[Any]:
        if not isinstance(value, list):
            hint = f"write it as a list, e.g. {example}" if example else "write it as a list"
            raise self.error(key, f"expected a list, got {type_name(value)}", hint)
        return value

    def string(self, value: Any, key: str, what: str = "a string") -> str:
        if not isinstance(value, str) or not value:
            raise self.error(key, f"expected {what}, got {type_name(value)}",
                             f"give {what} for '{key.rpartition('.')[2]}'")
        return value

    def text(self, value: Any, key: str, what: str = "a value") -> str:
        """A scalar as the text the user wrote (``18.10`` stays ``"18.10"``)."""
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise self.error(key, f"expected {what}, got {type_name(value)}",
                             f"give {what} for '{key.rpartition('.')[2]}'")
        if isinstance(value, str):
            return value
        return self.numbers.get(key, str(value))

    def strings(self, value: Any, key: str, what: str = "names") -> list[str]:
        """A list of non-empty strings; a single string is accepted as a list of one."""
        if isinstance(value, str) and value:
            return [value]
        items = self.listing(value, key, f"[a, b] ({what})")
        for index, item in enumerate(items):
            self.string(item, f"{key}.{index}", "a name")
        return list(items)

    def count(self, value: Any, key: str, minimum: int = 1) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            hint = "write a whole number without quotes, e.g. 1"
            raise self.error(key, f"expected a number of machines, got {type_name(value)}", hint)
        if value < minimum:
            raise self.error(key, f"expected a number of at least {minimum}, got {value}",
                             f"write a number of at least {minimum}, or remove the line")
        return value

    def integer(self, value: Any, key: str, low: int, high: int | None = None) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(key, f"expected a whole number, got {type_name(value)}",
                             "write a whole number without quotes")
        if value < low or (high is not None and value > high):
            span = f"between {low} and {high}" if high is not None else f"at least {low}"
            raise self.error(key, f"expected a number {span}, got {value}")
        return value

    def boolean(self, value: Any, key: str) -> bool:
        """yes/no/true/false/on/off, quoted or not, and 0/1 (see :func:`truth`)."""
        flag = truth(value)
        if flag is not None:
            return flag
        raise self.error(key, f"expected yes or no, got {type_name(value)}",
                         "write true or false (yes/no are accepted)")

    def choice(self, value: Any, key: str, choices: Iterable[str]) -> str:
        choices = list(choices)
        if isinstance(value, str) and value in choices:
            return value
        shown = f"'{value}'" if isinstance(value, str) else type_name(value)
        close = close_match(value, choices, 0.6) if isinstance(value, str) else None
        hint = f"did you mean '{close}'?" if close else f"choose one of: {', '.join(choices)}"
        raise self.error(key, f"unknown value {shown}", hint)

    def known_keys(
        self, mapping: dict[Any, Any], key: str, known: Iterable[str], *, warn: bool = False,
        cutoff: float = 0.8,
    ) -> list[str]:
        """Raise on a key that looks like a typo of a known one; return the other unknown keys.

        With ``warn`` the unknown keys that are not typos are reported as warnings (they are
        kept and passed on either way). A lower ``cutoff`` catches more typos (``dts`` for
        ``dst``); use it where unknown keys have no purpose.
        """
        known = list(known)
        unknown: list[str] = []
        for name in mapping:
            if name in known:
                continue
            text = str(name)
            close = close_match(text, known, cutoff)
            if close is not None:
                raise self.error(join(key, text), f"unknown key '{text}'",
                                 f"did you mean '{close}'?")
            unknown.append(text)
            if warn:
                self.warn(join(key, text), f"unknown key '{text}' (kept as is); known keys: "
                          + ", ".join(known))
        return unknown


def check_like(default: Any, value: Any, key: str, ck: Checker) -> Any:
    """``value`` checked against the kind of its default (boolean, number, mapping, list,
    text); a required key (default None) must be a scalar."""
    if isinstance(default, bool):
        return ck.boolean(value, key)
    if isinstance(default, int):
        return ck.integer(value, key, 0)
    if isinstance(default, dict):
        return ck.mapping(value, key)
    if isinstance(default, list):
        if isinstance(value, str):
            return [value]
        return ck.listing(value, key)
    if isinstance(default, str) or default is None:
        return ck.text(value, key)
    return value


def join(path: str, key: object) -> str:
    return f"{path}.{key}" if path else str(key)
