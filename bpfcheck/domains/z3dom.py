"""The semantics table's domain over z3 bit-vectors, with constant folding.

Values are either Python ints (known constants) or 32-bit z3 terms;
conditions are Python bools or z3 Booleans.  Whenever every operand is
known the concrete domain computes the result, so constants never reach
the solver (as claripy does).  Unsigned operations are used by name
(``UDiv``, ``URem``, ``LShR``, ``UGT``…): z3py's ``/ % >> >`` are signed.
"""

from __future__ import annotations

import z3

from .concrete import CONCRETE

U32 = 0xFFFFFFFF


def bv(v, width: int = 32):
    """A z3 term for ``v`` (an int or a term already)."""
    if isinstance(v, int):
        return z3.BitVecVal(v & ((1 << width) - 1), width)
    return v


def boolean(c):
    if isinstance(c, bool):
        return z3.BoolVal(c)
    return c


def is_known(v) -> bool:
    return isinstance(v, (int, bool))


def _lift(concrete_op, symbolic_op):
    def op(a, b):
        if isinstance(a, int) and isinstance(b, int):
            return concrete_op(a, b)
        return symbolic_op(bv(a), bv(b))
    return staticmethod(op)


def _shl(a, b):
    return a << b          # z3's bvshl gives 0 for amounts >= 32, as the table expects


class Z3Domain:
    const = staticmethod(lambda k: k)
    true = staticmethod(lambda: True)
    add = _lift(CONCRETE.add, lambda a, b: a + b)
    sub = _lift(CONCRETE.sub, lambda a, b: a - b)
    mul = _lift(CONCRETE.mul, lambda a, b: a * b)
    # Division by zero is guarded by the table; z3's UDiv(a, 0) is all-ones,
    # which never reaches a verdict.
    udiv = _lift(CONCRETE.udiv, z3.UDiv)
    urem = _lift(CONCRETE.urem, z3.URem)
    and_ = _lift(CONCRETE.and_, lambda a, b: a & b)
    or_ = _lift(CONCRETE.or_, lambda a, b: a | b)
    xor = _lift(CONCRETE.xor, lambda a, b: a ^ b)
    shl = _lift(CONCRETE.shl, _shl)
    lshr = _lift(CONCRETE.lshr, z3.LShR)
    eq = _lift(CONCRETE.eq, lambda a, b: a == b)
    ugt = _lift(CONCRETE.ugt, z3.UGT)
    uge = _lift(CONCRETE.uge, z3.UGE)
    test = _lift(CONCRETE.test, lambda a, b: (a & b) != 0)

    @staticmethod
    def neg(a):
        return CONCRETE.neg(a) if isinstance(a, int) else -a

    @staticmethod
    def not_(c):
        return (not c) if isinstance(c, bool) else z3.Not(c)

    @staticmethod
    def ite(c, a, b):
        if isinstance(c, bool):
            return a if c else b
        if isinstance(a, int) and isinstance(b, int) and a == b:
            return a
        return z3.If(c, bv(a), bv(b))


Z3 = Z3Domain()


def and_all(*conds):
    """Conjunction with folding: False wins, True vanishes."""
    parts = []
    for c in conds:
        if c is False:
            return False
        if c is True:
            continue
        parts.append(c)
    if not parts:
        return True
    return parts[0] if len(parts) == 1 else z3.And(*parts)


def or_all(conds):
    parts = []
    for c in conds:
        if c is True:
            return True
        if c is False:
            continue
        parts.append(c)
    if not parts:
        return False
    return parts[0] if len(parts) == 1 else z3.Or(*parts)


def make_solver(timeout=None, rlimit=None) -> z3.Solver:
    """Every solver bpfcheck uses: seeds pinned so answers are reproducible."""
    solver = z3.SolverFor("QF_ABV")
    params = {"random_seed": 0}
    if timeout is not None:
        params["timeout"] = max(1, int(timeout * 1000))
    if rlimit is not None:
        params["rlimit"] = int(rlimit)
    solver.set(**params)
    return solver
