"""Monitoring as a service: Prometheus and exporters beside the cloud, at one-second resolution.

``enable_monitoring: true`` makes ``enos os`` deploy it after OpenStack; ``enos monitor``
deploys or converges it on a cloud already deployed; ``enos destroy`` stops it; ``enos backup``
archives a snapshot of Prometheus' database and the experiment's events; ``enos info`` shows
Prometheus' URL and its targets; ``enos status`` and ``enos logs`` cover its programs.

What runs where is computed by :mod:`enos.monitoring.plan` (pure), written to
``<experiment>/monitoring/plan.json`` (0600: it holds the MariaDB password of the exporter)
and applied by ``playbooks/deploy.yml``: every program of a host runs under that host's
monitoring supervisor (``<enos_root>/monitoring/supervisor``), from Debian's packages
(prometheus 2.42, prometheus-node-exporter, -process-exporter, -mysqld-exporter,
-blackbox-exporter), bound to the host's experiment address.
"""

from __future__ import annotations

import json
import secrets
import shutil
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Any

from enos.errors import EnosError
from enos.utils.fs import atomic_write, atomic_write_json, write_private

if TYPE_CHECKING:
    from enos.config.spec import Config
    from enos.experiment import Experiment
    from enos.model import Host
    from enos.output import Output

HERE = Path(__file__).parent
PLAYBOOKS = HERE / "playbooks"
FILES = HERE / "files"
DIR = "monitoring"


def mon_dir(exp: Experiment) -> Path:
    return exp.path / DIR


def plan_path(exp: Experiment) -> Path:
    return mon_dir(exp) / "plan.json"


def vars_path(exp: Experiment) -> Path:
    return mon_dir(exp) / "playbook-vars.json"


def saved_plan(exp: Experiment) -> dict[str, Any] | None:
    """The plan of the last deployment (None: never deployed)."""
    try:
        data: dict[str, Any] = json.loads(plan_path(exp).read_text())
    except (OSError, ValueError):
        return None
    plan: dict[str, Any] | None = data.get("enos_monitoring")
    return plan


def shares_machine(exp: Experiment) -> bool:
    from enos import status

    return status.shares_machine(exp)


def section_of(config: Config) -> dict[str, Any]:
    from enos.monitoring import section
    from enos.monitoring.section import KEY

    return dict(config.data.get(KEY) or section.check(None, _no_checker()))


def _no_checker() -> Any:
    from enos.config.checks import Checker

    return Checker("reservation.yaml", {}, {})


def _password(exp: Experiment) -> str:
    previous = saved_plan(exp) or {}
    for host in (previous.get("hosts") or {}).values():
        if host.get("mysql"):
            return str(host["mysql"]["password"])
    return secrets.token_urlsafe(18).replace("-", "x").replace("_", "y")


def deploy(config: Config, exp: Experiment, out: Output) -> dict[str, Any]:
    """Deploy or converge the monitoring stack; return the saved plan."""
    from enos import deployers, supervisor
    from enos.ansible.runner import run_playbook
    from enos.monitoring import plan as planmod

    resources = exp.resources
    if resources is None or not resources.hosts:
        raise EnosError("the experiment has no host to monitor", "run 'enos up' first")
    name = deployers.recorded(exp)
    endpoints = deployers.load(name).endpoints(exp) if name else []
    section = section_of(config)
    try:
        plan = planmod.build(resources.hosts, endpoints, section,
                             shares_machine=shares_machine(exp), db_password=_password(exp))
    except planmod.PlanError as exc:
        raise config.error("monitoring.collector", str(exc),
                           "name a host alias or a role of the experiment (enos info)") from None
    native_files = Path(deployers.__file__).parent / "native" / "files"
    saved = plan.to_dict()
    # Files and programs go to the hosts as files (copied as they are: a process-exporter
    # template such as {{.Comm}} must not meet Ansible's templating).
    for alias, host in saved["hosts"].items():
        for key in ("bundle", "stage"):
            path = mon_dir(exp) / "hosts" / alias / f"{key}.json"
            write_private(path, json.dumps(host[key], indent=2, sort_keys=True) + "\n")
            host[f"{key}_src"] = str(path)
    data = {"enos_monitoring": {
        **saved,
        "helpers": {"supervisor.py": supervisor.__file__,
                    "enos_services.py": str(native_files / "enos_services.py"),
                    "install-packages.sh": str(native_files / "install-packages.sh")},
    }}
    # The playbook's variables: everything but the files' contents.
    variables = {"enos_monitoring": {
        **{k: v for k, v in data["enos_monitoring"].items() if k != "hosts"},
        "hosts": {a: {k: v for k, v in h.items() if k not in ("bundle", "stage", "programs")}
                  | {"dirs": h["bundle"]["dirs"]}
                  for a, h in data["enos_monitoring"]["hosts"].items()},
    }}
    write_private(plan_path(exp), json.dumps(data, indent=2, sort_keys=True) + "\n")
    write_private(vars_path(exp), json.dumps(variables, indent=2, sort_keys=True) + "\n")
    out.say(f"enos monitor: Prometheus on {plan.collector}, {len(plan.targets)} target(s) "
            f"every {plan.scrape_interval} (slow ones every {plan.slow_scrape_interval})")
    run_playbook(PLAYBOOKS / "deploy.yml", exp.inventory_path,
                 extravars={"enos_monitoring_plan": str(vars_path(exp))},
                 title="enos monitor", log_dir=exp.path / "logs", quiet=out.quiet,
                 verbosity=out.verbosity,
                 retry_hint="fix the cause, then run 'enos monitor' again (it converges)",
                 describe=_describe)
    write_grafana(exp, plan.prometheus)
    return data["enos_monitoring"]


