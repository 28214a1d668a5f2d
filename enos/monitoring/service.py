"""The monitoring service: it owns the ``monitoring:`` section and the ``monitor`` phase.

See :mod:`enos.monitoring` for what it deploys. ``enable_monitoring: true`` (a top-level key)
makes ``enos os`` deploy it; ``enos monitor`` does it on a cloud already deployed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from enos.services.base import Service

if TYPE_CHECKING:
    from enos.backup.archive import ArchiveSpec
    from enos.config.checks import Checker
    from enos.config.spec import Config
    from enos.experiment import Experiment
    from enos.output import Output


class MonitoringService(Service):
    section = "monitoring"
    phase = "monitor"
    dirs = ("monitoring",)

    def check_section(self, value: Any, groups: list[str], ck: Checker) -> tuple[Any, Any]:
        from enos.monitoring import section

        normalized = section.check(value, ck)
        return normalized, normalized

    def enabled(self, config: Config) -> bool:
        return bool(config.data.get("enable_monitoring"))

    def deploy(self, config: Config, exp: Experiment, out: Output) -> None:
        import time

        from enos import monitoring

        start = time.monotonic()
        plan = monitoring.deploy(config, exp, out)
        exp.mark_done("monitor", prometheus=plan["prometheus"], collector=plan["collector"],
                      targets=len(plan["targets"]),
                      seconds=round(time.monotonic() - start, 1))

    def stop(self, exp: Experiment, out: Output) -> list[str]:
        from enos import monitoring

        stopped = monitoring.stop(exp, out)
        exp.forget("monitor")
        return stopped

    def status(self, exp: Experiment) -> list[dict[str, Any]]:
        from enos import monitoring, status

        plan, resources = monitoring.saved_plan(exp), exp.resources
        if plan is None or resources is None:
            return []
        hosts = [h for h in resources.hosts if h.alias in (plan.get("hosts") or {})]
        return status.rows(hosts, monitoring.sup_dir, self.name,
                           local=monitoring.shares_machine(exp))

    def backup(self, exp: Experiment, with_secrets: bool) -> list[ArchiveSpec]:
        from enos import events, monitoring
        from enos.backup import archive
        from enos.backup.archive import ArchiveSpec, Member
        from enos.errors import EnosError

        plan = monitoring.saved_plan(exp)
        if plan is None:  # never monitored (events.jsonl is in the experiment's archive)
            return []
        spec = ArchiveSpec("monitoring.tar.gz", "monitoring")
        journal = events.path_of(exp)
        if journal.is_file():
            spec.members.append(Member("events.jsonl", journal, archive.TEXT))
        monitoring.write_grafana(exp, plan["prometheus"])
        spec.members += archive.tree(monitoring.mon_dir(exp) / "grafana", "grafana",
                                     with_secrets=with_secrets)
        if exp.phase_done("monitor"):
            try:
                snap = monitoring.snapshot(exp, plan)
            except EnosError as exc:  # the rest of the backup is still worth writing
                spec.notes.append(f"no TSDB snapshot: {exc.message}")
                snap = None
            if snap is not None:
                spec.members += archive.tree(snap, "prometheus-snapshot",
                                             with_secrets=with_secrets)
            elif not spec.notes:
                spec.notes.append("the TSDB snapshot stays on the collector host "
                                  f"{plan['collector']} (data/snapshots/)")
        return [spec]

    def info(self, exp: Experiment) -> dict[str, Any] | None:
        from enos import monitoring

        plan = monitoring.saved_plan(exp)
        if plan is None or not exp.phase_done("monitor"):
            return None
        return {"prometheus": plan["prometheus"], "collector": plan["collector"],
                "scrape_interval": plan["scrape_interval"],
                "slow_scrape_interval": plan["slow_scrape_interval"],
                "retention": plan["retention"], "targets": plan["targets"]}
