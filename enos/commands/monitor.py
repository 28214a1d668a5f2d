"""enos monitor: deploy or converge the monitoring service on a cloud already deployed."""

from __future__ import annotations

import click

from enos.commands.common import Options, pass_options


@click.command("monitor")
@pass_options
def command(opts: Options) -> None:
    """Deploy (or converge) Prometheus and its exporters on the experiment's hosts (needs
    'enos os'). 'enable_monitoring: true' makes 'enos os' do it; the 'monitoring:' section
    tunes it (scrape_interval, slow_scrape_interval, retention, collector)."""
    from enos import plugins

    config = opts.load_config()
    exp = opts.experiment("monitor")
    exp.need("os", "monitor")
    service = plugins.load("service", "monitoring")
    with exp.locked("monitor"):
        exp.begin("monitor")
        exp.update(**{f"service_started.{service.name}": True})
        service.deploy(config, exp, opts)
    info = service.info(exp) or {}
    opts.say(f"Prometheus: {info.get('prometheus')} ({len(info.get('targets') or [])} "
             "targets)", fg="green")
    opts.next_step("'enos info' lists the targets, 'enos status' shows every service; the "
                   f"Grafana dashboard and datasource are in {exp.path}/monitoring/grafana/")
