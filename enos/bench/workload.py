"""A workload directory: ``run.yml`` and the scenario files it names, expanded into runs.

``run.yml`` groups scenarios by benchmark type (``rally``, ``shaker``)::

    rally:
      enabled: true            # default true; yes/no spellings too
      args:                    # every value a list: the runs are their cartesian product
        concurrency: [1, 2, 4]
        times: [100]
      scenarios:
        - name: boot and list servers
          enabled: true        # a scenario runs only if it and its type are enabled
          file: nova-boot-list-cc.yml     # relative to the workload directory
          plugin: plugins/                # optional, relative to the workload directory
          args:                # shadow the top-level args; a scalar is a one-value list
            times: 50
          faults:              # optional: injected during each run (enos.bench.faults)
            - {at: 20s, action: stop, service: mariadb, for: 5s}
      config:                  # optional: options of rally.conf, by section (rally only)
        openstack:
          nova_server_boot_poll_interval: 0.5

For Shaker, ``file`` is the alias of a scenario shipped with Shaker
(``openstack/dense_l3_east_west``), not a file of the workload.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from enos.bench.faults import parse as parse_faults
from enos.config.checks import truth
from enos.errors import ConfigError, did_you_mean

if TYPE_CHECKING:
    from enos.faults import Fault

RUN_FILE = "run.yml"
TYPES = ("rally", "shaker")
TYPE_KEYS = ("enabled", "args", "scenarios", "config")
SCENARIO_KEYS = ("name", "file", "enabled", "args", "plugin", "faults")
# The most runs a workload may expand to (counted before any is built).
MAX_RUNS = 10_000
# rally.conf's names: a section, an option (oslo.config's), and the options enos writes itself.
CONF_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,99}$")
CONF_OWNED = {("database", "connection"), ("DEFAULT", "use_stderr")}



@dataclass(frozen=True)
class Run:
    """One execution of one scenario with one set of arguments."""

    type: str
    scenario: str
    file: str  # as written in run.yml
    path: Path | None  # the scenario file (None for a Shaker alias)
    args: dict[str, Any]
    plugins: tuple[Path, ...] = ()
    index: int = 0  # position in the workload's runs, from 1
    scenario_index: int = 0  # position of the scenario under its type, from 0
    faults: tuple[tuple[float, Fault], ...] = ()  # (seconds after the first iteration, fault)

    def label(self) -> str:
        """``boot and list servers (concurrency=2, times=50)``."""
        args = ", ".join(f"{k}={v}" for k, v in self.args.items())
        return f"{self.scenario} ({args})" if args else self.scenario

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "type": self.type,
            "scenario": self.scenario,
            "file": self.file,
            "path": str(self.path) if self.path else None,
            "args": self.args,
            "plugins": [str(p) for p in self.plugins],
            **({"faults": [{"at": at, "fault": f.label()} for at, f in self.faults]}
               if self.faults else {}),
        }


@dataclass
class Workload:
    """The runs a workload directory asks for, in order, and what was odd about it."""

    directory: Path
    runs: list[Run] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    #: ``rally.config``: options written to rally.conf, {section: {option: value}}.
    rally_config: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def run_file(self) -> Path:
        return self.directory / RUN_FILE

    def of_type(self, kind: str) -> list[Run]:
        return [r for r in self.runs if r.type == kind]


def load(directory: str | Path) -> Workload:
    """Read ``directory/run.yml`` and expand it; a :class:`ConfigError` on any mistake."""
    from enos.config.yamlio import parse
    from enos.utils.fs import UnreadableFile, check_path_length, read_bounded

    directory = Path(directory)
    run_file = directory / RUN_FILE
    try:
        check_path_length(run_file)
    except UnreadableFile as exc:
        raise ConfigError(f"workload directory: {exc.message}", hint=exc.hint) from None
    if not directory.is_dir():
        what = "is not a directory" if directory.exists() else "does not exist"
        raise ConfigError(
            f"workload directory '{directory}' {what}",
            hint="pass the directory holding run.yml with --workload DIR (default: workload/)",
        )
    if not run_file.is_file() and not run_file.is_symlink() and not run_file.exists():
        present = sorted(p.name for p in directory.glob("*.y*ml"))
        raise ConfigError(
            f"no {RUN_FILE} in the workload directory {directory}",
            source=str(run_file),
            hint="write run.yml there (see 'enos bench --help' for an example)"
            + (f"; the directory holds {', '.join(present)}" if present else ""),
        )
    try:
        text = read_bounded(run_file, what="run.yml")
    except UnreadableFile as exc:
        raise ConfigError(exc.message, source=str(run_file), line=exc.line,
                          hint=exc.hint) from None
    doc = parse(text, str(run_file))
    return expand(doc.data, directory, lines=doc.lines)


def expand(  # noqa: C901 - one pass over run.yml's two levels, each check next to its key
        data: Any, directory: Path, lines: dict[str, int] | None = None) -> Workload:
    """Expand the content of a run.yml into runs (``directory`` resolves relative paths)."""
    directory = directory.absolute()
    source = str(directory / RUN_FILE)
    lines = lines or {}
    workload = Workload(directory)

    def error(message: str, key: str, hint: str | None = None) -> ConfigError:
        return ConfigError(message, source=source, line=lines.get(key), key=key or None,
                           hint=hint)

    if data is None:
        workload.warnings.append(f"{source} is empty: nothing to run")
        return workload
    if not isinstance(data, dict):
        raise error(
            f"run.yml must be a mapping of benchmark types ({', '.join(TYPES)}), "
            f"not a {_kind(data)}", "",
            hint="start the file with 'rally:' and list the scenarios under 'scenarios:'",
        )
    for kind, desc in data.items():
        kind = str(kind)
        if kind not in TYPES:
            close = did_you_mean(kind, TYPES)
            raise error(
                f"unknown benchmark type '{kind}'", kind,
                hint=(f"{close} " if close else "")
                + f"enos runs {' and '.join(TYPES)} workloads",
            )
        if desc is None:
            workload.warnings.append(f"{source}: '{kind}' is empty: nothing to run")
            continue
        if not isinstance(desc, dict):
            raise error(f"'{kind}' must be a mapping with 'scenarios' (and optionally 'args', "
                        f"'enabled'), not a {_kind(desc)}", kind)
        _unknown_keys(desc, TYPE_KEYS, kind, workload, source, lines)
        type_enabled = _enabled(desc, kind, error)
        if desc.get("config") is not None:
            if kind != "rally":
                raise error(f"'{kind}.config' is not read: only Rally takes a configuration",
                            f"{kind}.config", hint="move it under 'rally:'")
            workload.rally_config = _rally_config(desc["config"], error)
        top_args = desc.get("args") or {}
        if not isinstance(top_args, dict):
            raise error(f"'{kind}.args' must be a mapping of argument names to lists of values",
                        f"{kind}.args", hint="for instance: args: {concurrency: [1, 2], "
                        "times: [10]}")
        for name, values in top_args.items():
            if not isinstance(values, list):
                raise error(
                    f"top-level argument '{name}' must be a list of values (got {values!r})",
                    f"{kind}.args.{name}",
                    hint=f"write '{name}: [{_yaml_scalar(values)}]'; every run takes one value "
                    "of each list (cartesian product); scenario args may be single values",
                )
            if not values:
                raise error(f"top-level argument '{name}' is an empty list: no run would take "
                            "a value from it", f"{kind}.args.{name}",
                            hint=f"give '{name}' at least one value, or remove it")
        scenarios = desc.get("scenarios")
        if scenarios is None:
            workload.warnings.append(f"{source}: '{kind}' has no 'scenarios': nothing to run")
            continue
        if not isinstance(scenarios, list):
            raise error(f"'{kind}.scenarios' must be a list of scenarios (each with 'name' "
                        "and 'file')", f"{kind}.scenarios",
                        hint="write each scenario as an item starting with '- name: ...'")
        for position, scenario in enumerate(scenarios):
            key = f"{kind}.scenarios.{position}"
            if not isinstance(scenario, dict):
                raise error(f"scenario {position + 1} of '{kind}' must be a mapping with "
                            f"'name' and 'file', not a {_kind(scenario)}", key)
            _unknown_keys(scenario, SCENARIO_KEYS, key, workload, source, lines)
            enabled = _enabled(scenario, key, error)
            if not (type_enabled and enabled):
                continue
            file = scenario.get("file")
            if not isinstance(file, str) or not file.strip():
                raise error(f"scenario {position + 1} of '{kind}' has no 'file'",
                            f"{key}.file" if "file" in scenario else key,
                            hint=_file_hint(kind, directory))
            name = str(scenario.get("name") or file)
            path: Path | None = None
            if kind == "rally":
                path = directory / file
                if not _is_file(path):
                    raise error(f"scenario '{name}': file '{file}' is not a file in the "
                                f"workload directory {directory}", f"{key}.file",
                                hint=_file_hint(kind, directory, file))
            plugins = _plugins(scenario, key, directory, error)
            faults = parse_faults(scenario.get("faults"), f"{key}.faults", error)
            if faults and kind != "rally":
                raise error(f"scenario '{name}': faults are injected during Rally runs only",
                            f"{key}.faults", hint="move the faults to a rally scenario")
            local_args = scenario.get("args") or {}
            if not isinstance(local_args, dict):
                raise error(f"'{key}.args' must be a mapping of argument names to values",
                            f"{key}.args")
            for arg, value in local_args.items():
                if isinstance(value, list) and not value:
                    raise error(f"argument '{arg}' of scenario '{name}' is an empty list",
                                f"{key}.args.{arg}",
                                hint=f"give '{arg}' a value, or remove it")
            merged = {**top_args, **local_args}
            count = combinations(merged)
            if len(workload.runs) + count > MAX_RUNS:
                raise error(
                    f"scenario '{name}' expands to {count} runs (the cartesian product of its "
                    f"args), {len(workload.runs) + count} in all: more than {MAX_RUNS}",
                    f"{key}.args" if local_args else (f"{kind}.args" if top_args else key),
                    hint="give the arguments fewer values, or split the workload",
                )
            for combination in cartesian(merged):
                workload.runs.append(Run(
                    type=kind, scenario=name, file=file, path=path, args=combination,
                    plugins=plugins, index=len(workload.runs) + 1, scenario_index=position,
                    faults=faults,
                ))
            if path is not None:
                workload.warnings += _template_warnings(path, name, merged)
    return workload


def combinations(args: dict[str, Any]) -> int:
    """How many runs :func:`cartesian` would make of ``args``, without making them."""
    count = 1
    for value in args.values():
        count *= len(value) if isinstance(value, list) else 1
    return count


def cartesian(args: dict[str, Any]) -> list[dict[str, Any]]:
    """Every combination of the values of ``args`` (a non-list value is a one-value list).

    Argument order is kept; the last argument varies fastest.
    """
    names = list(args)
    choices = [v if isinstance(v, list) else [v] for v in args.values()]
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*choices)]


def _enabled(desc: dict[str, Any], key: str, error: Any) -> bool:
    value = desc.get("enabled", True)
    if value is None:
        return True
    flag = truth(value)
    if flag is not None:
        return flag
    raise error(f"'enabled' must be true or false (got {value!r})", f"{key}.enabled",
                hint="write enabled: true (or yes) / enabled: false (or no)")


def _rally_config(value: Any, error: Any) -> dict[str, dict[str, str]]:
    """``rally.config``: {section: {option: scalar}}, each value as rally.conf's text."""
    example = "config: {openstack: {nova_server_boot_poll_interval: 0.5}}"
    if not isinstance(value, dict):
        raise error(f"'rally.config' must be a mapping of rally.conf sections, not a "
                    f"{_kind(value)}", "rally.config", hint=f"for instance: {example}")
    out: dict[str, dict[str, str]] = {}
    for section, options in value.items():
        key = f"rally.config.{section}"
        if not CONF_NAME.match(str(section)):
            raise error(f"'{section}' is not a section name of rally.conf", "rally.config",
                        hint=f"for instance: {example}")
        if not isinstance(options, dict):
            raise error(f"'{key}' must be a mapping of options to values, not a "
                        f"{_kind(options)}", key, hint=f"for instance: {example}")
        for option, raw in options.items():
            where = f"{key}.{option}"
            if not CONF_NAME.match(str(option)):
                raise error(f"'{option}' is not an option name of rally.conf", key)
            if (str(section), str(option)) in CONF_OWNED:
                raise error(f"'{section}.{option}' is set by enos (the experiment's Rally "
                            "database and log)", where, hint="remove it")
            if isinstance(raw, bool):
                text = "true" if raw else "false"
            elif isinstance(raw, int | float | str) and "\n" not in str(raw) \
                    and len(str(raw)) <= 1000:
                text = str(raw)
            else:
                raise error(f"'{where}' must be one value on one line (a number, a word, "
                            f"true or false), not {_kind(raw)}", where)
            out.setdefault(str(section), {})[str(option)] = text
    return out


