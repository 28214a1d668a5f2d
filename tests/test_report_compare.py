"""``enos report --compare``: experiments made by real Rally runs (Dummy scenarios and a plug-in
scenario whose sleeps depend on the iteration only), and the bootstrap, the configuration
differences and the errors on fixed data."""

from __future__ import annotations

import json
import random
import shutil
import statistics
import time
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from enos.bench import rally, session, workload
from enos.bench.results import OK
from enos.config.loader import loads_config
from enos.errors import EnosError, StateError, UsageError
from enos.experiment import Experiment
from enos.report import compare

DATA = Path(__file__).parent / "data"
SECRET = "s3cret-admin-value"

RESERVATION = """provider:
  type: local
resources: {{control: 1, network: 1, compute: 1}}
deployer: {{type: native, api_workers: {workers}}}
kolla: {{keystone_admin_password: {password}, banner: "{banner}"}}
"""

DUMMY = """---
Dummy.dummy:
-
  args:
    sleep: {sleep}
  runner:
    concurrency: {{{{concurrency}}}}
    times: {{{{times}}}}
    type: "constant"
"""

# Sleeps that depend on the iteration only (0 to 9 tenths of `spread` above `base`, three times
# each in 30 iterations): two experiments running it have the same medians but for the
# machine's jitter, far below the interval's width.
SPREAD_PLUGIN = '''import time

from rally.task import atomic, scenario


@scenario.configure(name="EnosTest.spread")
class Spread(scenario.Scenario):
    def run(self, base=0.01, spread=0.01, extra=False):
        step = (self.context["iteration"] * 7) % 10
        with atomic.ActionTimer(self, "wait"):
            time.sleep(base + spread * step / 10)
        if extra:
            with atomic.ActionTimer(self, "extra"):
                pass
'''

SPREAD = """---
EnosTest.spread:
-
  args: {{extra: {extra}}}
  runner: {{type: constant, times: {{{{times}}}}, concurrency: {{{{concurrency}}}}}}
"""

RUN = """rally:
  args:
    concurrency: [1]
    times: [30]
  scenarios:
    - name: dummy
      file: dummy.yml
    - name: spread
      file: spread.yml
      plugin: plugins/
{more}"""

ONLY_HERE = """    - name: only here
      file: dummy.yml
      args: {times: 2}
"""


def state(path: Path, workers: int = 2, password: str = SECRET,
          banner: str = "welcome") -> None:
    """A state.json as 'enos up' leaves it: the merged configuration of a reservation.yaml."""
    reservation = path / "reservation.yaml"
    text = RESERVATION.format(workers=workers, password=password, banner=banner)
    reservation.write_text(text)
    config = loads_config(text, reservation)
    (path / "state.json").write_text(json.dumps({
        "phases": {}, "provider": "local", "config_file": str(reservation),
        "config": config.data}))


def bench(exp_path: Path, sleep: float, extra: bool, more: str = "") -> None:
    """One real 'enos bench' on the experiment (Rally without a cloud)."""
    wl_dir = exp_path.parent / f"workload-{exp_path.name}"
    (wl_dir / "plugins").mkdir(parents=True, exist_ok=True)
    (wl_dir / "dummy.yml").write_text(DUMMY.format(sleep=sleep))
    (wl_dir / "spread.yml").write_text(SPREAD.format(extra=str(extra).lower()))
    (wl_dir / "plugins" / "spread.py").write_text(SPREAD_PLUGIN)
    (wl_dir / "run.yml").write_text(RUN.format(more=more))
    lines: list[str] = []
    result = session.execute(Experiment(exp_path), workload.load(wl_dir), say=lines.append,
                             echo=lines.append, credentials={})
    assert all(o.status == OK for o in result.outcomes), "\n".join(lines)


@pytest.fixture(scope="module")
def venv() -> Path:
    return rally.ensure_venv(print)


