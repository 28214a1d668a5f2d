"""Group ranges: ``grp[2-4]`` names the groups grp2, grp3 and grp4.

A range is a name followed by ``[first-last]`` with ``first <= last``, both integers. When
``first`` is written with leading zeros (``node[01-10]``) the numbers keep that width.
"""

from __future__ import annotations

import re

# The most groups one range may name: checked before anything is expanded.
MAX_RANGE = 1000
# The most groups a topology may have.
MAX_GROUPS = 10_000
_DIGITS = re.compile(r"^[0-9]+$", re.ASCII)
_RANGE = re.compile(r"^(?P<name>.*)\[(?P<first>[^\]-]*)-(?P<last>[^\]]*)\]$")


class RangeError(ValueError):
    """A malformed group range; the message says what is wrong, ``hint`` how to write it."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.hint = hint


_HINT = "write a range as NAME[FIRST-LAST] with integers FIRST <= LAST, e.g. grp[2-4]"


def is_range(name: str) -> bool:
    return "[" in name or "]" in name


def expand_group(name: str) -> list[str]:
    """The group names ``name`` stands for: itself, or every name of its range.

    >>> expand_group("grp[2-4]")
    ['grp2', 'grp3', 'grp4']
    """
    if not is_range(name):
        return [name]
    match = _RANGE.match(name)
    if match is None:
        if name.count("[") != name.count("]") or name.find("]") < name.find("["):
            raise RangeError(f"unbalanced brackets in group range '{name}'", _HINT)
        raise RangeError(f"malformed group range '{name}'", _HINT)
    prefix, first_text, last_text = match["name"], match["first"].strip(), match["last"].strip()
    if not prefix:
        raise RangeError(f"group range '{name}' has no name before '['", _HINT)
    if is_range(prefix):
        raise RangeError(f"group range '{name}' has more than one '['", _HINT)
    if not (_DIGITS.match(first_text) and _DIGITS.match(last_text)):
        raise RangeError(f"group range '{name}' is not made of two integers (digits 0-9)",
                         _HINT)
    if max(len(first_text), len(last_text)) > 9:
        raise RangeError(f"group range '{name}' has a bound of more than 9 digits",
                         f"a range names at most {MAX_RANGE} groups")
    first, last = int(first_text), int(last_text)
    if first > last:
        raise RangeError(
            f"group range '{name}' is empty: {first} is greater than {last}",
            f"write {prefix}[{last}-{first}]",
        )
    if last - first + 1 > MAX_RANGE:
        raise RangeError(
            f"group range '{name}' names {last - first + 1} groups, more than {MAX_RANGE}",
            f"a range names at most {MAX_RANGE} groups: narrow it",
        )
    width = len(first_text) if first_text.startswith("0") and len(first_text) > 1 else 0
    return [f"{prefix}{i:0{width}d}" for i in range(first, last + 1)]


def expand_groups(names: str | list[str]) -> list[str]:
    """Every group name of ``names`` (one name or range, or a list of them), in order."""
    if isinstance(names, str):
        names = [names]
    out: dict[str, None] = {}
    for name in names:
        for group in expand_group(name):
            out[group] = None
        if len(out) > MAX_GROUPS:
            raise RangeError(f"the groups '{names[0]}'... name more than {MAX_GROUPS} groups",
                             f"name at most {MAX_GROUPS} groups")
    return list(out)
