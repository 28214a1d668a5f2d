#!/bin/sh
# Install Debian packages once, under a lock (hosts may share this filesystem).
# usage: install-packages.sh PACKAGE...   Prints "changed" or "ok".
set -eu
mkdir -p /var/cache/enos
exec 9>/var/cache/enos/apt.lock
flock 9
missing=""
for pkg in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $pkg"
    fi
done
if [ -z "$missing" ]; then
    echo ok
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
# shellcheck disable=SC2086
if ! apt-get install -y -q $missing >/dev/null; then
    apt-get update -q >/dev/null
    apt-get install -y -q $missing >/dev/null
fi
echo changed
