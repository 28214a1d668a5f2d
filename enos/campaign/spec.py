"""``campaign.yaml``: a parameter study, checked, and expanded into its points.

::

    name: delay-study                 # default: the file's name without extension
    base: reservation.yaml            # relative to the campaign file
    workload: workload                # a workload directory (holds run.yml)
    parameters:                       # dotted keys -> lists of values; several keys: a grid
      network_constraints.default_delay: [0ms, 50ms, 100ms]
      workload.args.times: [5]        # run.yml: workload.args.X sets argument X everywhere,
                                      # workload.rally.scenarios.0.args.Y one place
    repeat: 2                         # bench runs per point (default 1)

A reservation key is written as it is in reservation.yaml (``network_constraints.default_delay``;
list items by index, ``network_constraints.constraints.0.delay``). Each point's reservation.yaml
and workload are written under ``campaign/<name>/points/<n>/`` and checked before anything
runs, so that a mistake in any point is found first.
"""

from __future__ import annotations

import copy
import itertools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from enos.errors import ConfigError, did_you_mean

KEYS = ("name", "base", "workload", "parameters", "repeat")
MAX_POINTS = 1000
MAX_REPEAT = 100
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
# Top-level reservation keys whose change needs other machines: a new experiment.
MACHINE_KEYS = ("provider", "resources", "topology")
# The key whose change needs only `enos tc`.
TC_KEY = "network_constraints"
WORKLOAD = "workload"


@dataclass
class Point:
    index: int  # from 1
    params: dict[str, Any]  # dotted key -> value, as the campaign file lists them
    reservation: dict[str, Any] = field(default_factory=dict)
    run: dict[str, Any] = field(default_factory=dict)  # run.yml's content

    def label(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.params.items())


@dataclass
class Campaign:
    file: Path
    name: str
    base: Path
    workload: Path
    parameters: dict[str, list[Any]]
    repeat: int
    points: list[Point] = field(default_factory=list)

    @property
    def directory(self) -> Path:
        """``campaign/<name>/`` next to the campaign file: points, results, report."""
        return self.file.parent / "campaign" / self.name

    def point_dir(self, point: Point) -> Path:
        return self.directory / "points" / str(point.index)


def load(file: str | Path) -> Campaign:
    """Read and check the campaign file, then expand and check every point."""
    from enos.config.yamlio import parse
    from enos.utils.fs import UnreadableFile, read_bounded

    path = Path(file).absolute()
    try:
        text = read_bounded(path, what="campaign file")
    except UnreadableFile as exc:
        raise ConfigError(exc.message, source=str(path), line=exc.line, hint=exc.hint) from None
    doc = parse(text, str(path))
    lines = doc.lines

    def error(message: str, key: str, hint: str | None = None) -> ConfigError:
        return ConfigError(message, source=str(path), line=lines.get(key), key=key or None,
                           hint=hint)

    data = doc.data
    if not isinstance(data, dict):
        raise error("a campaign file is a mapping with base, workload and parameters", "",
                    hint="see 'enos campaign --help' for an example")
    for key in data:
        if key not in KEYS:
            close = did_you_mean(str(key), KEYS)
            raise error(f"'{key}' is not a key of a campaign file", str(key),
                        hint=(f"{close}; " if close else "") + f"known: {', '.join(KEYS)}")
    name = data.get("name", path.stem)
    if not isinstance(name, str) or not NAME.match(name):
        raise error(f"name {name!r} is not a directory name", "name",
                    hint="letters, digits, '.', '_' and '-', at most 64")
    base = _file(data, "base", path, error, directory=False)
    workload = _file(data, "workload", path, error, directory=True)
    repeat = data.get("repeat", 1)
    if isinstance(repeat, bool) or not isinstance(repeat, int) or not 1 <= repeat <= MAX_REPEAT:
        raise error(f"repeat must be a whole number from 1 to {MAX_REPEAT} (got {repeat!r})",
                    "repeat")
    parameters = data.get("parameters")
    if not isinstance(parameters, dict) or not parameters:
        raise error("'parameters' must map dotted keys to lists of values", "parameters",
                    hint="for instance: network_constraints.default_delay: [0ms, 50ms]")
    checked: dict[str, list[Any]] = {}
    count = 1
    for key, values in parameters.items():
        where = f"parameters.{key}"
        if not isinstance(key, str) or not key or any(not part for part in key.split(".")):
            raise error(f"{key!r} is not a dotted key", "parameters")
        if not isinstance(values, list) or not values:
            raise error(f"'{key}' must be a non-empty list of values (got {values!r})", where,
                        hint=f"write {key}: [{values!r}]" if values is not None else None)
        if any(isinstance(v, dict | list) for v in values):
            raise error(f"the values of '{key}' must be single values", where)
        if key == WORKLOAD or key.split(".")[0] == WORKLOAD and len(key.split(".")) < 2:
            raise error(f"'{key}' names no workload key", where,
                        hint="workload.args.NAME, or a path into run.yml such as "
                             "workload.rally.args.times")
        count *= len(values)
        if count > MAX_POINTS:
            raise error(f"the parameters make more than {MAX_POINTS} points", where,
                        hint="give fewer values, or split the study")
        checked[key] = values
    campaign = Campaign(path, name, base, workload, checked, repeat)
    campaign.points = expand(campaign)
    return campaign


