"""Rally, in a virtualenv of its own, driven through its command line.

The virtualenv (``/var/cache/enos/rally-<hash>``, ``ENOS_CACHE_DIR`` overrides the parent) is
built once per machine, under a lock, from ``rally-constraints.txt``; the hash is that of the
constraints, so a new pin set is a new virtualenv and Rally's pins never meet enos's own.

Per experiment, ``<expdir>/bench/`` holds ``rally.conf`` (its database is
``sqlite:///<expdir>/bench/rally.db``) and ``rally-env.json`` (the Rally environment made from
the deployment's admin credentials, and a digest of them: new credentials, new environment).
Every call names the environment and the task explicitly; nothing is written to ``~/.rally``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from enos.bench.results import ERROR, OK, SLA_FAILED, RunOutcome, parse_rally_report
from enos.bench.workload import Run
from enos.errors import EnosError
from enos.utils import cache
from enos.utils.cache import cache_dir
from enos.utils.fs import atomic_write, atomic_write_json

HERE = Path(__file__).parent
CONSTRAINTS = HERE / "rally-constraints.txt"
HELPER = HERE / "rally_helper.py"
PACKAGES = ["rally==5.1.1", "rally-openstack==4.1.0"]

_TASK_ID = re.compile(r"Task (?:\[[^\]]*\] )?([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-"
                      r"[0-9a-f]{12}): started")
_ITER_END = re.compile(r"\| ITER: (\d+) END: (\S+)")
_ITER_START = re.compile(r"\| ITER: \d+ START")


def release_id() -> str:
    """A hash of what the virtualenv is made of."""
    return cache.release_id(CONSTRAINTS, PACKAGES)


def venv_path() -> Path:
    return cache_dir() / f"rally-{release_id()}"


def venv_ready(venv: Path | None = None) -> bool:
    return cache.venv_ready(venv or venv_path())


def ensure_venv(say: Callable[[str], None] = lambda _m: None) -> Path:
    """Rally's virtualenv, built first if needed (about a minute, once per machine)."""
    return cache.ensure_venv(venv_path(), CONSTRAINTS, PACKAGES,
                             what=f"Rally ({', '.join(PACKAGES)})", say=say)


# -- credentials ----------------------------------------------------------------------------
def read_openrc(path: Path) -> dict[str, str]:
    """The ``OS_*`` variables an openrc file exports (``export OS_X=value``, shell-quoted)."""
    out: dict[str, str] = {}
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export "):].strip()
        name, sep, value = line.partition("=")
        if not sep or not name.startswith("OS_"):
            continue
        try:
            words = shlex.split(value)
        except ValueError:
            continue
        out[name.strip()] = words[0] if words else ""
    return out


def clouds_to_env(path: Path, cloud: str | None = None) -> dict[str, str]:
    """The ``OS_*`` variables equivalent to one cloud of a clouds.yaml."""
    data = yaml.safe_load(path.read_text()) or {}
    clouds = data.get("clouds") or {}
    if not clouds:
        return {}
    entry = clouds.get(cloud) if cloud else next(iter(clouds.values()))
    entry = entry or {}
    auth = entry.get("auth") or {}
    mapping = {
        "OS_AUTH_URL": auth.get("auth_url"), "OS_USERNAME": auth.get("username"),
        "OS_PASSWORD": auth.get("password"), "OS_PROJECT_NAME": auth.get("project_name"),
        "OS_USER_DOMAIN_NAME": auth.get("user_domain_name"),
        "OS_PROJECT_DOMAIN_NAME": auth.get("project_domain_name"),
        "OS_REGION_NAME": entry.get("region_name"), "OS_INTERFACE": entry.get("interface"),
        "OS_IDENTITY_API_VERSION": entry.get("identity_api_version"),
        "OS_CACERT": entry.get("cacert"),
    }
    return {k: str(v) for k, v in mapping.items() if v is not None}