def _plugins(scenario: dict[str, Any], key: str, directory: Path, error: Any) -> tuple[Path, ...]:
    raw = scenario.get("plugin")
    if raw is None:
        return ()
    items = raw if isinstance(raw, list) else [raw]
    out = []
    for item in items:
        if not isinstance(item, str) or not item.strip():
            raise error(f"'plugin' must be a path relative to the workload directory "
                        f"(got {item!r})", f"{key}.plugin")
        path = directory / item
        if not (_is_file(path) or _is_dir(path)):
            raise error(f"plugin '{item}' does not exist in the workload directory {directory}",
                        f"{key}.plugin",
                        hint="put the plugin file (or a directory of plugins) in the workload "
                        "directory and give its path relative to it")
        out.append(path)
    return tuple(out)


def _unknown_keys(desc: dict[str, Any], known: tuple[str, ...], where: str, workload: Workload,
                  source: str, lines: dict[str, int]) -> None:
    for key in desc:
        if key in known:
            continue
        close = did_you_mean(str(key), known)
        line = lines.get(f"{where}.{key}")
        at = f"{source}:{line}" if line else source
        workload.warnings.append(
            f"{at}: '{where}.{key}' is not a key enos reads (known: {', '.join(known)})"
            + (f"; {close}" if close else "; it is ignored")
        )


