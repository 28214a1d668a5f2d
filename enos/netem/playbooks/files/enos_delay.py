#!/usr/bin/env python3
"""A delay line for kernels without netem: hold a copy of each queued packet, then send it.

iptables rules send the packets of each constrained destination group to an NFQUEUE queue
(``-j NFQUEUE --queue-num N``); this program binds those queues on one netlink socket, takes
a copy of every packet as it arrives, drops the original at once and, when the queue's delay
has passed, sends the copy through a raw socket whose packets carry the mark ``MARK`` (the
rules let marked packets through). Dropping the original frees it in the kernel as a sent
packet would be: a TCP sender, which limits how many of its packets may wait in the host
(TCP small queues), keeps sending instead of waiting for the delay line. One queue has one
delay, so packets leave in the order they came.

Standard library only (the netlink protocol of nfnetlink_queue is spoken directly), so that
any host with ``python3`` runs it::

    enos_delay.py --queue 57360:10 --queue 57361:25.5     # queue number:delay in milliseconds

The kernel hands over packets of at most one MTU (it splits large segments and completes
their checksums first). SIGTERM or SIGINT stop it; the copies it holds are then lost, as on a
link that goes down.
"""

from __future__ import annotations

import argparse
import collections
import errno
import os
import select
import signal
import socket
import struct
import sys
import time

NETLINK_NETFILTER = 12
NETLINK_NO_ENOBUFS = 5
SOL_NETLINK = 270
SO_RCVBUFFORCE = 33

NFNL_SUBSYS_QUEUE = 3
NFQNL_MSG_PACKET = 0
NFQNL_MSG_CONFIG = 2
NFQNL_MSG_VERDICT_BATCH = 3

NLM_F_REQUEST = 1
NLM_F_ACK = 4
NLMSG_ERROR = 2

NFQA_PACKET_HDR = 1
NFQA_VERDICT_HDR = 2
NFQA_PAYLOAD = 10
NFQA_CFG_CMD = 1
NFQA_CFG_PARAMS = 2
NFQA_CFG_QUEUE_MAXLEN = 3
NFQA_CFG_MASK = 4
NFQA_CFG_FLAGS = 5
NFQNL_CFG_CMD_BIND = 1
NFQNL_COPY_PACKET = 2
NF_DROP = 0
SO_MARK = 36
MARK = 0xE05  # the mark of the packets this program sends (the iptables rules let them by)
ETH_P_IPV6 = 0x86DD

QUEUE_MAXLEN = 65536
PRIORITY = 10  # SCHED_FIFO priority (1-99): above ordinary processes, below the kernel's own
RCVBUF = 16 * 1024 * 1024
# The kernel hands a packet over, and takes the verdict back, some time after and before the
# moments this program sees: release that much early.
HANDOVER = 0.0001
# How late the timer wakes the program up is measured as it runs (a moving average, at most
# LATE_MAX): release that much earlier too.
LATE_MAX = 0.001

_NLMSG = struct.Struct("=IHHII")
_NFGEN = struct.Struct("=BBH")
_NLATTR = struct.Struct("=HH")


def _attr(kind: int, payload: bytes) -> bytes:
    size = _NLATTR.size + len(payload)
    return _NLATTR.pack(size, kind) + payload + b"\0" * (-size % 4)


def _message(kind: int, queue: int, attrs: bytes, flags: int = NLM_F_REQUEST,
             seq: int = 0) -> bytes:
    body = _NFGEN.pack(socket.AF_UNSPEC, 0, socket.htons(queue)) + attrs
    return _NLMSG.pack(_NLMSG.size + len(body), (NFNL_SUBSYS_QUEUE << 8) | kind, flags, seq,
                       0) + body


