"""The netlink attribute walk (``ld [nla]``, ``ld [nlan]``) over a few
attributes, as z3 terms: what makes witnesses for such programs replay.

The encoder models the walk as an uninterpreted function of the packet
(it is a loop as long as the packet allows), which over-approximates: a
model may give the function a value no packet produces, and the witness
built from it does not replay.  Pinning every application of the function
to the walk over at most ``STEPS`` attributes, and requiring the walk to
end within them, under-approximates instead: each model is then a packet
the kernel walks exactly so.  The walk follows
:func:`bpfcheck.domains.concrete.netlink_attr_offset` (``nla_find``):
``{u16 nla_len; u16 nla_type}`` little-endian, 4-byte aligned, the type
without its flag bits.  Arithmetic is on 64 bits, so no sum wraps.
"""

from __future__ import annotations

from typing import List

import z3

#: attributes walked: a witness needs few, and each adds two reads
STEPS = 4
NETLINK_FUNCTIONS = ("netlink_attr", "netlink_attr_nested")


def _u16_le(packet, pos32):
    return z3.ZeroExt(48, z3.Concat(z3.Select(packet, pos32 + 1), z3.Select(packet, pos32)))


def walk(packet, length, a, x, nested: bool, steps: int = STEPS):
    """``(offset, ended)``: the offset of the first attribute of type ``x``
    from ``a`` (0 when there is none), and whether the walk ended (found
    it, or stopped) within ``steps`` attributes."""
    n, start = z3.ZeroExt(32, length), z3.ZeroExt(32, a)
    usable = z3.And(z3.UGE(n, 4), z3.ULE(start, n - 4))
    end = n
    if nested:
        outer = _u16_le(packet, a)            # the attribute at A holds the ones searched
        usable = z3.And(usable, z3.ULE(outer, n - start))
        start, end = start + 4, start + outer
    found, ended, pos = z3.BitVecVal(0, 32), z3.Not(usable), start
    for _ in range(steps):
        at = z3.Extract(31, 0, pos)
        size = _u16_le(packet, at)
        kind = z3.Extract(31, 0, _u16_le(packet, at + 2)) & 0x3FFF
        broken = z3.Or(z3.UGT(pos + 4, end), z3.ULT(size, 4), z3.UGT(size, end - pos))
        hit = z3.And(z3.Not(broken), kind == x)
        found = z3.If(z3.And(z3.Not(ended), hit), at, found)
        ended = z3.Or(ended, broken, hit)
        pos = pos + ((size + 3) & ~z3.BitVecVal(3, 64))
    return found, ended


def plausible(found, packet, length, a, x, nested: bool):
    """What every real search result satisfies: 0, or the offset of an
    attribute of type ``x`` that the walk from ``a`` can stop at — inside
    the area searched, 4-byte aligned from its start, its length valid.
    (The encoder keeps the function's value only where this holds, which
    over-approximates still, but no longer allows e.g. an odd offset.)"""
    n, start, r = z3.ZeroExt(32, length), z3.ZeroExt(32, a), z3.ZeroExt(32, found)
    usable = z3.And(z3.UGE(n, 4), z3.ULE(start, n - 4))
    end = n
    if nested:
        outer = _u16_le(packet, a)
        usable = z3.And(usable, z3.ULE(outer, n - start))
        start, end = start + 4, start + outer
    size = _u16_le(packet, found)
    kind = z3.Extract(31, 0, _u16_le(packet, found + 2)) & 0x3FFF
    stop = z3.And(usable, z3.UGE(r, start), (r - start) & 3 == 0, z3.ULE(r + 4, end),
                  kind == x, z3.UGE(size, 4), z3.ULE(size, end - r))
    return z3.Or(found == 0, stop)


def bounded_walks(assertions, steps: int = STEPS) -> List:
    """Constraints pinning every netlink search in ``assertions`` to a walk
    that ends within ``steps`` attributes (an under-approximation: see the
    module doc); empty when there is none."""
    out, seen, stack = [], set(), list(assertions)
    while stack:
        e = stack.pop()
        if e.get_id() in seen:
            continue
        seen.add(e.get_id())
        if z3.is_app(e) and e.decl().name() in NETLINK_FUNCTIONS and e.num_args() == 4:
            packet, length, a, x = (e.arg(i) for i in range(4))
            found, ended = walk(packet, length, a, x, e.decl().name().endswith("nested"), steps)
            out.append(z3.And(e == found, ended))
        stack.extend(e.children())
    return out
