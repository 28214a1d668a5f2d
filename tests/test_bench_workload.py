"""Workload expansion: run.yml -> runs; errors that name the file, the key and what to do."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from enos.bench import workload
from enos.bench.samples import WORKLOAD as SAMPLE
from enos.bench.samples import workload_files
from enos.cli import cli
from enos.errors import ConfigError

DATA = Path(__file__).parent / "data" / "workload"
TEMPLATE = (DATA / "nova-boot-list-cc.yml").read_text()

# The command line with bench and backup, whether or not enos.cli lists them yet.
ENOS = (
    "import sys, enos.cli as c; "
    "c.COMMANDS.setdefault('bench', ('enos.commands.bench', 'Run a workload.')); "
    "c.COMMANDS.setdefault('backup', ('enos.commands.backup', 'Back up.')); "
    "c.main(sys.argv[1:])"
)


@pytest.fixture(autouse=True)
def _commands(monkeypatch: pytest.MonkeyPatch) -> None:
    import enos.cli

    commands = dict(enos.cli.COMMANDS)
    commands.setdefault("bench", ("enos.commands.bench", "Run a workload."))
    commands.setdefault("backup", ("enos.commands.backup", "Back up."))
    monkeypatch.setattr(enos.cli, "COMMANDS", commands)


def make(tmp_path: Path, run_yml: str, files: dict[str, str] | None = None) -> Path:
    d = tmp_path / "workload"
    d.mkdir()
    (d / "run.yml").write_text(run_yml)
    for name, text in (files or {"nova-boot-list-cc.yml": TEMPLATE}).items():
        (d / name).parent.mkdir(parents=True, exist_ok=True)
        (d / name).write_text(text)
    return d


def test_original_example_expands_to_three_runs_of_50() -> None:
    w = workload.load(DATA)
    assert [r.args for r in w.runs] == [
        {"concurrency": 1, "times": 50, "sla_max_avg_duration": 30},
        {"concurrency": 2, "times": 50, "sla_max_avg_duration": 30},
        {"concurrency": 4, "times": 50, "sla_max_avg_duration": 30},
    ]
    assert {r.type for r in w.runs} == {"rally"}
    assert {r.scenario for r in w.runs} == {"boot and list servers"}
    assert all(r.path == (DATA / "nova-boot-list-cc.yml").absolute() for r in w.runs)
    assert [r.index for r in w.runs] == [1, 2, 3]
    assert w.warnings == []


def test_sample_workload_is_valid_and_matches_the_original_template() -> None:
    w = workload.load(SAMPLE)
    assert len(w.runs) == 2 and w.warnings == []
    assert (SAMPLE / "nova-boot-list-cc.yml").read_text() == TEMPLATE
    assert [p.name for p in workload_files()] == ["run.yml", "nova-boot-list-cc.yml"]


def test_tutorial_example_with_shaker(tmp_path: Path) -> None:
    d = make(tmp_path, """---
rally:
  enabled: yes
  args:
    concurrency:
      - 5
    times:
      - 10
  scenarios:
  - name: boot and list servers
    file: nova-boot-list-cc.yml
    args:
      sla_max_avg_duration: 30
shaker:
  enabled: yes
  scenarios:
  - name: OpenStack L3 East-West Dense
    file: openstack/dense_l3_east_west
""")
    w = workload.load(d)
    assert [(r.type, r.args) for r in w.runs] == [
        ("rally", {"concurrency": 5, "times": 10, "sla_max_avg_duration": 30}),
        ("shaker", {}),
    ]
    assert w.runs[1].path is None and w.runs[1].file == "openstack/dense_l3_east_west"


def test_scenario_args_shadow_and_expand(tmp_path: Path) -> None:
    d = make(tmp_path, """
rally:
  args: {concurrency: [1, 2], times: [10]}
  scenarios:
    - name: a
      file: nova-boot-list-cc.yml
      args: {concurrency: [8, 16], times: [3, 4]}
    - name: b
      file: nova-boot-list-cc.yml
""")
    w = workload.load(d)
    assert [(r.scenario, r.args["concurrency"], r.args["times"]) for r in w.runs] == [
        ("a", 8, 3), ("a", 8, 4), ("a", 16, 3), ("a", 16, 4), ("b", 1, 10), ("b", 2, 10),
    ]
    # Scenario args of one scenario never leak into the next.
    assert w.runs[-1].args == {"concurrency": 2, "times": 10}


@pytest.mark.parametrize("off", ["false", "no", "off", "'no'", "'False'"])
def test_disabled_scenarios_and_types_vanish(tmp_path: Path, off: str) -> None:
    d = make(tmp_path, f"""
