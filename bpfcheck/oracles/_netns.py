"""The child that owns a private network namespace (see :mod:`.packet`).

It runs in a forked process that has called ``unshare(CLONE_NEWNET)``, so
nothing it does can touch the host's network stack.  In the namespace it
brings ``lo`` up, turns IPv6 off (no router or neighbour chatter), pins
itself to one CPU (loopback frames then go through one backlog queue, in
order), and serves requests over a socket pair (:mod:`._wire`).

For each frame it sends the frame on ``lo`` through an ``AF_PACKET``
``SOCK_RAW`` socket (protocol 0: ``skb->protocol`` is parsed from the
frame), then a *fence* frame, and collects every copy the taps got until the
capture socket has the fence's looped-back copy.  The capture socket is
bound first: the kernel puts each new tap at the head of ``lo``'s list and
delivers in list order, so the capture socket is served last, and once it
holds the fence every other socket holds all it will ever get of the frame.
"""

from __future__ import annotations

import ctypes
import errno as _errno
import fcntl
import os
import select
import socket
import struct
import threading
import time
from typing import List, Optional

from ..program import Program
from . import _wire
from ._fprog import SO_ATTACH_FILTER, SOL_SOCKET, FilterProg

CLONE_NEWNET = 0x40000000
SIOCGIFFLAGS, SIOCSIFFLAGS = 0x8913, 0x8914
IFF_UP = 0x1
SOL_PACKET = 263
PACKET_AUXDATA = 8
ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4
SO_RCVBUFFORCE = 33
_AUXDATA = struct.Struct("=IIIHHHH")  # tp_status tp_len tp_snaplen tp_mac tp_net tci tpid
_ANC = socket.CMSG_SPACE(_AUXDATA.size)
FENCE_WAIT = 2.0                      # seconds for a frame's copies to show up
CAPTURE_BUF = 65536 + 64

#: the fence: to a locally administered unicast MAC (so it loops back as
#: PACKET_OTHERHOST and no protocol answers it), local experimental EtherType.
FENCE_DST = b"\x02bpfck"
FENCE_TYPE = b"\x88\xb5"


def fence_frame(serial: int, frame_len: int) -> bytes:
    """A fence whose length differs from every copy of the frame (as sent,
    one or two tags stripped), so no copy of one can pass for the other."""
    length = next(n for n in range(60, 80) if n not in (frame_len, frame_len - 4, frame_len - 8))
    body = FENCE_DST + b"\x02\x00\x00\x00\x00\x00" + FENCE_TYPE + b"bpfcheck fence " + struct.pack(">Q", serial)
    return body.ljust(length, b"\0")


class Namespace:
    """The child's state: the capture socket and a pool of filtered sockets.

    Sockets are made once and kept: closing an ``AF_PACKET`` socket waits
    for an RCU grace period (``synchronize_net``), about 10 ms each, while
    replacing a filter is cheap.  Sockets the current run does not use
    carry a filter that drops everything.
    """

    def __init__(self):
        self.ifindex = socket.if_nametoindex("lo")
        self.sender = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
        self.sender.bind(("lo", 0))
        self.capture = self._tap(None)          # first: served last
        self.pool: List[socket.socket] = []
        self.used = 0
        self.serial = 0

    # --- sockets -------------------------------------------------------------
    def close(self) -> None:
        """Close every socket, in parallel: each close waits for an RCU
        grace period, and concurrent waits share one."""
        socks = [self.sender, self.capture, *self.pool]
        threads = [threading.Thread(target=sock.close) for sock in socks]
        for t in threads:
            t.start()
        for t in threads:
            t.join(FENCE_WAIT)

    def attach(self, programs: List[bytes]) -> List[int]:
        while len(self.pool) < len(programs):
            self.pool.append(self._tap(_DROP_ALL))
        errors = []
        for sock, raw in zip(self.pool, programs):
            try:
                _attach(sock, raw)
                errors.append(0)
            except OSError as exc:
                _attach(sock, _DROP_ALL)        # never leave the old filter on
                errors.append(exc.errno or _errno.EIO)
        for sock in self.pool[len(programs):]:
            _attach(sock, _DROP_ALL)
        self.used = len(programs)
        return errors

    def _tap(self, raw: Optional[bytes]) -> socket.socket:
        # Protocol 0 until bound: no copy arrives before the filter is on.
        sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
        try:
            if raw is not None:
                _attach(sock, raw)
            sock.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
            try:
                sock.setsockopt(SOL_SOCKET, SO_RCVBUFFORCE, 8 << 20)
            except OSError:
                pass
            sock.bind(("lo", ETH_P_ALL))
        except BaseException:
            sock.close()
            raise
        return sock

    # --- one frame -------------------------------------------------------------
    def send(self, frame: bytes) -> bytes:
        for sock in [self.capture, *self.pool]:
            _drain(sock, capture=False)
        try:
            self.sender.send(frame)
        except OSError as exc:
            return _wire.i32(exc.errno or _errno.EIO) + _wire.u32(0) + _wire.u32(0)
        self.serial += 1
        fence = fence_frame(self.serial, len(frame))
        self.sender.send(fence)
        captured = self._until_fence(fence)
        out = [_wire.i32(0), _wire.u32(len(captured))]
        out += [c.encode() for c in captured]
        out.append(_wire.u32(self.used))
        for sock in self.pool[:self.used]:
            copies = _drain(sock, capture=False)
            out.append(_wire.u32(len(copies)))
            out += [c.encode() for c in copies]
        return b"".join(out)

    def _until_fence(self, fence: bytes) -> list:
        deadline = time.monotonic() + FENCE_WAIT
        captured = []
        while True:
            captured += _drain(self.capture, capture=True)
            if any(c.data == fence and c.pkttype != PACKET_OUTGOING for c in captured):
                return [self._with_ifindex(c) for c in captured]
            left = deadline - time.monotonic()
            if left <= 0:
                raise _Failure(_errno.ETIMEDOUT, f"the fence frame did not loop back within {FENCE_WAIT} s")
            select.select([self.capture], [], [], left)

    def _with_ifindex(self, c):
        return _wire.Captured(c.pkttype, c.protocol, self.ifindex, c.hatype, c.tp_status, c.tp_len,
                              c.vlan_tci, c.vlan_tpid, c.tp_net, c.data)


