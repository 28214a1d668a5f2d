"""Taking secrets out of what a backup keeps.

Three passes, each line of a text file:

- every *known* secret (the experiment's generated passwords, the admin password of
  admin-openrc and clouds.yaml, and the value of every secret-looking key found in the
  configuration files) is replaced wherever it appears, logs included;
- ``scheme://user:password@host`` keeps the user and loses the password;
- in configuration files, the value of a key that names a secret (``password``,
  ``default_pass``, ``admin_token``, ``memcache_secret_key``, ``OS_PASSWORD``...) is replaced.

An SQLite database (Rally's) is copied with SQLite's backup API, then the known secrets are
replaced in every text column of the copy.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import IO

import yaml

REDACTED = "<redacted>"

# Keys whose value is a secret (matched case-insensitively against the whole key).
SECRET_KEY = re.compile(
    r"(?:^|[_.\-])(?:pass|passwd|password|secret|token|secret_key|private_key|api_key|"
    r"access_key|auth_key|credential|credentials|passphrase)$|password|secret",
    re.IGNORECASE,
)
# Keys that match the above but hold no secret.
NOT_SECRET = re.compile(r"(?:_file|_path|_dir|_url|_uri|_type|_provider|_expiration|_time|"
                        r"_timeout|_ttl|_length|_size|_enabled)$", re.IGNORECASE)

_ASSIGN = re.compile(
    r"""^(?P<pre>\s*(?:export\s+)?["']?(?P<key>[A-Za-z0-9_.\-]+)["']?\s*[=:]\s*)"""
    r"""(?P<val>.*?)(?P<post>\s*,?\s*)$"""
)
# Values that are never secrets (a flag such as send_service_user_token = true).
_PLAIN_VALUE = re.compile(r"^(?:true|false|yes|no|on|off|none|null|[-+]?\d+(?:\.\d+)?)$",
                          re.IGNORECASE)
_URL_CRED = re.compile(r"(\b[a-zA-Z][a-zA-Z0-9+.\-]*://[^:/@\s'\"]+:)([^@\s/'\"]+)(@)")

CONFIG_SUFFIXES = {".conf", ".ini", ".cnf", ".cfg", ".yaml", ".yml", ".json", ".env", ".j2",
                   ".config", ".properties", ".toml"}
CONFIG_NAMES = {"admin-openrc", "openrc", "clouds.yaml", "passwords.yml", "enabled_plugins"}
_PEM_BEGIN = re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----")
_PEM_END = re.compile(r"-----END [A-Z0-9 ]*PRIVATE KEY-----")
MIN_SECRET = 6  # shorter values are not replaced literally (too many false hits)


def is_config(path: str) -> bool:
    """Whether key-based redaction applies to a file of this name."""
    name = Path(path).name
    if name in CONFIG_NAMES or name.endswith("rc"):
        return True
    if Path(name).suffix in CONFIG_SUFFIXES:
        return True
    return "/etc/" in f"/{path}"


def secret_key(key: str) -> bool:
    return bool(SECRET_KEY.search(key)) and not NOT_SECRET.search(key)


class Redactor:
    """Redacts text with the secrets it was told about (``add``) and by key and URL patterns."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self.secrets: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self.add(secrets)

    def add(self, secrets: Iterable[str]) -> None:
        for value in secrets:
            value = str(value).strip().strip("'\"")
            if len(value) >= MIN_SECRET and value != REDACTED:
                self.secrets.add(value)
        self._pattern = None

    @property
    def pattern(self) -> re.Pattern[str] | None:
        if self._pattern is None and self.secrets:
            ordered = sorted(self.secrets, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(s) for s in ordered))
        return self._pattern

    # -- learning secrets from files ----------------------------------------------------------
    def learn_file(self, path: Path) -> None:
        """Add the values of secret keys of a configuration file (and of passwords.yml)."""
        try:
            text = path.read_text(errors="replace")
        except OSError:
            return
        if path.name == "passwords.yml" or path.suffix in (".yaml", ".yml", ".json"):
            # YAML and JSON files: the values of secret keys at any depth, on any line form.
            try:
                self.add(_yaml_secrets(yaml.safe_load(text), all_values=path.name ==
                                       "passwords.yml"))
            except (yaml.YAMLError, RecursionError):
                pass
        for line in text.splitlines():
            m = _ASSIGN.match(line)
            if m and secret_key(m.group("key")) and not _PLAIN_VALUE.match(
                    _unquote(m.group("val"))):
                self.add([_unquote(m.group("val"))])
            for u in _URL_CRED.finditer(line):
                self.add([u.group(2)])

    # -- redacting ------------------------------------------------------------------------------
    def line(self, line: str, config: bool) -> str:
        pattern = self.pattern
        if pattern is not None:
            line = pattern.sub(REDACTED, line)
        if "://" in line:
            line = _URL_CRED.sub(rf"\1{REDACTED}\3", line)
        if config:
            m = _ASSIGN.match(line.rstrip("\n"))
            if m and secret_key(m.group("key")):
                val = m.group("val")
                if (val and not val.startswith(("{", "[", "<")) and val != REDACTED
                        and not _PLAIN_VALUE.match(_unquote(val))):
                    end = "\n" if line.endswith("\n") else ""
                    q = val[0] if val[0] in "'\"" and len(val) > 1 and val[-1] == val[0] else ""
                    line = f"{m.group('pre')}{q}{REDACTED}{q}{m.group('post')}{end}"
        return line

    def stream(self, src: IO[bytes], dst: IO[bytes], config: bool) -> None:
        """Copy text from ``src`` to ``dst``, redacted, line by line; the body of a PEM
        private key block is left out whole."""
        in_key = False
        for raw in src:
            text = raw.decode("utf-8", errors="surrogateescape")
            if in_key:
                if _PEM_END.search(text):
                    in_key = False
                    dst.write(raw)
                continue
            if _PEM_BEGIN.search(text):
                in_key = True
                dst.write(raw + f"{REDACTED}\n".encode())
                continue
            dst.write(self.line(text, config).encode("utf-8", errors="surrogateescape"))

    def sqlite(self, source: Path, dest: Path, redact: bool = True) -> None:
        """A consistent copy of an SQLite database, secrets replaced in its text columns."""
        dest.unlink(missing_ok=True)
        src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        try:
            out = sqlite3.connect(dest)
            try:
                src.backup(out)
                if redact and self.secrets:
                    _sqlite_replace(out, sorted(self.secrets, key=len, reverse=True))
                out.commit()
                out.execute("VACUUM")
            finally:
                out.close()
        finally:
            src.close()


def _sqlite_replace(db: sqlite3.Connection, secrets: list[str]) -> None:
    tables = [r[0] for r in db.execute(
        "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'")]
    for table in tables:
        columns = [r[1] for r in db.execute(f'PRAGMA table_info("{table}")')]
        for column in columns:
            for secret in secrets:
                db.execute(
                    f'UPDATE "{table}" SET "{column}" = replace(CAST("{column}" AS TEXT), ?, ?) '
                    f'WHERE typeof("{column}") IN (\'text\', \'blob\') '
                    f'AND instr(CAST("{column}" AS TEXT), ?) > 0',
                    (secret, REDACTED, secret),
                )


def _yaml_secrets(data: object, all_values: bool) -> list[str]:
    out: list[str] = []

    def walk(node: object, key: str) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, str(k))
        elif isinstance(node, list):
            for v in node:
                walk(v, key)
        elif (isinstance(node, str | int) and not isinstance(node, bool)
              and (all_values or secret_key(key))):
            out.append(str(node))

    walk(data, "")
    return out


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) > 1 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


def is_binary(path: Path) -> bool:
    try:
        with open(path, "rb") as handle:
            return b"\0" in handle.read(8192)
    except OSError:
        return False


def is_sqlite(path: Path) -> bool:
    try:
        with open(path, "rb") as handle:
            return handle.read(16) == b"SQLite format 3\0"
    except OSError:
        return False