def _file_hint(kind: str, directory: Path, wrong: str | None = None) -> str:
    if kind == "shaker":
        return "give the alias of a Shaker scenario, such as 'openstack/dense_l3_east_west'"
    present = sorted(str(p.relative_to(directory)) for p in
                     itertools.islice(directory.rglob("*.y*ml"), 200) if p.name != RUN_FILE)
    hint = "give the scenario file's path relative to the workload directory"
    if wrong:
        close = did_you_mean(wrong, present)
        if close:
            return f"{close} " + hint
    if present:
        hint += f"; the directory holds {', '.join(present[:10])}"
    return hint


def _template_warnings(path: Path, name: str, args: dict[str, Any]) -> list[str]:
    """Arguments the Rally template needs and no ``args`` gives (Rally would refuse the task)."""
    missing = sorted(required_arguments(path) - set(args))
    if not missing:
        return []
    return [(f"scenario '{name}': {path.name} uses {', '.join(missing)} with no default and "
             "the workload gives no value: Rally will refuse the task; add them under 'args'")]


_DEFAULT_IDIOM = r"\{%%-?\s*set\s+%(n)s\s*=\s*%(n)s\s+or\s"
_DEFAULT_FILTER = r"\{\{-?\s*%(n)s\s*\|\s*default\s*\("
_DEFINED_TEST = r"%(n)s\s+is\s+(?:not\s+)?defined"


