"""``enos new``: write a commented sample reservation.yaml for a provider."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from enos.commands.common import Options, pass_options


def _redirected_to_yaml_file() -> bool:
    """Whether stdout is a .yaml/.yml file, as in the original's `enos new > reservation.yaml`.

    Anything else (a terminal, a pipe, a CI log) gets the file written, so that
    `enos new && enos up` works in scripts too.
    """
    import os
    import stat

    try:
        if not stat.S_ISREG(os.fstat(sys.stdout.fileno()).st_mode):
            return False
        target = os.readlink("/proc/self/fd/1")
    except (OSError, ValueError):
        return False
    return target.endswith((".yaml", ".yml"))


@click.command("new")
@click.option(
    "-p",
    "--provider",
    default="local",
    show_default=True,
    metavar="NAME",
    help="The testbed: local, static, g5k, vagrant, vmong5k, openstack, chameleonkvm, "
    "chameleonbaremetal.",
)
@click.option(
    "-o",
    "--output",
    metavar="FILE",
    help="Where to write the sample; '-' prints it. Default: the global -f file "
    "(reservation.yaml), or the standard output when it is redirected to a .yaml file.",
)
@click.option("--force", is_flag=True, help="Overwrite FILE if it exists.")
@pass_options
def command(options: Options, provider: str, output: str | None, force: bool) -> None:
    """Write a commented sample reservation.yaml for a provider.

    \b
    enos new                          writes ./reservation.yaml (local provider)
    enos new --provider g5k -o x.yaml writes x.yaml for Grid'5000
    enos new > reservation.yaml       prints the sample, as the original Enos did
    enos new -o -                     prints the sample

    An existing file is left alone unless --force is given. Every sample passes
    `enos validate` as written; edit it, then run `enos up`.
    """
    from enos.config import sample, sample_providers
    from enos.errors import EnosError

    known = sample_providers()
    if provider not in known:
        from enos.errors import did_you_mean

        hint = did_you_mean(provider, known) or f"providers: {', '.join(known)}"
        raise EnosError(f"no sample for provider '{provider}'", hint)
    text = sample(provider)

    if output is None and _redirected_to_yaml_file():
        output = "-"
    if output == "-":
        click.echo(text, nl=False)
        if not options.quiet:
            click.echo("next: save this as reservation.yaml, edit it, then `enos up`",
                       err=True)
        return

    path = Path(output or options.config_file)
    if not force and path.is_file() and path.read_text(encoding="utf-8") == text:
        options.say(f"{path} is already the {provider} sample: left as it is")
        flag = "" if path.absolute() == options.config_path else f"-f {path} "
        options.next_step(f"edit {path}, then `enos {flag}up`")
        return
    try:
        with path.open("w" if force else "x", encoding="utf-8") as handle:
            handle.write(text)
    except FileExistsError:
        raise EnosError(
            f"{path} exists: left as it is",
            "pass --force to overwrite it, or -o FILE to write another file",
        ) from None
    except OSError as exc:
        raise EnosError(f"cannot write {path}: {exc.strerror}",
                        "pass -o FILE to write it elsewhere") from None
    options.say(f"wrote {path} (provider {provider})", fg="green")
    flag = "" if path.absolute() == options.config_path else f"-f {path} "
    options.next_step(f"edit {path}, check it with `enos {flag}validate`, then `enos {flag}up`")
