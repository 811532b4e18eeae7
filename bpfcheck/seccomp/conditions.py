"""Readable, checkable conditions on system-call arguments.

A path of :mod:`.paths` is a conjunction of atoms on 32-bit words.  Here
the atoms on the two halves of one 64-bit value (``args[i]``, ``ip``) are
put back together: comparisons with constants become sets of 64-bit
ranges, ``and``-then-compare and ``jset`` become mask conditions, and
anything else stays as it is, written in terms of the words.  A verdict's
paths are then merged (ranges of one argument united, covered paths
dropped) into a short disjunction, which prints as text and converts to a
z3 formula over the solver's inputs — the formula the caller proves
equivalent to "the policy returns this verdict".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, FrozenSet, List, Optional, Sequence, Tuple

import z3

from .paths import WORD_NAMES, Cmp, Word

U32 = 0xFFFFFFFF
U64 = (1 << 64) - 1
Ranges = Tuple[Tuple[int, int], ...]


# --- interval sets -------------------------------------------------------------------
def normalise(ranges) -> Ranges:
    out: List[List[int]] = []
    for lo, hi in sorted(ranges):
        if lo > hi:
            continue
        if out and lo <= out[-1][1] + 1:
            out[-1][1] = max(out[-1][1], hi)
        else:
            out.append([lo, hi])
    return tuple((lo, hi) for lo, hi in out)


def intersect(a: Ranges, b: Ranges) -> Ranges:
    out = []
    for lo1, hi1 in a:
        for lo2, hi2 in b:
            lo, hi = max(lo1, lo2), min(hi1, hi2)
            if lo <= hi:
                out.append((lo, hi))
    return normalise(out)


def complement(a: Ranges, top: int) -> Ranges:
    out, nxt = [], 0
    for lo, hi in a:
        if lo > nxt:
            out.append((nxt, lo - 1))
        nxt = hi + 1
    if nxt <= top:
        out.append((nxt, top))
    return tuple(out)


def _atom_ranges(c: Cmp) -> Optional[Ranges]:
    """The values of the word for which a ``word OP constant`` atom holds."""
    if not (isinstance(c.a, Word) and isinstance(c.b, int)) or c.op == "test":
        return None
    k = c.b
    if c.op == "eq":
        yes = ((k, k),)
    elif c.op == "ugt":
        yes = ((k + 1, U32),) if k < U32 else ()
    else:
        yes = ((k, U32),)
    return complement(yes, U32) if c.negated else normalise(yes)


def _atom_mask(c: Cmp) -> Optional[Tuple[int, int, int, bool]]:
    """``(offset, mask, value, equal)`` for ``(word & m) ==/!= v`` and
    ``jset``-style atoms."""
    if c.op == "test" and isinstance(c.a, Word) and isinstance(c.b, int):
        return (c.a.offset, c.b, 0, c.negated)           # jset: nonzero unless negated
    if c.op == "eq" and isinstance(c.b, int) and getattr(c.a, "op", None) == "and":
        inner = c.a
        for w, m in ((inner.a, inner.b), (inner.b, inner.a)):
            if isinstance(w, Word) and isinstance(m, int):
                return (w.offset, m, c.b & m if c.b & ~m & U32 == 0 else c.b, not c.negated)
    return None


# --- one value (args[i], ip, nr, arch) --------------------------------------------------
def value_of(offset: int) -> Tuple[str, int]:
    """(value name, half: 0 low / 1 high / 2 a whole 32-bit value)."""
    if offset in (0, 4):
        return WORD_NAMES[offset], 2
    name = WORD_NAMES[offset].rsplit(".", 1)[0]
    return name, 0 if offset % 8 == 0 else 1


def _offsets(name: str) -> Tuple[int, ...]:
    for off, n in WORD_NAMES.items():
        if n == name:
            return (off,)
    lo = [off for off, n in WORD_NAMES.items() if n == f"{name}.lo"][0]
    return (lo, lo + 4)


@dataclass(frozen=True)
class ValueCond:
    """A conjunction of constraints on one 32- or 64-bit value."""

    name: str
    width: int
    ranges: Optional[Ranges] = None                       # None: unconstrained by ranges
    halves: Tuple[Optional[Ranges], Optional[Ranges]] = (None, None)   # when not one range set
    masks: FrozenSet[Tuple[int, int, bool]] = frozenset()  # (mask, value, equal) on the value
    other: Tuple[str, ...] = ()                             # atoms kept as written
    limit: Optional[int] = None                             # the largest value possible, if less

    @property
    def top(self) -> int:
        if self.limit is not None:
            return self.limit
        return U64 if self.width == 64 else U32

    def trivial(self) -> bool:
        return (self.ranges in (None, ((0, self.top),), ((0, U64),)) and self.halves == (None, None)
                and not self.masks and not self.other)

    def text(self) -> str:
        parts = []
        if self.ranges is not None and self.ranges != ((0, self.top),):
            parts.append(describe_ranges(self.name, self.ranges, self.top))
        for half, r in zip(("lo", "hi"), self.halves):
            if r is not None:
                parts.append(describe_ranges(f"{self.name}.{half}", r, U32))
        for mask, value, equal in sorted(self.masks):
            parts.append(f"{self.name} & {mask:#x} {'==' if equal else '!='} {value:#x}")
        parts.extend(self.other)
        return " and ".join(parts) if parts else "any"


def describe_ranges(name: str, ranges: Ranges, top: int) -> str:
    """``args[0] == 0x5``, ``in {..}``, ``not in {..}``, ``<= k``, ``>= k``."""
    if not ranges:
        return "false"
    count = sum(hi - lo + 1 for lo, hi in ranges)
    holes = complement(ranges, top)
    missing = sum(hi - lo + 1 for lo, hi in holes)
    if count <= 8:
        points = [v for lo, hi in ranges for v in range(lo, hi + 1)]
        return f"{name} == {points[0]:#x}" if count == 1 else \
            f"{name} in {{{', '.join(f'{p:#x}' for p in points)}}}"
    if missing <= 8:
        points = [v for lo, hi in holes for v in range(lo, hi + 1)]
        return f"{name} != {points[0]:#x}" if missing == 1 else \
            f"{name} not in {{{', '.join(f'{p:#x}' for p in points)}}}"
    if len(ranges) == 1:
        lo, hi = ranges[0]
        if lo == 0:
            return f"{name} <= {hi:#x}"
        if hi == top:
            return f"{name} >= {lo:#x}"
    pieces = [f"{lo:#x}" if lo == hi else f"{lo:#x}..{hi:#x}" for lo, hi in ranges]
    return f"{name} in {{{', '.join(pieces)}}}"


def _join(hi: Ranges, lo: Ranges) -> Optional[Ranges]:
    """The 64-bit values {h << 32 | l}, as ranges, when that is a short list."""
    if lo == ((0, U32),):
        return normalise((a << 32, (b << 32) | U32) for a, b in hi)
    count = sum(b - a + 1 for a, b in hi)
    if count <= 8:
        return normalise(((h << 32) | a, (h << 32) | b) for a_, b_ in hi for h in range(a_, b_ + 1)
                         for a, b in lo)
    return None


def value_condition(name: str, atoms: Sequence[Cmp], fixed: Dict[int, int] = {}) -> ValueCond:
    """``fixed`` words (e.g. high halves a 32-bit ABI zeroes) are known
    values, so a condition on the other half reads as one on the value."""
    offsets = _offsets(name)
    width = 32 if len(offsets) == 1 else 64
    word_ranges: Dict[int, Ranges] = {off: ((v, v),) for off, v in fixed.items() if off in offsets}
    masks: Dict[int, List[Tuple[int, int, bool]]] = {}
    other: List[str] = []
    for c in atoms:
        r = _atom_ranges(c)
        if r is not None:
            off = c.a.offset
            word_ranges[off] = intersect(word_ranges.get(off, ((0, U32),)), r)
            continue
        m = _atom_mask(c)
        if m is not None:
            masks.setdefault(m[0], []).append(m[1:])
            continue
        other.append(str(c))
    full = ((0, U32),)
    if width == 32:
        mask_set = frozenset(masks.get(offsets[0], ()))
        return ValueCond(name, 32, word_ranges.get(offsets[0]), (None, None), mask_set, tuple(other))
    lo_off, hi_off = offsets
    lo_r, hi_r = word_ranges.get(lo_off), word_ranges.get(hi_off)
    ranges, halves = None, (None, None)
    limit = U32 if fixed.get(hi_off, None) == 0 else None
    if lo_r is not None or hi_r is not None:
        joined = _join(hi_r or full, lo_r or full)
        if joined is not None:
            ranges = joined
        else:
            halves = (lo_r, hi_r)
    if limit is not None and ranges == ((0, U32),):
        ranges = None                       # the high half is known to be 0: nothing to say
    # Equal-masks on both halves are one 64-bit masked equality.
    mask_set = set()
    eq_mask, eq_value = 0, 0
    for off, shift in ((lo_off, 0), (hi_off, 32)):
        for mask, value, equal in masks.get(off, ()):
            if equal:
                eq_mask |= mask << shift
                eq_value |= value << shift
            else:
                mask_set.add((mask << shift, value << shift, False))
    if eq_mask:
        mask_set.add((eq_mask, eq_value, True))
    return ValueCond(name, 64, ranges, halves, frozenset(mask_set), tuple(other), limit)


@dataclass(frozen=True)
class Conjunction:
    """Constraints on several values, all of which must hold."""

    values: Tuple[Tuple[str, ValueCond], ...]

    @classmethod
    def of_atoms(cls, atoms: Sequence[Cmp], fixed: Dict[int, int] = {}) -> "Conjunction":
        by_value: Dict[str, List[Cmp]] = {}
        mixed: List[Cmp] = []
        for c in atoms:
            names = {value_of(off)[0] for off in c.words()}
            if len(names) == 1:
                by_value.setdefault(names.pop(), []).append(c)
            else:
                mixed.append(c)
        values = {name: value_condition(name, cs, fixed) for name, cs in by_value.items()}
        if mixed:
            values["(mixed)"] = ValueCond("(mixed)", 32, other=tuple(str(c) for c in mixed))
        return cls(tuple(sorted((k, v) for k, v in values.items() if not v.trivial())))

    def as_dict(self) -> Dict[str, ValueCond]:
        return dict(self.values)

    def text(self) -> str:
        return " and ".join(v.text() for _, v in self.values) or "always"


@dataclass
class Summary:
    """A disjunction of conjunctions: when one verdict is chosen."""

    conjunctions: List[Conjunction] = field(default_factory=list)
    atoms: List[Tuple[Cmp, ...]] = field(default_factory=list)     # the exact path atoms

    def text(self) -> str:
        if not self.conjunctions:
            return "never"
        parts = [c.text() for c in self.conjunctions]
        if len(parts) == 1:
            return parts[0]
        return " or ".join(f"({p})" if " and " in p else p for p in parts)

    def values(self) -> List[str]:
        return sorted({name for c in self.conjunctions for name, _ in c.values})


def summarise(paths_atoms: Sequence[Sequence[Cmp]], fixed: Dict[int, int] = {}) -> Summary:
    """``fixed``: words whose value the caller pins (see :func:`value_condition`)."""
    conjs = [Conjunction.of_atoms(a, fixed) for a in paths_atoms]
    return Summary(merge(conjs), [tuple(a) for a in paths_atoms])


def merge(conjs: List[Conjunction]) -> List[Conjunction]:
    """Unite ranges of conjunctions that differ in one value only, and drop
    conjunctions another one covers, until nothing changes."""
    conjs = list(dict.fromkeys(conjs))
    changed = True
    while changed:
        changed = False
        for i in range(len(conjs)):
            for j in range(len(conjs)):
                if i == j:
                    continue
                merged = _merge_pair(conjs[i], conjs[j])
                if merged is not None:
                    conjs = [c for k, c in enumerate(conjs) if k not in (i, j)] + merged
                    changed = True
                    break
            if changed:
                break
    return sorted(conjs, key=lambda c: c.text())


def _merge_pair(a: Conjunction, b: Conjunction) -> Optional[List[Conjunction]]:
    da, db = a.as_dict(), b.as_dict()
    # a covers b: every constraint of a is also in b.
    if set(da) <= set(db) and all(da[k] == db[k] for k in da):
        return [a]
    if set(da) != set(db):
        # One value constrained in a only by ranges, absent in b: b covers that part.
        return None
    differ = [k for k in da if da[k] != db[k]]
    if len(differ) != 1:
        return None
    k = differ[0]
    va, vb = da[k], db[k]
    halves = _merge_halves(va, vb)
    if halves is not None:
        rest = {n: v for n, v in da.items() if n != k}
        if halves.halves != (((0, U32),), None) and halves.halves != (None, ((0, U32),)):
            rest[k] = halves
        return [Conjunction(tuple(sorted(rest.items())))]
    if va.masks or vb.masks or va.other or vb.other or va.halves != (None, None) \
            or vb.halves != (None, None) or va.ranges is None or vb.ranges is None:
        return None
    united = normalise(va.ranges + vb.ranges)
    rest = {n: v for n, v in da.items() if n != k}
    if united != ((0, va.top),):
        rest[k] = ValueCond(k, va.width, united, limit=va.limit)
    return [Conjunction(tuple(sorted(rest.items())))]


def _merge_halves(va: ValueCond, vb: ValueCond) -> Optional[ValueCond]:
    """Two conditions on the same half of a value (the other half equal)."""
    if va.masks or vb.masks or va.other or vb.other or va.ranges is not None or vb.ranges is not None:
        return None
    for keep in (0, 1):
        other = 1 - keep
        if va.halves[keep] == vb.halves[keep] and va.halves[other] is not None \
                and vb.halves[other] is not None:
            united = normalise(va.halves[other] + vb.halves[other])
            halves = [None, None]
            halves[keep] = va.halves[keep]
            halves[other] = united
            return ValueCond(va.name, va.width, None, tuple(halves))
    return None


# --- to z3 -------------------------------------------------------------------------------------
class InputValues:
    """The values conditions talk about, over a proof session's inputs."""

    def __init__(self, inputs):
        self.inputs = inputs

    def value(self, name: str):
        i = self.inputs
        if name == "nr":
            return i.nr
        if name == "arch":
            return i.arch
        if name == "ip":
            return i.ip
        return i.args[int(name[5])]

    def words(self) -> Dict[int, z3.BitVecRef]:
        from .paths import input_words
        return input_words(self.inputs)


