"""The small binary protocol between :mod:`.packet` and its namespace child.

Every message is ``u32 length`` (little-endian) then that many bytes.  The
body is a fixed layout per message, read with :class:`Reader`, which
refuses to read past the end: nothing is ever unpickled or evaluated.

Requests (first byte: the operation)::

    ATTACH  u32 count, count x (u32 n, n x 8-byte sock_filter)
    SEND    the frame's bytes
    CLOSE   -

Replies: ``u8 0`` then the payload, or ``u8 1, i32 errno, utf-8 message``.

    ATTACH  count x i32 errno (0: attached)
    SEND    i32 send errno, u32 n, n x CAPTURED, u32 sockets,
            sockets x (u32 m, m x DELIVERED)
"""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass
from typing import List

OP_ATTACH, OP_SEND, OP_CLOSE = 1, 2, 3
OK, ERR = 0, 1
MAX_MESSAGE = 64 << 20
PREFIX = 64                      # bytes of each filtered copy sent back, for matching

_U32 = struct.Struct("<I")
_I32 = struct.Struct("<i")
# pkttype, protocol, ifindex, hatype, tp_status, tp_len, vlan_tci, vlan_tpid, tp_net
_CAPTURED = struct.Struct("<BHiHIIHHH")
# pkttype, protocol, tp_status, tp_len, vlan_tci, vlan_tpid, delivered length
_DELIVERED = struct.Struct("<BHIIHHI")


class ProtocolError(Exception):
    """A message that does not follow the layout (or a dead peer)."""


@dataclass(frozen=True)
class Captured:
    """One copy the filterless capture socket saw: the whole frame as the
    filter saw it, and the metadata from ``sockaddr_ll`` and
    ``tpacket_auxdata``."""

    pkttype: int
    protocol: int
    ifindex: int
    hatype: int
    tp_status: int
    tp_len: int
    vlan_tci: int
    vlan_tpid: int
    tp_net: int
    data: bytes

    def encode(self) -> bytes:
        return (_CAPTURED.pack(self.pkttype, self.protocol, self.ifindex, self.hatype,
                               self.tp_status, self.tp_len, self.vlan_tci, self.vlan_tpid,
                               self.tp_net) + _U32.pack(len(self.data)) + self.data)


@dataclass(frozen=True)
class Delivered:
    """One copy a filtered socket received: its length after the verdict
    trimmed it and the first :data:`PREFIX` bytes."""

    pkttype: int
    protocol: int
    tp_status: int
    tp_len: int
    vlan_tci: int
    vlan_tpid: int
    length: int
    prefix: bytes

    def encode(self) -> bytes:
        return (_DELIVERED.pack(self.pkttype, self.protocol, self.tp_status, self.tp_len,
                                self.vlan_tci, self.vlan_tpid, self.length)
                + bytes([len(self.prefix)]) + self.prefix)


class Reader:
    def __init__(self, data: bytes):
        self.data = data
        self.pos = 0

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise ProtocolError(f"message too short: wanted {n} bytes at {self.pos} of {len(self.data)}")
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        return chunk

    def unpack(self, st: struct.Struct) -> tuple:
        return st.unpack(self.take(st.size))

    def u8(self) -> int:
        return self.take(1)[0]

    def u32(self) -> int:
        return self.unpack(_U32)[0]

    def i32(self) -> int:
        return self.unpack(_I32)[0]

    def blob(self) -> bytes:
        return self.take(self.u32())

    def rest(self) -> bytes:
        return self.take(len(self.data) - self.pos)

    def captured(self) -> Captured:
        fields = self.unpack(_CAPTURED)
        return Captured(*fields, data=self.blob())

    def delivered(self) -> Delivered:
        fields = self.unpack(_DELIVERED)
        return Delivered(*fields, prefix=self.take(self.u8()))

    def end(self) -> None:
        if self.pos != len(self.data):
            raise ProtocolError(f"{len(self.data) - self.pos} unexpected bytes at the end of a message")


def u32(n: int) -> bytes:
    return _U32.pack(n)


def i32(n: int) -> bytes:
    return _I32.pack(n)


def send_message(sock: socket.socket, body: bytes) -> None:
    if len(body) > MAX_MESSAGE:
        raise ProtocolError(f"message of {len(body)} bytes is over the {MAX_MESSAGE} limit")
    sock.sendall(_U32.pack(len(body)) + body)


def recv_message(sock: socket.socket) -> bytes:
    """One message; the socket's own timeout bounds the wait."""
    (length,) = _U32.unpack(_recv_exact(sock, 4))
    if length > MAX_MESSAGE:
        raise ProtocolError(f"message of {length} bytes is over the {MAX_MESSAGE} limit")
    return _recv_exact(sock, length)


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    buf = bytearray(n)
    view = memoryview(buf)
    got = 0
    while got < n:
        k = sock.recv_into(view[got:], n - got)
        if k == 0:
            raise ProtocolError("the other side closed the connection")
        got += k
    return bytes(buf)


def error_reply(errno: int, message: str) -> bytes:
    return bytes([ERR]) + _I32.pack(errno) + message.encode("utf-8", "replace")


def encode_programs(programs: List[bytes]) -> bytes:
    """ATTACH body from raw ``sock_filter`` arrays."""
    out = [bytes([OP_ATTACH]), u32(len(programs))]
    for raw in programs:
        out += [u32(len(raw) // 8), raw]
    return b"".join(out)


def decode_reply(data: bytes) -> Reader:
    """A Reader positioned after the status; raises :class:`RemoteError`."""
    r = Reader(data)
    if r.u8() != OK:
        err = r.i32()
        raise RemoteError(err, r.rest().decode("utf-8", "replace"))
    return r


class RemoteError(Exception):
    def __init__(self, errno: int, message: str):
        self.errno = errno
        super().__init__(message)
