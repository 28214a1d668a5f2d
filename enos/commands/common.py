"""What every command shares: global options, loading the configuration, the experiment."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from enos.config.spec import Config
    from enos.experiment import Experiment


@dataclass
class Options:
    """The global options (``-f``, ``-e``, ``-q``, ``-v``)."""

    config_file: str = "reservation.yaml"
    env: str | None = None
    quiet: bool = False
    verbosity: int = 0

    @property
    def config_path(self) -> Path:
        return Path(self.config_file).absolute()

    @property
    def cwd(self) -> Path:
        """Where the experiment directories and the ``current`` link live: the config's dir."""
        return self.config_path.parent

    def load_config(self) -> Config:
        from enos.config import load_config

        return load_config(self.config_path)

    def find_experiment(self) -> Experiment | None:
        from enos.experiment import Experiment

        return Experiment.find(self.env, self.cwd)

    def experiment(self, command: str) -> Experiment:
        """The experiment a command works on; a clear error if there is none."""
        from enos.experiment import Experiment

        return Experiment.require(self.env, self.cwd, command)

    def say(self, message: str = "", **style: object) -> None:
        if not self.quiet:
            click.secho(message, **style)  # type: ignore[arg-type]

    def next_step(self, message: str) -> None:
        """Every phase ends by telling the user what to do next."""
        self.say(f"next: {message}", fg="cyan")


pass_options = click.make_pass_decorator(Options)