def required_arguments(path: Path) -> set[str]:
    """Template variables without a default, found the way Rally finds them.

    A variable is optional when the template gives it a default with
    ``{% set x = x or default %}``, ``{{ x | default(...) }}`` or tests ``x is defined``.
    Returns an empty set when the template cannot be parsed (Rally will say why).
    """
    import builtins

    import jinja2
    from jinja2 import meta

    from enos.utils.fs import read_bounded

    try:
        text = read_bounded(path, what="scenario file")
        env = jinja2.Environment()
        ast = env.parse(text)
    except Exception:  # noqa: BLE001 (unreadable, not a template, too deep: Rally says why)
        return set()
    names = meta.find_undeclared_variables(ast) - set(dir(builtins)) - set(env.globals)
    out = set()
    for name in names:
        n = re.escape(name)
        if any(re.search(p % {"n": n}, text) for p in
               (_DEFAULT_IDIOM, _DEFAULT_FILTER, _DEFINED_TEST)):
            continue
        out.add(name)
    return out


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except (OSError, ValueError):  # a name too long, a NUL byte
        return False


def _is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except (OSError, ValueError):
        return False


def _kind(value: Any) -> str:
    if value is None:
        return "empty value"
    names: dict[type, str] = {dict: "mapping", list: "list", str: "string"}
    return names.get(type(value), type(value).__name__)


def _yaml_scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
