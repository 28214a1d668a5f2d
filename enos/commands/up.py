"""enos up: acquire the machines, make them reachable, write the inventory."""

from __future__ import annotations

import time

import click

from enos.commands.common import Options, pass_options


@click.command("up")
@click.option("--force-deploy", is_flag=True,
              help="Release the experiment's machines first and start from fresh ones.")
@pass_options
def command(opts: Options, force_deploy: bool) -> None:
    """Acquire the machines of reservation.yaml, check them over SSH, write the inventory.

    The first run creates the experiment directory (enos_<timestamp>/ next to reservation.yaml)
    and the 'current' link to it; -e DIR works on another one. Rerunning converges: machines
    that exist are kept and checked again.
    """
    from enos import providers, teardown
    from enos.ansible import inventory
    from enos.ansible.runner import run_playbook
    from enos.errors import EnosError
    from enos.experiment import Experiment, env_exists

    config = opts.load_config()
    provider = providers.load(config.provider_type)
    provider.require_built()
    if opts.env and not env_exists(opts.env):
        exp = Experiment.create(opts.cwd, opts.env)  # `enos up -e NEW_DIR` starts it there
    else:
        exp = opts.find_experiment() or Experiment.create(opts.cwd, opts.env)
    with exp.locked("up"):
        exp.begin("up")
        previous = exp.state.get("provider")
        if previous and previous != config.provider_type and exp.resources is not None:
            raise EnosError(
                f"{exp.path.name} holds machines of provider '{previous}', and "
                f"{config.path.name} now asks for '{config.provider_type}'",
                "release them first with 'enos destroy --hard', or start another experiment "
                "with -e NEW_DIR",
            )
        start = time.monotonic()
        n = sum(m.number for m in config.machines) or sum(
            len(v) for v in config.static_hosts.values())
        opts.say(f"enos up: {n} host(s) on provider '{config.provider_type}' "
                 f"in {exp.path}")
        # Recorded first, so that 'enos destroy --hard' cleans up after an interrupted init.
        exp.update(provider=config.provider_type, config_file=str(config.path))
        resources = provider.init(config, exp, opts, force=force_deploy)
        if force_deploy:
            teardown.forget_machines(exp)
        exp.update(provider=config.provider_type, config_file=str(config.path),
                   config=config.data)
        exp.set_resources(resources)
        inv = inventory.write(config, resources, exp.path)
        acquired = time.monotonic() - start
        check = run_playbook("up.yml", inv, title="check hosts", quiet=opts.quiet,
                             verbosity=opts.verbosity, forks=len(resources.hosts),
                             retry_hint="fix the host, then run 'enos up' again")
        # The Python each host runs Ansible's modules with, pinned in the inventory (a host
        # variable ansible_python_interpreter, e.g. from `extra:`, was the only one tried).
        for host in resources.hosts:
            found = check.facts.get(host.alias, {}).get("enos_python")
            if found:
                host.extra["ansible_python_interpreter"] = found
        exp.set_resources(resources)
        inv = inventory.write(config, resources, exp.path)
        exp.mark_done("up", hosts=len(resources.hosts), seconds=round(time.monotonic() - start, 1))

    opts.say(f"{len(resources.hosts)} host(s) ready in {time.monotonic() - start:.1f}s "
             f"(machines {acquired:.1f}s, SSH check {time.monotonic() - start - acquired:.1f}s)",
             fg="green")
    if not opts.quiet:
        for role, hosts in sorted(resources.by_role().items()):
            click.echo(f"  {role:<10} " + ", ".join(f"{h.alias} ({h.address})" for h in hosts))
        click.echo(f"  inventory: {inv}")
    opts.next_step("'enos info' shows the hosts; 'enos destroy --hard' releases them")
