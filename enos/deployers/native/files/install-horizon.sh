#!/bin/sh
# Collect and compress Horizon's static files once per OpenStack virtualenv and version of
# Horizon's settings, into STATIC (under the virtualenv), under the virtualenv's lock (hosts
# may share this filesystem): no other deployment collects them again, uwsgi serves them.
# usage: install-horizon.sh VENV STATIC LOCAL_SETTINGS
# Prints "changed" when it collected them, "ok" otherwise.
#
# Offline compression keys each compressed block by its content rendered with the settings:
# the host's own local_settings (the cloud's addresses and secret do not show in a block) are
# used, with STATIC_ROOT moved to a scratch directory, moved to STATIC once complete.
set -eu
venv=$1 static=$2 settings=$3
exec 9>"$venv.lock"
flock 9
if [ -f "$static/.enos-complete" ]; then
    echo ok
    exit 0
fi
work=$(mktemp -d "$venv.horizon-XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/local"
: > "$work/local/__init__.py"
cp "$settings" "$work/local/local_settings.py"
printf '\nSTATIC_ROOT = "%s"\n' "$work/static" >> "$work/local/local_settings.py"
cd "$work"
for step in "collectstatic --noinput" "compress --force"; do
    # shellcheck disable=SC2086
    if ! PYTHONPATH="$work" PYTHONWARNINGS=ignore "$venv/bin/python" -m django $step \
            --settings openstack_dashboard.settings -v 0 > "$work/log" 2>&1; then
        echo "Horizon's $step failed:" >&2
        tail -n 20 "$work/log" >&2
        exit 1
    fi
done
date +%s > "$work/static/.enos-complete"
rm -rf "$static"
mv "$work/static" "$static"
echo changed
