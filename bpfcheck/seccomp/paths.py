"""Every path through a seccomp filter, as conditions on the input words.

This is a third driver over the semantics table (after the reference VM
and the symbolic executor): values are Python ints when known and small
expression trees over the 32-bit words of ``struct seccomp_data`` when
not.  Words whose value is fixed (typically ``nr`` and ``arch``) are ints,
so the jumps on them are decided as the VM would decide them; a jump on
anything else forks the walk, and each side is kept only when a small z3
solver over the free words says it is feasible.  An atom implied by the
path so far is not recorded, so a path's conditions stay short.

The result is exact: the feasible paths partition the inputs that agree
with the fixed words, and each ends in a ``ret`` (or a guard) whose value
is known.  Callers prove their summaries of these paths against the
symbolic encoding anyway (:mod:`.explain`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple, Union

import z3

from .. import isa
from ..domains.concrete import CONCRETE, folding
from ..program import Program
from ..semantics import TABLES
from ..validate import validate

U32 = isa.U32
#: paths per walk before giving up (a filter branching on many argument
#: words multiplies them)
MAX_PATHS = 2048
#: symbolic conditions followed one inside the other on one path before
#: giving up: the walk recurses at each (a few Python frames per level), and
#: a profile with thousands of argument rules for one system call would
#: otherwise exhaust the interpreter's stack
MAX_NESTING = 150

#: names of the words of struct seccomp_data, by offset
WORD_NAMES = {0: "nr", 4: "arch", 8: "ip.lo", 12: "ip.hi"}
for _i in range(6):
    WORD_NAMES[16 + 8 * _i] = f"args[{_i}].lo"
    WORD_NAMES[20 + 8 * _i] = f"args[{_i}].hi"


class TooManyPaths(Exception):
    pass


# --- terms --------------------------------------------------------------------------
@dataclass(frozen=True)
class Word:
    """The 32-bit word at ``offset`` of struct seccomp_data."""

    offset: int

    def __str__(self):
        return WORD_NAMES[self.offset]


@dataclass(frozen=True)
class Bin:
    op: str
    a: "Term"
    b: "Term"

    def __str__(self):
        sym = _OP_SYMBOLS[self.op]
        return f"({_show(self.a)} {sym} {_show(self.b)})"


@dataclass(frozen=True)
class Neg:
    a: "Term"

    def __str__(self):
        return f"-{_show(self.a)}"


Term = Union[int, Word, Bin, Neg]


@dataclass(frozen=True)
class Cmp:
    """``a OP b`` with OP one of eq, ugt, uge, test (``a & b != 0``)."""

    op: str
    a: Term
    b: Term
    negated: bool = False

    def negate(self) -> "Cmp":
        return Cmp(self.op, self.a, self.b, not self.negated)

    def words(self) -> set:
        return _words(self.a) | _words(self.b)

    def __str__(self):
        a, b = _show(self.a), _show(self.b)
        if self.op == "test":
            return f"{a} & {b} {'==' if self.negated else '!='} 0"
        sym = {"eq": ("==", "!="), "ugt": (">", "<="), "uge": (">=", "<")}[self.op]
        return f"{a} {sym[1] if self.negated else sym[0]} {b}"


_OP_SYMBOLS = {"add": "+", "sub": "-", "mul": "*", "udiv": "/", "urem": "%", "and": "&",
               "or": "|", "xor": "^", "shl": "<<", "lshr": ">>"}


def _show(t: Term) -> str:
    return f"{t:#x}" if isinstance(t, int) else str(t)


def _words(t: Term) -> set:
    if isinstance(t, Word):
        return {t.offset}
    if isinstance(t, Bin):
        return _words(t.a) | _words(t.b)
    if isinstance(t, Neg):
        return _words(t.a)
    return set()


# --- the domain -----------------------------------------------------------------------
def _fold(op, concrete, simplify=None):
    def build(a, b):
        if simplify is not None:
            s = simplify(a, b)
            if s is not None:
                return s
        return Bin(op, a, b)
    return folding(concrete, build)


def _and_simplify(a, b):
    for x, y in ((a, b), (b, a)):
        if y == 0:
            return 0
        if y == U32:
            return x
    return None


def _identity_with(zero):
    def simplify(a, b):
        if b == zero:
            return a
        if a == zero and zero == 0:
            return b
        return None
    return simplify


def _shift_simplify(a, b):
    return a if b == 0 else None


def _cmp(op, concrete):
    return folding(concrete, lambda a, b: Cmp(op, a, b))


class TreeDomain:
    """The semantics table's domain over ints and :class:`Term` trees."""

    const = staticmethod(lambda k: k)
    true = staticmethod(lambda: True)
    add = _fold("add", CONCRETE.add, _identity_with(0))
    sub = _fold("sub", CONCRETE.sub, lambda a, b: a if b == 0 else None)
    mul = _fold("mul", CONCRETE.mul, lambda a, b: a if b == 1 else (b if a == 1 else None))
    udiv = _fold("udiv", CONCRETE.udiv, lambda a, b: a if b == 1 else None)
    urem = _fold("urem", CONCRETE.urem)
    and_ = _fold("and", CONCRETE.and_, _and_simplify)
    or_ = _fold("or", CONCRETE.or_, _identity_with(0))
    xor = _fold("xor", CONCRETE.xor, _identity_with(0))
    shl = _fold("shl", CONCRETE.shl, _shift_simplify)
    lshr = _fold("lshr", CONCRETE.lshr, _shift_simplify)
    eq = _cmp("eq", CONCRETE.eq)
    ugt = _cmp("ugt", CONCRETE.ugt)
    uge = _cmp("uge", CONCRETE.uge)
    test = _cmp("test", CONCRETE.test)

    @staticmethod
    def neg(a):
        return CONCRETE.neg(a) if isinstance(a, int) else Neg(a)

    @staticmethod
    def not_(c):
        return (not c) if isinstance(c, bool) else c.negate()

    @staticmethod
    def ite(c, a, b):   # not used by the seccomp subset of the table
        raise NotImplementedError("ite on trees")


