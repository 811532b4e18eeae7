"""An abstract domain for the semantics table: unsigned ranges and known bits.

A value is a Python int when it is known exactly, else a :class:`Span`:
an unsigned interval ``[lo, hi]`` together with a *tnum* (``bits`` holds
the bits known to be 1, ``unknown`` the bits that may be either; every
other bit is known 0), as the Linux eBPF verifier tracks registers.  The
two views sharpen each other: ``ldb [k]; rsh #9`` is 0, ``and #0xf`` is
at most 15, ``ldb [k]; jgt #200`` leaves 201..255 on the taken side.

Conditions are :class:`Comparison` objects: a comparison of two values that
knows whether it is surely true, surely false or either (``truth``), and
how it narrows its operands on each side (``narrowed``).  The abstract
interpreter (:mod:`bpfcheck.proof.abstract`) uses them to drop branches
no input can take.

Everything here over-approximates: a concrete run's values are always
inside the abstract ones (tests hold that against the reference VM).
"""

from __future__ import annotations

from typing import Optional, Tuple

from .concrete import CONCRETE, folding

U32 = 0xFFFFFFFF


class Span:
    """A u32 known to lie in ``[lo, hi]`` with the given known bits."""

    __slots__ = ("lo", "hi", "bits", "unknown")

    def __init__(self, lo: int, hi: int, bits: int = 0, unknown: int = U32):
        # Keep both views consistent: the tnum bounds the interval, and the
        # interval's common high bits are known.
        lo, hi = max(lo, bits), min(hi, bits | unknown)
        if lo <= hi:
            prefix_unknown = (1 << (lo ^ hi).bit_length()) - 1
            known_mask = ~prefix_unknown & U32
            # bits fixed by the interval and not contradicting the tnum
            if ((lo & known_mask) ^ bits) & known_mask & ~unknown:
                lo, hi = 1, 0          # contradiction: empty
            else:
                unknown &= prefix_unknown
                bits = (bits & ~known_mask) | (lo & known_mask)
                bits &= ~unknown
        self.lo, self.hi, self.bits, self.unknown = lo, hi, bits & U32, unknown & U32

    @property
    def empty(self) -> bool:
        return self.lo > self.hi

    def __repr__(self) -> str:
        return f"Span({self.lo:#x}..{self.hi:#x}, bits={self.bits:#x}, unknown={self.unknown:#x})"


def top() -> Span:
    """Any u32.  A fresh object each time: the interpreter takes two
    registers holding the *same* object to hold the same value."""
    return Span(0, U32)


def span(v) -> Span:
    return Span(v, v, v, 0) if isinstance(v, int) else v


def full_width(nbytes: int) -> Span:
    top = (1 << (8 * nbytes)) - 1
    return Span(0, top, 0, top)


def settle(s: Span):
    """An int when the span holds one value (callers may then fold)."""
    return s.lo if s.lo == s.hi else s


def bounds(v) -> Tuple[int, int]:
    return (v, v) if isinstance(v, int) else (v.lo, v.hi)


def contains(v, value: int) -> bool:
    """Whether the concrete ``value`` is in the abstract ``v``."""
    if isinstance(v, int):
        return v == value
    return v.lo <= value <= v.hi and (value & ~v.unknown & U32) == v.bits


def join(a, b):
    if a is b or (isinstance(a, int) and isinstance(b, int) and a == b):
        return a
    a, b = span(a), span(b)
    unknown = a.unknown | b.unknown | (a.bits ^ b.bits)
    return Span(min(a.lo, b.lo), max(a.hi, b.hi), a.bits & ~unknown, unknown)


def meet(a, b) -> Optional[object]:
    """The values in both (None when there are none)."""
    if isinstance(a, int) and isinstance(b, int):
        return a if a == b else None
    a, b = span(a), span(b)
    if (a.bits ^ b.bits) & ~(a.unknown | b.unknown):
        return None
    s = Span(max(a.lo, b.lo), min(a.hi, b.hi), a.bits | b.bits, a.unknown & b.unknown)
    return None if s.empty else settle(s)


# --- arithmetic -----------------------------------------------------------------
def _tnum_add(a: Span, b: Span):
    sum_unknown = a.unknown + b.unknown
    sum_bits = a.bits + b.bits
    carries = (sum_unknown + sum_bits) ^ sum_bits
    unknown = (carries | a.unknown | b.unknown) & U32
    return sum_bits & ~unknown & U32, unknown


