#!/usr/bin/env bash
# Install what the tests need (enos itself, pytest, ruff, mypy, pandas, python-grid5000, Selenium with Debian's
# Chromium, and the Debian packages the integration tests use), then run the linter, the type
# checker and the whole test suite.
# Needs root: the integration tests build real local testbeds (namespaces, bridges, sshd).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${ENOS_VENV:-/opt/enos/venv}"

bash "$here/install.sh" test,analysis,g5k

# A real browser for the report pages: Debian's Chromium and its chromedriver.
need_apt=()
for pkg in chromium chromium-driver; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || need_apt+=("$pkg")
done
if [ "${#need_apt[@]}" -gt 0 ]; then
  echo "==> installing Debian packages for the tests: ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

cd "$here"
echo "==> ruff"
"$venv/bin/ruff" check enos tests benchmarks
echo "==> mypy"
"$venv/bin/mypy"
echo "==> pytest"
exec "$venv/bin/pytest" -ra -p no:cacheprovider "$@"
