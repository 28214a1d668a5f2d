"""``enos validate`` and ``enos new`` through the real command line."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from enos.cli import cli, main
from enos.config import load_config, sample

DOCS = Path(__file__).parent / "data" / "docs"


def run_main(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Run ``enos ARGV`` the way the entry point does: exit code, stdout, stderr."""
    with pytest.raises(SystemExit) as info:
        main(argv)
        raise SystemExit(0)
    out, err = capsys.readouterr()
    code = info.value.code
    return (code if isinstance(code, int) else 1), out, err


def enos(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("enos") or str(Path(sys.executable).parent / "enos")
    return subprocess.run([exe, *args], cwd=cwd, capture_output=True, text=True, check=False,
                          env={**os.environ, "NO_COLOR": "1"})


# -- validate ------------------------------------------------------------------------------
def test_validate_prints_the_summary(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_main(["validate", "-f", str(DOCS / "jenkins-g5k.yaml")], capsys)
    assert code == 0, err
    assert "jenkins-g5k.yaml is valid" in out
    assert "provider: g5k" in out and "deployer: kolla" in out
    assert "parasilo" in out and "paravance" in out
    assert "total: 3 machines" in out
    assert "up" in out


def test_validate_uses_the_global_f(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_main(["-f", str(DOCS / "netem-ranges.yaml"), "validate"], capsys)
    assert code == 0
    assert "grp4" in out and "total: 5 machines" in out
    assert "network constraints: 1 rule" in out


def test_validate_quiet(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_main(["-q", "validate", "-f", str(DOCS / "g5k-basic.yaml")], capsys)
    assert (code, out) == (0, "")


def test_validate_warnings_go_to_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_main(["validate", "-f", str(DOCS / "static.yaml")], capsys)
    assert code == 0
    assert "warning:" in err and "no key file" in err
    assert "enos-0" in out


def test_validate_error_exit_2_no_traceback(tmp_path: Path) -> None:
    (tmp_path / "reservation.yaml").write_text(
        "provider: g5k\nresources:\n  paravance:\n    control: x\n"
    )
    proc = enos("validate", cwd=tmp_path)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr + proc.stdout
    assert "reservation.yaml:4 [resources.paravance.control]" in proc.stderr
    assert "hint:" in proc.stderr


def test_validate_bad_yaml(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "r.yaml"
    path.write_text("provider: local\nresources: {control: 1\n")
    code, out, err = run_main(["validate", "-f", str(path)], capsys)
    assert code == 2
    assert "not valid YAML" in err and "r.yaml:" in err
    assert "Traceback" not in out + err


def test_validate_missing_file(tmp_path: Path) -> None:
    proc = enos("validate", cwd=tmp_path)
    assert proc.returncode == 2
    assert "reservation.yaml: no such file" in proc.stderr
    assert "enos new" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_validate_through_clirunner() -> None:
    result = CliRunner().invoke(cli, ["validate", "-f", str(DOCS / "vagrant-advanced.yaml")],
                                standalone_mode=False)
    assert result.exception is None, result.output
    assert "provider: vagrant" in result.output


def test_validate_error_through_clirunner(tmp_path: Path) -> None:
    from enos.errors import ConfigError

    path = tmp_path / "reservation.yaml"
    path.write_text("provider: g5kk\n")
    result = CliRunner().invoke(cli, ["validate", "-f", str(path)], standalone_mode=False)
    assert isinstance(result.exception, ConfigError)
    assert "did you mean 'g5k'" in (result.exception.hint or "")


# -- new -----------------------------------------------------------------------------------
def test_new_writes_the_local_sample_then_validates(tmp_path: Path) -> None:
    proc = enos("new", "-o", "reservation.yaml", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    written = tmp_path / "reservation.yaml"
    assert written.read_text() == sample("local")
    assert "enos up" in proc.stdout
    check = enos("validate", cwd=tmp_path)
    assert check.returncode == 0, check.stderr
    assert "is valid" in check.stdout and "provider: local" in check.stdout


def test_new_refuses_to_overwrite(tmp_path: Path) -> None:
    target = tmp_path / "reservation.yaml"
    target.write_text("mine\n")
    proc = enos("new", "-o", "reservation.yaml", cwd=tmp_path)
    assert proc.returncode == 2
    assert "exists" in proc.stderr and "--force" in proc.stderr
    assert target.read_text() == "mine\n"
    assert "Traceback" not in proc.stderr
    forced = enos("new", "-o", "reservation.yaml", "--force", "--provider", "g5k", cwd=tmp_path)
    assert forced.returncode == 0
    assert load_config(target).provider_type == "g5k"


@pytest.mark.parametrize("provider", ["static", "vmong5k", "chameleonbaremetal"])
def test_new_for_a_provider(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                            provider: str) -> None:
    out_file = tmp_path / f"{provider}.yaml"
    code, out, err = run_main(["new", "--provider", provider, "-o", str(out_file)], capsys)
    assert code == 0, err
    assert f"wrote {out_file}" in out
    assert f"enos -f {out_file} validate" in out
    assert load_config(out_file).provider_type == provider


def test_new_dash_prints(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_main(["new", "-o", "-", "-p", "vagrant"], capsys)
    assert code == 0
    assert out == sample("vagrant")
    assert "enos up" in err


def test_new_redirected_prints_like_the_original(tmp_path: Path) -> None:
    # `enos new > reservation.yaml`: stdout is a .yaml file, so the sample is printed there
    with (tmp_path / "reservation.yaml").open("w") as handle:
        proc = subprocess.run([shutil.which("enos") or "enos", "new"], cwd=tmp_path,
                              stdout=handle, stderr=subprocess.PIPE, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "reservation.yaml").read_text() == sample("local")
    assert load_config(tmp_path / "reservation.yaml").provider_type == "local"


def test_new_in_a_script_writes_the_file(tmp_path: Path) -> None:
    # `enos new && enos up` in a script: stdout is a pipe, the file is written
    proc = enos("new", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "reservation.yaml").read_text() == sample("local")
    assert "wrote" in proc.stdout


def test_new_unknown_provider(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_main(["new", "--provider", "vagrnt", "-o", "-"], capsys)
    assert code == 2
    assert "no sample for provider 'vagrnt'" in err and "did you mean 'vagrant'" in err
    assert out == ""


def test_new_help_documents_the_output() -> None:
    result = CliRunner().invoke(cli, ["new", "--help"])
    assert result.exit_code == 0
    assert "--force" in result.output and "standard output" in result.output
    assert "enos new > reservation.yaml" in result.output


def test_help_does_not_import_the_config() -> None:
    code = ("import sys; from enos.cli import main\n"
            "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "print('enos.config' in sys.modules, 'yaml' in sys.modules, file=sys.stderr)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=False)
    assert proc.stderr.strip().splitlines()[-1] == "False False"


def test_new_twice_is_fine_when_unchanged(tmp_path: Path) -> None:
    assert enos("new", cwd=tmp_path).returncode == 0
    again = enos("new", cwd=tmp_path)
    assert again.returncode == 0 and "already" in again.stdout
    (tmp_path / "reservation.yaml").write_text(sample("local") + "# edited\n")
    edited = enos("new", cwd=tmp_path)
    assert edited.returncode == 2 and "exists" in edited.stderr
    assert (tmp_path / "reservation.yaml").read_text().endswith("# edited\n")
