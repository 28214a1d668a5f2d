#!/usr/bin/env bash
# Install enos and what it needs on Debian 12, as root:
#   - Debian packages: iproute2 (namespaces, veth, bridges, tc), openssh (sshd of local hosts),
#     fping and iperf3 (enos tc --test), iptables (enos tc's delay and loss without netem), jq,
#     python3-venv;
#   - a virtualenv in $ENOS_VENV (default /opt/enos/venv) with enos and its locked dependencies;
#   - the 'enos' command on the PATH (/usr/local/bin/enos).
# Safe to rerun: it installs only what is missing.
# Extras as the first argument, comma-separated: test, analysis, g5k (python-grid5000, for
# provider g5k), e.g. `bash install.sh g5k`.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${ENOS_VENV:-/opt/enos/venv}"
extras="${1:-}"

need_apt=()
for pkg in iproute2 iputils-ping openssh-server openssh-client fping iperf3 iptables jq python3-venv python3-dev gcc procps; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || need_apt+=("$pkg")
done
if [ "${#need_apt[@]}" -gt 0 ]; then
  echo "==> installing Debian packages: ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

if [ ! -x "$venv/bin/python" ]; then
  echo "==> creating the virtualenv $venv"
  /usr/bin/python3 -m venv "$venv"
  "$venv/bin/pip" install -q --upgrade pip
fi

echo "==> installing enos into $venv"
spec="$here"
[ -n "$extras" ] && spec="$here[$extras]"
"$venv/bin/pip" install -q -c "$here/requirements.lock" -e "$spec"

ln -sf "$venv/bin/enos" /usr/local/bin/enos
echo "==> enos $("$venv/bin/enos" --version 2>/dev/null | awk '{print $NF}') is installed: $(command -v enos)"
