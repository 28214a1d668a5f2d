"""``enos backup``: what an experiment produced, gathered into archives with a manifest.

Into the backup directory (default ``<expdir>/backup/``):

- ``<alias>.tar.gz`` per host: what the deployer keeps under the host's ``enos_root``
  (:attr:`enos.deployers.base.Deployer.host_paths`: ``log/``, ``etc/``, ``supervisor/``).
  Hosts that share this machine (:attr:`enos.providers.base.Provider.shares_machine`) are read
  in place; other hosts are packed on the host and fetched
  with Ansible (``playbooks/fetch.yml``);
- ``experiment.tar.gz``: state.json, the reservation file, the inventory, admin-openrc,
  clouds.yaml, cloud.json, Ansible logs... (the experiment directory without hosts/, the
  services' own directories and the backup itself; keys/ only with --with-secrets);
- the archives of each service (:meth:`enos.services.base.Service.backup`), e.g. the bench
  service's ``rally.tar.gz`` (Rally's database, configuration and every run directory) and
  ``shaker.tar.gz``, when they hold anything;
- ``manifest.json``: every archive with size and sha256, and every file in it with its size
  and sha256.

Secrets are redacted (see :mod:`enos.backup.redact`) unless ``with_secrets``. Rerunning writes
only the archives whose content changed; the others are left untouched.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import shutil
import tarfile
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from enos import services
from enos.backup import archive
from enos.backup.archive import ArchiveSpec, Member
from enos.backup.redact import Redactor
from enos.errors import EnosError
from enos.utils.fs import atomic_write_json

if TYPE_CHECKING:
    from enos.experiment import Experiment
    from enos.model import Host

HERE = Path(__file__).parent
PLAYBOOK = HERE / "playbooks" / "fetch.yml"
MANIFEST = "manifest.json"
# Experiment-level entries kept out of experiment.tar.gz (archived on their own, or private).
SKIP_NAMES = {".lock", ".lock.cmd", "current"}
SECRET_FILES = ("passwords.yml", "admin-openrc", "clouds.yaml")


@dataclass
class ArchiveResult:
    name: str
    kind: str
    status: str  # written | unchanged
    size: int
    files: int
    host: str | None = None


@dataclass
class BackupResult:
    directory: Path
    archives: list[ArchiveResult] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def written(self) -> int:
        return sum(1 for a in self.archives if a.status == "written")


def default_dir(exp: Experiment) -> Path:
    return exp.path / "backup"


def backup(exp: Experiment, dest: Path | None = None, *, with_secrets: bool = False,
           say: Callable[[str], None] = print, quiet: bool = False, verbosity: int = 0,
           fetch: str = "auto") -> BackupResult:
    """Gather the experiment's files into ``dest``; ``fetch``: auto | local | ansible."""
    start = time.monotonic()
    dest = (dest or default_dir(exp)).absolute()
    dest.mkdir(parents=True, exist_ok=True)
    remove_staging(dest)
    result = BackupResult(dest)
    redactor = Redactor()
    for name in SECRET_FILES:
        path = exp.path / name
        if path.exists():
            redactor.learn_file(path)

    with tempfile.TemporaryDirectory(prefix=".staging-", dir=dest) as tmp:
        staging = Path(tmp)
        roots = _host_roots(exp, staging, fetch, result, quiet, verbosity, say, log_dir=dest)
        specs: list[ArchiveSpec] = []
        for alias, root in roots.items():
            spec = ArchiveSpec(f"{alias}.tar.gz", "host", host=alias)
            for sub in _host_paths(exp):
                spec.members += archive.tree(root / sub, sub, with_secrets=with_secrets)
            if not with_secrets:
                # Secrets of the configuration are replaced everywhere, logs included.
                for m in spec.members:
                    if m.mode == archive.CONFIG and m.arcname.startswith(("etc/", "supervisor/")):
                        redactor.learn_file(m.source)
            specs.append(spec)
        specs += _experiment_specs(exp, dest, with_secrets)

        settings = {
            "with_secrets": with_secrets,
            "secrets": hashlib.sha256("\0".join(sorted(redactor.secrets)).encode()).hexdigest(),
        }
        manifest = _load_manifest(dest)
        previous = {a["name"]: a for a in manifest.get("archives", [])}
        for spec in specs:
            if not spec.members:
                continue
            fp = archive.fingerprint(spec, settings)
            target = dest / spec.name
            old = previous.get(spec.name)
            if (old and old.get("fingerprint") == fp and target.exists()
                    and target.stat().st_size == old.get("size")):
                result.archives.append(ArchiveResult(spec.name, spec.kind, "unchanged",
                                                     old["size"], len(old.get("files", [])),
                                                     spec.host))
                continue
            entry = archive.write(spec, target, redactor, with_secrets=with_secrets,
                                  staging=staging)
            entry["fingerprint"] = fp
            previous[spec.name] = entry
            result.archives.append(ArchiveResult(spec.name, spec.kind, "written", entry["size"],
                                                 len(entry["files"]), spec.host))
            # The manifest follows each archive, so an interrupted backup resumes cleanly.
            _save_manifest(dest, exp, previous, with_secrets)
        _save_manifest(dest, exp, previous, with_secrets)
    result.seconds = round(time.monotonic() - start, 3)
    return result


def _host_paths(exp: Experiment) -> list[str]:
    """What the experiment's deployer keeps under each host's ``enos_root``."""
    from enos import deployers, plugins
    from enos.deployers.base import Deployer

    name = deployers.recorded(exp)
    if name and plugins.registered("deployer", name):
        return list(deployers.load(name).host_paths)
    return list(Deployer.host_paths)


