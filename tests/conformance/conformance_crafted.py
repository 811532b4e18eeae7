"""The crafted conformance set: every one of the kernel's 49 opcodes and
every SKF_AD_* extension, on inputs chosen to hit the corners.

Loads are aimed at ``len - size`` (the last in-bounds position) and
``len - size + 1`` (the first out-of-bounds one) for every load kind and
size, absolute, indirect, ``ldx 4*([k]&0xf)``, network- and link-relative;
the in-bounds path always ends with a non-zero verdict (packet bytes are
never 0x00 or 0xff and the load is followed by ``add #1; ret a``), so a
wrong "out of bounds, return 0" cannot pass.

Each group is ``{name: [(program, packets), ...]}``; the same groups run
against the AF_UNIX kernel socket and libpcap.
"""

from __future__ import annotations

import struct
from typing import Dict, List, Sequence, Tuple

from bpfcheck import isa
from bpfcheck.program import Program

from conformance_support import AD, LL, NASTY, NET, RET_A, P, U32, be32, pattern, ret

Case = Tuple[Program, List[bytes]]

#: packet lengths: tiny, around the Ethernet/IP header offsets, the MTU, and
#: both sides of SKB_MAX_ALLOC (16064 here: longer AF_UNIX datagrams are
#: non-linear skbs, read through skb_copy_bits) and of 64 KiB
LENGTHS = (0, 1, 2, 3, 4, 5, 6, 8, 13, 14, 15, 16, 17, 20, 64, 1500, 16064, 16065, 70000)
PACKETS = [pattern(n) for n in LENGTHS]
SMALL_PACKETS = [pattern(n) for n in (0, 1, 4, 14, 64, 1500)]

W, H, B = isa.W, isa.H, isa.B
SIZES = {W: 4, H: 2, B: 1}
SIZE_NAMES = {W: "W", H: "H", B: "B"}

#: A and X operand values for ALU and jump tests
AVALS = (0, 1, 2, 3, 7, 31, 32, 33, 0xFF, 0x7FFFFFFF, 0x80000000, 0x80000001, 0xFFFFFFFE,
         0xFFFFFFFF, 0x12345678)
XVALS = (0, 1, 2, 3, 7, 31, 32, 33, 63, 64, 0x80000000, 0xFFFFFFFF, 0x12345678)
A_PACKETS = [be32(a) for a in AVALS]
AX_PACKETS = [be32(a, x) for a in AVALS for x in XVALS]

ALU_OPS = {"add": 0x00, "sub": 0x10, "mul": 0x20, "div": 0x30, "or": 0x40, "and": 0x50,
           "lsh": 0x60, "rsh": 0x70, "mod": 0x90, "xor": 0xA0}
JMP_OPS = {"jeq": 0x10, "jgt": 0x20, "jge": 0x30, "jset": 0x40}


def boundary_offsets(size: int) -> List[int]:
    """``len - size`` and ``len - size + 1`` for every crafted length."""
    out = set()
    for n in LENGTHS:
        for t in (n - size, n - size + 1):
            if t >= 0:
                out.add(t)
    return sorted(out)


def _value_load(load: tuple, prefix: Sequence[tuple] = ()) -> Program:
    """load; add #1; ret a — verdict is value + 1 in bounds, 0 otherwise."""
    return P(*prefix, load, (0x04, 0, 0, 1), RET_A)


# --- loads ----------------------------------------------------------------------------
def abs_loads() -> List[Case]:
    cases = []
    for size, nbytes in SIZES.items():
        offsets = boundary_offsets(nbytes) + [0x7FFFFFFF, 0x80000000, AD - 1, AD - nbytes]
        for k in offsets:
            cases.append((_value_load((0x20 | size, 0, 0, k)), PACKETS))
    return cases


def net_loads() -> List[Case]:
    """SKF_NET_OFF + t: the network header is at 0 on an AF_UNIX datagram."""
    cases = []
    for size, nbytes in SIZES.items():
        for t in boundary_offsets(nbytes):
            cases.append((_value_load((0x20 | size, 0, 0, NET + t)), PACKETS))
        # the last byte below SKF_NET_OFF is link-relative: fails without a link header
        cases.append((_value_load((0x20 | size, 0, 0, NET - 1)), SMALL_PACKETS))
    return cases


