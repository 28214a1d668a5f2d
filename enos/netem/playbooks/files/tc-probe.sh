# What the kernel's traffic control can do, without touching the host's interfaces.
# The checks run tc (and iptables) in one private network namespace (unshare -n) on its own
# loopback, each tc check undone before the next: the namespace, and whatever was added there, vanish
# when the command exits. Without unshare, the loaded or available kernel modules tell.
# Pieces: tc htb u32 netem, and for the userspace backend iptables (iptables-restore),
# statistic (random drops), nfqueue (the NFQUEUE target and the mark match), python3 (the
# delay line).
# With ENOS_TC_NEEDS set (the pieces the rules need whatever the backend: tc htb u32),
# ENOS_TC_BACKEND (none, netem, userspace or auto: netem when the kernel has it, else
# userspace) and ENOS_TC_USERSPACE (what the userspace backend needs for these rules): prints
# "backend <netem|userspace|none>", then "the kernel lacks <piece>" for each piece needed and
# missing. Otherwise prints "<piece> yes|no" for every piece.
# With ENOS_TC_INSTALL set too: when the host is to use the userspace backend and lacks
# iptables or python3, they are installed from its package manager first (and probed again).
checks='
t() { if eval "$2" >/dev/null 2>&1; then echo "have_$1=yes"; else echo "have_$1=no"; fi; }
echo have_ns=yes
if [ "$1" = tc ]; then
  t htb "tc qdisc add dev lo root handle 1: htb"
  tc qdisc del dev lo root >/dev/null 2>&1
  t u32 "tc qdisc add dev lo root handle 1: htb && tc class add dev lo parent 1: classid 1:1 htb rate 1mbit && tc filter add dev lo parent 1: protocol ip prio 1 u32 match ip dst 192.0.2.1/32 flowid 1:1"
  tc qdisc del dev lo root >/dev/null 2>&1
  t netem "tc qdisc add dev lo root handle 1: netem delay 1ms loss 1%"
  tc qdisc del dev lo root >/dev/null 2>&1
fi
if [ "$2" = iptables ]; then
  ipt="iptables -t mangle -A POSTROUTING -o lo -d 192.0.2.1/32"
  t iptables "iptables -t mangle -N ENOS_PROBE"  # (these three do not collide: no undoing)
  t statistic "$ipt -m statistic --mode random --probability 0.5 -j DROP"
  t nfqueue "$ipt -m mark --mark 0xe05 -j RETURN && $ipt -j NFQUEUE --queue-num 1 --queue-bypass"
fi
true
'
module() {
  if grep -qw "^$1" /proc/modules 2>/dev/null || [ -d "/sys/module/$1" ] \
     || modinfo "$1" >/dev/null 2>&1; then echo yes; else echo no; fi
}
probe() {  # probe TC IPTABLES: sets have_<piece> for tc (TC=tc) and iptables (IPTABLES=iptables)
  have_ns=no
  if command -v unshare >/dev/null 2>&1; then
    eval "$(unshare -n sh -c "$checks" sh "$1" "$2" 2>/dev/null | grep '^have_[a-z0-9]*=[a-z]*$')"
  fi
  if [ "$1" = tc ] && [ "$have_ns" = no ]; then
    have_htb=$(module sch_htb)
    have_u32=$(module cls_u32)
    have_netem=$(module sch_netem)
  fi
  if [ "$2" = iptables ] && [ "$have_ns" = no ]; then
    have_statistic=$(module xt_statistic)
    have_nfqueue=$(module xt_NFQUEUE)
    have_iptables=yes
  fi
}
tc_=tc
ipt_=iptables
if ! command -v tc >/dev/null 2>&1; then
  have_tc=no; have_htb=no; have_u32=no; have_netem=no; tc_=
else
  have_tc=yes
fi
if ! command -v iptables-restore >/dev/null 2>&1; then
  have_iptables=no; have_statistic=no; have_nfqueue=no; ipt_=
fi
probe "$tc_" "$ipt_"
if command -v python3 >/dev/null 2>&1; then have_python3=yes; else have_python3=no; fi
backend=${ENOS_TC_BACKEND:-none}
if [ "$backend" = auto ]; then
  if [ "$have_netem" = yes ]; then backend=netem; else backend=userspace; fi
fi
if [ -n "${ENOS_TC_INSTALL:-}" ] && [ "$backend" = userspace ]; then
  missing=""
  [ "$ipt_" = iptables ] || missing="$missing iptables"
  [ "$have_python3" = yes ] || missing="$missing python3"
  if [ -n "$missing" ]; then
    if command -v apt-get >/dev/null 2>&1; then
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing >&2 \
        || { apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing >&2; } || true
    elif command -v dnf >/dev/null 2>&1; then dnf install -y -q $missing >&2 || true
    elif command -v yum >/dev/null 2>&1; then yum install -y -q $missing >&2 || true
    fi
    if [ -z "$ipt_" ] && command -v iptables-restore >/dev/null 2>&1; then
      ipt_=iptables
      probe "" iptables
    fi
    if command -v python3 >/dev/null 2>&1; then have_python3=yes; fi
  fi
fi
if [ -z "${ENOS_TC_NEEDS+set}" ]; then
  for piece in tc htb u32 netem iptables statistic nfqueue python3; do
    eval "echo $piece \$have_$piece"
  done
else
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
