#!/bin/sh
# Build the OpenStack virtualenv once (ensure-venv.sh: under a lock, hosts may share this
# filesystem), then add the ML2 driver and the fake nodes' virt driver (nova_drivers/ beside
# this script: Nova loads its drivers from nova.virt only).
# usage: install-openstack.sh VENV CONSTRAINTS ML2_MODULE_DIR PACKAGE...
# Prints "changed" when it installed something, "ok" otherwise.
set -eu
venv=$1 constraints=$2 ml2=$3
shift 3
changed=$(sh "$(dirname "$0")/ensure-venv.sh" "$venv" "$constraints" "$@" | tail -n 1)
exec 9>"$venv.lock"
flock 9
# The ML2 driver is a plain module plus an entry point: installed without building anything.
ml2_digest=$(cat "$ml2"/*.py | sha256sum | cut -c1-16)
if [ ! -f "$venv/.enos-ml2-$ml2_digest" ]; then
    site=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
    rm -rf "$site/enos_ml2" "$site"/enos_ml2-*.dist-info
    mkdir -p "$site/enos_ml2" "$site/enos_ml2-1.0.dist-info"
    cp "$ml2"/*.py "$site/enos_ml2/"
    printf 'Metadata-Version: 2.1\nName: enos-ml2\nVersion: 1.0\n' \
        > "$site/enos_ml2-1.0.dist-info/METADATA"
    printf '[neutron.ml2.mechanism_drivers]\nenos_bind_all = enos_ml2.driver:BindAllMechanismDriver\n' \
        > "$site/enos_ml2-1.0.dist-info/entry_points.txt"
    printf 'enos\n' > "$site/enos_ml2-1.0.dist-info/INSTALLER"
    : > "$site/enos_ml2-1.0.dist-info/RECORD"
    rm -f "$venv"/.enos-ml2-*
    touch "$venv/.enos-ml2-$ml2_digest"
    changed=changed
fi
drivers="$(dirname "$0")/nova_drivers"
drivers_digest=$(cat "$drivers"/*.py | sha256sum | cut -c1-16)
if [ ! -f "$venv/.enos-nova-drivers-$drivers_digest" ]; then
    site=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
    cp "$drivers"/*.py "$site/nova/virt/"
    rm -f "$venv"/.enos-nova-drivers-*
    touch "$venv/.enos-nova-drivers-$drivers_digest"
    changed=changed
fi
echo "$changed"
