# What the kernel's traffic control can do, without touching the host's interfaces.
# Each check runs tc in a private network namespace (unshare -n) on its own loopback: the
# namespace, and whatever tc added there, vanish when the command exits. Without unshare, the
# loaded or available kernel modules tell.
# With ENOS_TC_NEEDS set (some of: tc htb u32 netem), prints "the kernel lacks <piece>" for
# each piece needed and missing; otherwise prints "<piece> yes|no" for every piece.
try() {
  if unshare -n sh -c "$1" >/dev/null 2>&1; then echo yes; else echo no; fi
}
module() {
  if grep -qw "^$1" /proc/modules 2>/dev/null || [ -d "/sys/module/$1" ] \
     || modinfo "$1" >/dev/null 2>&1; then echo yes; else echo no; fi
}
if ! command -v tc >/dev/null 2>&1; then
  have_tc=no; have_htb=no; have_u32=no; have_netem=no
elif command -v unshare >/dev/null 2>&1 && unshare -n true >/dev/null 2>&1; then
  have_tc=yes
  have_htb=$(try 'tc qdisc add dev lo root handle 1: htb')
  have_u32=$(try 'tc qdisc add dev lo root handle 1: htb && tc class add dev lo parent 1: classid 1:1 htb rate 1mbit && tc filter add dev lo parent 1: protocol ip prio 1 u32 match ip dst 192.0.2.1/32 flowid 1:1')
  have_netem=$(try 'tc qdisc add dev lo root handle 1: netem delay 1ms loss 1%')
else
  have_tc=yes
  have_htb=$(module sch_htb)
  have_u32=$(module cls_u32)
  have_netem=$(module sch_netem)
fi
if [ -z "${ENOS_TC_NEEDS+set}" ]; then
  for piece in tc htb u32 netem; do eval "echo $piece \$have_$piece"; done
else
  for piece in $ENOS_TC_NEEDS; do
    eval "have=\$have_$piece"
    [ "$have" = yes ] || echo "the kernel lacks $piece"
  done
fi
true