@pytest.fixture(scope="module")
def experiments(tmp_path_factory: pytest.TempPathFactory, venv: Path) -> tuple[Path, Path]:
    """The baseline (Dummy.dummy sleeping 0.01 s, its workload run twice) and another
    experiment (0.05 s; the plug-in scenario with one more action; one more scenario)."""
    root = tmp_path_factory.mktemp("compare")
    base, other = root / "enos_base", root / "enos_other"
    for path in (base, other):
        path.mkdir()
    state(base)
    state(other, workers=4, password="an0ther-secret", banner="<script>alert(1)</script>")
    bench(base, 0.01, extra=False)
    bench(base, 0.01, extra=False)
    bench(other, 0.05, extra=True, more=ONLY_HERE)
    return base, other


def rows(doc: dict[str, Any], run: str) -> dict[str, dict[str, Any]]:
    return {r["action"]: r for r in doc["comparisons"] if r["run"] == run}


class Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.cells: list[tuple[str, str]] = []
        self._class = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self._class = (dict(attrs).get("class") or "") if tag == "td" else ""

    def handle_data(self, data: str) -> None:
        if self._class:
            self.cells.append((self._class, data))
            self._class = ""


# -- real Rally ---------------------------------------------------------------------------------
@pytest.mark.integration
def test_compare_real_rally_runs(experiments: tuple[Path, Path], tmp_path: Path) -> None:
    base, other = experiments
    doc = compare.compare(base, [other])
    assert (doc["resamples"], doc["seed"], doc["confidence"]) == (10_000, compare.SEED, 0.95)
    assert doc["baseline"] == {"path": str(base), "name": "enos_base"}
    assert doc["others"] == [{"path": str(other), "name": "enos_other"}]

    dummy = rows(doc, "dummy (concurrency=1, times=30)")
    assert list(dummy) == ["total", "foo", "bar"]
    for row in dummy.values():
        assert row["verdict"] == "slower", row
        assert row["baseline"]["runs"] == 2 and row["baseline"]["count"] == 60
        assert row["other_stats"]["runs"] == 1 and row["other_stats"]["count"] == 30
        assert len(row["pooled"]["baseline"]) == 2 and len(row["pooled"]["other"]) == 1
        assert row["difference"]["median"] == pytest.approx(0.04, abs=0.01)
        low, high = row["ci"]
        assert 0.03 < low <= row["difference"]["median"] <= high < 0.05
        assert row["difference"]["median_pct"] > 200

    spread = rows(doc, "spread (concurrency=1, times=30)")
    for action in ("total", "wait"):
        assert spread[action]["verdict"] == "no significant difference", spread[action]
        low, high = spread[action]["ci"]
        assert low < 0 < high
    assert spread["extra"]["missing"] == "baseline" and spread["extra"]["verdict"] is None
    assert spread["extra"]["baseline"] is None and spread["extra"]["other_stats"]["count"] == 30
    only = rows(doc, "only here (concurrency=1, times=2)")
    assert only["total"]["missing"] == "baseline" and only["total"]["verdict"] is None
    assert "not in the baseline" in only["total"]["note"]

    diffs = doc["differences"]
    config = {d["key"]: d for d in diffs["config"]}
    assert set(config) == {"deployer.api_workers", "kolla.keystone_admin_password",
                           "kolla.banner"}
    assert (config["deployer.api_workers"]["baseline"],
            config["deployer.api_workers"]["other_value"]) == ("2", "4")
    secret = config["kolla.keystone_admin_password"]
    assert secret["secret"] and secret["baseline"] == secret["other_value"] == "<redacted>"
    assert diffs["versions"] == []
    assert sorted(d["run"] for d in diffs["workload"]) == [
        "dummy (concurrency=1, times=30)", "spread (concurrency=1, times=30)"]

    said: list[str] = []
    out = compare.run_compare(str(base), [str(other)], None, tmp_path, said.append)
    assert out.parent == tmp_path and out.name.startswith("compare-")
    for name in compare.FILES:
        text = (out / name).read_text()
        assert SECRET not in text and "an0ther-secret" not in text, name
    saved = json.loads((out / "report.json").read_text())
    assert [r["verdict"] for r in saved["comparisons"]] == \
        [r["verdict"] for r in doc["comparisons"]]  # the seed makes it the same again
    text = "\n".join(said)
    assert "10000 bootstrap resamples, seed 0" in said[0]
    assert "enos_other: configuration deployer.api_workers: 2 -> 4" in text
    assert text.index("configuration") < text.index(": median ")  # the differences first
    line = next(s for s in said if "dummy (concurrency=1, times=30): total:" in s)
    assert line.endswith(": slower") and "95 % CI [+" in line and "ms ->" in line

    md = (out / "report.md").read_text()
    assert "| deployer.api_workers | 2 | 4 |" in md
    assert "| total | 2 / 1 | 60 / 30 |" in md

    page = (out / "index.html").read_text()
    for fetch in ("<script", "src=", "<link", "@import", "url("):
        assert fetch not in page  # nothing to run, nothing to fetch
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    parsed = Page()
    parsed.feed(page)
    verdicts = [(cls, text) for cls, text in parsed.cells if cls.startswith("verdict")]
    assert ("verdict slower", "slower") in verdicts
    assert ("verdict same", "no significant difference") in verdicts
    assert any(cls == "verdict none" and "not in the baseline" in t for cls, t in verdicts)

    # -o DIR, relative to the directory the command runs in.
    said.clear()
    assert compare.run_compare(str(base), [str(other)], "cmp", tmp_path, said.append) \
        == tmp_path / "cmp"
    assert sorted(p.name for p in (tmp_path / "cmp").iterdir()) == sorted(compare.FILES)
    assert said[-1] == f"written to {tmp_path / 'cmp'} (index.html, report.md, report.json)"