def link_loads() -> List[Case]:
    """SKF_LL_OFF + t: no link-layer header on AF_UNIX, so every one fails;
    below SKF_LL_OFF every load fails everywhere."""
    cases = []
    for size, nbytes in SIZES.items():
        for t in (0, 1, 13, 14, 60):
            cases.append((_value_load((0x20 | size, 0, 0, LL + t)), SMALL_PACKETS))
        cases.append((_value_load((0x20 | size, 0, 0, LL - 1)), SMALL_PACKETS))
    return cases


def ind_loads() -> List[Case]:
    """ld [x + k]: (X + k) mod 2**32 taken as signed; splits of each target
    between X and k, wrap-arounds, and sums in the negative areas."""
    cases = []
    for size, nbytes in SIZES.items():
        code = 0x40 | size
        for t in boundary_offsets(nbytes):
            splits = [(0, t), (t, 0), (0xFFFFFFFF, (t + 1) & U32), ((t + 0x80000000) & U32, 0x80000000)]
            if t >= 1:
                splits.append((1, t - 1))
            for x, k in splits:
                cases.append((_value_load((code, 0, 0, k), [(0x01, 0, 0, x)]), PACKETS))
        # sums in the network area (network header 0), the extension area
        # (no extensions through indirect loads) and below SKF_LL_OFF
        for x, k in ((0, NET), (NET, 4), (NET + 2, 0xFFFFFFFE), (0, AD), (AD, 0), (0, AD + 4),
                     (4, AD - 4), (0, LL), (0, LL - 1), (0xFFFFFFFF, 0), (0x80000000, 0)):
            cases.append((_value_load((code, 0, 0, k), [(0x01, 0, 0, x)]), SMALL_PACKETS))
    return cases


def msh_loads() -> List[Case]:
    """ldx 4*([k]&0xf): X = (P[k] & 0xf) << 2 and A is untouched; the
    verdict is 0x55 + X in bounds, 0 out of bounds."""
    cases = []
    for k in boundary_offsets(1) + [NET, NET + 13, NET + 14, LL, AD, AD + 4, AD - 1,
                                    0x7FFFFFFF, 0x80000000, 0xFFFFFFFF]:
        cases.append((P((0x00, 0, 0, 0x55), (0xB1, 0, 0, k), (0x0C, 0, 0, 0), RET_A), PACKETS))
    # the nibble of every possible byte value
    every_byte = [bytes([b]) for b in range(256)]
    cases.append((P((0x00, 0, 0, 0x55), (0xB1, 0, 0, 0), (0x0C, 0, 0, 0), RET_A), every_byte))
    return cases


def far_net_load() -> List[Case]:
    """ld [SKF_AD_OFF - 1] is a network-relative load at 0xFEFFF, not an
    extension: on a datagram over 1 MiB it reads real bytes."""
    packet = bytearray(0xFEFFF + 8)
    packet[0xFEFFF:0xFEFFF + 4] = b"\x00\x00\x01\x23"
    packets = [bytes(packet), bytes(packet[:0xFEFFF + 3]), b"", pattern(100)]
    return [(P((0x20, 0, 0, AD - 1), RET_A), packets),
            (P((0x28, 0, 0, AD - 2), (0x04, 0, 0, 1), RET_A), packets),
            (P((0x01, 0, 0, 0xFFFFF000), (0x40, 0, 0, 0xFFFFFFFF), RET_A), packets)]


# --- arithmetic, jumps, the rest ------------------------------------------------------------
def alu_k() -> List[Case]:
    cases = []
    for name, op in ALU_OPS.items():
        for k in NASTY:
            if name in ("div", "mod") and k == 0:
                continue                          # rejected by the checker
            if name in ("lsh", "rsh") and k >= 32:
                continue
            cases.append((P((0x20, 0, 0, 0), (0x04 | op, 0, 0, k), RET_A), A_PACKETS))
    cases.append((P((0x20, 0, 0, 0), (0x84, 0, 0, 0), RET_A), A_PACKETS))           # neg
    cases.append((P((0x20, 0, 0, 0), (0x84, 9, 9, 0xFFFFFFFF), RET_A), A_PACKETS))  # neg ignores jt/jf/k
    return cases


