"""u32 arithmetic over numpy arrays: one lane per packet.

Values are Python ints (the same for every lane, folded by the concrete
domain) or ``uint32`` arrays; conditions are Python bools or ``bool``
arrays.  uint32 arithmetic wraps as the table expects; division and
modulo by zero give 0 (the table guards them before a result is used,
but the lanes that took the guard are still computed).
"""

from __future__ import annotations

import numpy as np

from ..domains.concrete import CONCRETE

U32 = np.uint32


def _known(a, b) -> bool:
    return isinstance(a, int) and isinstance(b, int)


def as_array(v, n: int) -> np.ndarray:
    """``v`` as a uint32 array of ``n`` lanes."""
    if isinstance(v, np.ndarray):
        return v
    return np.full(n, v, dtype=U32)


def _u32(v):
    # A uint32 scalar makes numpy keep uint32 whatever its version's
    # promotion rules for Python ints are.
    return U32(v) if isinstance(v, int) else v


def _lift(concrete_op, array_op):
    def op(a, b):
        if _known(a, b):
            return concrete_op(a, b)
        return array_op(_u32(a), _u32(b))
    return staticmethod(op)


def _divide(a, b):
    with np.errstate(divide="ignore"):
        return np.floor_divide(a, b, dtype=U32)


def _remainder(a, b):
    with np.errstate(divide="ignore"):
        return np.remainder(a, b, dtype=U32)


def _shift(array_op):
    def op(a, b):
        if isinstance(b, int):
            # Amounts of 32 or more give 0 (masked by the table where the
            # target masks); say so rather than trust the C shift.
            return np.zeros_like(a) if b >= 32 else array_op(a, U32(b))
        shifted = array_op(_u32(a), b & U32(31))
        return np.where(b < 32, shifted, U32(0))
    return op


def _shl_arrays(a, b):
    return np.left_shift(a, b, dtype=U32)


def _lshr_arrays(a, b):
    return np.right_shift(a, b, dtype=U32)


class NumpyDomain:
    const = staticmethod(lambda k: k)
    true = staticmethod(lambda: True)
    add = _lift(CONCRETE.add, lambda a, b: np.add(a, b, dtype=U32))
    sub = _lift(CONCRETE.sub, lambda a, b: np.subtract(a, b, dtype=U32))
    mul = _lift(CONCRETE.mul, lambda a, b: np.multiply(a, b, dtype=U32))
    udiv = _lift(CONCRETE.udiv, _divide)
    urem = _lift(CONCRETE.urem, _remainder)
    and_ = _lift(CONCRETE.and_, lambda a, b: np.bitwise_and(a, b, dtype=U32))
    or_ = _lift(CONCRETE.or_, lambda a, b: np.bitwise_or(a, b, dtype=U32))
    xor = _lift(CONCRETE.xor, lambda a, b: np.bitwise_xor(a, b, dtype=U32))
    shl = _lift(CONCRETE.shl, _shift(_shl_arrays))
    lshr = _lift(CONCRETE.lshr, _shift(_lshr_arrays))
    eq = _lift(CONCRETE.eq, np.equal)
    ugt = _lift(CONCRETE.ugt, np.greater)
    uge = _lift(CONCRETE.uge, np.greater_equal)
    test = _lift(CONCRETE.test, lambda a, b: np.bitwise_and(a, b, dtype=U32) != 0)

    @staticmethod
    def neg(a):
        return CONCRETE.neg(a) if isinstance(a, int) else np.negative(a, dtype=U32)

    @staticmethod
    def not_(c):
        return (not c) if isinstance(c, bool) else np.logical_not(c)

    @staticmethod
    def ite(c, a, b):
        if isinstance(c, bool):
            return a if c else b
        return np.where(c, _u32(a), _u32(b))


NUMPY = NumpyDomain()
