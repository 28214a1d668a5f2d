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


# Bounds on what a YAML file may ask the reader to build. Real files nest a few levels and
# use a handful of aliases; past these a file is a mistake or an attack (alias bombs).
MAX_DEPTH = 64  # nesting of mappings and lists, aliases followed
MAX_ALIASES = 1000  # alias uses (*name) in one file
MAX_VALUES = 100_000  # values in the document once every alias is expanded
MAX_NUMBER_DIGITS = 100
# Tags that make something JSON cannot hold (or that nothing in enos reads).
_REFUSED_TAGS = {
    "tag:yaml.org,2002:set": "a set",
    "tag:yaml.org,2002:omap": "an ordered mapping",
    "tag:yaml.org,2002:pairs": "a list of pairs",
    "tag:yaml.org,2002:binary": "binary data",
    "tag:yaml.org,2002:timestamp": "a timestamp",
}
_MERGE_TAG = "tag:yaml.org,2002:merge"
# What YAML refuses in a file (C0 controls but tab/newline/CR, DEL, C1 but NEL, surrogates).
_NON_PRINTABLE = re.compile(
    "[^\x09\x0A\x0D\x20-\x7E\x85\xA0-\uD7FF\uE000-\uFFFD\U00010000-\U0010FFFF]"
)


def parse(text: str, source: str) -> Document:
    """Parse ``text``; a :class:`ConfigError` with the parser's line and problem otherwise.

    The text is checked before anything is built: no control character, nesting at most
    :data:`MAX_DEPTH`, at most :data:`MAX_ALIASES` aliases, no alias to itself, at most
    :data:`MAX_VALUES` values once aliases are expanded, no key given twice in a mapping.
    """
    _check_characters(text, source)
    _check_events(text, source)
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is not None:
            _check_graph(node, source)
            _check_duplicates(node, "", source, set())
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        raise _yaml_error(exc, source, text) from None
    except yaml.YAMLError as exc:
        raise ConfigError(
            f"not valid YAML: {exc}", source=source, hint="fix the YAML syntax"
        ) from None
    except (ValueError, TypeError, OverflowError, AttributeError) as exc:
        # A value the constructors choke on (an explicit tag on text that does not fit it).
        raise ConfigError(f"a value cannot be read: {exc}", source=source,
                          hint="remove the explicit tag (!!int, !!float...) or fix the value"
                          ) from None
    finally:
        loader.dispose()
    doc = Document(data)
    if node is not None:
        _walk(node, "", doc, set())
    return doc


def _check_characters(text: str, source: str) -> None:
    bad = _NON_PRINTABLE.search(text)
    if bad is None:
        return
    line = text.count("\n", 0, bad.start()) + 1
    column = bad.start() - (text.rfind("\n", 0, bad.start()) + 1) + 1
    char = bad.group()
    raise ConfigError(
        f"control character U+{ord(char):04X} at column {column}: YAML does not allow it in a "
        "file", source=source, line=line,
        hint="remove it; inside a double-quoted string write it as an escape "
        f"(\"\\x{ord(char) & 0xFF:02x}\")" if ord(char) < 0x100 else "remove it",
    )


def _check_events(text: str, source: str) -> None:
    """Nesting depth and alias count, from the parser's events, before any node is built.

    The composer recurses once per level (the C one crashes the process past some thousands of
    levels); the event parser does not.
    """
    loader = _Loader(text)
    depth = 0
    aliases = 0
    try:
        while loader.check_event():
            event = loader.get_event()
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    raise ConfigError(
                        f"mappings and lists nest more than {MAX_DEPTH} levels deep",
                        source=source, line=event.start_mark.line + 1 if event.start_mark else None,
                        hint="a reservation file nests a few levels: check the brackets and "
                        "the indentation",
                    )
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
            elif isinstance(event, yaml.AliasEvent):
                aliases += 1
                if aliases > MAX_ALIASES:
                    raise ConfigError(
                        f"more than {MAX_ALIASES} aliases (*name)", source=source,
                        line=event.start_mark.line + 1 if event.start_mark else None,
                        hint="write the values out, or use fewer anchors and aliases",
                    )
    except yaml.MarkedYAMLError as exc:
        raise _yaml_error(exc, source, text) from None
    except yaml.YAMLError as exc:
        raise ConfigError(
            f"not valid YAML: {exc}", source=source, hint="fix the YAML syntax"
        ) from None
    finally:
        loader.dispose()


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _check_graph(root: yaml.Node, source: str) -> None:
    """Refuse an alias to a node that contains it, and documents whose aliases expand to more
    than :data:`MAX_VALUES` values or :data:`MAX_DEPTH` levels. Iterative: no recursion."""
    size: dict[int, int] = {}
    depth: dict[int, int] = {}
    open_: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        ident = id(node)
        if finished:
            open_.discard(ident)
            children = _children(node)
            size[ident] = 1 + sum(size[id(c)] for c in children)
            depth[ident] = 1 + max((depth[id(c)] for c in children), default=0)
            line = node.start_mark.line + 1
            if size[ident] > MAX_VALUES:
                raise ConfigError(
                    f"the aliases of this value expand to {size[ident]} values (more than "
                    f"{MAX_VALUES})", source=source, line=line,
                    hint="an alias copies its anchor's whole value: use fewer nested aliases",
                )
            if depth[ident] > MAX_DEPTH:
                raise ConfigError(
                    f"with its aliases expanded, this value nests more than {MAX_DEPTH} levels",
                    source=source, line=line, hint="use fewer nested aliases",
                )
            continue
        if ident in size:
            continue
        if isinstance(node, yaml.ScalarNode):
            _check_scalar(node, source)
            size[ident], depth[ident] = 1, 0
            continue
        open_.add(ident)
        stack.append((node, True))
        for child in _children(node):
            if id(child) in open_:
                raise ConfigError(
                    "an alias refers to a value that contains it (a value cannot hold itself)",
                    source=source, line=node.start_mark.line + 1,
                    hint="the alias (*name) must point to an anchor (&name) defined outside "
                    "the value it is in",
                )
            if id(child) not in size:
                stack.append((child, False))


