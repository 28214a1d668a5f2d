"""``enos validate``: check a reservation.yaml and show what it asks for."""

from __future__ import annotations

from pathlib import Path

import click

from enos.commands.common import Options, pass_options


@click.command("validate")
@click.option(
    "-f",
    "config_file",
    metavar="CONFIG_FILE",
    help="The file to check (default: the global -f, reservation.yaml).",
)
@pass_options
def command(options: Options, config_file: str | None) -> None:
    """Check a reservation.yaml and show what it asks for.

    Prints the provider, the machines per group and label with their roles, and the total.
    On an error, prints the file, line and key at fault and how to fix it, and exits with
    status 2. Nothing is acquired or changed.
    """
    from enos.config import load_config, summarize
    from enos.config.spec import display_path

    path = Path(config_file).absolute() if config_file else options.config_path
    config = load_config(path)
    summary = summarize(config)
    for warning in config.warnings:
        click.secho(f"warning: {warning}", fg="yellow", err=True)
    options.say(f"{display_path(config.path)} is valid", fg="green")
    deployer = config.deployer
    options.say(f"provider: {summary.provider}    deployer: {deployer['type']}")
    if config.inventory is not None:
        options.say(f"inventory: {display_path(config.inventory)}")
    options.say()
    for line in summary.lines():
        options.say(line)
    flag = "" if path == options.config_path else f"-f {display_path(config.path)} "
    options.next_step(f"`enos {flag}up` acquires these machines")
