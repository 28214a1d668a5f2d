"""Rally's boot-and-list with and without a delay between the control and compute groups.

    python benchmarks/tc_rally.py [--delay 1ms] [--times 10] [--repeat 2] [--poll 0.2]
                                  [--count-round-trips] [--count-runs 1] [--settle 10]

Writes a local reservation.yaml in a temporary directory (grp1: control and network, grp2:
compute; network_constraints with the delay symmetric between the groups, rate 10gbit, no
loss, backend auto: the userspace delay line on a kernel without netem), runs `enos deploy`,
then alternately `enos bench` without rules (`enos tc --reset`) and with them (`enos tc`),
``--repeat`` times each, and prints the median duration of a whole boot-and-list iteration and
of each atomic action, with and without the delay, and their difference, then the duration of
every iteration, sorted (Rally's ``total``). Rally polls a booting server 1 s after the request,
then every 2 s by default: the durations then cluster a poll apart, and a median jumps by 2 s
when a few hundred milliseconds move an iteration past a poll. ``--poll`` sets both (run.yml's
``rally.config``: ``nova_server_boot_prepoll_delay`` and ``nova_server_boot_poll_interval``),
0.2 s by default, so that a boot's measured duration is within 0.2 s of the real one; ``--poll
0`` keeps Rally's defaults. Everything runs through the real `enos` command; `enos destroy
--hard` at the end.

``--count-round-trips`` then counts N, the cross-group round trips one iteration makes, and
judges the target ``median_with <= 1.05 * median_without + N * RTT_added`` (RTT_added = twice
the delay). After the timed runs, with the rules removed, ``--count-runs`` more bench runs
(not part of the medians above, so that the sniffer's CPU does not weigh on them) are
sniffed on the compute host's ``network_interface`` interface (eth0), from inside its network
namespace (``ip netns exec <extra.netns>``: this script again, ``--sniff``, stdlib only: an
``AF_PACKET``/``SOCK_RAW`` socket bound to ETH_P_ALL, which sees the outgoing packets too,
kernel timestamps, IPv4 + TCP/UDP headers parsed by hand).
Each run is followed, after ``--settle`` seconds, by an idle window as long as the run's
iterations, nothing running. Only flows between the compute host's address and a grp1 host's
address on that network count (the addresses the rules delay). In each flow (a TCP connection
or a UDP port pair) a *turn* is a segment that carries payload (or a SYN: opening a
connection costs its round trip) in one direction when the last such one went the other way
(or none was seen yet); pure ACKs, FINs and RSTs are not turns. With the rules, every turn
waits one one-way delay, so two turns are one round trip. Turns count in the iterations'
windows (from Rally's timestamp, for duration + idle_duration; concurrency 1) and in the idle
window:

    N = (turns_run - turns_idle * run_seconds / idle_seconds) / 2 / K

per iteration (K iterations sniffed), with the idle rate and the turns per service port.
Turns of parallel flows that overlap in time cost one delay, not two, and a turn off the
iteration's critical path (an asynchronous report) costs none: N bounds the round trips on
the way from above, unless slow start over a long transfer adds round trips without turns.
The target is judged on the medians of ``total`` in the table (whole iterations).
"""

from __future__ import annotations

import argparse
import json
import os
import select
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

from enos.bench.results import iterations_of, parse_rally_report
from enos.bench.samples import WORKLOAD
from enos.errors import ConfigError
from enos.netem.units import parse_delay

# -- the sniffer (runs in the compute host's network namespace) ------------------------------
ETH_P_ALL = 0x0003  # a socket bound to ETH_P_IP would see the incoming packets only
SOL_PACKET = 263
PACKET_STATISTICS = 6
SO_RCVBUFFORCE = 33
SO_TIMESTAMP = getattr(socket, "SO_TIMESTAMP", 29)
TCP_SYN, TCP_ACK = 0x02, 0x10
SNAPLEN = 256  # Ethernet + IPv4 + TCP headers with every option fit
EPHEMERAL = 32768  # ports from here up are a client's (net.ipv4.ip_local_port_range)