class DelayLine:
    def __init__(self, delays: dict[int, float]) -> None:
        self.delays = {q: ms / 1000 for q, ms in delays.items()}
        # per queue: (due time, IPv6?, destination, packet)
        self.held: dict[int, collections.deque[tuple[float, bool, str, bytes]]] = {
            q: collections.deque() for q in delays}
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, RCVBUF)
        except OSError:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RCVBUF)
        self.sock.setsockopt(SOL_NETLINK, NETLINK_NO_ENOBUFS, 1)
        self.sock.bind((0, 0))
        self.out4 = self._raw(socket.AF_INET)
        self.out6 = self._raw(socket.AF_INET6)
        self.seq = 0
        for queue in delays:
            self._configure(queue)
        self.sock.setblocking(False)
        self.packets = 0
        self.lost = 0
        self.late = 0.0
        self.early = HANDOVER

    @staticmethod
    def _raw(family: int) -> socket.socket | None:
        try:
            sock = socket.socket(family, socket.SOCK_RAW, socket.IPPROTO_RAW)
        except OSError:
            return None  # no IPv6 on this host
        sock.setsockopt(socket.SOL_SOCKET, SO_MARK, MARK)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, RCVBUF)
        return sock

    def _configure(self, queue: int) -> None:
        for attrs in (
            _attr(NFQA_CFG_CMD, struct.pack("!BBH", NFQNL_CFG_CMD_BIND, 0, 0)),
            _attr(NFQA_CFG_PARAMS, struct.pack("!IB", 0xFFFF, NFQNL_COPY_PACKET))
            + _attr(NFQA_CFG_QUEUE_MAXLEN, struct.pack("!I", QUEUE_MAXLEN)),
        ):
            self.seq += 1
            self.sock.send(_message(NFQNL_MSG_CONFIG, queue, attrs,
                                    NLM_F_REQUEST | NLM_F_ACK, self.seq))
            reply = self.sock.recv(65536)
            _, kind, _, _, _ = _NLMSG.unpack_from(reply)
            if kind == NLMSG_ERROR:
                (code,) = struct.unpack_from("=i", reply, _NLMSG.size)
                if code:
                    raise OSError(-code, f"binding NFQUEUE queue {queue}: "
                                         f"{os.strerror(-code)}")

    def _receive(self, now: float) -> None:
        """Copy every packet waiting on the socket; drop the originals."""
        recv, unpack_msg = self.sock.recv, _NLMSG.unpack_from
        last: dict[int, int] = {}
        while True:
            try:
                data = recv(131072)
            except BlockingIOError:
                break
            except OSError as exc:
                if exc.errno == errno.ENOBUFS:
                    continue
                raise
            offset = 0
            while offset + _NLMSG.size <= len(data):
                length, kind, _, _, _ = unpack_msg(data, offset)
                if length < _NLMSG.size:
                    break
                if kind == (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET:
                    self._packet(data, offset, length, now, last)
                offset += (length + 3) & ~3
        for queue, pid in last.items():
            attrs = _attr(NFQA_VERDICT_HDR, struct.pack("!II", NF_DROP, pid))
            self.sock.send(_message(NFQNL_MSG_VERDICT_BATCH, queue, attrs))

    def _packet(self, data: bytes, offset: int, length: int, now: float,
                last: dict[int, int]) -> None:
        queue = struct.unpack_from("!H", data, offset + _NLMSG.size + 2)[0]
        pos = offset + _NLMSG.size + _NFGEN.size
        end = offset + length
        pid = proto = None
        payload = b""
        while pos + _NLATTR.size <= end:
            alen, atype = _NLATTR.unpack_from(data, pos)
            if alen < _NLATTR.size:
                break
            atype &= 0x7FFF
            if atype == NFQA_PACKET_HDR:
                pid, proto = struct.unpack_from("!IH", data, pos + _NLATTR.size)
            elif atype == NFQA_PAYLOAD:
                payload = data[pos + _NLATTR.size:pos + alen]
            pos += (alen + 3) & ~3
        if pid is None:
            return
        last[queue] = pid
        held = self.held.get(queue)
        if held is None or not payload:
            return
        six = proto == ETH_P_IPV6
        if six:
            if len(payload) < 40:
                return
            dst = socket.inet_ntop(socket.AF_INET6, payload[24:40])
        else:
            if len(payload) < 20:
                return
            dst = socket.inet_ntop(socket.AF_INET, payload[16:20])
        held.append((now + self.delays[queue], six, dst, payload))
        self.packets += 1

    def _release(self, now: float) -> float | None:
        """Send every due copy; the time the next one is due (None: nothing held)."""
        soonest = None
        out4, out6 = self.out4, self.out6
        for held in self.held.values():
            while held and held[0][0] - self.early <= now:
                _, six, dst, packet = held.popleft()
                try:
                    if six:
                        if out6 is not None:
                            out6.sendto(packet, (dst, 0, 0, 0))
                    elif out4 is not None:
                        out4.sendto(packet, (dst, 0))
                except OSError:
                    self.lost += 1  # the interface's queue is full: the packet is lost
            if held and (soonest is None or held[0][0] < soonest):
                soonest = held[0][0]
        return soonest

    def run(self, stop: list[bool]) -> None:
        clock = time.monotonic
        soonest: float | None = None
        fd = self.sock.fileno()
        while not stop:
            wake = None if soonest is None else soonest - self.early
            timeout = None if wake is None else max(0.0, wake - clock())
            ready, _, _ = select.select([fd], [], [], timeout)
            now = clock()
            if ready:
                self._receive(now)
            elif wake is not None and timeout:
                late = min(LATE_MAX, max(0.0, now - wake))
                self.late += (late - self.late) / 16
                self.early = HANDOVER + self.late
            soonest = self._release(clock())


def _realtime() -> bool:
    """Run ahead of ordinary processes (SCHED_FIFO): a busy CPU then delays a release by
    microseconds instead of milliseconds. The kernel keeps part of each second for other
    processes whatever a real-time one does."""
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(PRIORITY))
    except (OSError, AttributeError):
        return False
    return True


def _queue(text: str) -> tuple[int, float]:
    num, _, ms = text.partition(":")
    try:
        queue, delay = int(num), float(ms)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected QUEUE:MILLISECONDS, got {text!r}") from None
    if not 0 <= queue < 65536 or delay < 0:
        raise argparse.ArgumentTypeError(f"queue 0-65535 and a delay >= 0, got {text!r}")
    return queue, delay


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--queue", type=_queue, action="append", required=True,
                        help="QUEUE:MILLISECONDS (repeat for each queue)")
    args = parser.parse_args(argv)
    stop: list[bool] = []

    def on_signal(signum: int, frame: object) -> None:
        stop.append(True)
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    line = DelayLine(dict(args.queue))
    realtime = _realtime()
    print(f"enos_delay: pid {os.getpid()}, queues "
          + ", ".join(f"{q} ({ms:g}ms)" for q, ms in args.queue)
          + ("" if realtime else " (no real-time priority: delays are less steady)"), flush=True)
    try:
        line.run(stop)
    finally:
        print(f"enos_delay: stopped after {line.packets} packet(s), {line.lost} lost",
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
