"""The verdict set of an analysis: every value a program can return.

Verdicts are listed one question at a time while they are few.  Past
that (a filter returning ``ret a`` can return millions of values, in a
few ranges), a program that reads only a few bytes is run on every input
that matters (:mod:`.exhaustive`); any other is split into ranges at gaps
the solver proves.  When the solver cannot finish, the set is the values
found plus the bounds the abstract run guarantees, marked inexact.
"""

from __future__ import annotations

import time
from typing import List, Optional

import z3

from ..domains.z3dom import milliseconds
from ..symbolic.executor import RULE_LOOP_BOUND
from .exhaustive import exact_verdicts
from .session import SAT, UNKNOWN, UNSAT, Session

#: distinct verdicts enumerated one by one before switching to ranges
ENUMERATION_LIMIT = 128
#: quantified gap questions asked while splitting ranges, and their time limit
GAP_QUESTIONS = 12
GAP_TIMEOUT = 2.0
#: seconds one question splitting the ranges may take, and all of them
#: together, when the analysis has no shorter limit.  Each refines an
#: answer that is already sound (the range, marked inexact), and over
#: nonlinear arithmetic (``mul x`` then ``div x``) a bound can take the
#: solver hours.
RANGE_QUESTION_SECONDS = 5.0
RANGES_SECONDS = 60.0
#: seconds a membership question on an inexact verdict set may take (when
#: the analysis had no shorter limit)
MEMBERSHIP_SECONDS = 5.0


class VerdictSet:
    """Every value a program can return.

    ``ranges`` is a tuple of inclusive ``(lo, hi)`` pairs; ``exact`` says
    whether they are exactly the set (always, unless the solver ran out of
    time: then they are an over-approximation and ``reason`` says why).
    ``in`` asks the solver when the ranges are not exact.
    """

    def __init__(self, ranges, exact=True, reason=None, membership=None):
        self.ranges = tuple(_normalise(ranges))
        self.exact = exact
        self.reason = reason
        self._membership = membership

    def __contains__(self, value: int) -> bool:
        """Whether some input makes the program return ``value``.  When the
        set is not exact this asks the solver; when that cannot tell within
        its limit, the answer is True (the value may be returned)."""
        inside = any(lo <= value <= hi for lo, hi in self.ranges)
        if self.exact or not inside or self._membership is None:
            return inside
        return self._membership(value)

    def __len__(self) -> int:
        if not self.exact:
            raise TypeError(f"the verdict set is not known exactly: {self.reason}")
        return sum(hi - lo + 1 for lo, hi in self.ranges)

    def __iter__(self):
        if not self.exact:
            raise TypeError(f"the verdict set is not known exactly: {self.reason}")
        for lo, hi in self.ranges:
            yield from range(lo, hi + 1)

    def __eq__(self, other):
        if isinstance(other, VerdictSet):
            return self.ranges == other.ranges and self.exact == other.exact
        try:
            return self.exact and set(self) == set(other)
        except TypeError:
            return NotImplemented

    def __repr__(self) -> str:
        return f"VerdictSet({describe_ranges(self.ranges)}{'' if self.exact else ', inexact'})"

    def to_json(self):
        return {"ranges": [list(r) for r in self.ranges], "exact": self.exact,
                **({"reason": self.reason} if self.reason else {})}


def describe_ranges(ranges) -> str:
    parts = []
    for lo, hi in ranges:
        parts.append(f"{lo:#x}" if lo == hi else f"{lo:#x}..{hi:#x}")
    return "{" + ", ".join(parts) + "}"


def _normalise(ranges):
    out = []
    for lo, hi in sorted(ranges):
        if out and lo <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return out


def as_term(verdict):
    return verdict if not isinstance(verdict, int) else z3.BitVecVal(verdict, 32)


def verdict_set(session: Session, enc, returned=()) -> VerdictSet:
    """``returned``: verdicts already known to be returned by some input."""
    verdict = as_term(enc.verdict)
    stay = session.within_unrolling(True)
    found: List[int] = sorted(returned)
    # Constant returns first: each is one cheap question.
    constants = sorted({e.value for e in enc.exits if isinstance(e.value, int)
                        and e.rule != RULE_LOOP_BOUND} - set(found))
    for value in constants:
        status, _ = session.check_incrementally(_and(stay, verdict == value))
        if status == SAT:
            found.append(value)
        elif status == UNKNOWN:
            return _bounds_only(session, enc, verdict, stay, found)
    # Then whatever else the symbolic returns can produce.
    while True:
        blocked = z3.And(*[verdict != v for v in found]) if found else True
        status, model = session.check_incrementally(_and(stay, blocked))
        if status == UNSAT:
            return VerdictSet([(v, v) for v in found])
        if status == UNKNOWN:
            return _bounds_only(session, enc, verdict, stay, found)
        found.append(model.eval(verdict, model_completion=True).as_long())
        if len(found) - len(constants) >= ENUMERATION_LIMIT:
            break
    # Too many to list: a program that reads only a few bytes is run on
    # every input that matters (exact, where proving ranges gap-free
    # would leave bounds); others get ranges from the solver.
    every = exact_verdicts(session.machines["program"].program, session.target) \
        if not session.inputs.fixed else None
    if every is not None:
        return VerdictSet([(v, v) for v in every])
    return _ranges(session, verdict, stay, found)