def _tnum_sub(a: Span, b: Span):
    diff = a.bits - b.bits
    borrows = (diff + a.unknown) ^ (diff - b.unknown)
    unknown = (borrows | a.unknown | b.unknown) & U32
    return diff & ~unknown & U32, unknown


def _from_tnum(bits: int, unknown: int) -> Span:
    return Span(bits, bits | unknown, bits, unknown)


def _binary(concrete, abstract):
    return folding(concrete, lambda a, b: settle(abstract(span(a), span(b))))


def _add(a: Span, b: Span) -> Span:
    bits, unknown = _tnum_add(a, b)
    if a.hi + b.hi <= U32:
        return Span(a.lo + b.lo, a.hi + b.hi, bits, unknown)
    return _from_tnum(bits, unknown)


def _sub(a: Span, b: Span) -> Span:
    bits, unknown = _tnum_sub(a, b)
    if a.lo >= b.hi:
        return Span(a.lo - b.hi, a.hi - b.lo, bits, unknown)
    return _from_tnum(bits, unknown)


def _mul(a: Span, b: Span) -> Span:
    return Span(a.lo * b.lo, a.hi * b.hi) if a.hi * b.hi <= U32 else top()


def _udiv(a: Span, b: Span) -> Span:
    # A divisor of 0 ends the run by its guard before the result is used.
    return Span(a.lo // max(b.hi, 1), a.hi // max(b.lo, 1))


def _urem(a: Span, b: Span) -> Span:
    if b.hi == 0:
        return Span(0, 0)
    if a.hi < b.lo:
        return a
    return Span(0, min(a.hi, b.hi - 1))


def _and(a: Span, b: Span) -> Span:
    bits = a.bits & b.bits
    unknown = (a.bits | a.unknown) & (b.bits | b.unknown) & ~bits
    return Span(0, min(a.hi, b.hi), bits, unknown)


def _or(a: Span, b: Span) -> Span:
    bits = a.bits | b.bits
    unknown = (a.unknown | b.unknown) & ~bits
    return Span(max(a.lo, b.lo), U32, bits, unknown)


def _xor(a: Span, b: Span) -> Span:
    unknown = a.unknown | b.unknown
    return _from_tnum((a.bits ^ b.bits) & ~unknown, unknown)


def _shl(a: Span, b: Span) -> Span:
    if b.lo != b.hi:
        return top()
    k = b.lo
    if k >= 32:
        return Span(0, 0)
    bits, unknown = (a.bits << k) & U32, (a.unknown << k) & U32
    if a.hi << k <= U32:
        return Span(a.lo << k, a.hi << k, bits, unknown)
    return _from_tnum(bits, unknown)


def _lshr(a: Span, b: Span) -> Span:
    if b.lo >= 32:
        return Span(0, 0)
    if b.lo != b.hi:
        return Span(0, a.hi >> b.lo)
    k = b.lo
    return Span(a.lo >> k, a.hi >> k, a.bits >> k, a.unknown >> k)


# --- conditions -------------------------------------------------------------------
class Comparison:
    """``a <op> b`` for op in eq, ugt, uge, test (``a & b != 0``), or its
    negation.  ``operands`` are the very objects the table compared, so
    the interpreter can narrow the registers holding them."""

    __slots__ = ("op", "a", "b", "negated")

    def __init__(self, op: str, a, b, negated: bool = False):
        self.op, self.a, self.b, self.negated = op, a, b, negated

    def inverted(self) -> "Comparison":
        return Comparison(self.op, self.a, self.b, not self.negated)

    def truth(self) -> Optional[bool]:
        """True or False when every input agrees, None when both can happen."""
        if self.a is self.b and self.op in _REFLEXIVE:
            plain = _REFLEXIVE[self.op]        # one value compared with itself
        else:
            plain = _TRUTH[self.op](span(self.a), span(self.b))
        return plain if plain is None or not self.negated else not plain

    def narrowed(self):
        """``(a, b)`` narrowed to the inputs for which this holds, or None
        when no input does."""
        a, b = self.a, self.b
        return _NARROW[self.op](a, b, not self.negated)


def _truth_eq(a: Span, b: Span):
    if a.lo == a.hi == b.lo == b.hi:
        return True
    if a.hi < b.lo or b.hi < a.lo or (a.bits ^ b.bits) & ~(a.unknown | b.unknown):
        return False
    return None


def _truth_ugt(a: Span, b: Span):
    if a.lo > b.hi:
        return True
    if a.hi <= b.lo:
        return False
    return None


def _truth_uge(a: Span, b: Span):
    if a.lo >= b.hi:
        return True
    if a.hi < b.lo:
        return False
    return None


def _truth_test(a: Span, b: Span):
    if a.bits & b.bits:
        return True
    if not ((a.bits | a.unknown) & (b.bits | b.unknown)):
        return False
    return None


_TRUTH = {"eq": _truth_eq, "ugt": _truth_ugt, "uge": _truth_uge, "test": _truth_test}
_REFLEXIVE = {"eq": True, "ugt": False, "uge": True}


def _narrow_bounds(v, lo: int, hi: int):
    s = span(v)
    if lo <= s.lo and s.hi <= hi:
        return v
    out = Span(max(s.lo, lo), min(s.hi, hi), s.bits, s.unknown)
    return None if out.empty else settle(out)


def _pair(a, b):
    return None if a is None or b is None else (a, b)


def _narrow_eq(a, b, holds: bool):
    if holds:
        both = meet(a, b)
        return None if both is None else (both, both)
    # a != b: only an exact value at the edge of the other's range helps.
    if isinstance(b, int):
        lo, hi = bounds(a)
        if lo == hi == b:
            return None
        return (_narrow_bounds(a, lo + (lo == b), hi - (hi == b)), b)
    if isinstance(a, int):
        swapped = _narrow_eq(b, a, False)
        return None if swapped is None else (swapped[1], swapped[0])
    return (a, b)


def _narrow_ugt(a, b, holds: bool):
    (alo, ahi), (blo, bhi) = bounds(a), bounds(b)
    if holds:     # a > b
        return _pair(_narrow_bounds(a, blo + 1, U32), _narrow_bounds(b, 0, ahi - 1) if ahi else None)
    return _pair(_narrow_bounds(a, 0, bhi), _narrow_bounds(b, alo, U32))      # a <= b


def _narrow_uge(a, b, holds: bool):
    (alo, ahi), (blo, bhi) = bounds(a), bounds(b)
    if holds:     # a >= b
        return _pair(_narrow_bounds(a, blo, U32), _narrow_bounds(b, 0, ahi))
    return _pair(_narrow_bounds(a, 0, bhi - 1) if bhi else None, _narrow_bounds(b, alo + 1, U32))


def _narrow_test(a, b, holds: bool):
    if _truth_test(span(a), span(b)) == (not holds):
        return None
    if isinstance(b, int) and not isinstance(a, int):
        if not holds:                        # a & b == 0: those bits are clear
            narrowed = meet(a, Span(0, U32, 0, U32 & ~b))
        elif b & (b - 1) == 0:               # a single bit, and it is set
            narrowed = meet(a, Span(0, U32, b, U32 & ~b))
        else:
            narrowed = a
        return None if narrowed is None else (narrowed, b)
    return (a, b)


_NARROW = {"eq": _narrow_eq, "ugt": _narrow_ugt, "uge": _narrow_uge, "test": _narrow_test}


class Unsure:
    """A condition the domain cannot evaluate (it may be either)."""

    __slots__ = ()

    def truth(self):
        return None

    def inverted(self):
        return self


UNSURE = Unsure()


def _test(op: str, concrete):
    return folding(concrete, lambda a, b: Comparison(op, a, b))


class RangeDomain:
    """The semantics table's domain over :class:`Span` values."""

    const = staticmethod(lambda k: k)
    true = staticmethod(lambda: True)
    add = _binary(CONCRETE.add, _add)
    sub = _binary(CONCRETE.sub, _sub)
    mul = _binary(CONCRETE.mul, _mul)
    udiv = _binary(CONCRETE.udiv, _udiv)
    urem = _binary(CONCRETE.urem, _urem)
    and_ = _binary(CONCRETE.and_, _and)
    or_ = _binary(CONCRETE.or_, _or)
    xor = _binary(CONCRETE.xor, _xor)
    shl = _binary(CONCRETE.shl, _shl)
    lshr = _binary(CONCRETE.lshr, _lshr)
    eq = _test("eq", CONCRETE.eq)
    ugt = _test("ugt", CONCRETE.ugt)
    uge = _test("uge", CONCRETE.uge)
    test = _test("test", CONCRETE.test)

    @staticmethod
    def neg(a):
        return CONCRETE.neg(a) if isinstance(a, int) else top()

    @staticmethod
    def not_(c):
        return (not c) if isinstance(c, bool) else c.inverted()

    @staticmethod
    def ite(c, a, b):
        if isinstance(c, bool):
            return a if c else b
        truth = c.truth()
        return join(a, b) if truth is None else (a if truth else b)


RANGES = RangeDomain()
