"""Reading reservation.yaml with the line of every key.

The file is composed into PyYAML nodes first, then constructed, so that each dotted key path
(``network_constraints.constraints.0.src``) can be mapped to the 1-based line it was written on.

Scalars are read the YAML 1.2 way for times and dates: ``walltime: 02:00:00`` stays the string
``"02:00:00"`` (YAML 1.1 would read the integer 7200) and ``reservation: 2020-02-29 19:00:00``
stays a string, so that what the user wrote is what the provider receives. ``yes``/``no`` are
still booleans, as the original Enos read them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import yaml

from enos.errors import ConfigError

# The C loader when PyYAML was built with libyaml (both share the resolver table).
if TYPE_CHECKING:
    _BaseLoader = yaml.SafeLoader
else:
    _BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_INT_TAG = "tag:yaml.org,2002:int"
_FLOAT_TAG = "tag:yaml.org,2002:float"
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"

# PyYAML's int and float patterns without the base-60 forms (``1:30`` -> 90).
_INT = re.compile(
    r"""^(?:[-+]?0b[0-1_]+
    |[-+]?0[0-7_]+
    |[-+]?(?:0|[1-9][0-9_]*)
    |[-+]?0x[0-9a-fA-F_]+)$""",
    re.VERBOSE,
)
_FLOAT = re.compile(
    r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?
    |\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?
    |[-+]?\.(?:inf|Inf|INF)
    |\.(?:nan|NaN|NAN))$""",
    re.VERBOSE,
)


def _resolvers() -> dict[str | None, list[tuple[str, re.Pattern[str]]]]:
    out: dict[str | None, list[tuple[str, re.Pattern[str]]]] = {}
    for first, entries in _BaseLoader.yaml_implicit_resolvers.items():
        kept = []
        for tag, regexp in entries:
            if tag == _TIMESTAMP_TAG:
                continue
            if tag == _INT_TAG:
                regexp = _INT
            elif tag == _FLOAT_TAG:
                regexp = _FLOAT
            kept.append((tag, regexp))
        if kept:
            out[first] = kept
    return out


class _Loader(_BaseLoader):
    """A safe loader that keeps times and dates as strings."""

    yaml_implicit_resolvers = _resolvers()


@dataclass
class Document:
    """A parsed YAML document.

    ``lines`` maps each dotted key path to its 1-based line; ``numbers`` maps the path of each
    plain (unquoted) number to the text it was written as, so that ``docker_version: 18.10``
    can be read back as ``"18.10"`` rather than ``"18.1"``.
    """

    data: Any
    lines: dict[str, int] = field(default_factory=dict)
    numbers: dict[str, str] = field(default_factory=dict)


def join(path: str, key: object) -> str:
    """The dotted path of ``key`` under ``path``."""
    return f"{path}.{key}" if path else str(key)


def parse(text: str, source: str) -> Document:
    """Parse ``text``; a :class:`ConfigError` with the parser's line and problem otherwise."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        raise _yaml_error(exc, source) from None
    except yaml.YAMLError as exc:
        raise ConfigError(
            f"not valid YAML: {exc}", source=source, hint="fix the YAML syntax"
        ) from None
    finally:
        loader.dispose()
    doc = Document(data)
    if node is not None:
        _walk(node, "", doc, set())
    return doc


def _yaml_error(exc: yaml.MarkedYAMLError, source: str) -> ConfigError:
    mark = exc.problem_mark or exc.context_mark
    problem = exc.problem or "syntax error"
    message = f"not valid YAML: {problem}"
    if exc.context:
        message += f" ({exc.context}"
        if (exc.context_mark and exc.problem_mark and mark is not None
                and exc.context_mark.line != mark.line):
            message += f" at line {exc.context_mark.line + 1}"
        message += ")"
    hint = "fix the YAML syntax"
    if mark is not None:
        message += f", column {mark.column + 1}"
        hint += "; check the indentation and the quotes on this line and the one before"
        if "\t" in problem or "tab" in problem:
            hint = "YAML indents with spaces only: replace the tabs with spaces"
    return ConfigError(
        message, source=source, line=mark.line + 1 if mark is not None else None, hint=hint
    )


def _walk(node: yaml.Node, path: str, doc: Document, stack: set[int]) -> None:
    if id(node) in stack:  # a recursive alias
        return
    stack.add(id(node))
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else "?"
            child = join(path, key)
            doc.lines[child] = key_node.start_mark.line + 1
            _walk(value_node, child, doc, stack)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            child = join(path, index)
            doc.lines[child] = item.start_mark.line + 1
            _walk(item, child, doc, stack)
    elif (isinstance(node, yaml.ScalarNode) and not node.style
          and node.tag in (_INT_TAG, _FLOAT_TAG)):
        doc.numbers[path] = node.value
    stack.discard(id(node))
