"""The ``enos`` command line.

Thin by design: each command lives in ``enos/commands/<name>.py`` as a click command named
``command`` and is imported only when it runs (or when its help is asked for), so that
``enos --help`` answers fast. Expected failures are :class:`enos.errors.EnosError`: printed as
one message with a hint, exit code non-zero, no traceback.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
from pathlib import Path

import click

from enos import __version__

# name -> (module, one-line summary). Order is the order of the help text.
COMMANDS: dict[str, tuple[str, str]] = {
    "new": ("enos.commands.new", "Write a commented reservation.yaml for a provider."),
    "validate": ("enos.commands.validate", "Check a reservation.yaml and show what it asks for."),
    "up": ("enos.commands.up", "Acquire the machines, make them reachable, write the inventory."),
    "info": ("enos.commands.info", "Show what the current experiment holds."),
    "os": ("enos.commands.os", "Deploy OpenStack on the machines (native deployer)."),
    "init": ("enos.commands.init",
             "Bootstrap OpenStack: member role, image, flavors, networks, router."),
    "deploy": ("enos.commands.deploy", "Shortcut for enos up, then enos os and enos init."),
    "bench": ("enos.commands.bench",
              "Run the workload of run.yml (Rally, Shaker) on the cloud."),
    "backup": ("enos.commands.backup",
               "Gather logs, configs and benchmark results into archives."),
    "tc": ("enos.commands.tc",
           "Enforce network constraints between groups (--test measures, --reset removes)."),
    "monitor": ("enos.commands.monitor",
                "Deploy or converge the monitoring (Prometheus, exporters) on the cloud."),
    "status": ("enos.commands.status",
               "Show every service per host: running or not, since, restarts, address."),
    "logs": ("enos.commands.logs", "Print (-f: follow) the log of a service on a host."),
    "fault": ("enos.commands.fault",
              "Restart, kill, stop or start one service of the cloud (fault injection)."),
    "outages": ("enos.commands.outages",
                "Timeline of service outages, restarts and upgrades (probes, logs, faults)."),
    "report": ("enos.commands.report",
               "Write a readable report of the experiment (HTML, Markdown, JSON); --compare."),
    "campaign": ("enos.commands.campaign",
                 "Run a parameter study (run, report, status): a grid of values, one command."),
    "cache": ("enos.commands.cache",
              "Show (list) or prune this machine's cache of virtualenvs and images."),
    "ssh-tunnel": ("enos.commands.ssh_tunnel",
                   "Print SSH port forwarding to the dashboard, Prometheus and the APIs."),
    "destroy": ("enos.commands.destroy", "Stop what enos started; --hard also releases machines."),
    "help": ("enos.cli", "Show the help of a command."),
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use, and whose global options may also
    follow the command name (see :func:`hoist_global_options`)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        return super().parse_args(ctx, hoist_global_options(list(args)))

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        if name == "help":
            return help_command
        module = importlib.import_module(COMMANDS[name][0])
        return module.command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Summaries come from the table, so listing commands imports none of them.
        with formatter.section("Commands"):
            formatter.write_dl([(name, summary) for name, (_, summary) in COMMANDS.items()])


CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@click.group(cls=LazyGroup, context_settings=CONTEXT_SETTINGS)
@click.option(
    "-f",
    "config_file",
    default="reservation.yaml",
    show_default=True,
    metavar="CONFIG_FILE",
    help="The experiment's configuration file.",
)
@click.option(
    "-e",
    "--env",
    metavar="DIR",
    help="Experiment directory to work on (default: the one the 'current' link points to).",
)
@click.option("-q", "--quiet", "-s", "--silent", is_flag=True, help="Print only errors.")
@click.option("-v", "--verbose", count=True, help="More output (-vv: Ansible's too).")
@click.option("--vv", "vv", is_flag=True, hidden=True)
@click.version_option(__version__, "--version", prog_name="enos")
@click.pass_context
def cli(
    ctx: click.Context, config_file: str, env: str | None, quiet: bool, verbose: int, vv: bool
) -> None:
    """Enos: deploy, benchmark and analyse OpenStack, reproducibly.

    An experiment is one reservation.yaml and a few commands: `enos new`, then `enos up`.
    See `enos help COMMAND` or `enos COMMAND --help` for one command.
    """
    from enos.commands.common import Options

    ctx.obj = Options(
        config_file=config_file, env=env, quiet=quiet, verbosity=2 if vv else verbose
    )
    _OPTIONS.append(ctx.obj)


@click.command("help", context_settings=CONTEXT_SETTINGS)
@click.argument("command_name", required=False, metavar="COMMAND")
@click.pass_context
def help_command(ctx: click.Context, command_name: str | None) -> None:
    """Show the help of COMMAND (or the list of commands)."""
    root = ctx.find_root()
    group = root.command
    assert isinstance(group, click.Group)
    if not command_name:
        click.echo(group.get_help(root))
        return
    sub = group.get_command(root, command_name)
    if sub is None:
        from enos.errors import UsageError

        raise UsageError(
            f"no such command '{command_name[:100]}'", f"commands: {', '.join(COMMANDS)}"
        )
    with click.Context(sub, info_name=command_name, parent=root) as sub_ctx:
        click.echo(sub.get_help(sub_ctx))


_GLOBAL_WITH_VALUE = {"-f", "-e", "--env"}
_GLOBAL_FLAGS = {"-q", "-s", "--quiet", "--silent", "-v", "-vv", "--vv", "--verbose"}


def hoist_global_options(argv: list[str]) -> list[str]:
    """Accept global options after the command too, as the original did (`enos up -e DIR`).

    They are moved in front of the command name; everything after `--` stays in place.
    """
    head: list[str] = []
    rest: list[str] = []
    i = 0
    seen_command = False
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            rest += argv[i:]
            break
        if not seen_command:
            if arg in _GLOBAL_WITH_VALUE and i + 1 < len(argv):
                head += argv[i:i + 2]
                i += 2
                continue
            if not arg.startswith("-"):
                seen_command = True
            head.append(arg)
        elif arg in _GLOBAL_WITH_VALUE and i + 1 < len(argv):
            head[-1:-1] = argv[i:i + 2]
            i += 2
            continue
        elif arg.startswith("--env="):
            head[-1:-1] = [arg]
        elif arg in _GLOBAL_FLAGS:
            head[-1:-1] = ["-vv" if arg == "--vv" else arg]
        else:
            rest.append(arg)
        i += 1
    return head + rest


# The global options of the command being run, for the error log of :func:`main`.
_OPTIONS: list[object] = []
ERROR_LOG = "enos-errors.log"
INTERRUPTED = ("interrupted: the experiment is left as it was (its lock released); rerun the "
               "command to resume")


def error_log_path() -> Path:
    """Where :func:`main` writes the traceback of an unexpected error.

    ``<experiment>/logs/enos-errors.log`` when the command has an experiment (``-e`` or the
    ``current`` link), else ``./enos-errors.log``, else a file in the temporary directory.
    """
    import os
    import tempfile

    candidates: list[Path] = []
    try:
        opts = _OPTIONS[-1] if _OPTIONS else None
        from enos.experiment import Experiment

        cwd = getattr(opts, "cwd", None) or Path.cwd()
        exp = Experiment.find(getattr(opts, "env", None), cwd)
        if exp is not None:
            candidates.append(exp.path / "logs" / ERROR_LOG)
    except Exception:  # noqa: BLE001,S110 (the experiment itself may be what is broken)
        pass
    with contextlib.suppress(OSError):
        candidates.append(Path.cwd() / ERROR_LOG)
    candidates.append(Path(tempfile.gettempdir()) / f"enos-errors-{os.getuid()}.log")
    for path in candidates:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            if os.access(path.parent, os.W_OK) and (not path.exists()
                                                   or os.access(path, os.W_OK)):
                return path
        except OSError:
            continue
    return candidates[-1]


def _log_unexpected(exc: BaseException, argv: list[str] | None) -> Path | None:
    import datetime
    import traceback

    try:
        path = error_log_path()
        stamp = datetime.datetime.now().isoformat(timespec="seconds")
        args = " ".join(argv if argv is not None else sys.argv[1:])
        with path.open("a", encoding="utf-8", errors="backslashreplace") as handle:
            handle.write(f"--- {stamp} enos {__version__} (pid {os.getpid()}): enos {args}\n")
            handle.write("".join(traceback.format_exception(exc)))
        return path
    except Exception:  # noqa: BLE001 (no log is better than a second traceback)
        return None


def _tolerant_streams() -> None:
    """Print what cannot be encoded (file names with invalid bytes) as escapes, not crash."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(AttributeError, ValueError, OSError):
            stream.reconfigure(errors="backslashreplace")  # type: ignore[union-attr]


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the command line, turn expected errors into a message and exit code.

    An :class:`~enos.errors.EnosError` prints its message and hint (exit code 2 for a bad
    input, 1 otherwise). Anything else is a bug: one line naming the log file that holds the
    traceback, exit code 1.
    """
    from enos.errors import EnosError

    _OPTIONS.clear()
    _tolerant_streams()
    try:
        os.getcwd()
    except OSError:
        click.secho("error: the current directory no longer exists", fg="red", err=True)
        click.echo("  hint: cd to an existing directory, then run the command again", err=True)
        sys.exit(1)
    try:
        cli.main(args=argv, prog_name="enos", standalone_mode=False)
    except EnosError as exc:
        click.secho(f"error: {exc.message}", fg="red", err=True)
        if exc.hint:
            click.echo(f"  hint: {exc.hint}", err=True)
        sys.exit(exc.exit_code)
    except click.exceptions.Abort as exc:
        if isinstance(exc.__cause__, KeyboardInterrupt):
            click.echo(INTERRUPTED, err=True)
        else:
            click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo(INTERRUPTED, err=True)
        sys.exit(130)
    except BrokenPipeError:
        # The reader went away (`enos info | head -1`): nothing more to say to it.
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(141)
    except Exception as exc:  # noqa: BLE001 (a bug: logged, never shown as a traceback)
        log = _log_unexpected(exc, argv)
        where = f"the traceback is in {log}" if log else "no log could be written"
        with contextlib.suppress(Exception):
            click.secho(f"error: unexpected {type(exc).__name__}: {str(exc)[:300]} "
                        f"(a bug in enos; {where})", fg="red", err=True)
        sys.exit(1)