def _shares_machine(exp: Experiment) -> bool:
    from enos import plugins

    name = exp.state.get("provider")
    return bool(name and plugins.registered("provider", name)
                and plugins.load("provider", name).shares_machine)


# -- hosts ----------------------------------------------------------------------------------
def _host_roots(exp: Experiment, staging: Path, fetch: str, result: BackupResult, quiet: bool,
                verbosity: int, say: Callable[[str], None], log_dir: Path) -> dict[str, Path]:
    """Each host's root directory, on this machine (in place, or fetched into staging)."""
    resources = exp.resources
    if resources is None:
        return {}
    local_provider = _shares_machine(exp)
    roots: dict[str, Path] = {}
    remote: list[Host] = []
    for host in resources.hosts:
        root = host.extra.get("enos_root")
        in_place = fetch == "local" or (fetch == "auto" and local_provider)
        if in_place and root and Path(root).is_dir():
            roots[host.alias] = Path(root)
        elif root:
            remote.append(host)
        else:
            result.warnings.append(f"host {host.alias} has no 'enos_root': nothing to gather")
    if remote:
        say(f"fetching logs and configuration of {len(remote)} host(s) with Ansible")
        roots.update(_fetch(exp, remote, staging, result, quiet, verbosity, log_dir))
    return dict(sorted(roots.items()))


def _fetch(exp: Experiment, hosts: list[Host], staging: Path, result: BackupResult,
           quiet: bool, verbosity: int, log_dir: Path) -> dict[str, Path]:
    """Pack each host's files on the host, fetch them, unpack them into ``staging``.

    Ansible's log goes to ``log_dir`` (the backup directory: not part of experiment.tar.gz,
    which would otherwise change at every backup).
    """
    from enos.ansible.runner import run_playbook

    if not exp.inventory_path.exists():
        raise EnosError(f"the inventory {exp.inventory_path} does not exist",
                        "run 'enos up' to write it again")
    stage = staging / "fetched"
    stage.mkdir()
    run = run_playbook(
        PLAYBOOK, exp.inventory_path, limit=",".join(h.alias for h in hosts),
        extravars={"enos_backup_stage": str(stage), "enos_backup_paths": _host_paths(exp)},
        title="backup fetch", log_dir=log_dir, quiet=quiet,
        verbosity=verbosity, check=False,
    )
    for failure in run.failures:
        result.warnings.append(f"host {failure.host}: {failure.status} at '{failure.task}': "
                               f"{' '.join(failure.msg.split())[:300]}")
    roots: dict[str, Path] = {}
    for host in hosts:
        packed = stage / f"{host.alias}.tar.gz"
        if not packed.exists():
            continue
        root = stage / host.alias
        root.mkdir()
        _unpack(packed, root)
        packed.unlink()
        roots[host.alias] = root
    return roots


def _unpack(packed: Path, root: Path) -> None:
    """Extract regular files and directories only, inside ``root``, keeping mtimes."""
    base = root.resolve()
    with tarfile.open(packed) as tar:
        for member in tar:
            target = (root / member.name).resolve()
            if not target.is_relative_to(base) or target == base:
                continue
            if member.isdir():
                target.mkdir(parents=True, exist_ok=True)
            elif member.isfile():
                source = tar.extractfile(member)
                if source is None:
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                with source, open(target, "wb") as out:
                    shutil.copyfileobj(source, out)
                os.utime(target, (member.mtime, member.mtime))


# -- experiment and services ------------------------------------------------------
def _experiment_specs(exp: Experiment, dest: Path, with_secrets: bool) -> list[ArchiveSpec]:
    exclude = {dest}
    for name in {"hosts"} | services.own_dirs() | SKIP_NAMES:
        exclude.add(exp.path / name)
    if not with_secrets:
        exclude.add(exp.keys_dir)
    experiment = ArchiveSpec("experiment.tar.gz", "experiment")
    experiment.members = archive.tree(exp.path, "experiment", exclude=exclude,
                                      with_secrets=with_secrets)
    config_file = exp.state.get("config_file")
    if config_file and Path(config_file).is_file():
        path = Path(config_file)
        experiment.members.append(Member(f"experiment/reservation/{path.name}", path,
                                         archive.mode_for(path, path.name, with_secrets)))
    if not with_secrets and exp.keys_dir.is_dir():
        experiment.notes.append("keys/ left out (private keys); --with-secrets keeps it")

    return [experiment, *services.backup_specs(exp, with_secrets)]


# -- manifest -------------------------------------------------------------------------------
def _load_manifest(dest: Path) -> dict[str, Any]:
    try:
        data = json.loads((dest / MANIFEST).read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _save_manifest(dest: Path, exp: Experiment, archives: dict[str, dict[str, Any]],
                   with_secrets: bool) -> None:
    present = [a for name, a in sorted(archives.items()) if (dest / name).exists()]
    atomic_write_json(dest / MANIFEST, {
        "format": archive.FORMAT,
        "experiment": str(exp.path),
        "updated_at": _dt.datetime.now().isoformat(timespec="seconds"),
        "with_secrets": with_secrets,
        "archives": present,
    })


def read_manifest(dest: Path) -> dict[str, Any]:
    """The manifest of a backup directory (empty when there is none)."""
    return _load_manifest(dest)


def remove_staging(dest: Path) -> None:
    """Leftovers of an interrupted backup."""
    for path in dest.glob(".staging-*"):
        shutil.rmtree(path, ignore_errors=True)
