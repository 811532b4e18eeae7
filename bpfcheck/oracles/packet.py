"""The running kernel as an ``AF_PACKET`` oracle, on ``lo`` in a private netns.

``PacketNamespace()`` forks a child that unshares a fresh network namespace
(the host's stack is never touched) and serves requests over a socket pair
(:mod:`._netns`, :mod:`._wire`).  ``run(program, frames)`` sends each
Ethernet frame on the namespace's ``lo`` and returns, for every copy the
kernel hands to packet taps, an :class:`Observation`: the bytes the filter
ran on, the :class:`Context` it ran with, the length the filtered socket
received and the exact verdict.

On ``lo`` each frame is seen twice (measured, 6.x): the outgoing copy
(pkttype ``PACKET_OUTGOING`` 4, bytes as sent, ``skb->protocol`` the frame's
EtherType field as is, even 0x8100 or an 802.3 length) and the looped-back
incoming copy (pkttype 0 host / 1 broadcast / 2 multicast / 3 other host,
from the destination MAC; ``skb->protocol`` from ``eth_type_trans``: 802.3
frames become 0x0004, or 0x0001 for a raw 0xFFFF payload).  On receive the
kernel strips one 802.1Q or 802.1ad tag in software before any tap sees it:
the incoming copy is 4 bytes shorter, ``vlan_present`` 1, ``vlan_tci`` and
``vlan_tpid`` the stripped tag's, ``protocol`` the next EtherType.  The
network header is at 14 in both copies; the link header at 0.

The context is *measured*, not inferred: besides the program under test,
the child attaches probe filters, one per ``SKF_AD_*`` field and chunk,
which return that field's bits (see :mod:`._exact`); all of them see the
same copy of the frame.  ``random`` cannot be pinned down (each filter run
draws a fresh value) and is left 0.
"""

from __future__ import annotations

import errno as _errno
import os
import socket
from dataclasses import dataclass
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from .. import isa
from ..context import Context
from ..errors import OracleUnavailable, UsageError
from ..program import Instruction, Program
from . import _exact, _netns, _wire
from ._fork import Child, describe_status
from .kernel import KernelRejected

ARPHRD_LOOPBACK = 772
PACKET_OUTGOING = 4
TP_STATUS_VLAN_VALID = 0x10
TP_STATUS_VLAN_TPID_VALID = 0x40
_VLAN_TYPES = (b"\x81\x00", b"\x88\xa8")       # eth_type_vlan(): 802.1Q, 802.1ad
MIN_FRAME = 14                                 # lo's hard_header_len
MAX_FRAME = 65536 + 14                         # lo's MTU plus the header

#: (Context field, SKF_AD_* offset, bits the kernel can return for it)
PROBES: Tuple[Tuple[str, int, int], ...] = (
    ("protocol", isa.SKF_AD_PROTOCOL, 16),
    ("pkttype", isa.SKF_AD_PKTTYPE, 3),
    ("ifindex", isa.SKF_AD_IFINDEX, 32),
    ("mark", isa.SKF_AD_MARK, 32),
    ("queue_mapping", isa.SKF_AD_QUEUE, 16),
    ("hatype", isa.SKF_AD_HATYPE, 16),
    ("rxhash", isa.SKF_AD_RXHASH, 32),
    ("cpu", isa.SKF_AD_CPU, 16),
    ("vlan_tci", isa.SKF_AD_VLAN_TAG, 16),
    ("vlan_present", isa.SKF_AD_VLAN_TAG_PRESENT, 1),
    ("vlan_tpid", isa.SKF_AD_VLAN_TPID, 16),
    ("payload_offset", isa.SKF_AD_PAY_OFFSET, 16),
)


@dataclass(frozen=True)
class Metadata:
    """What the capture socket's ``sockaddr_ll`` and ``tpacket_auxdata``
    said about a copy (a cross-check for the probed :class:`Context`)."""

    protocol: int
    pkttype: int
    hatype: int
    ifindex: int
    tp_status: int
    tp_len: int
    vlan_tci: int
    vlan_tpid: int
    tp_net: int

    @property
    def vlan_valid(self) -> bool:
        return bool(self.tp_status & TP_STATUS_VLAN_VALID)

    @property
    def tpid_valid(self) -> bool:
        return bool(self.tp_status & TP_STATUS_VLAN_TPID_VALID)


@dataclass(frozen=True)
class Observation:
    """One copy of a frame as a packet tap's filter ran on it.

    ``frame``: the exact bytes the filter saw (``len(frame)`` is what
    ``ld #len`` returns).  ``context``: what every ``SKF_AD_*`` load
    returned (``random`` excepted).  ``delivered``: bytes the filtered
    socket got (``min(len, verdict)``), None when dropped.  ``verdict``:
    the exact value the program returned, None when it cannot be recovered
    (the program loads ``SKF_AD_RANDOM``, or its rewritten copies would not
    attach).
    """

    frame: bytes
    context: Context
    delivered: Optional[int]
    verdict: Optional[int]
    metadata: Metadata

    @property
    def outgoing(self) -> bool:
        return self.context.pkttype == PACKET_OUTGOING