class TurnCounter:
    """Turns of the flows between ``local`` and the ``peers`` (address -> alias)."""

    def __init__(self, local: str, peers: dict[str, str]) -> None:
        self.local = socket.inet_aton(local)
        self.peers = {socket.inet_aton(ip): alias for ip, alias in peers.items()}
        self.last: dict[tuple[int, int, bytes, int], bool] = {}
        # (time, flow's label, outgoing, a connection's first SYN)
        self.turns: list[tuple[float, str, bool, bool]] = []
        self.packets = 0

    def packet(self, frame: bytes, stamp: float) -> None:
        if len(frame) < 34 or frame[12:14] != b"\x08\x00":
            return
        ip = frame[14:]
        ihl = (ip[0] & 0x0F) * 4
        proto = ip[9]
        src, dst = ip[12:16], ip[16:20]
        outgoing = src == self.local and dst in self.peers
        if not outgoing and not (dst == self.local and src in self.peers):
            return
        if proto not in (6, 17) or struct.unpack("!H", ip[6:8])[0] & 0x1FFF:
            return  # neither TCP nor UDP, or a fragment after the first
        total = struct.unpack("!H", ip[2:4])[0]
        l4 = ip[ihl:]
        sport, dport = struct.unpack("!HH", l4[:4])
        if proto == 6:
            syn = bool(l4[13] & TCP_SYN)
            size = total - ihl - (l4[12] >> 4) * 4
        else:
            syn, size = False, total - ihl - 8
        self.packets += 1
        if size <= 0 and not syn:
            return
        peer = dst if outgoing else src
        lport, pport = (sport, dport) if outgoing else (dport, sport)
        key = (proto, lport, peer, pport)
        if self.last.get(key) is not outgoing:
            server = pport if lport >= EPHEMERAL or pport < lport else lport
            where = self.peers[peer] if server == pport else "compute"
            label = f"{'tcp' if proto == 6 else 'udp'}/{server} ({where})"
            self.turns.append((stamp, label, outgoing, syn and not l4[13] & TCP_ACK))
        self.last[key] = outgoing


def _stamp(ancillary: list[tuple[int, int, bytes]]) -> float:
    for level, kind, data in ancillary:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMP and len(data) >= 16:
            sec, usec = struct.unpack("@qq", data[:16])
            return sec + usec / 1e6
    return time.time()


def sniff_main(argv: list[str]) -> int:
    """``--sniff IFACE LOCAL ALIAS=ADDRESS...``: count turns until SIGTERM, print them as JSON."""
    iface, local, *pairs = argv
    counter = TurnCounter(local, {p.split("=", 1)[1]: p.split("=", 1)[0] for p in pairs})
    stop: list[int] = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 32 << 20)
    sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMP, 1)
    sock.bind((iface, ETH_P_ALL))
    sock.settimeout(0.2)
    started = time.time()
    print("ready", flush=True)
    while not stop:
        try:
            frame, ancillary, _, _ = sock.recvmsg(SNAPLEN, socket.CMSG_SPACE(16))
        except (TimeoutError, InterruptedError):
            continue
        counter.packet(frame, _stamp(ancillary))
    seen, drops = struct.unpack("II", sock.getsockopt(SOL_PACKET, PACKET_STATISTICS, 8))
    json.dump({"start": started, "end": time.time(), "packets": counter.packets,
               "kernel_packets": seen, "kernel_drops": drops,
               "turns": counter.turns}, sys.stdout)
    return 0


class Sniffer:
    """The sniffer in a host's namespace, from ``start()`` to ``stop()`` (its counts)."""

    def __init__(self, netns: str, iface: str, local: str, peers: dict[str, str]) -> None:
        self.argv = ["ip", "netns", "exec", netns, sys.executable, str(Path(__file__).resolve()),
                     "--sniff", iface, local, *(f"{a}={ip}" for a, ip in peers.items())]
        self.proc: subprocess.Popen[str] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(self.argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)
        assert self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], 60)
        line = self.proc.stdout.readline() if ready else ""
        if line.strip() != "ready":
            err = self.stop_raw()[1]
            sys.exit(f"the sniffer did not start ({' '.join(self.argv)}):\n{line}{err}")

    def stop_raw(self) -> tuple[str, str]:
        assert self.proc is not None
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
        out, err = self.proc.communicate(timeout=60)
        self.proc = None
        return out, err

    def stop(self) -> dict[str, Any]:
        out, err = self.stop_raw()
        try:
            return json.loads(out)
        except ValueError:
            sys.exit(f"the sniffer failed:\n{out}\n{err}")


