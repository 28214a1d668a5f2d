#!/usr/bin/env bash
# Install what the tests need (enos itself, pytest, ruff, mypy, and the Debian packages the
# integration tests use), then run the linter, the type checker and the whole test suite.
# Needs root: the integration tests build real local testbeds (namespaces, bridges, sshd).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${ENOS_VENV:-/opt/enos/venv}"

bash "$here/install.sh" test

cd "$here"
echo "==> ruff"
"$venv/bin/ruff" check enos tests benchmarks
echo "==> mypy"
"$venv/bin/mypy"
echo "==> pytest"
exec "$venv/bin/pytest" -ra -p no:cacheprovider "$@"