def _file(data: dict[str, Any], key: str, path: Path, error: Any, directory: bool) -> Path:
    value = data.get(key)
    what = "a workload directory" if directory else "a reservation.yaml"
    if not isinstance(value, str) or not value.strip():
        raise error(f"'{key}' must name {what}", key,
                    hint=f"{key}: {'workload' if directory else 'reservation.yaml'} "
                         "(relative to the campaign file)")
    target = (path.parent / value).resolve()
    ok = target.is_dir() if directory else target.is_file()
    if not ok:
        raise error(f"'{value}' is not {what} ({target})", key)
    return target


def expand(campaign: Campaign) -> list[Point]:
    """Every point of the grid (the last key varies fastest), with its reservation and run.yml
    built and checked."""
    from enos.config.yamlio import parse
    from enos.utils.fs import read_bounded

    base_doc = parse(read_bounded(campaign.base, what="reservation.yaml"), str(campaign.base))
    run_file = campaign.workload / "run.yml"
    run_doc = parse(read_bounded(run_file, what="run.yml"), str(run_file)) \
        if run_file.is_file() else None
    names = list(campaign.parameters)
    points = []
    for index, combo in enumerate(itertools.product(*campaign.parameters.values()), 1):
        params = dict(zip(names, combo, strict=True))
        reservation = copy.deepcopy(base_doc.data) if isinstance(base_doc.data, dict) else {}
        run = copy.deepcopy(run_doc.data) if run_doc and isinstance(run_doc.data, dict) else {}
        for key, value in params.items():
            parts = key.split(".")
            if parts[0] == WORKLOAD:
                _set_workload(run, parts[1:], value, campaign, key)
            else:
                _set(reservation, parts, value, campaign, key)
        points.append(Point(index, params, reservation, run))
    return points


def _set_workload(run: dict[str, Any], parts: list[str], value: Any, campaign: Campaign,
                  key: str) -> None:
    if parts[0] == "args" and len(parts) == 2:
        # An argument of every run: each type's top-level args, and the scenarios' own.
        for desc in run.values():
            if not isinstance(desc, dict):
                continue
            args = desc.setdefault("args", {})
            if isinstance(args, dict):
                args[parts[1]] = [value]
            for scenario in desc.get("scenarios") or []:
                if isinstance(scenario, dict) and isinstance(scenario.get("args"), dict) \
                        and parts[1] in scenario["args"]:
                    scenario["args"][parts[1]] = value
        return
    _set(run, parts, value, campaign, key)


def _set(doc: dict[str, Any], parts: list[str], value: Any, campaign: Campaign,
         key: str) -> None:
    """Set ``doc[parts...] = value``, making missing mappings; list items by index."""
    node: Any = doc
    for position, part in enumerate(parts):
        last = position == len(parts) - 1
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                raise ConfigError(
                    f"'{key}': '{part}' is not an index of a list of {len(node)} item(s)",
                    source=str(campaign.file), key=f"parameters.{key}",
                    hint="list items are numbered from 0")
            if last:
                node[int(part)] = value
            else:
                node = node[int(part)]
            continue
        if not isinstance(node, dict):
            where = ".".join(parts[:position])
            raise ConfigError(f"'{key}': '{where}' is a single value, not a mapping",
                              source=str(campaign.file), key=f"parameters.{key}")
        if last:
            node[part] = value
        else:
            node = node.setdefault(part, {})


def scope(key: str) -> str:
    """What a change of ``key`` needs: ``bench``, ``tc``, ``os`` or ``up`` (new machines)."""
    head = key.split(".")[0]
    if head == WORKLOAD:
        return "bench"
    if head == TC_KEY:
        return "tc"
    if head in MACHINE_KEYS:
        return "up"
    return "os"


def keys_of(reservation: dict[str, Any]) -> dict[str, str]:
    """Fingerprints of the parts of a reservation: what runs where (``up``), what is deployed
    (``os``), the network emulation (``tc``)."""
    import json

    def digest(value: Any) -> str:
        return json.dumps(value, sort_keys=True, default=str)

    machines = {k: v for k, v in reservation.items() if k in MACHINE_KEYS}
    deployed = {k: v for k, v in reservation.items() if k != TC_KEY}
    return {"up": digest(machines), "os": digest(deployed),
            "tc": digest(reservation.get(TC_KEY))}
