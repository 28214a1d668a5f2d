#!/bin/sh
# Build a pinned virtualenv once, under a lock (experiments, and hosts that share this file
# system, may ask for it at the same time; one builds, the others wait and reuse it).
# usage: ensure-venv.sh VENV CONSTRAINTS PACKAGE...
# Prints "changed" when it built the virtualenv, "ok" when it was there already.
# The one implementation of the cached virtualenvs of enos: used on this machine (Rally) and
# shipped to the hosts (the native deployer's OpenStack).
set -eu
venv=$1 constraints=$2
shift 2
python=/usr/bin/python3
[ -x "$python" ] || python=python3
mkdir -p "$(dirname "$venv")"
exec 9>"$venv.lock"
flock 9
if [ -f "$venv/.enos-complete" ]; then
    echo ok
    exit 0
fi
rm -rf "$venv"
"$python" -m venv "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check --no-input -c "$constraints" "$@"
cp "$constraints" "$venv/constraints.txt"
date +%s > "$venv/.enos-complete"
echo changed