# -- the benchmark ------------------------------------------------------------------------------
def enos(cwd: Path, *args: str) -> str:
    proc = subprocess.run(["enos", *args], cwd=cwd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        sys.exit(f"enos {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    return proc.stdout


def bench_run(cwd: Path, workload: Path) -> tuple[dict[str, float], list[dict[str, Any]]]:
    """Median seconds of the whole iteration ('total') and of each atomic action; iterations."""
    enos(cwd, "-q", "bench", "--workload", str(workload))
    expdir = (cwd / "current").resolve()
    stamp = (expdir / "bench" / "latest").read_text().strip()
    index = json.loads((expdir / "bench" / "sessions" / f"{stamp}.json").read_text())
    out: dict[str, float] = {}
    iterations: list[dict[str, Any]] = []
    for entry in index["runs"]:
        report = json.loads((expdir / "bench" / entry["id"] / "results.json").read_text())
        iterations += iterations_of(report)
        _, workloads = parse_rally_report(report)
        for wl in workloads:
            if wl.total and wl.total.median is not None:
                out["total"] = wl.total.median
            for action in wl.actions:
                if action.median is not None and action.depth == 0:
                    out[action.name] = action.median
    return out, iterations


def alternate(cwd: Path, workload: Path, repeat: int) -> tuple[dict[str, list[dict[str, float]]],
                                                               dict[str, list[float]]]:
    """``repeat`` times a bench run without rules then one with them; the rules removed after.

    The medians of each run, and the whole duration of every successful iteration (Rally's
    ``total``: its ``duration`` and its ``idle_duration``).
    """
    runs: dict[str, list[dict[str, float]]] = {"without": [], "with": []}
    totals: dict[str, list[float]] = {"without": [], "with": []}
    for _ in range(repeat):
        for case, argv in (("without", ("tc", "--reset")), ("with", ("tc",))):
            enos(cwd, "-q", *argv)
            medians, iterations = bench_run(cwd, workload)
            runs[case].append(medians)
            totals[case] += [_window(it)[1] - _window(it)[0] for it in iterations
                             if not it.get("error")]
    enos(cwd, "-q", "tc", "--reset")
    return runs, totals


# -- counting the round trips -------------------------------------------------------------------
def _compute_side(cwd: Path) -> tuple[str, str, str, dict[str, str]]:
    """The compute host's netns, interface and address, and the grp1 hosts' addresses."""
    info = json.loads(enos(cwd, "info", "--out", "json"))
    hosts = {h["alias"]: h for role in info["rsc"].values() for h in role}
    compute = hosts[info["groups"]["grp2"][0]]
    peers = {alias: hosts[alias]["addresses"]["network_interface"]
             for alias in info["groups"]["grp1"]}
    return (compute["extra"]["netns"], compute["interfaces"]["network_interface"],
            compute["addresses"]["network_interface"], peers)


def _window(iteration: dict[str, Any]) -> tuple[float, float]:
    """When an iteration ran: its ``duration`` leaves out ``idle_duration`` (Rally's sleeps)."""
    start = float(iteration["timestamp"])
    return start, start + float(iteration["duration"]) + float(iteration["idle_duration"] or 0)


def _in_windows(turns: list[list[Any]], windows: list[tuple[float, float]]) -> list[list[Any]]:
    return [t for t in turns if any(a <= t[0] <= b for a, b in windows)]


def count_round_trips(cwd: Path, workload: Path, runs: int, settle: float) -> dict[str, Any]:
    """Sniff ``runs`` bench runs without rules, each followed by an idle window as long."""
    netns, iface, local, peers = _compute_side(cwd)
    sniffer = Sniffer(netns, iface, local, peers)
    tally: dict[str, Any] = {"netns": netns, "iface": iface, "local": local, "peers": peers,
                             "k": 0, "run_s": 0.0, "idle_s": 0.0, "run": 0, "idle": 0,
                             "whole": 0, "whole_s": 0.0, "opens": 0, "drops": 0,
                             "packets": 0, "medians": [], "per_iteration": [],
                             "run_ports": Counter(), "idle_ports": Counter()}
    for _ in range(runs):
        sniffer.start()
        medians, iterations = bench_run(cwd, workload)
        run = sniffer.stop()
        windows = [_window(it) for it in iterations if not it.get("error")]
        if not windows:
            sys.exit("no successful iteration in the sniffed run")
        inside = _in_windows(run["turns"], windows)
        tally["per_iteration"] += [(len(_in_windows(inside, [w])), w[1] - w[0]) for w in windows]
        span = sum(b - a for a, b in windows)
        time.sleep(settle)
        sniffer.start()
        time.sleep(span)
        idle = sniffer.stop()
        tally["medians"].append(medians.get("total"))
        tally["k"] += len(windows)
        tally["run_s"] += span
        tally["idle_s"] += idle["end"] - idle["start"]
        tally["run"] += len(inside)
        tally["idle"] += len(idle["turns"])
        tally["whole"] += len(run["turns"])
        tally["whole_s"] += run["end"] - run["start"]
        tally["opens"] += sum(1 for t in inside if t[3])
        tally["drops"] += run["kernel_drops"] + idle["kernel_drops"]
        tally["packets"] += run["packets"]
        tally["run_ports"].update(t[1] for t in inside)
        tally["idle_ports"].update(t[1] for t in idle["turns"])
    return tally


def report_round_trips(tally: dict[str, Any], without: float, with_: float,
                       delay_ms: float) -> None:
    k = tally["k"]
    idle_rate = tally["idle"] / tally["idle_s"]
    scale = tally["run_s"] / tally["idle_s"]
    n = (tally["run"] - tally["idle"] * scale) / 2 / k
    per_it = statistics.median((c - idle_rate * d) / 2 for c, d in tally["per_iteration"])
    rtt = 2 * delay_ms / 1000
    bound = 1.05 * without + n * rtt
    medians = ", ".join(f"{m:.3f}" for m in tally["medians"] if m is not None)
    peers = ", ".join(f"{a} {ip}" for a, ip in tally["peers"].items())
    print(f"\nround trips between compute ({tally['local']}, {tally['iface']} in "
          f"{tally['netns']}) and grp1 ({peers}), sniffed without rules: {k} iteration(s) in "
          f"{len(tally['medians'])} extra run(s) (their median total: {medians} s)")
    print(f"  turns in the iterations      {tally['run']:6d} in {tally['run_s']:7.1f} s "
          f"({tally['run'] / k:.1f} per iteration, {tally['opens']} connection(s) opened)")
    print(f"  turns while idle             {tally['idle']:6d} in {tally['idle_s']:7.1f} s "
          f"({idle_rate:.2f}/s, {tally['idle'] * scale / k:.1f} per iteration's length)")
    print(f"  turns during the whole runs  {tally['whole']:6d} in {tally['whole_s']:7.1f} s "
          f"(Rally's set-up and clean-up too); {tally['packets']} packets counted, "
          f"{tally['drops']} dropped by the kernel")
    print("  turns per iteration          "
          + " ".join(str(c) for c, _ in tally["per_iteration"]))
    print(f"  N = (turns_run - turns_idle) / 2 / K = {n:.1f} round trips per iteration "
          f"(median of the iterations: {per_it:.1f})")
    print(f"  {'flow (server port)':<30}{'run/it':>8}{'idle/it':>8}{'RT/it':>8}")
    for label, count in sorted(tally["run_ports"].items(), key=lambda x: -x[1]):
        idle = tally["idle_ports"].get(label, 0) * scale / k
        print(f"  {label:<30}{count / k:8.1f}{idle:8.1f}{(count / k - idle) / 2:8.1f}")
    print(f"\ntarget: median with <= 1.05 x median without + N x RTT_added "
          f"(RTT_added = 2 x {delay_ms:g} ms)")
    print(f"  median without       {without:8.3f} s")
    print(f"  median with          {with_:8.3f} s")
    print(f"  difference           {with_ - without:8.3f} s ({with_ / without - 1:+.1%})")
    print(f"  N                    {n:8.1f} round trips per iteration")
    print(f"  N x RTT              {n * rtt:8.3f} s")
    print(f"  bound                {bound:8.3f} s")
    verdict = "within" if with_ <= bound else "NOT within"
    print(f"  the median with the delay is {verdict} the bound ({bound - with_:+.3f} s of margin)")


def main() -> int:
    if sys.argv[1:2] == ["--sniff"]:
        return sniff_main(sys.argv[2:])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delay", default="1ms", help="each way, between the two groups")
    parser.add_argument("--times", type=int, default=10, help="iterations of one bench run")
    parser.add_argument("--repeat", type=int, default=2, help="bench runs with and without")
    parser.add_argument("--poll", type=float, default=0.2,
                        help="Rally's boot poll interval and pre-poll delay, seconds (0: "
                             "Rally's defaults, 1 s then every 2 s)")
    parser.add_argument("--count-round-trips", action="store_true",
                        help="sniff the compute host without rules, count the cross-group "
                             "round trips of an iteration (N) and judge the target")
    parser.add_argument("--count-runs", type=int, default=1,
                        help="sniffed bench runs (each followed by an idle window)")
    parser.add_argument("--settle", type=float, default=10.0,
                        help="seconds between a sniffed run and its idle window")
    args = parser.parse_args()
    try:
        delay_ms = parse_delay(args.delay, "--delay",
                               lambda key, msg, hint: ConfigError(msg, key=key, hint=hint))
    except ConfigError as exc:
        parser.error(str(exc))
    tally: dict[str, Any] | None = None
    with tempfile.TemporaryDirectory(prefix="enos-tc-rally-") as tmp:
        cwd = Path(tmp)
        doc = {
            "provider": {"type": "local", "networks": [
                {"roles": ["network_interface"], "cidr": "172.31.232.0/24"},
                {"roles": ["neutron_external_interface"], "cidr": "172.31.233.0/24"}]},
            "topology": {"grp1": {"any": {"control": 1, "network": 1}},
                         "grp2": {"any": {"compute": 1}}},
            "network_constraints": {"enable": True, "default_delay": args.delay,
                                    "default_rate": "10gbit", "default_loss": "0%"},
        }
        (cwd / "reservation.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
        workload = cwd / "workload"
        workload.mkdir()
        shutil.copy(WORKLOAD / "nova-boot-list-cc.yml", workload)
        run: dict[str, Any] = {"args": {"concurrency": [1], "times": [args.times]},
                               "scenarios": [{"name": "boot and list",
                                              "file": "nova-boot-list-cc.yml"}]}
        if args.poll > 0:
            run["config"] = {"openstack": {"nova_server_boot_prepoll_delay": args.poll,
                                           "nova_server_boot_poll_interval": args.poll}}
        (workload / "run.yml").write_text(yaml.safe_dump({"rally": run}, sort_keys=False))
        try:
            enos(cwd, "-q", "deploy")
            runs, totals = alternate(cwd, workload, args.repeat)
            if args.count_round_trips:
                tally = count_round_trips(cwd, workload, args.count_runs, args.settle)
        finally:
            subprocess.run(["enos", "-q", "destroy", "--hard"], cwd=cwd, check=False)
    names = sorted({n for r in runs["without"] for n in r}, key=lambda n: (n != "total", n))
    poll = f"Rally polls every {args.poll:g} s" if args.poll > 0 else "Rally's default polls"
    print(f"boot-and-list, {args.times} iterations a run, {args.repeat} run(s) each, delay "
          f"{args.delay} each way between control/network and compute, {poll} "
          "(median seconds)")
    print(f"{'action':<28}{'without':>10}{'with':>10}{'diff':>10}{'ratio':>8}")
    for name in names:
        a = statistics.median(r[name] for r in runs["without"] if name in r)
        b = statistics.median(r[name] for r in runs["with"] if name in r)
        print(f"{name:<28}{a:10.3f}{b:10.3f}{b - a:10.3f}{b / a:8.3f}")
    for case, values in totals.items():
        print(f"{'iterations ' + case:<28}" + " ".join(f"{v:.2f}" for v in sorted(values)))
    if tally is not None:
        report_round_trips(tally, statistics.median(r["total"] for r in runs["without"]),
                           statistics.median(r["total"] for r in runs["with"]), delay_ms)
    return 0


if __name__ == "__main__":
    sys.exit(main())
