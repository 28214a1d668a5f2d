"""enos fault: restart, kill, stop or start one service of the cloud, as an experiment's fault."""

from __future__ import annotations

import datetime as _dt

import click

from enos.commands.common import Options, pass_options
from enos.deployers.base import ACTIONS


@click.command("fault")
@click.argument("action", type=click.Choice(ACTIONS), metavar="restart|kill|stop|start")
@click.argument("service")
@click.option("--host", "hosts", multiple=True, metavar="HOST",
              help="Only on this host (alias; repeat for several). Default: every host that "
                   "runs the service.")
@click.option("--for", "lasting", metavar="DURATION",
              help="stop: stay down this long (5s, 1.5s, 2m), then start again; restart: the "
                   "pause between the stop and the start.")
@pass_options
def command(opts: Options, action: str, service: str, hosts: tuple[str, ...],
            lasting: str | None) -> None:
    """Inject a fault: ACTION one SERVICE of the cloud (a name 'enos os --tags' or 'enos
    status' shows, e.g. mariadb, rabbitmq, keystone, nova-conductor).

    kill sends SIGKILL and lets the service's supervisor restart it as after a crash; stop
    keeps it down until 'enos fault start' or the end of --for; restart is a clean stop and
    start. Each fault is journaled (events.jsonl); 'enos outages' shows what it caused.
    """
    from enos import deployers, faults
    from enos.errors import UsageError

    exp = opts.experiment("fault")
    exp.need("os", "fault")
    pause = None
    if lasting is not None:
        try:
            pause = faults.duration(lasting)
        except ValueError:
            raise UsageError(f"--for {lasting[:50]!r} is not a duration",
                             "write it as 5s, 1.5s, 250ms or 2m") from None
    name = deployers.recorded(exp)
    if not name:
        raise UsageError("no cloud was deployed in this experiment", "run 'enos os' first")
    deployer = deployers.load(name)
    fault = faults.Fault(action, service, tuple(hosts), pause)
    faults.check(fault, deployer, exp)
    opts.say(f"enos fault: {fault.label()}" + (" (waiting on the host)" if pause else ""))
    # No lock: a fault is meant to land while another command (enos bench) works on the cloud.
    done = faults.inject(fault, deployer, exp, opts)
    for host, what in sorted(done["hosts"].items()):
        at = _dt.datetime.fromtimestamp(float(what["at"])).strftime("%H:%M:%S.%f")[:-3]
        opts.say(f"  {host:<14} {what['done']} at {at}")
    if action == "stop" and not pause:
        opts.next_step(f"'enos fault start {service}' brings it back; 'enos outages' shows "
                       "the outage")
    else:
        opts.next_step("'enos outages' shows the outage it caused; 'enos status' the "
                       "restarts")
