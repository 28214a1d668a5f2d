"""``enos tc --test``: measure what is enforced between groups, next to what was asked.

For every ordered pair of groups (one host of each, the first by alias), on the first network
the rules cover:

- round-trip time and loss with ``fping`` (``probes`` echo requests), run on the source host;
  every source host pings all its targets at once, all source hosts in parallel;
- throughput with ``iperf3``: a server started on every destination host (stopped by its PID
  at the end), the client on the source host, so that the data crosses the source's shaped
  egress; one pair at a time, so that measures do not share the hosts' CPUs.

Expected values come from what ``enos tc`` recorded in the experiment's state (not from the
file, which may have changed since). The report goes to ``<experiment>/tc_test/<timestamp>/``
(``report.json``, ``report.md``, the raw tool outputs); ``tc_test/latest`` points at it.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
import re
import shlex
import statistics
import subprocess
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from enos.errors import EnosError
from enos.model import NETWORK_INTERFACE, Host, Resources
from enos.netem.constraints import ALL_NETWORKS, Matrix, Rule
from enos.netem.plan import host_group
from enos.netem.units import human_rate
from enos.utils.fs import atomic_write, atomic_write_json

RATE_TOLERANCE = 0.10  # measured throughput within 10% of the rate
RTT_TOLERANCE = 0.10  # measured median RTT within 10% of the expected one...
RTT_SLACK_MS = 1.0  # ...or within 1ms of it (base RTT of the network, timer granularity)
IPERF_PORT = 5211
SSH_OPTIONS = ["-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
               "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
               "-o", "ConnectTimeout=10"]

OK, OFF, NOT_EXERCISED, NONE = "ok", "off", "not exercised", "-"


# -- running commands on hosts ------------------------------------------------------------------
def ssh(host: Host, command: str, *, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    argv = ["ssh", *SSH_OPTIONS, "-p", str(host.port), "-l", host.user]
    if host.keyfile:
        argv += ["-i", host.keyfile]
    argv += [host.address, command]
    try:
        return subprocess.run(argv, check=False, capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise EnosError(f"{host.alias}: '{command[:60]}' did not finish in {timeout:.0f}s",
                        "check that the host answers (enos up), then run 'enos tc --test' "
                        "again") from None


def _check_tools(hosts: list[Host]) -> None:
    def missing(host: Host) -> tuple[Host, str]:
        proc = ssh(host, "for t in fping iperf3; do command -v $t >/dev/null || echo $t; done")
        if proc.returncode == 255:
            return host, f"unreachable over SSH ({proc.stderr.strip()[:200]})"
        return host, " ".join(proc.stdout.split())

    with ThreadPoolExecutor(max_workers=min(32, len(hosts) or 1)) as pool:
        problems = [(h, m) for h, m in pool.map(missing, hosts) if m]
    if problems:
        lines = "; ".join(f"{h.alias}: {m}" for h, m in problems)
        raise EnosError(f"the test cannot run: {lines}",
                        "install fping and iperf3 on the hosts (install.sh does for this "
                        "machine, hence for local hosts), and check they answer ('enos up')")


# -- what to measure ----------------------------------------------------------------------------
@dataclass
class Pair:
    src_group: str
    dst_group: str
    src: str
    dst: str
    network: str
    address: str
    rule: Rule | None
    reverse: Rule | None
    expected: dict[str, Any] = field(default_factory=dict)
    measured: dict[str, Any] = field(default_factory=dict)
    verdict: dict[str, str] = field(default_factory=dict)
    # what enforced delay and loss on each end's egress: netem, userspace or none
    backends: dict[str, str] = field(default_factory=dict)


def _network_of(rule: Rule | None, matrix: Matrix | None) -> str:
    roles = (rule.networks if rule and rule.networks else None) or (
        matrix.networks if matrix else [NETWORK_INTERFACE])
    role = roles[0]
    return NETWORK_INTERFACE if role == ALL_NETWORKS else role


def pairs_to_measure(resources: Resources, matrix: Matrix | None) -> list[Pair]:
    """Ordered pairs of groups (one host each) that carry a rule; every pair without rules."""
    groups = matrix.groups if matrix else sorted(resources.by_group())
    members: dict[str, list[Host]] = {}
    for host in sorted(resources.hosts, key=lambda h: h.alias):
        g = host_group(host, groups)
        if g is not None:
            members.setdefault(g, []).append(host)
    out = []
    for a in groups:
        for b in groups:
            if a not in members or b not in members:
                continue
            rule = matrix.rules.get((a, b)) if matrix else None
            if matrix is not None and rule is None:
                continue
            if a == b and (rule is None or len(members[a]) < 2):
                continue
            src = members[a][0]
            dst = members[b][1] if a == b else members[b][0]
            net = _network_of(rule, matrix)
            addr = dst.addresses.get(net, dst.address)
            reverse = matrix.rules.get((b, a)) if matrix else None
            out.append(Pair(a, b, src.alias, dst.alias, net, addr, rule, reverse))
    return out


# -- fping --------------------------------------------------------------------------------------
_FPING = re.compile(r"^(?P<addr>\S+)\s*:\s*(?P<values>.*)$")


def parse_fping(text: str) -> dict[str, list[float | None]]:
    """``fping -C`` output: address -> one RTT (ms) per probe, None for a lost one."""
    out: dict[str, list[float | None]] = {}
    for line in text.splitlines():
        match = _FPING.match(line.strip())
        if not match:
            continue
        values: list[float | None] = []
        for word in match["values"].split():
            if word == "-":
                values.append(None)
            else:
                try:
                    values.append(float(word))
                except ValueError:
                    values = []
                    break
        if values:
            out[match["addr"]] = values
    return out


def _rtt_expected(pair: Pair, rate_only: bool) -> float:
    if rate_only:
        return 0.0
    return (pair.rule.delay_ms if pair.rule else 0.0) + (
        pair.reverse.delay_ms if pair.reverse else 0.0)


def _loss_expected(pair: Pair, rate_only: bool) -> float:
    if rate_only:
        return 0.0
    keep = (1 - (pair.rule.loss_pct if pair.rule else 0.0) / 100) * (
        1 - (pair.reverse.loss_pct if pair.reverse else 0.0) / 100)
    return (1 - keep) * 100


def measure_rtt(resources: Resources, pairs: list[Pair], probes: int, raw: Path,
                rate_only: bool) -> None:
    by_src: dict[str, list[Pair]] = {}
    for p in pairs:
        by_src.setdefault(p.src, []).append(p)

    def run(src: str) -> tuple[str, str]:
        targets = sorted({p.address for p in by_src[src]})
        worst = max(_rtt_expected(p, False) for p in by_src[src])
        # In count mode fping only honours a timeout up to the period: make them equal,
        # with room for twice the expected round trip.
        period = int(max(200, 2 * worst + 100))
        cmd = (f"fping -q -C {probes} -p {period} -t {period} "
               f"{' '.join(shlex.quote(t) for t in targets)}")
        proc = ssh(resources.host(src), cmd, timeout=60 + probes * period / 1000 * 2)
        return src, proc.stderr

    with ThreadPoolExecutor(max_workers=min(32, len(by_src) or 1)) as pool:
        outputs = dict(pool.map(run, by_src))
    for src, text in outputs.items():
        atomic_write(raw / f"fping-{src}.txt", text)
        results = parse_fping(text)
        for p in by_src[src]:
            values = results.get(p.address)
            if not values:
                raise EnosError(f"fping on {src} gave no result for {p.dst} ({p.address}): "
                                f"{text.strip()[:300]}", f"see {raw}")
            got = [v for v in values if v is not None]
            p.measured["probes"] = len(values)
            p.measured["loss_pct"] = round(100 * (len(values) - len(got)) / len(values), 2)
            if got:
                ordered = sorted(got)
                p.measured["rtt_ms"] = {
                    "min": ordered[0], "median": statistics.median(ordered),
                    "p99": ordered[min(len(ordered) - 1, math.ceil(0.99 * len(ordered)) - 1)],
                    "max": ordered[-1]}


# -- iperf3 -------------------------------------------------------------------------------------
def start_servers(hosts: list[Host], port: int) -> dict[str, int]:
    """An iperf3 server on each host (all in parallel): alias -> PID."""
    cmd = f"nohup iperf3 -s -p {port} >/dev/null 2>&1 </dev/null & echo $!"

    def start(host: Host) -> tuple[Host, subprocess.CompletedProcess[str]]:
        return host, ssh(host, cmd, timeout=30)

    pids: dict[str, int] = {}
    failed = []
    with ThreadPoolExecutor(max_workers=min(32, len(hosts) or 1)) as pool:
        for host, proc in pool.map(start, hosts):
            try:
                pids[host.alias] = int(proc.stdout.split()[-1])
            except (ValueError, IndexError):
                failed.append(f"{host.alias}: {proc.stderr.strip()[:200]}")
    if failed:
        stop_servers({h.alias: h for h in hosts}, pids)
        raise EnosError(f"could not start iperf3: {'; '.join(failed)}",
                        "check that iperf3 runs on these hosts")
    return pids


def stop_servers(hosts: dict[str, Host], pids: dict[str, int]) -> None:
    """Stop the servers :func:`start_servers` started, by PID."""
    def stop(alias: str) -> None:
        ssh(hosts[alias], f"kill {pids[alias]} 2>/dev/null; true", timeout=30)

    with ThreadPoolExecutor(max_workers=min(32, len(pids) or 1)) as pool:
        list(pool.map(stop, pids))


def iperf_rate(data: dict[str, Any]) -> float | None:
    """Receiver-side throughput (bit/s) of an ``iperf3 -J`` client run."""
    end = data.get("end", {})
    for key in ("sum_received", "sum"):
        if key in end and "bits_per_second" in end[key]:
            return float(end[key]["bits_per_second"])
    return None


def measure_rate(resources: Resources, pair: Pair, duration: float, port: int,
                 raw: Path) -> None:
    """One iperf3 client run from the pair's source to its destination's server."""
    src = resources.host(pair.src)
    data: dict[str, Any] = {}
    cmd = f"iperf3 -c {shlex.quote(pair.address)} -p {port} -t {duration:g} -O 1 -J"
    for attempt in range(25):
        proc = ssh(src, cmd, timeout=duration + 60)
        try:
            data = json.loads(proc.stdout)
        except ValueError:
            data = {"error": (proc.stderr or proc.stdout).strip()[:500]}
        error = str(data.get("error", ""))
        if not error or not ("connect" in error or "busy" in error) or attempt == 24:
            break
        time.sleep(0.2)  # the server is not listening yet, or finishing the previous test
    atomic_write_json(raw / f"iperf3-{pair.src_group}-{pair.dst_group}.json", data)
    if "error" in data:
        pair.measured["rate_error"] = str(data["error"])
    else:
        pair.measured["rate_bps"] = iperf_rate(data)


# -- verdicts -----------------------------------------------------------------------------------
def judge(pair: Pair, rate_only: bool, has_rules: bool) -> None:
    rtt_exp = _rtt_expected(pair, rate_only)
    loss_exp = _loss_expected(pair, rate_only)
    asked_rtt = _rtt_expected(pair, False)
    asked_loss = _loss_expected(pair, False)
    pair.expected = {
        "rtt_ms": asked_rtt if has_rules else None,
        "loss_pct": round(asked_loss, 4) if has_rules else None,
        "rate_bps": pair.rule.rate_bps if pair.rule else None,
    }
    rtt = pair.measured.get("rtt_ms")
    if not has_rules:
        pair.verdict["rtt"] = NONE
    elif rate_only and asked_rtt > 0:
        pair.verdict["rtt"] = NOT_EXERCISED
    elif rtt is None:
        pair.verdict["rtt"] = OFF
    else:
        tol = max(RTT_SLACK_MS, RTT_TOLERANCE * rtt_exp)
        pair.verdict["rtt"] = OK if abs(rtt["median"] - rtt_exp) <= tol else OFF

    n = pair.measured.get("probes", 0)
    if not has_rules:
        pair.verdict["loss"] = NONE
    elif rate_only and asked_loss > 0:
        pair.verdict["loss"] = NOT_EXERCISED
    elif not n:
        pair.verdict["loss"] = OFF
    else:
        p = loss_exp / 100
        margin = 100 * (3 * math.sqrt(p * (1 - p) / n) + 1 / n)
        pair.verdict["loss"] = OK if abs(pair.measured["loss_pct"] - loss_exp) <= margin \
            else OFF

    rate = pair.measured.get("rate_bps")
    if pair.rule is None:
        pair.verdict["rate"] = NONE
    elif rate is None:
        pair.verdict["rate"] = OFF
    else:
        ratio = rate / pair.rule.rate_bps
        pair.verdict["rate"] = OK if abs(ratio - 1) <= RATE_TOLERANCE else OFF
        pair.measured["rate_ratio"] = round(ratio, 4)


# -- the whole test -----------------------------------------------------------------------------
@dataclass
class Report:
    directory: Path
    data: dict[str, Any]
    pairs: list[Pair]

    @property
    def off(self) -> list[str]:
        out = []
        for p in self.pairs:
            for what, v in p.verdict.items():
                if v == OFF:
                    out.append(f"{p.src_group}->{p.dst_group} {what}")
        return out

    @property
    def checks(self) -> int:
        return sum(1 for p in self.pairs for v in p.verdict.values() if v in (OK, OFF))


def run_test(exp_path: Path, resources: Resources, matrix: Matrix | None, *, rate_only: bool,
             duration: float = 3.0, probes: int = 20, port: int = IPERF_PORT,
             backends: dict[str, str] | None = None,
             progress: Callable[[str], None] | None = None) -> Report:
    """Measure every pair; write the report; return it (verdicts included). ``backends``:
    what enforced delay and loss on each host (as ``enos tc`` recorded it)."""
    say = progress or (lambda _msg: None)
    backends = backends or {}
    pairs = pairs_to_measure(resources, matrix)
    for p in pairs:
        p.backends = {"src": backends.get(p.src, "none"), "dst": backends.get(p.dst, "none")}
    if not pairs:
        raise EnosError("no pair of groups to measure: the experiment's hosts have no "
                        "topology group, or the constraints cover no pair",
                        "describe the machines under `topology:` and run 'enos up'")
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    directory = exp_path / "tc_test" / stamp
    raw = directory / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    hosts = {p.src for p in pairs} | {p.dst for p in pairs}
    _check_tools([resources.host(a) for a in sorted(hosts)])

    start = time.monotonic()
    say(f"round-trip time and loss: {len(pairs)} pair(s), {probes} probes each")
    measure_rtt(resources, pairs, probes, raw, rate_only)
    rated = [p for p in pairs if p.rule is not None or matrix is None]
    servers = [resources.host(a) for a in sorted({p.dst for p in rated})]
    pids = start_servers(servers, port)
    try:
        for i, pair in enumerate(rated, 1):
            say(f"throughput {i}/{len(rated)}: {pair.src_group} -> {pair.dst_group} "
                f"({pair.src} -> {pair.dst}, {duration:g}s)")
            measure_rate(resources, pair, duration, port, raw)
    finally:
        stop_servers({h.alias: h for h in servers}, pids)
    has_rules = matrix is not None
    for pair in pairs:
        judge(pair, rate_only, has_rules)

    data = {
        "experiment": str(exp_path),
        "at": _dt.datetime.now().isoformat(timespec="seconds"),
        "seconds": round(time.monotonic() - start, 1),
        "constraints_applied": has_rules,
        "rate_only": rate_only,
        "tolerance": {"rate": RATE_TOLERANCE, "rtt": RTT_TOLERANCE,
                      "rtt_slack_ms": RTT_SLACK_MS, "loss": "3 sigma + 1 probe"},
        "duration_s": duration,
        "probes": probes,
        "not_exercised": not_exercised(pairs),
        "backends": {a: backends[a] for a in sorted(hosts) if a in backends},
        "pairs": [_pair_dict(p) for p in pairs],
    }
    atomic_write_json(directory / "report.json", data)
    atomic_write(directory / "report.md", markdown(data))
    latest = exp_path / "tc_test" / "latest"
    tmp = latest.with_name(f".latest.{os.getpid()}")
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(stamp)
    os.replace(tmp, latest)
    return Report(directory, data, pairs)


def _pair_dict(p: Pair) -> dict[str, Any]:
    d = asdict(p)
    d.pop("rule")
    d.pop("reverse")
    return d


def not_exercised(pairs: list[Pair]) -> list[str]:
    out = []
    for what, label in (("rtt", "delay"), ("loss", "loss")):
        which = [f"{p.src_group}->{p.dst_group}" for p in pairs
                 if p.verdict.get(what) == NOT_EXERCISED]
        if which:
            shown = ", ".join(which) if len(which) <= 6 else f"{len(which)} pairs"
            out.append(f"{label} on {shown} (left out: --rate-only)")
    return out


# -- rendering ----------------------------------------------------------------------------------
def _fmt_rtt(v: Any) -> str:
    return "-" if v is None else f"{v:.2f}ms"


def rows(data: dict[str, Any]) -> list[list[str]]:
    """One row per pair: pair, hosts, then expected / measured / verdict per quantity."""
    out = []
    for p in data["pairs"]:
        e, m, v = p["expected"], p["measured"], p["verdict"]
        rtt = m.get("rtt_ms") or {}
        rate = m.get("rate_bps")
        out.append([
            f"{p['src_group']} -> {p['dst_group']}",
            f"{p['src']} -> {p['dst']}",
            _fmt_rtt(e.get("rtt_ms")), _fmt_rtt(rtt.get("median")), v.get("rtt", NONE),
            "-" if e.get("loss_pct") is None else f"{e['loss_pct']:.3g}%",
            "-" if "loss_pct" not in m else f"{m['loss_pct']:.3g}%", v.get("loss", NONE),
            "-" if e.get("rate_bps") is None else human_rate(e["rate_bps"]),
            "-" if rate is None else human_rate(rate), v.get("rate", NONE),
        ])
    return out


HEADER = ["pair", "hosts", "rtt asked", "rtt measured", "verdict", "loss asked",
          "loss measured", "verdict", "rate asked", "rate measured", "verdict"]


def markdown(data: dict[str, Any]) -> str:
    lines = [
        f"# enos tc --test, {data['at']}",
        "",
        (f"Experiment: `{data['experiment']}`. Round-trip time: median of {data['probes']} "
         f"fping probes; rate: iperf3 TCP throughput over {data['duration_s']:g}s "
         "(receiver side), source to destination."),
        "",
        (f"Tolerances: rate within {data['tolerance']['rate']:.0%}; round-trip time within "
         f"{data['tolerance']['rtt']:.0%} or {data['tolerance']['rtt_slack_ms']:g}ms; loss "
         "within 3 standard deviations plus one probe. The round-trip time asked is the "
         "delay of both directions. TCP throughput is below the rate by the headers "
         "(about 4% with 1500-byte frames)."),
        "",
    ]
    if not data["constraints_applied"]:
        lines += [("No constraints are enforced (`enos tc` has not run, or was reset): "
                   "these are baseline figures."), ""]
    used = backend_line(data)
    if used:
        lines += [used, ""]
    lines.append("| " + " | ".join(HEADER) + " |")
    lines.append("|" + "---|" * len(HEADER))
    for row in rows(data):
        lines.append("| " + " | ".join(row) + " |")
    if data["not_exercised"]:
        lines += ["", "Not exercised:", ""] + [f"- {n}" for n in data["not_exercised"]]
    return "\n".join(lines) + "\n"


SUMMARY_ROWS = 12


def backend_line(data: dict[str, Any]) -> str:
    """``Delay and loss by: netem on grp1-0; userspace on grp2-0, grp3-0`` (empty if none)."""
    by: dict[str, list[str]] = {}
    for alias, backend in (data.get("backends") or {}).items():
        if backend != "none":
            by.setdefault(backend, []).append(alias)
    if not by:
        return ""
    parts = []
    for backend, aliases in sorted(by.items()):
        shown = ", ".join(aliases) if len(aliases) <= 6 else f"{len(aliases)} hosts"
        parts.append(f"{backend} on {shown}")
    return "Delay and loss enforced by: " + "; ".join(parts) + "."


def summary(data: dict[str, Any]) -> str:
    """One screen: a row per pair when they are few, else counts and the pairs out of
    tolerance."""
    pairs = data["pairs"]
    all_rows = rows(data)
    if len(pairs) <= SUMMARY_ROWS:
        shown = all_rows
        lines: list[str] = []
    else:
        lines = [f"{len(pairs)} pairs of groups measured in {data['seconds']:g}s"]
        for what, label in (("rtt", "round trip"), ("loss", "loss"), ("rate", "rate")):
            counts: dict[str, int] = {}
            for p in pairs:
                counts[p["verdict"][what]] = counts.get(p["verdict"][what], 0) + 1
            text = ", ".join(f"{n} {v if v != NONE else 'unconstrained'}"
                             for v, n in sorted(counts.items()))
            if what == "rate":
                ratios = [p["measured"]["rate_ratio"] for p in pairs
                          if "rate_ratio" in p["measured"]]
                if ratios:
                    text += f" (measured/asked {min(ratios):.3f} to {max(ratios):.3f})"
            lines.append(f"  {label + ':':<12}{text}")
        off = [r for r, p in zip(all_rows, pairs, strict=True) if OFF in p["verdict"].values()]
        if not off:
            return "\n".join(lines)
        lines.append(f"out of tolerance ({len(off)} pair(s)"
                     + (f", first {SUMMARY_ROWS}" if len(off) > SUMMARY_ROWS else "") + "):")
        shown = off[:SUMMARY_ROWS]
    table = [["pair", "round trip (asked / measured)", "", "loss (asked / measured)", "",
              "rate (asked / measured)", ""]]
    for r in shown:
        table.append([r[0], f"{r[2]} / {r[3]}", r[4], f"{r[5]} / {r[6]}", r[7],
                      f"{r[8]} / {r[9]}", r[10]])
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
              for row in table]
    return "\n".join(lines)