_DROP_ALL = struct.pack("<HBBI", 0x06, 0, 0, 0)       # ret #0


def _attach(sock: socket.socket, raw: bytes) -> None:
    fprog = FilterProg(Program.from_bytes(raw))
    sock.setsockopt(SOL_SOCKET, SO_ATTACH_FILTER, fprog.header)


def _drain(sock: socket.socket, capture: bool) -> list:
    """Every copy queued on ``sock`` now, without waiting."""
    out = []
    size = CAPTURE_BUF if capture else _wire.PREFIX
    while True:
        try:
            data, anc, _flags, addr = sock.recvmsg(size, _ANC, socket.MSG_DONTWAIT)
        except BlockingIOError:
            return out
        aux = (0, len(data), len(data), 0, 0, 0, 0)
        for level, kind, payload in anc:
            if level == SOL_PACKET and kind == PACKET_AUXDATA and len(payload) >= _AUXDATA.size:
                aux = _AUXDATA.unpack(payload[:_AUXDATA.size])
        status, tp_len, snaplen, _mac, net, tci, tpid = aux
        _ifname, proto, pkttype, hatype = addr[:4]
        if capture:
            out.append(_wire.Captured(pkttype, proto, 0, hatype, status, tp_len, tci, tpid, net, data))
        else:
            out.append(_wire.Delivered(pkttype, proto, status, tp_len, tci, tpid, snaplen,
                                       data[:_wire.PREFIX]))


class _Failure(Exception):
    def __init__(self, errno: int, message: str):
        self.errno = errno
        super().__init__(message)


# --- setting the namespace up -------------------------------------------------------
def enter_namespace() -> None:
    """unshare + lo up + IPv6 off + pinned to one CPU; raises _Failure."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise _Failure(err, f"unshare(CLONE_NEWNET) failed: {os.strerror(err)} (needs root or CAP_SYS_ADMIN)")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        req = struct.pack("16sH22x", b"lo", 0)
        flags = struct.unpack("16sH22x", fcntl.ioctl(s, SIOCGIFFLAGS, req))[1]
        fcntl.ioctl(s, SIOCSIFFLAGS, struct.pack("16sH22x", b"lo", flags | IFF_UP))
    # /proc/sys/net shows the namespace of whoever opens it: this one.
    for scope in ("all", "default", "lo"):
        try:
            with open(f"/proc/sys/net/ipv6/conf/{scope}/disable_ipv6", "w") as f:
                f.write("1")
        except OSError:
            pass                        # no IPv6 at all: nothing to silence
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})


def serve(conn: socket.socket) -> int:
    """The child's main loop; returns its exit code."""
    try:
        enter_namespace()
        ns = Namespace()
    except _Failure as exc:
        _wire.send_message(conn, _wire.error_reply(exc.errno, str(exc)))
        return 1
    except OSError as exc:
        _wire.send_message(conn, _wire.error_reply(exc.errno or _errno.EIO, f"namespace set-up failed: {exc}"))
        return 1
    _wire.send_message(conn, bytes([_wire.OK]) + _wire.u32(ns.ifindex))
    while True:
        try:
            request = _wire.recv_message(conn)
        except (_wire.ProtocolError, OSError):
            return 0                                   # the parent went away
        try:
            reply = _handle(ns, request)
        except _Failure as exc:
            reply = _wire.error_reply(exc.errno, str(exc))
        except _wire.ProtocolError as exc:
            reply = _wire.error_reply(_errno.EPROTO, str(exc))
        except OSError as exc:
            reply = _wire.error_reply(exc.errno or _errno.EIO, str(exc))
        _wire.send_message(conn, reply)
        if request[:1] == bytes([_wire.OP_CLOSE]):
            return 0


def _handle(ns: Namespace, request: bytes) -> bytes:
    r = _wire.Reader(request)
    op = r.u8()
    if op == _wire.OP_ATTACH:
        programs = []
        for _ in range(r.u32()):
            programs.append(r.take(8 * r.u32()))
        r.end()
        return bytes([_wire.OK]) + b"".join(_wire.i32(e) for e in ns.attach(programs))
    if op == _wire.OP_SEND:
        return bytes([_wire.OK]) + ns.send(r.rest())
    if op == _wire.OP_CLOSE:
        r.end()
        ns.close()
        return bytes([_wire.OK])
    raise _wire.ProtocolError(f"unknown operation {op}")