TREE = TreeDomain()


class _Env:
    def __init__(self, fixed: Dict[int, int]):
        self.fixed = fixed

    def length(self):
        return isa.SECCOMP_DATA_SIZE

    def load_abs(self, k, nbytes):
        return self.fixed.get(k, Word(k)), ()


# --- z3 ---------------------------------------------------------------------------------
class Z3Words:
    """z3 variables for the words, and terms/atoms translated to z3."""

    def __init__(self, prefix: str = "w"):
        self.prefix = prefix
        self.vars: Dict[int, z3.BitVecRef] = {}

    def word(self, offset: int) -> z3.BitVecRef:
        if offset not in self.vars:
            self.vars[offset] = z3.BitVec(f"{self.prefix}{offset}", 32)
        return self.vars[offset]

    def term(self, t: Term):
        if isinstance(t, int):
            return z3.BitVecVal(t, 32)
        if isinstance(t, Word):
            return self.word(t.offset)
        if isinstance(t, Neg):
            return -self.term(t.a)
        a, b = self.term(t.a), self.term(t.b)
        return {"add": lambda: a + b, "sub": lambda: a - b, "mul": lambda: a * b,
                "udiv": lambda: z3.UDiv(a, b), "urem": lambda: z3.URem(a, b),
                "and": lambda: a & b, "or": lambda: a | b, "xor": lambda: a ^ b,
                "shl": lambda: a << b, "lshr": lambda: z3.LShR(a, b)}[t.op]()

    def atom(self, c: Cmp):
        a, b = self.term(c.a), self.term(c.b)
        core = {"eq": lambda: a == b, "ugt": lambda: z3.UGT(a, b), "uge": lambda: z3.UGE(a, b),
                "test": lambda: (a & b) != 0}[c.op]()
        return z3.Not(core) if c.negated else core


def input_words(inputs) -> Dict[int, z3.BitVecRef]:
    """The words of a :class:`~bpfcheck.symbolic.SymbolicInputs`, by offset."""
    return {off: inputs.seccomp_word(off) for off in range(0, isa.SECCOMP_DATA_SIZE, 4)}


def atom_over(c: Cmp, words: Dict[int, z3.BitVecRef]):
    """Atom ``c`` over given word terms (e.g. a proof session's inputs)."""
    z = Z3Words()
    z.vars = dict(words)
    return z.atom(c)


# --- the walk -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Path:
    """One feasible way through: the atoms that select it (in order), the
    verdict (an int, or a term for ``ret a`` on an unknown A), the
    instructions run, and the words loaded."""

    atoms: Tuple[Cmp, ...]
    verdict: Term
    pcs: Tuple[int, ...]
    loaded: frozenset


