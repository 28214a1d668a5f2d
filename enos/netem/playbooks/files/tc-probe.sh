# What the kernel's traffic control can do, without touching the host's interfaces.
# Each check runs tc (or iptables) in a private network namespace (unshare -n) on its own
# loopback: the namespace, and whatever was added there, vanish when the command exits.
# Without unshare, the loaded or available kernel modules tell.
# Pieces: tc htb u32 netem, and for the userspace backend iptables (iptables-restore),
# statistic (random drops), nfqueue (the NFQUEUE target and the mark match), python3 (the
# delay line).
# With ENOS_TC_NEEDS set (the pieces the rules need whatever the backend: tc htb u32),
# ENOS_TC_BACKEND (none, netem, userspace or auto: netem when the kernel has it, else
# userspace) and ENOS_TC_USERSPACE (what the userspace backend needs for these rules): prints
# "backend <netem|userspace|none>", then "the kernel lacks <piece>" for each piece needed and
# missing. Otherwise prints "<piece> yes|no" for every piece.
try() {
  if unshare -n sh -c "$1" >/dev/null 2>&1; then echo yes; else echo no; fi
}
module() {
  if grep -qw "^$1" /proc/modules 2>/dev/null || [ -d "/sys/module/$1" ] \
     || modinfo "$1" >/dev/null 2>&1; then echo yes; else echo no; fi
}
ipt='iptables -t mangle -A POSTROUTING -o lo -d 192.0.2.1/32'
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
if ! command -v iptables-restore >/dev/null 2>&1; then
  have_iptables=no; have_statistic=no; have_nfqueue=no
elif command -v unshare >/dev/null 2>&1 && unshare -n true >/dev/null 2>&1; then
  have_iptables=$(try 'iptables -t mangle -N ENOS_PROBE')
  have_statistic=$(try "$ipt -m statistic --mode random --probability 0.5 -j DROP")
  have_nfqueue=$(try "$ipt -m mark --mark 0xe05 -j RETURN && $ipt -j NFQUEUE --queue-num 1 --queue-bypass")
else
  have_iptables=yes
  have_statistic=$(module xt_statistic)
  have_nfqueue=$(module xt_NFQUEUE)
fi
if command -v python3 >/dev/null 2>&1; then have_python3=yes; else have_python3=no; fi
if [ -z "${ENOS_TC_NEEDS+set}" ]; then
  for piece in tc htb u32 netem iptables statistic nfqueue python3; do
    eval "echo $piece \$have_$piece"
  done
else
  backend=${ENOS_TC_BACKEND:-none}
  if [ "$backend" = auto ]; then
    if [ "$have_netem" = yes ]; then backend=netem; else backend=userspace; fi
  fi
  case $backend in
    netem) needs="$ENOS_TC_NEEDS netem" ;;
    userspace) needs="$ENOS_TC_NEEDS ${ENOS_TC_USERSPACE:-}" ;;
    *) needs=$ENOS_TC_NEEDS ;;
  esac
  echo "backend $backend"
  for piece in $needs; do
    eval "have=\$have_$piece"
    [ "$have" = yes ] || echo "the kernel lacks $piece"
  done
fi
true
