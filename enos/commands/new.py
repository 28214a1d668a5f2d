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
    from enos.errors import EnosError, UsageError
    from enos.utils.fs import UnreadableFile

    known = sample_providers()
    if provider not in known:
        from enos.errors import did_you_mean

        hint = did_you_mean(provider, known) or f"providers: {', '.join(known)}"
        raise UsageError(f"no sample for provider '{provider[:100]}'", hint)
    text = sample(provider)

    if output is None and _redirected_to_yaml_file():
        output = "-"
    if output == "-":
        try:
            click.echo(text, nl=False)
            sys.stdout.flush()
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise EnosError(f"cannot write the sample to the standard output: {exc.strerror}",
                            "free some space, or write it elsewhere with -o FILE") from None
        if not options.quiet:
            click.echo("next: save this as reservation.yaml, edit it, then `enos up`",
                       err=True)
        return

    path = Path(output or options.config_file)
    if not force and _same_text(path, text):
        options.say(f"{path} is already the {provider} sample: left as it is")
        flag = "" if path.absolute() == options.config_path else f"-f {path} "
        options.next_step(f"edit {path}, then `enos {flag}up`")
        return
    try:
        _write_new(path, text, force)
    except FileExistsError:
        raise UsageError(
            f"{str(path)[:200]} exists: left as it is",
            "pass --force to overwrite it, or -o FILE to write another file",
        ) from None
    except UnreadableFile as exc:
        raise UsageError(f"cannot write {str(path)[:100]}: {exc.message}", exc.hint) from None
    except OSError as exc:
        import errno

        # A full disk or a read-only one is the machine's state; a wrong path is the user's.
        cls = EnosError if exc.errno in (errno.ENOSPC, errno.EROFS, errno.EDQUOT,
                                         errno.EIO) else UsageError
        raise cls(f"cannot write {str(path)[:200]}: {exc.strerror}",
                  "pass -o FILE to write it elsewhere") from None
    options.say(f"wrote {path} (provider {provider})", fg="green")
    flag = "" if path.absolute() == options.config_path else f"-f {path} "
    options.next_step(f"edit {path}, check it with `enos {flag}validate`, then `enos {flag}up`")


def _same_text(path: Path, text: str) -> bool:
    """Whether ``path`` is a regular file holding ``text`` (read within bounds)."""
    from enos.utils.fs import UnreadableFile, read_bounded

    try:
        return read_bounded(path) == text
    except UnreadableFile:
        return False


def _write_new(path: Path, text: str, force: bool) -> None:
    """Write ``text`` to ``path`` whole or not at all (a full disk leaves no half file).

    The text goes to a temporary file next to ``path`` first; it then replaces ``path``
    (``force``) or is linked to it, which fails if ``path`` exists.
    """
    import contextlib
    import os
    import tempfile

    from enos.utils.fs import check_path_length

    check_path_length(path)
    if not force and (path.exists() or path.is_symlink()):
        raise FileExistsError(str(path))
    if force and path.exists() and not path.is_file():
        raise IsADirectoryError(21, "not a regular file", str(path))
    directory = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name[:200]}.", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644 & ~_umask())
        if force:
            os.replace(tmp, path)
        else:
            os.link(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def _umask() -> int:
    import os

    mask = os.umask(0)
    os.umask(mask)
    return mask
