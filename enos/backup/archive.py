"""Archives of a backup, each written only when what goes into it changed.

An archive is described by its members (name in the archive, source file, how to redact it).
Its *fingerprint* is a digest of every member's name, size, modification time and redaction,
and of the redaction settings. The manifest records the fingerprint of each archive written;
an archive whose fingerprint, file and size are unchanged is not written again.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from enos.backup.redact import Redactor, is_binary, is_config, is_sqlite

FORMAT = 1
SPOOL = 32 * 1024 * 1024  # members larger than this are staged on disk, not in memory

# How a member is copied.
RAW = "raw"  # as is (binary files, or everything with --with-secrets)
TEXT = "text"  # known secrets and URL passwords replaced
CONFIG = "config"  # TEXT, plus values of secret keys
SQLITE = "sqlite"  # consistent copy of an SQLite database, secrets replaced in its columns


# Runtime files rewritten every few seconds while services run (a supervisor's status), and the
# events journal (each enos command appends to it, `enos backup` too): they go into the archive,
# but a change of theirs alone does not make the archive be written again.
VOLATILE = {"status.json", "supervisor.pid", "events.jsonl"}


@dataclass
class Member:
    arcname: str
    source: Path
    mode: str = TEXT
    volatile: bool = False


@dataclass
class ArchiveSpec:
    name: str  # file name in the backup directory: control-0.tar.gz
    kind: str  # host | experiment | rally | shaker | monitoring
    members: list[Member] = field(default_factory=list)
    host: str | None = None
    notes: list[str] = field(default_factory=list)


def tree(root: Path, prefix: str, *, exclude: set[Path] | None = None,
         with_secrets: bool = False) -> list[Member]:
    """Members for every regular file under ``root`` (not following links to directories)."""
    exclude = {p.resolve() for p in exclude or set()}
    out: list[Member] = []
    if not root.is_dir():
        return out
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        dirnames[:] = sorted(d for d in dirnames
                             if (here / d).resolve() not in exclude and not (here / d).is_symlink())
        for name in sorted(filenames):
            path = here / name
            if path.resolve() in exclude or not path.is_file():
                continue
            rel = path.relative_to(root).as_posix()
            out.append(Member(f"{prefix}/{rel}" if prefix else rel, path,
                              mode_for(path, rel, with_secrets), volatile=name in VOLATILE))
    return out


def mode_for(path: Path, rel: str, with_secrets: bool) -> str:
    if is_sqlite(path):
        return SQLITE
    if with_secrets or is_binary(path):
        return RAW
    return CONFIG if is_config(rel) else TEXT


def fingerprint(spec: ArchiveSpec, settings: dict[str, Any]) -> str:
    sha = hashlib.sha256(json.dumps({"format": FORMAT, **settings}, sort_keys=True).encode())
    for m in sorted(spec.members, key=lambda m: m.arcname):
        if m.volatile:
            sha.update(f"{m.arcname}\0volatile\n".encode())
            continue
        try:
            st = m.source.stat()
            sha.update(f"{m.arcname}\0{m.mode}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
        except OSError:
            sha.update(f"{m.arcname}\0missing\n".encode())
    return sha.hexdigest()


def sha256_file(path: Path) -> str:
    sha = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            sha.update(chunk)
    return sha.hexdigest()


class _Hashing:
    """A writable file that hashes and counts what goes through it."""

    def __init__(self, target: IO[bytes]) -> None:
        self.target = target
        self.sha = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.sha.update(data)
        self.size += len(data)
        return self.target.write(data)


def write(spec: ArchiveSpec, dest: Path, redactor: Redactor, *, with_secrets: bool,
          staging: Path) -> dict[str, Any]:
    """Write ``dest`` (tar.gz, atomically); return its manifest entry (members with sha256)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", dir=dest.parent)
    os.close(fd)
    files: list[dict[str, Any]] = []
    try:
        with tarfile.open(tmp, "w:gz", compresslevel=6) as tar:
            for member in sorted(spec.members, key=lambda m: m.arcname):
                entry = _add(tar, member, redactor, with_secrets, staging)
                if entry:
                    files.append(entry)
        os.chmod(tmp, 0o600 if with_secrets else 0o644)
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return {
        "name": spec.name,
        "kind": spec.kind,
        "host": spec.host,
        "size": dest.stat().st_size,
        "sha256": sha256_file(dest),
        "written_at": _dt.datetime.now().isoformat(timespec="seconds"),
        "files": files,
        "notes": spec.notes,
    }


def _add(tar: tarfile.TarFile, member: Member, redactor: Redactor, with_secrets: bool,
         staging: Path) -> dict[str, Any] | None:
    try:
        st = member.source.stat()
    except OSError:
        return None  # vanished since it was listed
    info = tarfile.TarInfo(member.arcname)
    info.mtime = int(st.st_mtime)
    info.mode = st.st_mode & 0o7777
    info.uname = info.gname = "root"
    redacted = member.mode in (TEXT, CONFIG, SQLITE) and not with_secrets
    if member.mode == SQLITE:
        copy = staging / f"sqlite-{os.getpid()}-{abs(hash(member.arcname))}.db"
        try:
            redactor.sqlite(member.source, copy, redact=not with_secrets)
            return _add_spooled(tar, info, copy.open("rb"), None, redactor, redacted)
        finally:
            copy.unlink(missing_ok=True)
    try:
        src = member.source.open("rb")
    except OSError:
        return None
    mode = None if member.mode == RAW or with_secrets else member.mode
    return _add_spooled(tar, info, src, mode, redactor, redacted)


def _add_spooled(tar: tarfile.TarFile, info: tarfile.TarInfo, src: IO[bytes],
                 mode: str | None, redactor: Redactor, redacted: bool) -> dict[str, Any]:
    """Copy ``src`` (redacted per ``mode``) to a spooled file, then into the archive.

    Staging first gives the archive a size that holds even if the source grows meanwhile
    (a log being written).
    """
    with src, tempfile.SpooledTemporaryFile(max_size=SPOOL) as spool:
        sink = _Hashing(spool)
        if mode is None:
            for chunk in iter(lambda: src.read(1 << 20), b""):
                sink.write(chunk)
        else:
            redactor.stream(src, sink, config=mode == CONFIG)  # type: ignore[arg-type]
        info.size = sink.size
        spool.seek(0)
        tar.addfile(info, spool)
    return {"path": info.name, "size": sink.size, "sha256": sink.sha.hexdigest(),
            "redacted": redacted}