def credentials(expdir: Path) -> dict[str, str]:
    """The admin credentials the deployment left (admin-openrc, else clouds.yaml)."""
    openrc = expdir / "admin-openrc"
    clouds = expdir / "clouds.yaml"
    creds: dict[str, str] = {}
    if openrc.exists():
        creds = read_openrc(openrc)
    elif clouds.exists():
        creds = clouds_to_env(clouds)
    if not creds.get("OS_AUTH_URL"):
        raise EnosError(
            f"no admin credentials of the cloud in {expdir} (admin-openrc or clouds.yaml with "
            "an auth URL)",
            "deploy OpenStack first with 'enos os' (or 'enos deploy'); it writes admin-openrc",
        )
    return creds


# -- the Rally command line -----------------------------------------------------------------
class Rally:
    """Rally for one experiment: its database, its environment, its tasks."""

    def __init__(self, bench_dir: Path, venv: Path) -> None:
        self.dir = bench_dir
        self.venv = venv
        self.env_name = "enos-no-cloud"  # set by setup()
        self.conf = bench_dir / "rally.conf"
        self.db = bench_dir / "rally.db"
        self.env_file = bench_dir / "rally-env.json"
        self.creds: dict[str, str] = {}

    @property
    def exe(self) -> Path:
        return self.venv / "bin" / "rally"

    def environ(self) -> dict[str, str]:
        """The process environment of Rally: ours without OS_* and RALLY_*, plus the cloud's."""
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("OS_", "RALLY_"))}
        env.update(self.creds)
        env["PYTHONUNBUFFERED"] = "1"
        return env

    def argv(self, *args: str, plugins: tuple[Path, ...] = ()) -> list[str]:
        out = [str(self.exe), "--config-file", str(self.conf)]
        for plugin in plugins:
            out += ["--plugin-paths", str(plugin)]
        return [*out, *args]

    def call(self, *args: str, what: str, plugins: tuple[Path, ...] = (),
             check: bool = True) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(self.argv(*args, plugins=plugins), capture_output=True,
                              text=True, env=self.environ(), stdin=subprocess.DEVNULL,
                              check=False)
        if check and proc.returncode != 0:
            raise EnosError(
                f"Rally could not {what} (rally {' '.join(args[:2])} exited with "
                f"{proc.returncode}):\n{_last_lines(proc.stdout + proc.stderr, 12)}",
                f"Rally's database and configuration are in {self.dir}; "
                "'enos bench --reset' recreates them",
            )
        return proc

    # -- database and environment -----------------------------------------------------------
    def helper(self, *args: str, plugins: tuple[Path, ...] = ()) -> tuple[int, dict[str, Any],
                                                                          str]:
        """Run rally_helper.py; its exit code, its JSON answer and its whole output."""
        argv = [str(self.venv / "bin" / "python"), "-I", str(HELPER), "--config-file",
                str(self.conf)]
        for plugin in plugins:
            argv += ["--plugin-path", str(plugin)]
        proc = subprocess.run([*argv, *args], capture_output=True, text=True,
                              env=self.environ(), stdin=subprocess.DEVNULL, check=False)
        answer: dict[str, Any] = {}
        lines = proc.stdout.strip().splitlines()
        if lines:
            with contextlib.suppress(ValueError):
                answer = json.loads(lines[-1])
        return proc.returncode, answer, proc.stdout + proc.stderr

    def setup(self, creds: dict[str, str] | None, *, reset: bool = False,
              check: bool = True, options: dict[str, dict[str, str]] | None = None) -> str:
        """Make the database and the environment of ``creds`` exist; check the cloud answers.

        The environment's name holds a digest of the credentials: a redeployed cloud (new
        password, new address) gets a new environment, and the tasks of the old one stay in
        the database. ``creds`` None or empty: an environment without any platform (enough
        for Rally's own Dummy scenarios). ``options`` ({section: {option: value}}, run.yml's
        ``rally.config``) are added to rally.conf. Returns ``created``, ``reset`` or ``ok``.
        """
        self.dir.mkdir(parents=True, exist_ok=True)
        self.creds = dict(creds or {})
        sections: dict[str, dict[str, str]] = {
            "DEFAULT": {"use_stderr": "true"},
            "database": {"connection": f"sqlite:///{self.db}"},
        }
        for section, values in (options or {}).items():
            sections.setdefault(section, {}).update(values)
        conf = "# Rally's configuration for this experiment (written by enos bench).\n" + "".join(
            f"[{section}]\n" + "".join(f"{k} = {v}\n" for k, v in values.items())
            for section, values in sections.items())
        if not self.conf.exists() or self.conf.read_text() != conf:
            atomic_write(self.conf, conf)
        if reset:
            for path in (self.db, self.env_file):
                path.unlink(missing_ok=True)
        digest = hashlib.sha256(json.dumps(self.creds, sort_keys=True).encode()).hexdigest()
        self.env_name = f"enos-{digest[:10]}" if self.creds else "enos-no-cloud"
        args = ["setup", "--env", self.env_name]
        if self.creds:
            args.append("--from-sysenv")
        if check:
            args.append("--check")
        rc, answer, output = self.helper(*args)
        auth_url = self.creds.get("OS_AUTH_URL", "?")
        if rc == 3:
            health = answer.get("health", {})
            details = "\n".join(f"    {name}: {h.get('message', '')[:400]}"
                                for name, h in health.items() if not h.get("available"))
            raise EnosError(
                f"Rally cannot use the cloud at {auth_url}:\n{details}",
                "check the deployment ('enos info', the services' logs under each host's log/ "
                "directory); if OpenStack was redeployed, rerun 'enos os'",
            )
        if rc == 2:
            raise EnosError(
                f"Rally found no usable credentials for {auth_url} "
                f"({answer.get('discovery') or answer.get('error')})",
                "check admin-openrc in the experiment directory; 'enos os' writes it again",
            )
        if rc != 0 or not answer.get("uuid"):
            raise EnosError(
                f"Rally could not set up its database or environment in {self.dir} "
                f"(exit code {rc}):\n{_last_lines(output, 12)}",
                "'enos bench --reset' recreates Rally's database and environment",
            )
        atomic_write_json(self.env_file, {"name": self.env_name, "uuid": answer["uuid"],
                                          "auth_url": self.creds.get("OS_AUTH_URL")})
        if reset:
            return "reset"
        return "created" if "created" in (answer.get("db"), answer.get("env")) else "ok"

    # -- tasks ------------------------------------------------------------------------------
    def run(self, run: Run, run_dir: Path, run_id: str,
            progress: Callable[[int, int], None] = lambda _d, _f: None,
            first_iteration: Callable[[], None] = lambda: None) -> RunOutcome:
        """Run one task: ``rally task start``, then its JSON and HTML reports, into run_dir.

        ``progress(done, failed)`` is called as iterations end, ``first_iteration()`` when the
        first one starts.
        """
        assert run.path is not None
        run_dir.mkdir(parents=True, exist_ok=True)
        args_file = run_dir / "args.json"
        atomic_write_json(args_file, run.args)
        shutil.copy(run.path, run_dir / "task.yml")
        log = run_dir / "rally.log"
        start = time.monotonic()
        task_id: str | None = None
        done = failed = 0
        argv = self.argv("task", "start", "--env", self.env_name, "--task-args-file",
                         str(args_file), "--tag", run_id, "--no-use", str(run.path),
                         plugins=run.plugins)
        with open(log, "w") as out:
            out.write(f"$ {shlex.join(argv)}\n")
            out.flush()
            proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                    text=True, env=self.environ(), stdin=subprocess.DEVNULL,
                                    cwd=run.path.parent)
            assert proc.stdout is not None
            started = False
            for line in proc.stdout:
                out.write(line)
                if not started and _ITER_START.search(line):
                    started = True
                    first_iteration()
                if task_id is None:
                    found = _TASK_ID.search(line)
                    if found:
                        task_id = found.group(1)
                ended = _ITER_END.search(line)
                if ended:
                    done += 1
                    if ended.group(2) != "OK":
                        failed += 1
                    progress(done, failed)
            rc = proc.wait()
        tool_seconds = time.monotonic() - start
        if task_id is None:
            listed = self.call("task", "list", "--env", self.env_name, "--tag", run_id,
                               "--uuids-only", what="list its tasks", check=False)
            ids = [w for w in listed.stdout.split() if re.fullmatch(r"[0-9a-f-]{36}", w)]
            task_id = ids[-1] if ids else None
        outcome = RunOutcome(run_id=run_id, status=OK, task_id=task_id,
                             tool_seconds=round(tool_seconds, 3))
        outcome.files["log"] = log.name
        if task_id:
            self._reports(task_id, run_dir, run, outcome)
        if rc not in (0, 2) or task_id is None or outcome.task_status not in (
                "finished", "sla_failed"):
            outcome.status = ERROR
            outcome.reason = _failure_reason(log, rc, outcome.task_status)
        elif rc == 2 or not all(w.pass_sla for w in outcome.workloads):
            outcome.status = SLA_FAILED
        outcome.seconds = round(time.monotonic() - start, 3)
        return outcome

    def _reports(self, task_id: str, run_dir: Path, run: Run, outcome: RunOutcome) -> None:
        """results.json (``rally task report --json``) and report.html (``--html-static``)."""
        json_out = run_dir / "results.json"
        html_out = run_dir / "report.html"
        _rc, _answer, output = self.helper("reports", task_id, str(json_out), str(html_out),
                                           plugins=run.plugins)
        with open(run_dir / "rally.log", "a") as log:
            log.write(f"$ rally_helper.py reports {task_id}\n{output}")
        if html_out.exists():
            outcome.files["html"] = html_out.name
        if json_out.exists():
            outcome.files["json"] = json_out.name
            try:
                report = json.loads(json_out.read_text())
            except ValueError:
                return
            outcome.task_status, outcome.workloads = parse_rally_report(report)


