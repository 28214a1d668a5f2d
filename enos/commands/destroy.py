"""enos destroy: stop what enos started; --hard also releases the machines."""

from __future__ import annotations

import click

from enos.commands.common import Options, pass_options


@click.command("destroy")
@click.option("--hard", is_flag=True, help="Also release the machines (for local: the hosts).")
@pass_options
def command(opts: Options, hard: bool) -> None:
    """Stop what later phases started on the hosts; with --hard, release the machines too.

    The experiment directory and its results stay. Running it twice is fine.
    """
    from enos import providers, teardown
    from enos.errors import EnosError, StateError

    exp = opts.experiment("destroy")
    with exp.locked("destroy"):
        fallback = None
        try:
            resources = exp.resources
        except StateError as exc:
            if not hard:
                raise
            # Release what can be found without the state: the provider of the configuration.
            opts.say(f"warning: {exc.message}; moved aside as "
                     f"{exp.set_aside_state().name}", fg="yellow")
            resources = None
            try:
                fallback = opts.load_config().provider_type
            except EnosError:
                fallback = "local"
        stopped = teardown.run(exp, opts)
        if stopped:
            opts.say(f"stopped: {', '.join(stopped)}")
        if hard:
            name = exp.state.get("provider") or fallback
            if name:
                provider = providers.load(name)
                config = None
                try:
                    config = opts.load_config()
                except EnosError:  # destroy works without a valid configuration
                    config = None
                provider.destroy(config, exp, resources, opts)
            exp.set_resources(None)
            teardown.forget_machines(exp)
            opts.say(f"released the machines of {exp.path.name}", fg="green")
            opts.next_step("'enos up' acquires machines again; the results stay in "
                           f"{exp.path}")
        else:
            opts.say(f"nothing of later phases runs on {exp.path.name} any more", fg="green")
            opts.next_step("'enos destroy --hard' also releases the machines")