def alu_x() -> List[Case]:
    cases = []
    for name, op in ALU_OPS.items():
        # X from bytes 4..7, A from bytes 0..3
        cases.append((P((0x20, 0, 0, 4), (0x07, 0, 0, 0), (0x20, 0, 0, 0), (0x0C | op, 0, 0, 0), RET_A),
                      AX_PACKETS))
        if name in ("div", "mod"):
            # X = 0 at run time ends the program with 0, even with a ret #k after it
            cases.append((P((0x20, 0, 0, 4), (0x07, 0, 0, 0), (0x20, 0, 0, 0), (0x0C | op, 0, 0, 0),
                            ret(0x7777)), AX_PACKETS))
    return cases


def jumps() -> List[Case]:
    cases = []
    for name, op in JMP_OPS.items():
        for k in NASTY:
            for jt, jf in ((0, 1), (1, 0), (0, 0), (2, 1)):
                cases.append((P((0x20, 0, 0, 0), (0x05 | op, jt, jf, k), ret(11), ret(22), ret(33)),
                              A_PACKETS))
        for jt, jf in ((0, 1), (1, 0), (0, 0), (2, 1)):
            cases.append((P((0x20, 0, 0, 4), (0x07, 0, 0, 0), (0x20, 0, 0, 0), (0x0D | op, jt, jf, 0),
                            ret(11), ret(22), ret(33)), AX_PACKETS))
    # ja: k counts forward, jt and jf are ignored
    for k in (0, 1, 2):
        for jt, jf in ((0, 0), (7, 9), (255, 255)):
            cases.append((P((0x05, jt, jf, k), ret(1), ret(2), ret(3)), SMALL_PACKETS))
    return cases


def immediates_and_returns() -> List[Case]:
    cases = []
    for k in NASTY:
        cases.append((P(ret(k)), PACKETS))
        cases.append((P((0x00, 0, 0, k), RET_A), SMALL_PACKETS))
        cases.append((P((0x01, 0, 0, k), (0x87, 0, 0, 0), RET_A), SMALL_PACKETS))
        cases.append((P((0x00, 0, 0, k), (0x07, 0, 0, 0), (0x00, 0, 0, 0), (0x87, 0, 0, 0), RET_A),
                      SMALL_PACKETS))
    # A and X start at 0; ret a right away
    cases.append((P(RET_A), SMALL_PACKETS))
    cases.append((P((0x87, 0, 0, 0), RET_A), SMALL_PACKETS))
    # ret #k ignores jt/jf, ret a ignores k
    cases.append((P((0x00, 0, 0, 5), (0x16, 3, 4, 0x99)), SMALL_PACKETS))
    cases.append((P((0x06, 3, 4, 0x99)), SMALL_PACKETS))
    return cases


def lengths() -> List[Case]:
    return [(P((0x80, 0, 0, 0), RET_A), PACKETS),
            (P((0x80, 0, 0, 0), (0x04, 0, 0, 1), RET_A), PACKETS),
            (P((0x81, 0, 0, 0), (0x87, 0, 0, 0), RET_A), PACKETS),
            (P((0x81, 0, 0, 0), (0x80, 0, 0, 0), (0x0C, 0, 0, 0), RET_A), PACKETS)]


def scratch() -> List[Case]:
    cases = []
    for i in range(isa.MEMWORDS):
        cases.append((P((0x20, 0, 0, 0), (0x02, 0, 0, i), (0x00, 0, 0, 0), (0x60, 0, 0, i), RET_A), A_PACKETS))
        cases.append((P((0x20, 0, 0, 0), (0x07, 0, 0, 0), (0x03, 0, 0, i), (0x01, 0, 0, 0),
                        (0x61, 0, 0, i), (0x87, 0, 0, 0), RET_A), A_PACKETS))
    # all sixteen cells distinct, then summed back
    prog = []
    for i in range(isa.MEMWORDS):
        prog += [(0x00, 0, 0, 1 << i), (0x02, 0, 0, i)]
    prog.append((0x00, 0, 0, 0))
    for i in range(isa.MEMWORDS):
        prog += [(0x61, 0, 0, i), (0x0C, 0, 0, 0)]
    prog.append(RET_A)
    cases.append((P(*prog), SMALL_PACKETS))
    return cases


