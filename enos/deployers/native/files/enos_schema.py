"""A service's database schemas: restored from a snapshot, or migrated then snapshotted.

``python3 enos_schema.py --snapshots DIR --name NAME --db URL [--db URL...] [--state DIR] --
MIGRATION...``

Migrating a fresh database takes most of a deployment's CPU (Nova and Neutron run hundreds of
migrations); restoring its dump takes a second. DIR is named after the hash of the OpenStack
virtualenv, so a snapshot holds exactly the schemas of these versions. When the databases are
empty (a new deployment) and ``DIR/NAME.sql`` exists, it is restored. Otherwise MIGRATION runs;
if the databases were empty before it, their dump becomes the snapshot (written to a temporary
file, then renamed: a partial file is never used). Databases that already hold tables (a rerun
after an interruption, an upgrade to new versions) are only ever migrated: their data stays.

Each ``URL`` is the service's SQLAlchemy URL (``mysql+pymysql://user:password@host/db``); the
password reaches the MariaDB client through its environment only. Prints ``restored``,
``migrated`` or ``migrated, snapshot written``; a failure prints the last lines of the command
that failed and exits 1.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import IO, Any
from urllib.parse import unquote, urlsplit


class Database:
    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.name = parts.path.lstrip("/")
        self.host = parts.hostname or "localhost"
        self.port = str(parts.port or 3306)
        self.user = unquote(parts.username or "")
        self.env = {**os.environ, "MYSQL_PWD": unquote(parts.password or "")}

    def client(self, program: str, *args: str) -> list[str]:
        return [program, "--no-defaults", f"--host={self.host}", f"--port={self.port}",
                f"--user={self.user}", *args]

    def run(self, program: str, *args: str, stdin: IO[Any] | None = None,
            stdout: int | IO[Any] = subprocess.PIPE) -> str:
        proc = subprocess.run(self.client(program, *args), stdin=stdin, stdout=stdout,
                              stderr=subprocess.PIPE, env=self.env, text=True, check=False)
        if proc.returncode != 0:
            raise SystemExit(f"{program} on {self.name}@{self.host} failed: "
                             f"{proc.stderr.strip()[-1500:]}")
        return proc.stdout or ""

    def tables(self) -> int:
        out = self.run("mariadb", "--batch", "--skip-column-names", "--execute",
                       "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = "
                       f"'{self.name}'")
        return int(out.strip() or 0)


def main(argv: list[str]) -> int:
    if "--" not in argv:
        raise SystemExit("usage: enos_schema.py --snapshots DIR --name NAME --db URL... -- CMD")
    split = argv.index("--")
    parser = argparse.ArgumentParser()
    parser.add_argument("--snapshots", type=Path, required=True)
    parser.add_argument("--name", required=True)
    parser.add_argument("--db", action="append", required=True)
    parser.add_argument("--state", type=Path, help="this deployment's state directory")
    args = parser.parse_args(argv[:split])
    migration = argv[split + 1:]
    dbs = [Database(url) for url in args.db]
    snapshot = args.snapshots / f"{args.name}.sql"
    args.snapshots.mkdir(parents=True, exist_ok=True)
    # Shared with the other deployments reading the snapshots; `enos cache prune` takes it
    # exclusively before removing the directory.
    lock = os.open(f"{args.snapshots}.lock", os.O_RDWR | os.O_CREAT, 0o644)
    fcntl.flock(lock, fcntl.LOCK_SH)
    # Present while a restore runs: a restore interrupted (even by SIGKILL) is started over
    # on empty databases, whose content was only that partial restore.
    restoring = args.state / f"schema-{args.name}.restoring" if args.state else None
    if args.state:
        # One step at a time per deployment: a run whose enos was killed may still be going.
        args.state.mkdir(parents=True, exist_ok=True)
        step = os.open(args.state / f"schema-{args.name}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(step, fcntl.LOCK_EX)
    if restoring is not None and restoring.exists():
        for db in dbs:
            db.run("mariadb", "--execute",
                   f"DROP DATABASE IF EXISTS `{db.name}`; CREATE DATABASE `{db.name}`")
    fresh = all(db.tables() == 0 for db in dbs)
    if fresh and snapshot.is_file() and snapshot.stat().st_size > 0:
        if restoring is not None:
            restoring.parent.mkdir(parents=True, exist_ok=True)
            restoring.touch()
        with open(snapshot) as dump:
            # The dump names each database (USE), so one client restores them all.
            dbs[0].run("mariadb", stdin=dump)
        if restoring is not None:
            restoring.unlink()
        print("restored")
        return 0
    proc = subprocess.run(migration, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, check=False)
    sys.stdout.write(proc.stdout)
    if proc.returncode != 0:
        return proc.returncode
    if not fresh:
        print("migrated")
        return 0
    fd, tmp = tempfile.mkstemp(prefix=f".{args.name}-", suffix=".sql", dir=args.snapshots)
    try:
        with os.fdopen(fd, "w") as out:
            dbs[0].run("mysqldump", "--single-transaction", "--skip-comments",
                       "--skip-dump-date", "--no-tablespaces", "--triggers", "--routines",
                       "--databases",
                       *[db.name for db in dbs], stdout=out)
        os.chmod(tmp, 0o600)
        os.replace(tmp, snapshot)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    print("migrated, snapshot written")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
