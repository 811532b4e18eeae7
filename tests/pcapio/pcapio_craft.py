"""Capture files built byte by byte with struct, independently of the
writer under test, so the reader is checked against the formats' own
layout rather than against itself."""

from __future__ import annotations

import io
import struct

PCAP_MAGIC_US = 0xA1B2C3D4
PCAP_MAGIC_NS = 0xA1B23C4D


def pcap(records, order="<", nanosecond=False, linktype=1, snaplen=262144, version=(2, 4)):
    """``records``: (sec, frac, data, wirelen) with frac in the file's unit."""
    magic = PCAP_MAGIC_NS if nanosecond else PCAP_MAGIC_US
    out = [struct.pack(order + "IHHiIII", magic, version[0], version[1], 0, 0, snaplen, linktype)]
    for sec, frac, data, wirelen in records:
        out.append(struct.pack(order + "IIII", sec, frac, len(data), wirelen) + data)
    return b"".join(out)


def pad4(data: bytes) -> bytes:
    return data + b"\0" * (-len(data) % 4)


def option(code: int, value: bytes, order="<") -> bytes:
    return struct.pack(order + "HH", code, len(value)) + pad4(value)


def options(*opts, order="<") -> bytes:
    if not opts:
        return b""
    return b"".join(option(c, v, order) for c, v in opts) + struct.pack(order + "HH", 0, 0)


def block(btype: int, body: bytes, order="<", length=None, trailer=None) -> bytes:
    body = pad4(body)
    total = 12 + len(body) if length is None else length
    return (struct.pack(order + "II", btype, total) + body
            + struct.pack(order + "I", total if trailer is None else trailer))


def shb(order="<", opts=b"", major=1) -> bytes:
    return block(0x0A0D0D0A, struct.pack(order + "IHHq", 0x1A2B3C4D, major, 0, -1) + opts, order)


def idb(linktype=1, snaplen=0, tsresol=None, tsoffset=None, order="<", extra=()) -> bytes:
    opts = list(extra)
    if tsresol is not None:
        opts.append((9, bytes([tsresol])))
    if tsoffset is not None:
        opts.append((14, struct.pack(order + "q", tsoffset)))
    return block(1, struct.pack(order + "HHI", linktype, 0, snaplen) + options(*opts, order=order), order)


def epb(iface: int, units: int, data: bytes, wirelen=None, order="<", opts=b"", caplen=None) -> bytes:
    wirelen = len(data) if wirelen is None else wirelen
    caplen = len(data) if caplen is None else caplen
    return block(6, struct.pack(order + "IIIII", iface, units >> 32, units & 0xFFFFFFFF, caplen, wirelen)
                 + pad4(data) + opts, order)


def spb(data: bytes, wirelen=None, order="<") -> bytes:
    return block(3, struct.pack(order + "I", len(data) if wirelen is None else wirelen) + data, order)


def old_pb(iface: int, units: int, data: bytes, wirelen=None, order="<") -> bytes:
    wirelen = len(data) if wirelen is None else wirelen
    return block(2, struct.pack(order + "HHIIII", iface, 0, units >> 32, units & 0xFFFFFFFF,
                                len(data), wirelen) + pad4(data), order)


def frame(n: int, size: int = 60) -> bytes:
    """A recognisable frame: its number in the first bytes."""
    return (struct.pack(">I", n) + bytes(range(256)) * (size // 256 + 1))[:size]


def two_interface_file(order="<"):
    """Ethernet at microseconds (the default), raw IP at nanoseconds with
    a 100 s offset, and interface 2 at 2^-10 s; every packet block kind."""
    return b"".join([
        shb(order, opts=options((1, b"a comment"), order=order)),
        idb(1, 0, order=order),
        block(0xBAD0, b"unknown block, skipped", order),
        idb(101, 65535, tsresol=9, tsoffset=100, order=order),
        epb(0, 1_700_000_000_250_000, frame(1), order=order,
            opts=options((1, b"epb comment"), order=order)),
        epb(1, 5_000_000_007, frame(2, 41), wirelen=1500, order=order),
        block(5, b"\0" * 24, order),                        # statistics: skipped
        idb(228, 0, tsresol=0x80 | 10, order=order),
        epb(2, 3 * 1024 + 512, frame(3, 20), order=order),
        spb(frame(4, 33), order=order),
        old_pb(1, 7, frame(5, 9), order=order),
    ])


class Dribble(io.RawIOBase):
    """A pipe-like stream: no seeking, and reads return a few bytes at a
    time, so every refill boundary in the reader gets crossed."""

    def __init__(self, data: bytes, step: int = 7):
        self._data, self._pos, self._step = data, 0, step

    def readable(self):
        return True

    def seekable(self):
        return False

    def read(self, n=-1):
        n = self._step if n < 0 else min(n, self._step)
        out = self._data[self._pos:self._pos + n]
        self._pos += len(out)
        return out
