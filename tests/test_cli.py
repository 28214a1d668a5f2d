"""The command line itself: global options anywhere, help, errors without tracebacks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import run_enos

from enos.cli import COMMANDS, hoist_global_options


@pytest.mark.parametrize(("argv", "expected"), [
    (["up", "-e", "D"], ["-e", "D", "up"]),
    (["info", "--out", "json", "--env=D", "-q"], ["--env=D", "-q", "info", "--out", "json"]),
    (["-f", "x.yaml", "up", "--force-deploy", "-vv"], ["-f", "x.yaml", "-vv", "up",
                                                      "--force-deploy"]),
    (["validate", "-f", "y.yaml"], ["-f", "y.yaml", "validate"]),
    (["help", "up"], ["help", "up"]),
])
def test_global_options_after_the_command(argv: list[str], expected: list[str]) -> None:
    assert hoist_global_options(argv) == expected


def test_every_command_has_help(tmp_path: Path) -> None:
    for name in COMMANDS:
        out = run_enos("help", name, cwd=tmp_path).stdout
        assert f"Usage: enos {name}" in out
        assert run_enos(name, "--help", cwd=tmp_path).stdout == out


def test_unknown_command_and_version(tmp_path: Path) -> None:
    proc = run_enos("frobnicate", cwd=tmp_path, check=False)
    assert proc.returncode == 2 and "No such command" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert "enos, version" in run_enos("--version", cwd=tmp_path).stdout
    helped = run_enos("help", "frobnicate", cwd=tmp_path, check=False)
    assert helped.returncode == 2 and "no such command" in helped.stderr


def test_up_with_an_unbuilt_provider_says_so(tmp_path: Path) -> None:
    run_enos("new", "--provider", "vagrant", cwd=tmp_path)
    proc = run_enos("up", cwd=tmp_path, check=False)
    assert proc.returncode == 2
    assert "provider 'vagrant' is valid" in proc.stderr and "provider: local" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_help_is_fast_to_import() -> None:
    code = "import sys, enos.cli; print(sorted(m for m in sys.modules if m.startswith('enos')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=Path(__file__).parent.parent).stdout
    assert "enos.config" not in out and "yaml" not in out