rally:
  args: {{concurrency: [1], times: [2]}}
  scenarios:
    - {{name: kept, file: nova-boot-list-cc.yml, enabled: yes}}
    - {{name: dropped, file: nova-boot-list-cc.yml, enabled: {off}}}
shaker:
  enabled: {off}
  scenarios:
    - {{name: l3, file: openstack/dense_l3_east_west}}
""")
    w = workload.load(d)
    assert [r.scenario for r in w.runs] == ["kept"]


def test_disabled_type_wins_over_enabled_scenario(tmp_path: Path) -> None:
    d = make(tmp_path, """
rally:
  enabled: false
  args: {concurrency: [1], times: [2]}
  scenarios:
    - {name: s, file: nova-boot-list-cc.yml, enabled: true}
""")
    assert workload.load(d).runs == []


def test_disabled_scenario_file_is_not_checked(tmp_path: Path) -> None:
    d = make(tmp_path, """
rally:
  scenarios:
    - {name: gone, file: missing.yml, enabled: no}
""")
    assert workload.load(d).runs == []


def test_missing_run_yml(tmp_path: Path) -> None:
    (tmp_path / "workload").mkdir()
    (tmp_path / "workload" / "other.yml").write_text("x: 1\n")
    with pytest.raises(ConfigError) as err:
        workload.load(tmp_path / "workload")
    assert "no run.yml" in err.value.message
    assert str(tmp_path / "workload" / "run.yml") in err.value.message
    assert err.value.hint and "other.yml" in err.value.hint


def test_missing_workload_directory(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        workload.load(tmp_path / "nope")
    assert "does not exist" in err.value.message and "--workload" in (err.value.hint or "")


def test_unknown_file(tmp_path: Path) -> None:
    d = make(tmp_path, """rally:
  args: {concurrency: [1], times: [2]}
  scenarios:
    - name: boot
      file: nova-boot-list.yml
""")
    with pytest.raises(ConfigError) as err:
        workload.load(d)
    e = err.value
    assert e.key == "rally.scenarios.0.file" and e.line == 5
    assert f"{d / 'run.yml'}:5 [rally.scenarios.0.file]" in e.message
    assert "nova-boot-list.yml" in e.message
    assert "did you mean 'nova-boot-list-cc.yml'" in (e.hint or "")


def test_non_list_top_level_args(tmp_path: Path) -> None:
    d = make(tmp_path, """rally:
  args:
    concurrency: [1]
    times: 100
  scenarios:
    - {name: boot, file: nova-boot-list-cc.yml}
""")
    with pytest.raises(ConfigError) as err:
        workload.load(d)
    e = err.value
    assert e.key == "rally.args.times" and e.line == 4
    assert "must be a list" in e.message
    assert "times: [100]" in (e.hint or "")


def test_bad_yaml(tmp_path: Path) -> None:
    d = make(tmp_path, "rally:\n  scenarios:\n    - name: a\n     file: x.yml\n")
    with pytest.raises(ConfigError) as err:
        workload.load(d)
    assert "not valid YAML" in err.value.message
    assert err.value.source == str(d / "run.yml") and err.value.line


@pytest.mark.parametrize(("text", "key", "words"), [
    ("raly:\n  scenarios: []\n", "raly", "did you mean 'rally'"),
    ("- rally\n", None, "must be a mapping"),
    ("rally: [a]\n", "rally", "must be a mapping"),
    ("rally:\n  scenarios: {name: a}\n", "rally.scenarios", "must be a list"),
    ("rally:\n  scenarios:\n    - {name: a}\n", "rally.scenarios.0", "has no 'file'"),
    ("rally:\n  enabled: maybe\n  scenarios: []\n", "rally.enabled", "true or false"),
    ("rally:\n  args: {times: []}\n  scenarios: []\n", "rally.args.times", "empty list"),
    ("rally:\n  args: [1]\n  scenarios: []\n", "rally.args", "mapping"),
    ("rally:\n  scenarios:\n    - {name: a, file: nova-boot-list-cc.yml, plugin: p.py}\n",
     "rally.scenarios.0.plugin", "plugin 'p.py' does not exist"),
    ("rally:\n  config: [a]\n  scenarios: []\n", "rally.config", "mapping of rally.conf"),
    ("rally:\n  config: {openstack: 1}\n  scenarios: []\n", "rally.config.openstack",
     "mapping of options"),
    ("rally:\n  config: {'a b': {x: 1}}\n  scenarios: []\n", "rally.config",
     "not a section name"),
    ("rally:\n  config: {database: {connection: 'sqlite://'}}\n  scenarios: []\n",
     "rally.config.database.connection", "set by enos"),
    ("rally:\n  config: {openstack: {x: [1]}}\n  scenarios: []\n", "rally.config.openstack.x",
     "one value on one line"),
    ("rally:\n  config: {openstack: {x: \"a\\nb\"}}\n  scenarios: []\n",
     "rally.config.openstack.x", "one value on one line"),
    ("shaker:\n  config: {a: {b: 1}}\n  scenarios: []\n", "shaker.config",
     "only Rally takes a configuration"),
])
def test_bad_workloads(tmp_path: Path, text: str, key: str | None, words: str) -> None:
    d = make(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        workload.load(d)
    assert err.value.key == key
    assert words in str(err.value)
    assert str(d / "run.yml") in err.value.message


def test_plugins_resolve_relative_to_workload(tmp_path: Path) -> None:
    d = make(tmp_path, """rally:
  args: {concurrency: [1], times: [1]}
  scenarios:
    - {name: a, file: nova-boot-list-cc.yml, plugin: plugins/}