class PacketNamespace:
    """A private network namespace with ``lo`` up, run by a child process.

    A context manager; :meth:`close` (also on garbage collection) stops
    and reaps the child, which also dies with its parent.  Needs root (or
    CAP_SYS_ADMIN + CAP_NET_RAW): otherwise :class:`OracleUnavailable`.
    ``timeout`` bounds every wait for the child, in seconds.
    """

    def __init__(self, *, timeout: float = 10.0):
        self.timeout = timeout
        self._child: Optional[Child] = None
        self._conn: Optional[socket.socket] = None
        parent_end, child_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)

        def serve(_fd: int) -> int:
            parent_end.close()
            return _netns.serve(child_end)

        try:
            self._child = Child(serve)
        finally:
            child_end.close()
        self._conn = parent_end
        self._conn.settimeout(timeout)
        try:
            hello = _wire.decode_reply(self._recv())
        except _wire.RemoteError as exc:
            self.close()
            raise OracleUnavailable(f"no private network namespace: {exc}") from None
        except OracleUnavailable:
            self.close()
            raise
        self.ifindex = hello.u32()
        #: copies taps saw that were neither a frame we sent nor a fence:
        #: what the namespace's own stack sent (an ICMP error, a TCP reset).
        self.noise = 0

    # --- talking to the child ----------------------------------------------------
    def _recv(self) -> bytes:
        try:
            return _wire.recv_message(self._conn)
        except (socket.timeout, _wire.ProtocolError, OSError) as exc:
            status = self._child.kill() if self._child else None
            how = f" ({describe_status(status)})" if status is not None else ""
            self._drop()
            raise OracleUnavailable(f"the namespace child stopped answering{how}: {exc}") from None

    def _request(self, body: bytes) -> _wire.Reader:
        if self._conn is None:
            raise UsageError("this PacketNamespace is closed")
        try:
            _wire.send_message(self._conn, body)
        except OSError as exc:
            self.close()
            raise OracleUnavailable(f"the namespace child is gone: {exc}") from None
        try:
            return _wire.decode_reply(self._recv())
        except _wire.RemoteError as exc:
            raise OracleUnavailable(f"in the namespace: {exc}") from None

    # --- the oracle ------------------------------------------------------------------
    def run(self, program: Program, frames: Iterable[bytes]) -> List[List[Observation]]:
        """For each frame, the copies taps saw, in the order the kernel
        delivered them (outgoing first).  Raises :class:`KernelRejected` if
        the kernel will not attach ``program``, :class:`UsageError` for a
        frame ``lo`` cannot carry (under 14 or over 65550 bytes)."""
        program = Program(program)
        frames = [bytes(f) for f in frames]
        for i, frame in enumerate(frames):
            if not MIN_FRAME <= len(frame) <= MAX_FRAME:
                raise UsageError(f"frame {i} has {len(frame)} bytes; lo carries "
                                 f"{MIN_FRAME}..{MAX_FRAME}")
        if not frames:
            return []
        plan = _Plan(program, min(_shortest_copy(f) for f in frames))
        errors = self._request(_wire.encode_programs([p.to_bytes() for p in plan.programs]))
        errnos = [errors.i32() for _ in plan.programs]
        errors.end()
        if errnos[0]:
            raise KernelRejected(errnos[0])
        plan.note_attach_errors(errnos)
        results = []
        for i, frame in enumerate(frames):
            r = self._request(bytes([_wire.OP_SEND]) + frame)
            send_errno = r.i32()
            captured = [r.captured() for _ in range(r.u32())]
            delivered = [[r.delivered() for _ in range(r.u32())] for _ in range(r.u32())]
            r.end()
            if send_errno:
                raise UsageError(f"frame {i}: the kernel would not send it: "
                                 f"{_errno.errorcode.get(send_errno, send_errno)} ({os.strerror(send_errno)})")
            if len(delivered) != len(plan.programs):
                raise OracleUnavailable("the namespace child answered for the wrong number of filters")
            observations = plan.observe(frame, captured, delivered)
            fences = sum(1 for c in captured if c.data[:6] == _netns.FENCE_DST)
            self.noise += len(captured) - len(observations) - fences
            results.append(observations)
        return results

    # --- life cycle ---------------------------------------------------------------------
    def close(self) -> None:
        if self._conn is not None and self._child is not None and self._child.status is None:
            try:
                self._conn.settimeout(1.0)
                _wire.send_message(self._conn, bytes([_wire.OP_CLOSE]))
                _wire.recv_message(self._conn)
            except (OSError, _wire.ProtocolError):
                pass
            if self._child.wait(1.0) is None:
                self._child.kill()
        self._drop()

    def _drop(self) -> None:
        if self._child is not None:
            self._child.kill()
            self._child = None
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> "PacketNamespace":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self):
        if getattr(self, "_child", None) is not None or getattr(self, "_conn", None) is not None:
            self._drop()


def _shortest_copy(frame: bytes) -> int:
    """A lower bound on the length of any copy of ``frame``: receive strips
    at most a tag or two (4 bytes each), never below the Ethernet header."""
    return max(min(len(frame), MIN_FRAME), len(frame) - 8)


