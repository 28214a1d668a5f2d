"""Files written the safe way: atomic replace, private modes, advisory locks."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def atomic_write(path: str | os.PathLike[str], data: str | bytes, mode: int = 0o644) -> None:
    """Write ``data`` to ``path`` so that readers see the old or the new file, never a mix.

    The content goes to a temporary file in the same directory, is fsynced, gets ``mode`` and is
    renamed over ``path``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = data.encode() if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(raw)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def atomic_write_json(path: str | os.PathLike[str], obj: Any, mode: int = 0o644) -> None:
    atomic_write(path, json.dumps(obj, indent=2, sort_keys=True) + "\n", mode)


def write_private(path: str | os.PathLike[str], data: str | bytes) -> None:
    """Atomically write a secret (password, key, credentials) with mode 0600."""
    atomic_write(path, data, 0o600)


@contextlib.contextmanager
def flock(path: str | os.PathLike[str], *, blocking: bool = True) -> Iterator[bool]:
    """Hold an exclusive advisory lock on ``path`` for the ``with`` block.

    Yields True when the lock is held; with ``blocking=False`` yields False at once if another
    process holds it.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
            yield True
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


# -- reading user files with bounds -----------------------------------------------------------
# Files enos reads from the user (reservation.yaml, run.yml, state.json) are small. Anything
# bigger is a mistake (`-f /dev/zero`, a log file given by accident) and is refused unread.
MAX_INPUT_BYTES = 4 * 1024 * 1024
# Longest path enos accepts (Linux's PATH_MAX is 4096 bytes, NAME_MAX 255).
MAX_PATH_CHARS = 4000


class UnreadableFile(ValueError):
    """A file that is not a readable regular text file of a sane size.

    ``message`` says what it is instead (a directory, a FIFO, a broken link, too big...),
    ``hint`` what to do.
    """

    def __init__(self, message: str, hint: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.line = line


def _kind(mode: int) -> str | None:
    import stat

    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if not stat.S_ISREG(mode):
        return "not a regular file"
    return None


def check_path_length(path: str | os.PathLike[str]) -> None:
    """Refuse a path longer than the system takes (a clear message instead of ENAMETOOLONG)."""
    text = os.fspath(path)
    if len(text) > MAX_PATH_CHARS:
        raise UnreadableFile(f"the path is {len(text)} characters long (at most "
                             f"{MAX_PATH_CHARS})", "give a shorter path")
    longest = max((len(part.encode("utf-8", "surrogateescape")) for part in Path(text).parts),
                  default=0)
    if longest > 255:
        raise UnreadableFile(f"a name in the path is {longest} bytes long (at most 255)",
                             "give a path made of shorter names")


def read_bounded(path: str | os.PathLike[str], limit: int = MAX_INPUT_BYTES,
                 what: str = "file") -> str:
    """The UTF-8 text of the regular file ``path``, refusing anything else before reading.

    Never blocks (a FIFO is refused, not opened for a blocking read) and never reads more than
    ``limit`` bytes. Raises :class:`UnreadableFile` (a missing file too: ``message`` is
    ``"no such file"``).
    """
    check_path_length(path)
    text_path = os.fspath(path)
    try:
        st = os.stat(text_path)
    except FileNotFoundError:
        if os.path.islink(text_path):
            raise UnreadableFile(f"is a broken link (to {os.readlink(text_path)})",
                                 f"point the link at an existing {what}, or remove it") from None
        raise UnreadableFile("no such file", f"check the path of the {what}") from None
    except OSError as exc:
        raise UnreadableFile(f"cannot read it: {exc.strerror}",
                             f"check the path of the {what} and its permissions") from None
    kind = _kind(st.st_mode)
    if kind is not None:
        raise UnreadableFile(f"is {kind}, not a regular file",
                             f"give the path of the {what} itself")
    if st.st_size > limit:
        raise UnreadableFile(f"is {st.st_size} bytes, more than the {limit} bytes enos reads "
                             f"from a {what}", f"give the right file; a {what} is a few "
                             "kilobytes")
    try:
        fd = os.open(text_path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
    except OSError as exc:
        raise UnreadableFile(f"cannot read it: {exc.strerror}",
                             f"check the permissions of the {what}") from None
    try:
        kind = _kind(os.fstat(fd).st_mode)  # it may have been replaced since the stat
        if kind is not None:
            raise UnreadableFile(f"is {kind}, not a regular file",
                                 f"give the path of the {what} itself")
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise UnreadableFile(f"cannot read it: {exc.strerror}",
                             f"check the {what} and its permissions") from None
    finally:
        os.close(fd)
    raw = b"".join(chunks)
    if len(raw) > limit:
        raise UnreadableFile(f"is more than the {limit} bytes enos reads from a {what}",
                             f"give the right file; a {what} is a few kilobytes")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise UnreadableFile(f"is not UTF-8 text: byte 0x{raw[exc.start]:02x} ({exc.reason})",
                             f"save the {what} as UTF-8 text", line) from None
