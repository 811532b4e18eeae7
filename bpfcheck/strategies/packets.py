"""Packets: raw bytes, structured frames, and lengths aimed at one program.

A load's bounds check is where implementations differ, so the lengths
that matter are the ones just below and at the end of every load: for
``ldh [12]`` a 13-byte and a 14-byte packet.  :func:`load_boundaries`
lists them for a program; ``packets(for_program=p)`` draws packets of those
lengths (frames cut or padded to them) most of the time.
"""

from __future__ import annotations

from typing import Optional, Sequence, Tuple

from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from .. import isa
from ..program import Program
from ._validation import check_bool, check_int_range, drawn_by, given_arguments
from .frames import _frames

#: lengths around the offsets real filters load from (Ethernet, IPv4, IPv6, ports)
INTERESTING_LENGTHS = (0, 1, 2, 3, 4, 5, 11, 12, 13, 14, 15, 16, 17, 19, 20, 21, 22, 23, 24, 25, 26,
                       27, 33, 34, 35, 36, 37, 38, 39, 53, 54, 55, 56, 57, 60, 64, 65, 128)
#: X values an indirect load is often made with: 0, IPv4 header lengths (ldx 4*([14]&0xf))
_X_GUESSES = (0, 14, 20, 24, 28, 32, 40, 60)
#: a packet longer than this never changes a load's outcome in the tests we aim at
_MAX_BOUNDARY = 1 << 16


def load_boundaries(program: Sequence) -> Tuple[int, ...]:
    """Packet lengths at which some load of ``program`` turns from out of
    bounds to in bounds (each boundary and one byte short of it), for an
    ``AF_UNIX`` datagram (network header at offset 0) or a libpcap buffer.

    Indirect loads depend on X: the guesses are 0, every ``ldx #k``
    constant and the usual IPv4 header lengths.  A program that compares
    ``len`` with small constants adds those constants and their neighbours.
    """
    program = Program(program)
    xs = set(_X_GUESSES) | {k for code, _, _, k in program if code == isa.LDX | isa.IMM and k < _MAX_BOUNDARY}
    reads_len = any(code in (isa.LD | isa.W | isa.LEN, isa.LDX | isa.W | isa.LEN) for code, _, _, _ in program)
    ends = set()
    for code, _, _, k in program:
        cls, mode = code & 0x07, code & 0xE0
        size = isa.SIZE_BYTES.get(code & 0x18, 4)
        if cls == isa.LD and mode == isa.ABS and isa.extension_of(k) is None:
            if k >= isa.SKF_NET_OFF and k < isa.SKF_AD_OFF:
                k -= isa.SKF_NET_OFF          # network-relative: the header is at 0 here
            ends.add(k + size)
        elif cls == isa.LD and mode == isa.IND:
            ends.update(x + k + size for x in xs)
        elif code == isa.LDX | isa.B | isa.MSH:
            ends.add(k + 1)
        elif reads_len and cls == isa.JMP and code & 0xF0 != isa.JA and code & isa.X == 0:
            ends.update((k, k + 1))
    out = set()
    for end in ends:
        if 0 < end <= _MAX_BOUNDARY:
            out.update((end - 1, end))
    return tuple(sorted(out))


def packets(min_size: int = 0, max_size: int = 128, structured: bool = True,
            for_program: Optional[Sequence] = None) -> st.SearchStrategy[bytes]:
    """Packets of ``min_size``..``max_size`` bytes.

    Random bytes of lengths around the common load offsets, and
    (``structured``) scapy-built frames (:func:`frames`), whole or cut
    short.  ``for_program``: most packets are cut or padded to one of the
    program's :func:`load_boundaries` (those within the size range).
    """
    check_int_range("min_size", min_size, 0, 65535)
    check_int_range("max_size", max_size, min_size, 65535)
    check_bool("structured", structured)
    if for_program is not None:
        try:
            for_program = Program(for_program)
        except (TypeError, ValueError) as e:
            raise InvalidArgument(f"for_program={for_program!r} is not a program: {e}") from None
    return _packets(**given_arguments(min_size=(min_size, 0), max_size=(max_size, 128),
                                      structured=(structured, True), for_program=(for_program, None)))


@drawn_by("packets")
def _packets(draw, *, min_size=0, max_size=128, structured=True, for_program=None) -> bytes:
    boundaries = ()
    if for_program is not None:
        boundaries = tuple(n for n in load_boundaries(for_program) if min_size <= n <= max_size)
    if structured and draw(st.booleans()):
        packet = draw(_frames())
    else:
        packet = draw(_raw(min_size, max_size))
    if boundaries and draw(st.integers(0, 3)):
        packet = _resize(packet, draw(st.sampled_from(boundaries)), draw(_FILL))
    return _resize(packet[:max_size], max(min_size, min(len(packet), max_size)), b"\0")


_FILL = st.sampled_from((b"\0", b"\xff", b"\x45", b"\x08"))


def _resize(packet: bytes, n: int, fill: bytes) -> bytes:
    return packet[:n] if len(packet) >= n else packet + fill * (n - len(packet))


def _raw(min_size, max_size):
    lengths = [n for n in INTERESTING_LENGTHS if min_size <= n <= max_size]
    size = st.integers(min_size, max_size)
    if lengths:
        size = st.one_of(st.sampled_from(lengths), size)
    return size.flatmap(lambda n: st.one_of(
        st.binary(min_size=n, max_size=n),
        _FILL.map(lambda b: b * n)))