def beyond_unrolling(found: VerdictSet, bounds, why: str) -> VerdictSet:
    """The verdicts of a program some of whose runs loop longer than the
    solver's unrolling: ``found`` (what runs within it return) and
    ``bounds`` (what the abstract run allows any run).  Exact when every
    value the bounds allow is one found to be returned — a loop whose
    every exit is a ``ret #k`` already seen, as in ``ip6 protochain``."""
    if found.exact and all(_covered(lo, hi, found.ranges) for lo, hi in bounds):
        return found
    return VerdictSet(list(bounds) + list(found.ranges), False, why + " (other verdicts may exist)")


def _covered(lo: int, hi: int, ranges) -> bool:
    """Whether normalised ``ranges`` hold every value in [lo, hi]."""
    for r_lo, r_hi in ranges:
        if r_lo <= lo <= r_hi:
            if hi <= r_hi:
                return True
            lo = r_hi + 1
    return False


def _bounds_only(session: Session, enc, verdict, stay, found) -> VerdictSet:
    """When the solver cannot list the verdicts: the values found so far
    and the bounds the abstract run guarantees (every u32 without one)."""
    bounds = enc.facts.verdict_ranges() if enc.facts is not None else [(0, 0xFFFFFFFF)]
    return VerdictSet(bounds + [(v, v) for v in found], False, session.last_reason,
                      membership(session, verdict, stay))


def _and(a, b):
    if a is True:
        return b
    return z3.And(a, b)


def membership(session, verdict, stay):
    """``value in verdicts`` for an inexact set: a question, within the
    session's limit or MEMBERSHIP_SECONDS (inverting a hash can take the
    solver forever); True unless it proves no input returns ``value``."""
    def member(value):
        with session.at_most(MEMBERSHIP_SECONDS):
            return session.check_incrementally(_and(stay, verdict == value))[0] != UNSAT
    return member


def _ranges(session: Session, verdict, stay, known: List[int]) -> VerdictSet:
    """Exact ranges when there are too many values to list: cover
    [min, max] recursively, splitting at each gap the solver finds."""
    ask = _limited_asker(session, time.monotonic() + RANGES_SECONDS)
    exact = True
    reasons = []
    out = []
    stack = [(0, 0xFFFFFFFF)]
    budget = GAP_QUESTIONS
    while stack:
        lo, hi = stack.pop()
        budget -= 1
        status, model = ask(_and(stay, z3.And(z3.UGE(verdict, lo), z3.ULE(verdict, hi))))
        if status == UNSAT:
            continue
        if status == UNKNOWN or budget <= 0:
            out.append((lo, hi))
            exact = False
            reasons.append(session.last_reason if status == UNKNOWN else "too many gaps to list")
            continue
        seen = [v for v in known if lo <= v <= hi] + [model.eval(verdict, model_completion=True).as_long()]
        m = _extreme(ask, verdict, stay, lo, hi, min(seen), lowest=True)
        big_m = m if m is None else _extreme(ask, verdict, stay, lo, hi, max(seen), lowest=False)
        if m is None or big_m is None:
            out.append((lo, hi))
            exact = False
            reasons.append(f"could not find the bounds: {session.last_reason}")
            continue
        if big_m - m < 64:
            values = _enumerate_between(ask, verdict, stay, m, big_m)
            if values is None:
                out.append((m, big_m))
                exact = False
                reasons.append(f"could not list the values: {session.last_reason}")
            else:
                out.extend((v, v) for v in values)
            continue
        gap = _find_gap(session, verdict, m, big_m)
        if gap is None:
            out.append((m, big_m))
        elif gap == "unknown":
            out.append((m, big_m))
            exact = False
            reasons.append("could not prove every value between the bounds is returned")
        else:
            stack.append((m, gap - 1))
            stack.append((gap + 1, big_m))
    reason = None if exact else "; ".join(sorted(set(reasons)))
    return VerdictSet(out, exact, reason, None if exact else membership(session, verdict, stay))


