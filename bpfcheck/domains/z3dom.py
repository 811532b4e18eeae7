"""The semantics table's domain over z3 bit-vectors, with constant folding.

Values are either Python ints (known constants) or 32-bit z3 terms;
conditions are Python bools or z3 Booleans.  Whenever every operand is
known the concrete domain computes the result, so constants never reach
the solver (as claripy does).  Unsigned operations are used by name
(``UDiv``, ``URem``, ``LShR``, ``UGT``…): z3py's ``/ % >> >`` are signed.
"""

from __future__ import annotations

import z3

from .concrete import CONCRETE, folding

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
    return folding(concrete_op, lambda a, b: symbolic_op(bv(a), bv(b)))


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


#: megabytes of memory a solver may use when ``make_solver`` is not told
#: (None: no cap); ``--max-memory MB`` on the command line sets it
_MAX_MEMORY = [None]


def set_max_memory(megabytes) -> None:
    """The memory cap, in MB, of every solver made from now on (None lifts it).

    z3 counts its whole allocator against the cap, so it must exceed what
    z3 already holds (a few tens of MB); beyond it a query answers unknown
    ("max. memory exceeded") instead of growing."""
    if megabytes is not None and (isinstance(megabytes, bool) or not isinstance(megabytes, int)
                                  or megabytes < 1):
        raise ValueError(f"max_memory={megabytes!r} must be a positive number of MB")
    _MAX_MEMORY[0] = megabytes


#: What a non-incremental question goes through: z3's simplifier, value
#: propagation and variable elimination (the formula's definitions
#: collapse into the few terms the goal depends on), then packet reads
#: turned into plain variables and everything into bits, then its SMT core.
#: ``SolverFor("QF_ABV")`` would pick z3's own strategy for the logic
#: ("qfaufbv"), which on big programs is far slower: on a 4,096-instruction
#: random program, questions this answers in 0.1 s it could not answer in
#: 15 s (bench/proofs.py --hard).  Variable elimination matters most
#: (without it, analyze on a chain of 2,000 diamonds took 71 s instead of 8
#: and left 179 questions unknown), but it puts back together terms the
#: encoder named to keep them shallow (see executor.named_state), and z3's
#: SMT core takes deep terms in without looking at its time limit (a
#: 4,096-instruction hash: two minutes for a 0.25 s question).  Bits first
#: keep it within its limit: the SMT core then meets no deep terms.
PIPELINE = ("simplify", "propagate-values", "solve-eqs", "simplify", "elim-uncnstr", "simplify",
            "ackermannize_bv", "simplify", "bit-blast", "simplify", "smt")


def make_solver(timeout=None, rlimit=None, max_memory=None, ctx=None) -> z3.Solver:
    """Every solver bpfcheck uses: seeds pinned so answers are reproducible.

    ``timeout`` in seconds and ``max_memory`` in MB (default: the cap of
    :func:`set_max_memory`) make a query that needs more answer unknown.
    Each ``check`` runs :data:`PIPELINE` over every assertion afresh (after
    ``push`` too): for many questions over one formula, see
    :func:`make_incremental_solver`.  ``ctx``: the z3 context (default: z3's main one)."""
    solver = z3.Then(*PIPELINE, ctx=ctx).solver()
    params = limit_params(timeout, max_memory)
    if rlimit is not None:
        params["rlimit"] = int(rlimit)
    solver.set(**params)
    return solver


def make_incremental_solver(timeout=None, max_memory=None) -> z3.Solver:
    """A solver that answers every question with z3's incremental core
    (never the non-incremental pipeline of :func:`make_solver`).

    For many questions over one big formula, each asked as
    ``check(literal)`` with ``literal -> goal`` asserted: the core keeps
    the formula and every lemma it learnt between questions, so once a
    few are answered an impossible goal costs milliseconds, where the
    pipeline re-reads the whole formula each time (a second or more on a
    4,096-instruction program).  On some formulas the core alone is far
    slower (on a chain of 2,000 diamonds it needs over a minute, the
    pipeline a second or two): callers give it a time limit and ask again
    elsewhere when it runs out."""
    solver = z3.SolverFor("QF_ABV")
    params = limit_params(timeout, max_memory)
    params["combined_solver.solver2_timeout"] = 0xFFFFFFFF
    solver.set(**params)
    return solver


def milliseconds(seconds=None) -> int:
    """z3's ``timeout`` parameter for a limit in seconds: it counts
    milliseconds in 32 bits, and its largest value means no limit (None,
    infinite or NaN seconds)."""
    if seconds is None or seconds != seconds or seconds == float("inf"):
        return 0xFFFFFFFF
    return min(max(1, int(seconds * 1000)), 0xFFFFFFFF)


def limit_params(timeout=None, max_memory=None) -> dict:
    """z3 parameters for a time limit in seconds (None or infinite: none,
    set explicitly, so it also lifts an earlier limit) and a memory cap in
    MB (default: :func:`set_max_memory`'s), with the seed pinned."""
    params = {"random_seed": 0, "timeout": milliseconds(timeout)}
    max_memory = _MAX_MEMORY[0] if max_memory is None else max_memory
    if max_memory is not None:
        params["max_memory"] = int(max_memory)
    return params