def _strip_tag(frame: bytes) -> Optional[bytes]:
    if len(frame) >= MIN_FRAME + 4 and frame[12:14] in _VLAN_TYPES:
        return frame[:12] + frame[16:]
    return None


def _variants(frame: bytes) -> List[bytes]:
    """The frame as sent, with one tag stripped, with two."""
    out = [frame]
    while len(out) < 3:
        stripped = _strip_tag(out[-1])
        if stripped is None:
            break
        out.append(stripped)
    return out


def _same_copy(c: _wire.Captured, d: _wire.Delivered) -> bool:
    vlan_bits = TP_STATUS_VLAN_VALID | TP_STATUS_VLAN_TPID_VALID
    return (c.pkttype == d.pkttype and c.protocol == d.protocol and c.tp_len == d.tp_len
            and (c.tp_status & vlan_bits) == (d.tp_status & vlan_bits)
            and c.vlan_tci == d.vlan_tci and c.vlan_tpid == d.vlan_tpid
            and d.length <= len(c.data) and c.data[:len(d.prefix)] == d.prefix)


def align(captured: Sequence[_wire.Captured], copies: Sequence[_wire.Delivered]) -> List[Optional[_wire.Delivered]]:
    """Which captured copy each filtered copy is.  Every tap sees the same
    skbs in the same order, so a filtered socket's copies are a subsequence
    of the capture socket's; a copy matches the first captured one with
    the same metadata whose bytes it is a prefix of."""
    out: List[Optional[_wire.Delivered]] = [None] * len(captured)
    pos = 0
    for d in copies:
        while pos < len(captured) and not _same_copy(captured[pos], d):
            pos += 1
        if pos == len(captured):
            raise OracleUnavailable("a filtered socket got a copy the capture socket did not see")
        out[pos] = d
        pos += 1
    return out


class _Plan:
    """The filters attached for one run: the program, its verdict chunks,
    and the probes; and how to read the answers back."""

    def __init__(self, program: Program, shortest: int):
        self.width = _exact.chunk_width(shortest)
        self.mask = (1 << self.width) - 1
        self.programs: List[Program] = [program]
        self.user_chunks: List[Tuple[int, int]] = []            # (shift, socket index)
        try:
            for shift, chunk in _exact.chunk_programs(program, self.width, has_device=True):
                self.user_chunks.append((shift, len(self.programs)))
                self.programs.append(chunk)
        except ValueError:
            pass                                                # loads SKF_AD_RANDOM
        self.probes: Dict[str, List[Tuple[int, int]]] = {}
        for field, offset, bits in PROBES:
            probe = Program([Instruction(isa.LD | isa.W | isa.ABS, 0, 0, isa.SKF_AD_OFF + offset),
                             Instruction(isa.RET | isa.RET_A, 0, 0, 0)])
            self.probes[field] = []
            for shift in range(0, bits, self.width):
                self.probes[field].append((shift, len(self.programs)))
                self.programs.append(_exact.chunk_program(probe, shift, self.width, has_device=True))

    def note_attach_errors(self, errnos: List[int]) -> None:
        if any(errnos[i] for _, i in self.user_chunks):
            self.user_chunks = []             # e.g. over 4096 instructions with the tail
        for field, chunks in self.probes.items():
            bad = [errnos[i] for _, i in chunks if errnos[i]]
            if bad:
                raise OracleUnavailable(f"the kernel refused the probe for {field}: "
                                        f"{_errno.errorcode.get(bad[0], bad[0])}")

    def observe(self, frame: bytes, captured: List[_wire.Captured],
                delivered: List[List[_wire.Delivered]]) -> List[Observation]:
        aligned = [align(captured, copies) for copies in delivered]
        variants = _variants(frame)
        out = []
        for ci, cap in enumerate(captured):
            if cap.data not in variants:
                continue                      # the fence, or something the stack sent
            length = len(cap.data)
            if self.mask > length:
                raise OracleUnavailable(f"a copy of {length} bytes is too short for "
                                        f"{self.width}-bit chunks")

            def read(chunks: List[Tuple[int, int]]) -> int:
                return _exact.assemble((shift, _exact.chunk_of(
                    None if aligned[i][ci] is None else aligned[i][ci].length, length))
                    for shift, i in chunks)

            user = aligned[0][ci]
            got = None if user is None else user.length
            if not _exact.needs_chunks(got, length):
                verdict: Optional[int] = _exact.plain_verdict(got)
            elif self.user_chunks:
                verdict = read(self.user_chunks)
            else:
                verdict = None
            fields = {name: read(chunks) for name, chunks in self.probes.items()}
            context = Context(has_device=True, link_header=0, network_header=cap.tp_net, **fields)
            meta = Metadata(cap.protocol, cap.pkttype, cap.hatype, cap.ifindex, cap.tp_status,
                            cap.tp_len, cap.vlan_tci, cap.vlan_tpid, cap.tp_net)
            out.append(Observation(cap.data, context, got, verdict, meta))
        return out