def _check_scalar(node: yaml.ScalarNode, source: str) -> None:
    line = node.start_mark.line + 1
    if node.tag in _REFUSED_TAGS:
        raise ConfigError(f"{_REFUSED_TAGS[node.tag]} ({node.tag.rsplit(':', 1)[1]}) is not "
                          "a value enos reads", source=source, line=line,
                          hint="write it as a string, a number, a list or a mapping")
    if node.tag in (_INT_TAG, _FLOAT_TAG) and len(node.value) > MAX_NUMBER_DIGITS:
        raise ConfigError(f"a number of {len(node.value)} characters", source=source,
                          line=line, hint="write a smaller number, or quote it if it is text")
    pattern = {_INT_TAG: _INT, _FLOAT_TAG: _FLOAT}.get(node.tag)
    if (pattern is not None and not pattern.match(node.value.replace("_", "") or "_")
            and not (node.tag == _FLOAT_TAG and _INT.match(node.value))):
        raise ConfigError(f"'{node.value[:40]}' is tagged as a number but is not one",
                          source=source, line=line,
                          hint="remove the !!int or !!float tag, or write a number")


def _check_duplicates(node: yaml.Node, path: str, source: str, seen: set[int]) -> None:
    """A key given twice in one mapping is an error (YAML would silently keep the last)."""
    if id(node) in seen:
        return
    seen.add(id(node))
    if node.tag in _REFUSED_TAGS:
        raise ConfigError(f"{_REFUSED_TAGS[node.tag]} ({node.tag.rsplit(':', 1)[1]}) is not "
                          "a value enos reads", source=source,
                          line=node.start_mark.line + 1, key=path or None,
                          hint="write it as a string, a number, a list or a mapping")
    if isinstance(node, yaml.MappingNode):
        first: dict[tuple[str, str], int] = {}
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag != _MERGE_TAG:
                ident = (key_node.tag, key_node.value)
                line = key_node.start_mark.line + 1
                if ident in first:
                    key = join(path, key_node.value)
                    raise ConfigError(
                        f"key '{key_node.value}' is given twice, on lines {first[ident]} and "
                        f"{line}", source=source, line=line, key=key,
                        hint="keep one of them (YAML would silently use the last one)",
                    )
                first[ident] = line
                child = join(path, key_node.value)
            else:
                child = join(path, "?")
            _check_duplicates(value_node, child, source, seen)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _check_duplicates(item, join(path, index), source, seen)


def _tab_at(text: str, mark: Any) -> int | None:
    """The 1-based line, ``mark``'s or the one before, indented with a tab, if any."""
    lines = text.splitlines()
    for number in (mark.line, mark.line - 1):
        if 0 <= number < len(lines):
            line = lines[number]
            indent = line[:len(line) - len(line.lstrip(" \t"))]
            if "\t" in indent or (number == mark.line and line[mark.column:mark.column + 1]
                                    == "\t"):
                return number + 1
    return None


def _yaml_error(exc: yaml.MarkedYAMLError, source: str, text: str = "") -> ConfigError:
    mark = exc.problem_mark or exc.context_mark
    problem = exc.problem or "syntax error"
    tab_line = _tab_at(text, mark) if mark is not None and text else None
    if tab_line is not None:
        return ConfigError(
            "a tab is used for indentation: YAML indents with spaces only",
            source=source, line=tab_line,
            hint="replace the tabs with spaces",
        )
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