""", {"nova-boot-list-cc.yml": TEMPLATE, "plugins/my.py": "# plugin\n"})
    (run,) = workload.load(d).runs
    assert run.plugins == ((d / "plugins").absolute(),)


def test_unknown_keys_warn_and_missing_template_args_warn(tmp_path: Path) -> None:
    d = make(tmp_path, """rally:
  scenarios:
    - {name: a, file: nova-boot-list-cc.yml, arg: {times: 3}}
""")
    w = workload.load(d)
    assert len(w.runs) == 1
    assert any("'rally.scenarios.0.arg'" in m and "did you mean 'args'" in m for m in w.warnings)
    assert any("concurrency, times" in m and "Rally will refuse" in m for m in w.warnings)


def test_required_arguments_follow_rallys_default_idioms(tmp_path: Path) -> None:
    assert workload.required_arguments(DATA / "nova-boot-list-cc.yml") == {"concurrency", "times"}
    t = tmp_path / "t.yml"
    t.write_text("{% if x is defined %}{{x}}{% endif %} {{ y | default(3) }} {{ z }}\n")
    assert workload.required_arguments(t) == {"z"}


def test_empty_and_null_types(tmp_path: Path) -> None:
    d = make(tmp_path, "shaker:\n")
    w = workload.load(d)
    assert w.runs == [] and w.warnings


def test_cartesian_treats_scalars_as_one_value() -> None:
    assert workload.cartesian({"a": [1, 2], "b": "x", "c": {"k": 1}}) == [
        {"a": 1, "b": "x", "c": {"k": 1}}, {"a": 2, "b": "x", "c": {"k": 1}},
    ]
    assert workload.cartesian({}) == [{}]


# -- through the command line ------------------------------------------------------------
def test_cli_dry_run_text_and_json(tmp_path: Path) -> None:
    runner = CliRunner()
    res = runner.invoke(cli, ["bench", "--workload", str(DATA), "--dry-run"])
    assert res.exit_code == 0, res.output
    assert "3 run(s)" in res.output
    assert "concurrency=4 times=50 sla_max_avg_duration=30" in res.output
    res = runner.invoke(cli, ["bench", "--workload", str(DATA), "--dry-run", "--out", "json"])
    assert res.exit_code == 0, res.output
    runs = json.loads(res.output)
    assert [r["args"]["times"] for r in runs] == [50, 50, 50]
    assert runs[0]["scenario"] == "boot and list servers"
    assert runs[0]["file"] == "nova-boot-list-cc.yml"


def test_cli_errors_have_no_traceback(tmp_path: Path) -> None:
    import subprocess
    import sys

    d = tmp_path / "w"
    shutil.copytree(DATA, d)
    (d / "run.yml").write_text("rally:\n  args:\n    times: 3\n  scenarios: []\n")
    proc = subprocess.run([sys.executable, "-c", ENOS, "bench", "--workload", str(d),
                           "--dry-run"], capture_output=True, text=True, cwd=tmp_path,
                          check=False)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert f"{d / 'run.yml'}:3 [rally.args.times]" in proc.stderr
    assert "hint:" in proc.stderr


def test_cli_bench_needs_an_experiment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    shutil.copytree(DATA, "workload")
    res = CliRunner().invoke(cli, ["bench"])
    assert res.exit_code != 0
    assert "enos up" in str(res.exception)


def test_rally_config_is_read_as_text(tmp_path: Path) -> None:
    d = make(tmp_path, """rally:
  config:
    openstack: {nova_server_boot_poll_interval: 0.5, nova_server_boot_timeout: 600}
    DEFAULT: {debug: yes}
  scenarios: []
""")
    wl = workload.load(d)
    assert wl.rally_config == {
        "openstack": {"nova_server_boot_poll_interval": "0.5",
                      "nova_server_boot_timeout": "600"},
        "DEFAULT": {"debug": "true"},
    }
    assert not wl.warnings