def _last_lines(text: str, n: int) -> str:
    lines = [ln for ln in text.splitlines() if ln.strip() and not set(ln.strip()) <= set("-")]
    return "\n".join("    " + ln[:300] for ln in lines[-n:])


_LOG_PREFIX = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)? \d+ (?P<level>[A-Z]+) \S+ "
                         r"(?:\[[^\]]*\] )?")
_TELLING = re.compile(r"(ERROR|Error|error:|invalid|Please specify|not found|No such|"
                      r"Exception|refused|not available)")


def _failure_reason(log: Path, rc: int, status: str | None) -> str:
    """The most telling lines of a failed ``rally task start``: errors before warnings."""
    try:
        lines = log.read_text(errors="replace").splitlines()
    except OSError:
        lines = []
    errors: list[str] = []
    warnings: list[str] = []
    for raw in lines:
        if ("ITER:" in raw or not _TELLING.search(raw) or raw[:1].isspace()
                or raw.startswith(("$ ", "Traceback"))):
            continue
        prefix = _LOG_PREFIX.match(raw)
        text = raw[prefix.end():] if prefix else raw.strip()
        level = prefix.group("level") if prefix else "ERROR"
        (warnings if level in ("WARNING", "INFO", "DEBUG") else errors).append(text[:400])
    keep = errors[-3:] or warnings[-2:]
    detail = " | ".join(dict.fromkeys(keep)) if keep else _last_lines("\n".join(lines), 3)
    what = {
        "init": "Rally refused the task", "validation_failed": "Rally refused the task",
        "crashed": "the task crashed", "aborted": "the task was aborted",
    }.get(status or "", f"rally task start exited with {rc}")
    return f"{what}: {detail[:800]}" if detail else what