@pytest.mark.integration
def test_compare_through_the_command_line(experiments: tuple[Path, Path], tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    base, other = experiments
    assert enos(["report", "--compare", str(base), str(other), "-o", str(tmp_path / "out")]) \
        == 0
    assert (tmp_path / "out" / "index.html").is_file()
    printed = capsys.readouterr()
    assert ": slower" in printed.err + printed.out

    assert enos(["report", "--compare", str(tmp_path / "nowhere"), str(other)]) == 2
    err = capsys.readouterr().err
    assert f"the baseline '{tmp_path / 'nowhere'}' is not an experiment directory" in err
    assert "hint:" in err and "Traceback" not in err


def enos(argv: list[str]) -> int:
    """The exit code of the command line run in this process."""
    from enos.cli import main

    try:
        main(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


# -- the bootstrap ------------------------------------------------------------------------------
def spread_values(n: int, low: float = 1.0, width: float = 0.1, seed: int = 1) -> list[float]:
    rng = random.Random(seed)
    return [low + width * rng.random() for _ in range(n)]


def test_bootstrap_is_deterministic_with_the_seed() -> None:
    a, b = spread_values(50), spread_values(50, seed=2)
    first = compare.bootstrap(a, b, seed=7)
    assert compare.bootstrap(a, b, seed=7) == first
    assert compare.bootstrap(list(reversed(a)), b, seed=7) == first  # order of values
    assert compare.bootstrap(a, b, seed=8) != first
    random.seed(123)  # the global generator plays no part
    assert compare.bootstrap(a, b, seed=7) == first


@pytest.mark.parametrize("n", [30, 31, 2, 3])
def test_bootstrap_finds_a_shift(n: int) -> None:
    base = spread_values(n)
    for shift, expected in ((0.05, "slower"), (-0.05, "faster")):
        other = [v + shift for v in base]
        low, high = compare.bootstrap(base, other)
        assert low <= shift <= high
        if n >= 30:
            assert compare.verdict((low, high)) == expected
    low, high = compare.bootstrap(base, list(base))
    assert low <= 0 <= high and compare.verdict((low, high)) == "no significant difference"


def test_bootstrap_interval_contains_the_true_shift() -> None:
    base = spread_values(400, seed=3)
    other = spread_values(400, low=1.02, seed=4)  # the same spread, 20 ms later
    low, high = compare.bootstrap(base, other)
    assert low < 0.02 < high and low > 0
    assert high - low < 0.02


@pytest.mark.parametrize("n", [9, 10])
def test_bootstrap_matches_resampling_in_full(n: int) -> None:
    """The median drawn from its distribution gives the interval that resampling every value
    and taking the median gives."""
    rng = random.Random(5)
    base = [rng.gauss(1.0, 0.1) for _ in range(n)]
    other = [rng.gauss(1.05, 0.1) for _ in range(n)]
    draw = random.Random(6)
    diffs = sorted(statistics.median(draw.choices(other, k=n))
                   - statistics.median(draw.choices(base, k=n)) for _ in range(20_000))
    naive = (diffs[len(diffs) * 25 // 1000], diffs[len(diffs) * 975 // 1000])
    fast = compare.bootstrap(base, other, resamples=20_000)
    width = naive[1] - naive[0]
    assert abs(fast[0] - naive[0]) < 0.1 * width and abs(fast[1] - naive[1]) < 0.1 * width


def test_bootstrap_is_fast() -> None:
    base, other = spread_values(1000, seed=8), spread_values(1000, seed=9)
    start = time.perf_counter()
    compare.bootstrap(base, other)
    assert time.perf_counter() - start < 1.0
    big = spread_values(200_000, seed=10)
    start = time.perf_counter()
    compare.bootstrap(big, big)  # the time does not grow with the number of values
    assert time.perf_counter() - start < 2.0


def test_bootstrap_refuses_too_few_values() -> None:
    with pytest.raises(ValueError, match="at least 2 values"):
        compare.bootstrap([1.0], [1.0, 2.0])
    assert compare.verdict((0.0, 1.0)) == "no significant difference"
    assert compare.verdict((1e-9, 1.0)) == "slower"
    assert compare.verdict((-1.0, -1e-9)) == "faster"


def test_too_few_successful_durations_give_no_verdict() -> None:
    one, many = compare.Pooled([0.5], 3, 2), compare.Pooled([0.4, 0.6, 0.5], 3, 0)
    row = compare._compare_action(one, 1, many, 1, 1000, 0)
    assert row["verdict"] is None and row["ci"] is None and row["missing"] is None
    assert row["note"] == "fewer than 2 successful durations in the baseline: no verdict"
    assert row["difference"]["median"] == pytest.approx(0.0)
    assert row["baseline"] == {"runs": 1, "count": 3, "failed": 2, "median": 0.5, "p95": 0.5}
    none = compare._compare_action(compare.Pooled([], 2, 2), 1, one, 1, 1000, 0)
    assert none["difference"] is None and none["verdict"] is None
    assert "in the baseline and the other" in none["note"]


# -- configuration and versions -----------------------------------------------------------------
def test_config_differences() -> None:
    base = {"deployer": {"type": "native", "api_workers": 2, "region": "RegionOne"},
            "provider": {"networks": [{"cidr": "10.0.0.0/24"}]},
            "passwords": {"keystone": "k3ystone-pass"},
            "registry": {"url": "http://admin:hunter22@registry:5000", "type": "none"},
            "kolla": {"users": [{"name": "a", "password": "l1st-secret"}]},
            "same": {"a": [1, 2]}, "gone": True, "admin_password_file": "/etc/x"}
    other = {"deployer": {"type": "native", "api_workers": 4},
             "provider": {"networks": [{"cidr": "10.0.1.0/24"}]},
             "passwords": {"keystone": "other-pass"},
             "registry": {"url": "http://admin:hunter33@registry:5000", "type": "none"},
             "kolla": {"users": [{"name": "b", "password": "l1st-secret"}]},
             "same": {"a": [1, 2]}, "new": {"deep": {"er": None}},
             "admin_password_file": "/etc/y"}
    found = {d["key"]: d for d in compare.config_differences(base, other)}
    assert set(found) == {"deployer.api_workers", "deployer.region", "provider.networks",
                          "passwords.keystone", "registry.url", "kolla.users", "gone",
                          "new.deep.er", "admin_password_file"}
    assert (found["deployer.api_workers"]["baseline"],
            found["deployer.api_workers"]["other_value"]) == ("2", "4")
    assert found["deployer.region"]["other_value"] is None
    assert found["gone"] == {"key": "gone", "baseline": "true", "other_value": None,
                             "secret": False}
    assert found["new.deep.er"]["baseline"] is None
    assert found["new.deep.er"]["other_value"] == "null"
    assert found["provider.networks"]["baseline"] == '[{"cidr": "10.0.0.0/24"}]'
    assert found["passwords.keystone"]["secret"]
    assert found["passwords.keystone"]["baseline"] == "<redacted>"
    assert found["admin_password_file"]["other_value"] == '"/etc/y"'  # a path, not a secret
    shown = json.dumps(found)
    for secret in ("k3ystone-pass", "other-pass", "hunter22", "hunter33", "l1st-secret"):
        assert secret not in shown
    assert found["registry.url"]["baseline"] == '"http://admin:<redacted>@registry:5000"'
    assert compare.config_differences(base, base) == []


def test_long_values_are_cut() -> None:
    (diff,) = compare.config_differences({"a": "x" * 5000}, {"a": "y"})
    assert len(diff["baseline"]) == compare.MAX_VALUE_CHARS and diff["baseline"].endswith("…")


def test_version_differences() -> None:
    base = {"enos": "1.0", "openstack": "2025.1", "nova": "31.0.0"}
    other = {"enos": "1.0", "openstack": "2025.2", "keystone": "27.0.0"}
    assert compare.version_differences(base, other) == [
        {"component": "openstack", "baseline": "2025.1", "other_value": "2025.2"},
        {"component": "nova", "baseline": "31.0.0", "other_value": None},
        {"component": "keystone", "baseline": None, "other_value": "27.0.0"},
    ]


# -- experiments that cannot be compared ------------------------------------------------------
def recorded_run(exp: Path, run_id: str, scenario: str, args: dict[str, Any],
                 report: str = "dummy-ok.json") -> None:
    """A bench run of ``exp`` with the results of a recorded real Rally run."""
    run_dir = exp / "bench" / run_id
    run_dir.mkdir(parents=True)
    shutil.copy(DATA / "rally" / report, run_dir / "results.json")
    (run_dir / "run.json").write_text(json.dumps({
        "id": run_id, "type": "rally", "scenario": scenario, "args": args, "status": "ok",
        "started_at": "2026-01-01T00:00:00"}))


def test_experiment_without_bench_runs(tmp_path: Path) -> None:
    base, other = tmp_path / "enos_a", tmp_path / "enos_b"
    for path in (base, other):
        path.mkdir()
        state(path)
    recorded_run(base, "20260101-000000-01-rally-dummy", "dummy", {"times": 6})
    said: list[str] = []
    out = compare.run_compare("enos_a", ["enos_b"], None, tmp_path, said.append)
    doc = json.loads((out / "report.json").read_text())
    assert any("enos_b: no Rally run with results" in n for n in doc["notes"])
    assert all(r["missing"] == "other" and r["verdict"] is None for r in doc["comparisons"])
    assert [r["action"] for r in doc["comparisons"]] == ["total", "foo", "bar"]
    assert any(s.startswith("note: enos_b: no Rally run") for s in said)
    md = (out / "report.md").read_text()
    assert "| rally | 5.1.1 | (unknown) |" in md  # Rally's version: only where it ran
    assert "| 6 / (missing) |" in md

    # Neither side ran anything: notes, no comparison, the files still written.
    doc = compare.compare(other, [_copy(other)])
    assert doc["comparisons"] == [] and len(doc["notes"]) == 2
    assert "No run to compare." in compare.markdown(doc)
    assert "Same configuration and versions." in compare.markdown(doc)
    assert "No run to compare." in compare.html(doc)


def _copy(path: Path) -> Path:
    twin = path.with_name(path.name + "-twin")
    shutil.copytree(path, twin)
    return twin


def test_runs_with_the_same_label_are_pooled(tmp_path: Path) -> None:
    base, other = tmp_path / "enos_a", tmp_path / "enos_b"
    for path in (base, other):
        path.mkdir()
        state(path)
    recorded_run(base, "20260101-000000-01-rally-dummy", "dummy", {"times": 6, "c": 1})
    recorded_run(base, "20260102-000000-01-rally-dummy", "dummy", {"c": 1, "times": 6})
    recorded_run(other, "20260101-000000-01-rally-dummy", "dummy", {"c": 1, "times": 6},
                 report="dummy-failures.json")
    doc = compare.compare(base, [other])
    by_action = {r["action"]: r for r in doc["comparisons"]}
    total = by_action["total"]
    assert total["baseline"]["runs"] == 2 and total["baseline"]["count"] == 12
    assert total["other_stats"] == {"runs": 1, "count": 8, "failed": 5,
                                    "median": total["other_stats"]["median"],
                                    "p95": total["other_stats"]["p95"]}
    assert total["verdict"] in ("faster", "slower", "no significant difference")
    assert by_action["foo"]["missing"] == "other"


def test_not_an_experiment(tmp_path: Path) -> None:
    good = tmp_path / "enos_good"
    good.mkdir()
    state(good)
    (tmp_path / "plain").mkdir()
    with pytest.raises(UsageError) as err:
        compare.run_compare("nowhere", ["enos_good"], None, tmp_path, print)
    assert err.value.exit_code == 2
    assert f"the baseline 'nowhere' is not an experiment directory: {tmp_path / 'nowhere'} " \
           "does not exist" == err.value.message
    assert err.value.hint and "enos_<time>" in err.value.hint
    with pytest.raises(UsageError, match="'plain' is not an experiment directory: .* holds no "
                                         "state.json"):
        compare.run_compare("enos_good", ["plain"], None, tmp_path, print)
    with pytest.raises(UsageError, match="is the baseline itself"):
        compare.run_compare("enos_good", [str(good)], None, tmp_path, print)
    twin = _copy(good)
    with pytest.raises(UsageError, match="is given twice"):
        compare.run_compare("enos_good", [twin.name, str(twin)], None, tmp_path, print)
    with pytest.raises(UsageError, match="nothing to compare"):
        compare.compare(good, [])
    with pytest.raises(UsageError, match="a name in the path is"):
        compare.run_compare("x" * 300, ["enos_good"], None, tmp_path, print)
    (tmp_path / "file").write_text("")
    with pytest.raises(UsageError, match="the output 'file' is not a directory"):
        compare.run_compare("enos_good", [twin.name], "file", tmp_path, print)
    assert not list(tmp_path.glob("compare-*"))


def test_damaged_state(tmp_path: Path) -> None:
    good, bad = tmp_path / "enos_good", tmp_path / "enos_bad"
    for path in (good, bad):
        path.mkdir()
        state(path)
    (bad / "state.json").write_text('{"phases": [1]}')
    with pytest.raises(StateError) as err:
        compare.compare(good, [bad])
    assert err.value.exit_code == 2 and str(bad / "state.json") in err.value.message
    (bad / "state.json").write_text('{"phases": {}}')  # no configuration recorded: a note
    doc = compare.compare(good, [bad])
    assert doc["differences"]["config"] == []
    assert any("enos_bad: its state.json holds no configuration" in n for n in doc["notes"])


def test_unwritable_output(tmp_path: Path) -> None:
    good = tmp_path / "enos_good"
    good.mkdir()
    state(good)
    twin = _copy(good)
    (tmp_path / "file").write_text("")
    with pytest.raises(EnosError, match="cannot write the comparison into .*file/sub: ") as err:
        compare.run_compare(str(good), [str(twin)], "file/sub", tmp_path, print)
    assert err.value.hint == "give a directory you can write with -o DIR"