def value_z3(v: ValueCond, values: InputValues, atoms_of_value: Sequence[Cmp] = ()):
    term = values.value(v.name) if v.name != "(mixed)" else None
    parts = []
    if v.ranges is not None:
        parts.append(z3.Or(*[z3.And(z3.UGE(term, lo), z3.ULE(term, hi)) for lo, hi in v.ranges])
                     if v.ranges else z3.BoolVal(False))
    for half, r in zip((0, 1), v.halves):
        if r is not None:
            word = z3.Extract(31 + 32 * half, 32 * half, term)
            parts.append(z3.Or(*[z3.And(z3.UGE(word, lo), z3.ULE(word, hi)) for lo, hi in r]))
    for mask, value, equal in v.masks:
        w = v.width
        cond = (term & z3.BitVecVal(mask, w)) == z3.BitVecVal(value, w)
        parts.append(cond if equal else z3.Not(cond))
    return parts


def conjunction_z3(c: Conjunction, values: InputValues, atoms: Sequence[Cmp]):
    """z3 for a conjunction; atoms kept as written (``other``) are taken
    from ``atoms`` (the exact path atoms they came from)."""
    from .paths import atom_over
    words = values.words()
    parts = []
    for name, v in c.values:
        parts.extend(value_z3(v, values))
        if v.other:
            texts = set(v.other)
            parts.extend(atom_over(a, words) for a in atoms if str(a) in texts)
    return z3.And(*parts) if parts else z3.BoolVal(True)


def summary_z3(s: Summary, values: InputValues):
    all_atoms = [a for path in s.atoms for a in path]
    return z3.Or(*[conjunction_z3(c, values, all_atoms) for c in s.conjunctions]) \
        if s.conjunctions else z3.BoolVal(False)


def exact_z3(s: Summary, values: InputValues):
    """The paths' own atoms, unsummarised: exact by construction."""
    from .paths import atom_over
    words = values.words()
    return z3.Or(*[z3.And(*[atom_over(a, words) for a in path]) if path else z3.BoolVal(True)
                   for path in s.atoms]) if s.atoms else z3.BoolVal(False)