def _limited_asker(session: Session, deadline: float):
    """``check_incrementally`` for the questions splitting the ranges:
    each within RANGE_QUESTION_SECONDS (or the session's shorter limit),
    and none past ``deadline``."""
    def ask(goal):
        left = deadline - time.monotonic()
        if left <= 0:
            session.last_reason = f"the verdict ranges took their {RANGES_SECONDS:g} s"
            return UNKNOWN, None
        with session.at_most(min(RANGE_QUESTION_SECONDS, left)):
            return session.check_incrementally(goal)
    return ask


def _extreme(ask, verdict, stay, lo, hi, best: int, lowest: bool) -> Optional[int]:
    """The smallest (or largest) verdict in [lo, hi], given ``best``, one
    that is returned; None when the solver cannot tell.  A binary search in
    which each "yes" moves the bound to the verdict its input returns (often
    far past the middle), and whose first question is whether anything
    beats ``best`` at all: 1 to 33 questions instead of always 32."""
    if lowest:
        lo, hi = lo, best            # the answer is in [lo, hi], and hi is returned
    else:
        lo, hi = best, hi            # ... in [lo, hi], and lo is returned
    first = True
    while lo < hi:
        if lowest:
            mid = hi - 1 if first else (lo + hi - 1) // 2
            bound = z3.And(z3.UGE(verdict, lo), z3.ULE(verdict, mid))
        else:
            mid = lo + 1 if first else (lo + hi + 2) // 2
            bound = z3.And(z3.UGE(verdict, mid), z3.ULE(verdict, hi))
        first = False
        status, model = ask(_and(stay, bound))
        if status == UNKNOWN:
            return None
        if status == SAT:
            found = model.eval(verdict, model_completion=True).as_long()
            if lowest:
                hi = found
            else:
                lo = found
        elif lowest:
            lo = mid + 1
        else:
            hi = mid - 1
    return lo


def _enumerate_between(ask, verdict, stay, lo, hi) -> Optional[List[int]]:
    values = []
    while True:
        cond = z3.And(z3.UGE(verdict, lo), z3.ULE(verdict, hi), *[verdict != v for v in values])
        status, model = ask(_and(stay, cond))
        if status == UNSAT:
            return sorted(values)
        if status == UNKNOWN:
            return None
        values.append(model.eval(verdict, model_completion=True).as_long())


def _find_gap(session: Session, verdict, lo: int, hi: int):
    """A value in [lo, hi] that no input produces, None when there is none,
    or "unknown".  This is a quantified question: exists u, for all inputs,
    verdict != u."""
    u = z3.BitVec("gap_u", 32)
    premise = z3.And(*session.solver.assertions())
    premise, verdict = _bytes_as_variables(session, premise, verdict)
    free = _free_constants_of(premise, verdict)
    body = z3.Implies(premise, verdict != u)
    solver = z3.Solver()
    seconds = session.within_budget(min(session.timeout or GAP_TIMEOUT, GAP_TIMEOUT))
    if seconds <= 0:
        return "unknown"
    solver.set(timeout=milliseconds(seconds), random_seed=0)
    solver.add(z3.UGE(u, lo), z3.ULE(u, hi), z3.ForAll(free, body) if free else body)
    result = solver.check()
    if result == z3.unsat:
        return None
    if result == z3.sat:
        return solver.model().eval(u, model_completion=True).as_long()
    return "unknown"


def _free_constants_of(*exprs):
    seen = {}
    for expr in exprs:
        for c in _constants(expr):
            seen[c.get_id()] = c
    return list(seen.values())


def _bytes_as_variables(session: Session, *exprs):
    """Replace reads of the packet at constant offsets by plain byte
    variables: quantifiers over bit-vectors are far easier for z3 than
    quantifiers over arrays, and constant offsets name distinct bytes."""
    packet = getattr(session.inputs, "packet", None)
    if packet is None:
        return exprs
    reads = {}
    for expr in exprs:
        stack, visited = [expr], set()
        while stack:
            e = stack.pop()
            if e.get_id() in visited:
                continue
            visited.add(e.get_id())
            if z3.is_select(e) and e.arg(0).eq(packet) and z3.is_bv_value(e.arg(1)):
                reads.setdefault(e.arg(1).as_long(), e)
            stack.extend(e.children())
    pairs = [(e, z3.BitVec(f"byte_{k}", 8)) for k, e in reads.items()]
    if not pairs:
        return exprs
    return tuple(z3.substitute(expr, *pairs) for expr in exprs)


def _constants(expr):
    stack, out, visited = [expr], [], set()
    while stack:
        e = stack.pop()
        if e.get_id() in visited:
            continue
        visited.add(e.get_id())
        if z3.is_const(e) and e.decl().kind() == z3.Z3_OP_UNINTERPRETED:
            out.append(e)
        else:
            stack.extend(e.children())
    return out