# --- extensions on AF_UNIX ---------------------------------------------------------------------
def extensions(skip_random: bool = True) -> List[Case]:
    """Every extension with A = 0x1234 and X = 7 beforehand, with every
    load size (extension loads ignore it): the value (+1), then X."""
    cases = []
    for n in sorted(isa.EXTENSIONS):
        if n in (isa.SKF_AD_RANDOM, isa.SKF_AD_NLATTR, isa.SKF_AD_NLATTR_NEST) and skip_random:
            continue
        for size in SIZES:
            load = (0x20 | size, 0, 0, AD + n)
            cases.append((P((0x01, 0, 0, 7), (0x00, 0, 0, 0x1234), load, (0x04, 0, 0, 1), RET_A), SMALL_PACKETS))
            cases.append((P((0x01, 0, 0, 7), (0x00, 0, 0, 0x1234), load, (0x87, 0, 0, 0), RET_A), SMALL_PACKETS))
    # xor_x is A ^= X
    cases.append((P((0x20, 0, 0, 4), (0x07, 0, 0, 0), (0x20, 0, 0, 0), (0x20, 0, 0, AD + isa.SKF_AD_ALU_XOR_X),
                    RET_A), AX_PACKETS))
    return cases


def nla(attr_type: int, payload: bytes, length: int = None) -> bytes:
    """One netlink attribute, host (little-endian) order, padded to 4."""
    n = 4 + len(payload) if length is None else length
    return struct.pack("<HH", n & 0xFFFF, attr_type) + payload + bytes((-(4 + len(payload))) % 4)


#: netlink attribute streams: plain, nested, flagged types, malformed lengths
NLA_BODIES = [
    b"",
    b"\x08\x00",
    nla(1, b"abcd") + nla(2, b"xy") + nla(3, nla(7, b"q") + nla(8, b"zz")),
    nla(5, b"") + nla(6, b"12345") + nla(0x8000 | 9, b"nest") + nla(0x4000 | 10, b"be"),
    nla(3, nla(7, b"q") + nla(8, b"zz") + nla(9, b"")) + nla(2, b"t"),
    nla(1, b"abcd", length=3) + nla(2, b"x"),               # nla_len < 4 stops the walk
    nla(1, b"abcd", length=200) + nla(2, b"x"),             # nla_len past the end
    nla(1, b"abc") + nla(2, b"defg"),                        # odd length, aligned next
    nla(3, nla(7, b"q"), length=4) + nla(7, b"r"),           # empty nest
    nla(3, nla(7, b"q"), length=2) + nla(7, b"r"),           # nest length < 4
    bytes(range(1, 60)),
]


def netlink_attributes() -> List[Case]:
    """nla / nlan: the offset of attribute X searched from offset A (0 when
    absent).  Packets stay linear (well under 16064 bytes): see
    test_regression_nla_on_nonlinear_datagram for the long ones."""
    cases = []
    packets = NLA_BODIES + [b"\xaa" * 4 + b for b in NLA_BODIES[2:5]]
    for ext in (isa.SKF_AD_NLATTR, isa.SKF_AD_NLATTR_NEST):
        for a in (0, 1, 4, 8, 12, 16, 20, 24, 28, 36, 0xFFFFFFFF, 0x80000000):
            for x in (0, 1, 2, 3, 7, 8, 9, 10, 0x4000 | 10, 0xFFFFFFFF):
                cases.append((P((0x00, 0, 0, a), (0x01, 0, 0, x), (0x20, 0, 0, AD + ext),
                                (0x04, 0, 0, 1), RET_A), packets))
        # X survives; the size bits are ignored
        cases.append((P((0x00, 0, 0, 0), (0x01, 0, 0, 2), (0x30, 0, 0, AD + ext), (0x0C, 0, 0, 0), RET_A),
                      packets))
    return cases


GROUPS = {
    "ld-abs": abs_loads,
    "ld-net-relative": net_loads,
    "ld-link-relative": link_loads,
    "ld-indirect": ind_loads,
    "ldx-msh": msh_loads,
    "ld-far-network-relative": far_net_load,
    "alu-k": alu_k,
    "alu-x": alu_x,
    "jumps": jumps,
    "immediates-and-returns": immediates_and_returns,
    "lengths": lengths,
    "scratch": scratch,
    "extensions": extensions,
    "netlink-attributes": netlink_attributes,
}


def all_cases() -> Dict[str, List[Case]]:
    return {name: make() for name, make in GROUPS.items()}