def _describe(failure: Any) -> str | None:
    from enos.deployers.native import describe_failure

    return describe_failure(failure)


def stop(exp: Experiment, out: Output) -> list[str]:
    from enos.ansible.runner import run_playbook

    if not exp.inventory_path.exists() or saved_plan(exp) is None:
        return []
    run_playbook(PLAYBOOKS / "stop.yml", exp.inventory_path, title="enos destroy (monitoring)",
                 log_dir=exp.path / "logs", quiet=out.quiet, verbosity=out.verbosity,
                 retry_hint="fix the cause, then run 'enos destroy' again")
    return ["monitoring (Prometheus and exporters)"]


# -- Prometheus' HTTP API --------------------------------------------------------------------
def api(url: str, path: str, *, method: str = "GET", timeout: float = 10) -> Any:
    request = urllib.request.Request(url + path, method=method)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            body = json.loads(resp.read())
    except (OSError, ValueError) as exc:
        raise EnosError(f"Prometheus at {url} does not answer {path}: {exc}",
                        "see 'enos status' and 'enos logs prometheus'") from None
    if body.get("status") != "success":
        raise EnosError(f"Prometheus at {url} refused {path}: {body.get('error')}",
                        "see 'enos logs prometheus'")
    return body.get("data")


def snapshot(exp: Experiment, plan: dict[str, Any]) -> Path | None:
    """A TSDB snapshot (admin API) of the collector; its directory when it is on this machine."""
    data = api(plan["prometheus"], "/api/v1/admin/tsdb/snapshot", method="POST", timeout=120)
    root = Path(plan["hosts"][plan["collector"]]["root"])
    path = root / "data" / "snapshots" / str(data["name"])
    if not path.is_dir():
        return None
    for old in path.parent.iterdir():  # the previous backups' snapshots are archived already
        if old != path and old.is_dir():
            shutil.rmtree(old, ignore_errors=True)
    return path


# -- Grafana ---------------------------------------------------------------------------------
def write_grafana(exp: Experiment, prometheus: str) -> None:
    """``monitoring/grafana/``: the datasource (provisioning file), the dashboard and the
    events as annotations, for a Grafana run elsewhere."""
    from enos import events

    target = mon_dir(exp) / "grafana"
    datasource = (FILES / "grafana-datasource.yaml").read_text().replace("@PROMETHEUS@",
                                                                         prometheus)
    atomic_write(target / "datasource.yaml", datasource)
    atomic_write(target / "dashboard.json", (FILES / "grafana-dashboard.json").read_text())
    atomic_write_json(target / "annotations.json", events.grafana_annotations(events.read(exp)))


def sup_dir(host: Host) -> Path:
    """A host's monitoring supervisor."""
    return Path(str(host.extra.get("enos_root") or "/var/lib/enos")) / DIR / "supervisor"