def walk(program: Sequence, fixed: Optional[Dict[int, int]] = None, limit: int = MAX_PATHS,
         solver_words: Optional[Z3Words] = None, assume: Sequence = (), hook=None) -> List[Path]:
    """All feasible paths of ``program`` (a seccomp filter) when the words
    in ``fixed`` (offset -> value) have those values; ``assume`` are extra
    z3 constraints over ``solver_words`` (e.g. the paths of another filter).

    ``hook(pc, cond, atoms, solver, words)``, when given, is called before
    each fork on a symbolic condition (``solver`` holds the path so far);
    a true result prunes the path there."""
    program = Program(program)
    validate(program, "seccomp")
    table = TABLES["seccomp"]
    env = _Env(dict(fixed or {}))
    zw = solver_words or Z3Words()
    solver = z3.SolverFor("QF_BV")
    solver.set(random_seed=0)
    if assume:
        solver.add(*assume)
    paths: List[Path] = []
    nesting = [0]

    def feasible(atom: Cmp) -> bool:
        solver.push()
        solver.add(zw.atom(atom))
        ok = solver.check() != z3.unsat        # unknown: keep it (replay decides)
        solver.pop()
        return ok

    def fork(cond, atoms, then_do, else_do, pc=None):
        """Follow both sides of symbolic ``cond`` that are feasible."""
        if hook is not None and hook(pc, cond, atoms, solver, zw):
            return
        if nesting[0] >= MAX_NESTING:
            raise TooManyPaths(f"more than {MAX_NESTING} conditions on input words in a row")
        sides = [(cond, then_do), (cond.negate(), else_do)]
        live = [(c, do) for c, do in sides if feasible(c)]
        nesting[0] += 1
        try:
            if len(live) == 1:
                live[0][1](atoms)          # the other side is impossible: record nothing
                return
            for c, do in live:
                solver.push()
                solver.add(zw.atom(c))
                try:
                    do(atoms + (c,))
                finally:
                    solver.pop()
        finally:
            nesting[0] -= 1

    def run(pc, a, x, mem, atoms, pcs, loaded):
        while True:
            insn = program[pc]
            pcs = pcs + (pc,)
            code = insn[0]
            if code == isa.LD | isa.W | isa.ABS:
                loaded = loaded | {insn[3]}
            effect = table[code](insn, a, x, mem, TREE, env)
            for i, (cond, value, _rule) in enumerate(effect.guards):
                if cond is True:
                    return finish(atoms, value, pcs, loaded)
                if cond is not False:
                    rest = effect._replace(guards=effect.guards[i + 1:])
                    return fork(cond, atoms,
                                lambda at: finish(at, value, pcs, loaded),
                                lambda at: resume(pc, a, x, mem, at, pcs, loaded, rest), pc)
            if effect.guards:
                effect = effect._replace(guards=())
            a, x, mem, nxt = _apply(effect, pc, a, x, mem)
            if nxt is None:                 # ret
                return finish(atoms, effect.flow[1], pcs, loaded)
            if isinstance(nxt, tuple):      # symbolic jump
                cond, t, f = nxt
                return fork(cond, atoms,
                            lambda at: run(t, a, x, mem, at, pcs, loaded),
                            lambda at: run(f, a, x, mem, at, pcs, loaded), pc)
            pc = nxt

    def resume(pc, a, x, mem, atoms, pcs, loaded, effect):
        a, x, mem, nxt = _apply(effect, pc, a, x, mem)
        if nxt is None:
            return finish(atoms, effect.flow[1], pcs, loaded)
        if isinstance(nxt, tuple):
            cond, t, f = nxt
            return fork(cond, atoms, lambda at: run(t, a, x, mem, at, pcs, loaded),
                        lambda at: run(f, a, x, mem, at, pcs, loaded), pc)
        return run(nxt, a, x, mem, atoms, pcs, loaded)

    def finish(atoms, verdict, pcs, loaded):
        if len(paths) >= limit:
            raise TooManyPaths(f"more than {limit} paths")
        paths.append(Path(atoms, verdict, pcs, frozenset(loaded)))

    run(0, 0, 0, (0,) * isa.MEMWORDS, (), (), frozenset())
    return paths


def _apply(effect, pc, a, x, mem):
    """The new registers, and the next pc: an int, None for ``ret``, or
    ``(cond, then_pc, else_pc)`` for a jump on a symbolic condition."""
    a, x, mem = effect.applied(a, x, mem)
    flow = effect.flow
    if flow is None:
        return a, x, mem, pc + 1
    if flow[0] == "goto":
        return a, x, mem, pc + 1 + flow[1]
    if flow[0] == "ret":
        return a, x, mem, None
    _, cond, jt, jf = flow
    if isinstance(cond, bool) or jt == jf:
        return a, x, mem, pc + 1 + (jt if cond is True or jt == jf else jf)
    return a, x, mem, (cond, pc + 1 + jt, pc + 1 + jf)


def product(path_lists: Sequence[List[Path]], zw: Optional[Z3Words] = None,
            limit: int = MAX_PATHS) -> List[Tuple[Path, ...]]:
    """The feasible combinations of one path from each list (several
    filters, or two policies, over the same input)."""
    zw = zw or Z3Words()
    solver = z3.SolverFor("QF_BV")
    solver.set(random_seed=0)
    out: List[Tuple[Path, ...]] = []

    def extend(i, chosen):
        if i == len(path_lists):
            if len(out) >= limit:
                raise TooManyPaths(f"more than {limit} combined paths")
            out.append(tuple(chosen))
            return
        for p in path_lists[i]:
            solver.push()
            solver.add(*[zw.atom(c) for c in p.atoms])
            if solver.check() != z3.unsat:
                extend(i + 1, chosen + [p])
            solver.pop()

    extend(0, [])
    return out
