#!/bin/sh
# Resolve the constraints file of one OpenStack series from PyPI (not shipped to the hosts).
#
# usage: resolve.sh SERIES CUTOFF PIN... > SERIES.txt
#   SERIES  e.g. 2025.2
#   CUTOFF  the series' release day, ISO 8601 (e.g. 2025-10-02T00:00:00Z)
#   PIN     the versions that make the series: the services' newest stable point release and
#           the libraries' newest release of the series' branch, e.g. nova==32.2.1
#
# 1. In a fresh virtualenv of /usr/bin/python3 (3.11) with pip >= 26.3, PyPI only (no pip.conf),
#    resolve the deployer's packages with `--uploaded-prior-to CUTOFF`, the PINs' names unpinned:
#    every other package is what PyPI had on the release day (what a stable branch's
#    upper-constraints freezes).
# 2. Resolve again without a cutoff, the PINs exact and step 1's other versions as constraints:
#    the stable point releases must install over the release day's libraries.
# Both steps are `pip install --dry-run --report` (nothing is built); the file is step 2's
# report as name==version lines, sorted, under this header.
set -eu
series=$1 cutoff=$2
shift 2
work=$(mktemp -d /tmp/enos-resolve-XXXXXX)
trap 'rm -rf "$work"' EXIT
packages="keystone glance openstack-placement nova neutron neutron-lib python-openstackclient
openstacksdk uwsgi PyMySQL python-memcached pymemcache horizon"
export PIP_CONFIG_FILE=/dev/null PIP_DISABLE_PIP_VERSION_CHECK=1
unset PIP_FIND_LINKS PIP_INDEX_URL PIP_EXTRA_INDEX_URL
/usr/bin/python3 -m venv "$work/v1" >&2
"$work/v1/bin/pip" install -q -U 'pip>=26.3' >&2
# shellcheck disable=SC2086
"$work/v1/bin/pip" install -q --dry-run --ignore-installed --report "$work/day.json" \
    --index-url https://pypi.org/simple --uploaded-prior-to "$cutoff" $packages >&2
pins() {  # REPORT [NAME...]: name==version of the report, sorted, without the NAMEs
    "$work/v1/bin/python" - "$@" <<'PY'
import json, re, sys
norm = lambda n: re.sub(r"[-_.]+", "-", n).lower()
skip = {norm(n.split("==")[0]) for n in sys.argv[2:]}
meta = [i["metadata"] for i in json.load(open(sys.argv[1]))["install"]]
for m in sorted(meta, key=lambda m: norm(m["name"])):
    if norm(m["name"]) not in skip:
        print(f"{m['name']}=={m['version']}")
PY
}
pins "$work/day.json" "$@" > "$work/day.txt"
# shellcheck disable=SC2086
"$work/v1/bin/pip" install -q --dry-run --ignore-installed --report "$work/final.json" \
    --index-url https://pypi.org/simple -c "$work/day.txt" $packages "$@" >&2
pinned=$(echo "$@" | tr ' ' '\n' | sed 's/^/#   /')
cat <<HEAD
# OpenStack $series for enos's native deployer: every Python package of the services' virtualenv,
# pinned, on CPython 3.11 (Debian 12's python3).
#
# How it was resolved (files/constraints/resolve.sh, pip $("$work/v1/bin/pip" --version | cut -d' ' -f2), PyPI only):
#   resolve.sh $series $cutoff $*
# 1. every package resolved as PyPI had it on $cutoff (--uploaded-prior-to), the release day;
# 2. then these exact versions, the series' newest stable releases, over step 1's libraries:
$pinned
# A change of this file is a new OpenStack: the virtualenv's path holds a hash of it.
HEAD
pins "$work/final.json"
