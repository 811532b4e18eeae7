"""``analyze``: the exact verdict set, dead code and safety findings.

Each answer is a solver question over the program's single formula.  To
keep the number of questions small, every model found is used to the
full: all reach and exit conditions it satisfies are settled at once, so
most instructions are shown reachable by a handful of inputs and only the
rest need a question of their own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import z3

from .. import isa
from ..context import Context
from ..domains.z3dom import milliseconds
from ..program import Program
from ..semantics import (RULE_DIV_BY_ZERO, RULE_MOD_BY_ZERO, RULE_NO_DEVICE, RULE_NO_LINK_HEADER,
                         RULE_OUT_OF_BOUNDS)
from ..symbolic.executor import RULE_LOOP_BOUND
from ..errors import ExecutionError
from .explore import explore, fire_loads_out_of_bounds
from .flips import flip_towards
from .outcome import Finding, Witness
from .paths import fire_on_known_paths
from .session import SAT, UNKNOWN, UNSAT, Session, solver_limits
from .witness import PREFERRED_MAX

#: distinct verdicts enumerated one by one before switching to ranges
ENUMERATION_LIMIT = 128
#: quantified gap questions asked while splitting ranges, and their time limit
GAP_QUESTIONS = 12
GAP_TIMEOUT = 2.0
#: seconds a membership question on an inexact verdict set may take (when
#: the analysis had no shorter limit)
MEMBERSHIP_SECONDS = 5.0
#: findings that get a minimised witness of their own (the rest reuse a model)
MINIMISED_FINDINGS = 32
#: with a budget, the part of it reachability may use up, then the part
#: reachability and the safety findings together may (the rest is the
#: verdicts'): one hard phase must not starve the others
REACH_SHARE = 0.5
GUARD_SHARE = 0.85

_FINDING_KINDS = {
    RULE_DIV_BY_ZERO: ("division-by-zero", "division by X can see X == 0: the program ends with verdict 0"),
    RULE_MOD_BY_ZERO: ("division-by-zero", "modulo by X can see X == 0: the program ends with verdict 0"),
    RULE_OUT_OF_BOUNDS: ("out-of-bounds", "this load can fall off the packet: the program silently "
                         "ends with verdict 0 (a drop)"),
    RULE_NO_LINK_HEADER: ("no-link-header", "this link-relative load fails when the buffer has no "
                          "link-layer header (verdict 0)"),
    RULE_NO_DEVICE: ("no-device", "without a device (e.g. an AF_UNIX socket) this load ends the "
                     "program, returning A"),
}


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


@dataclass
class Analysis:
    program: Program
    target: str
    verdicts: VerdictSet
    dead: List[int]
    findings: List[Finding]
    unknown: List[Tuple[int, str]] = field(default_factory=list)   # pcs the solver could not settle
    seconds: float = 0.0
    _session: Optional[Session] = None

    def witness(self, pc: int) -> Optional[Witness]:
        """An input that reaches instruction ``pc`` (None when it is dead)."""
        session = self._session
        enc = session.encodings["program"]
        goal = enc.reach.get(pc, False)

        def replay(value, ctx):
            return pc in session.run("program", value, ctx).path
        status, value, ctx, note = session.find(goal, replay)
        if status != SAT:
            return None
        return session.make_witness(value, ctx)

    def to_json(self) -> dict:
        return {"verdicts": self.verdicts.to_json(), "dead": self.dead,
                "findings": [f.to_json() for f in self.findings],
                "unknown": [{"pc": pc, "reason": why} for pc, why in self.unknown],
                "seconds": round(self.seconds, 3)}


@solver_limits()
def analyze(program: Sequence, target: str = "socket", timeout: Optional[float] = None,
            fixed: Optional[Dict[str, object]] = None, *,
            progress: Optional[Callable[[str, int, int], None]] = None,
            budget: Optional[float] = None) -> Analysis:
    """``timeout`` limits each solver question, ``budget`` the whole
    analysis (seconds; None: no limit): once it is spent nothing more is
    asked, and what is still open is reported unknown, with that reason —
    the verdicts as bounds the abstract run guarantees.

    ``progress(phase, settled, total)``, when given, is called as the
    work goes on: each phase ("reachability", "safety findings",
    "verdicts") and how many of its questions are settled."""
    program = Program(program)
    session = Session(target, timeout, fixed, budget=budget)
    enc = session.add_program("program", program)
    settled = _Settler(session, progress=progress)
    settled.report("reachability", 0, len(program))

    # Reachability: plain inputs and their mutations first, then branch
    # flips along their runs, then questions over the whole program, the
    # deepest instructions first: the run each answer gives passes many
    # open instructions on its way and is flipped further, where an answer
    # for an instruction near the entry often ends soon after it.  (From
    # the entry onwards instead, seed 7 of bench/proofs.py --hard took
    # 20.3 s against 16.3 s, and with a 60 s budget seed 2 left 240
    # instructions open against 133.)
    settled.seed({("reach", pc): enc.reach[pc] for pc in range(len(program))})
    session.share(REACH_SHARE)
    reach = {("reach", pc): enc.reach[pc] for pc in reversed(range(len(program)))}
    settled.flip_towards(reach, list(dict.fromkeys(settled.reaching.values())))
    settled.settle_all(reach, lambda value, ctx, keys: settled.flip_towards(reach, [(value, ctx)]),
                       chunk=settled.REACH_CHUNK)
    dead = sorted(pc for pc in range(len(program)) if settled.status(("reach", pc)) == UNSAT)
    unknown = [(pc, settled.reason(("reach", pc))) for pc in range(len(program))
               if settled.status(("reach", pc)) == UNKNOWN]

    # Guards that can fire are the safety findings.
    # One finding per instruction and rule (an unrolled loop repeats them).
    grouped: Dict[Tuple[int, str], List] = {}
    for e in enc.exits:
        if e.rule is not None and e.rule != RULE_LOOP_BOUND:
            grouped.setdefault((e.pc, e.rule), []).append(e.cond)
    guards = {("guard",) + key: _or(conds) for key, conds in grouped.items()}
    settled.report("safety findings", 0, len(guards))
    session.share(GUARD_SHARE)
    settled.settle_fired(guards)
    settled.settle_by_replay(guards)
    # Deepest first: each guard a question fires is on a short packet that
    # runs far, and the guards before it on its path fire along it.
    settled.settle_all(dict(sorted(guards.items(), key=lambda item: -item[0][1])), settled.fire_along)
    findings: List[Finding] = []
    for key in sorted(guards):
        if settled.status(key) == UNKNOWN:
            unknown.append((key[1], f"whether it can end the run ({key[2]}): {settled.reason(key)}"))
        if settled.status(key) != SAT:
            continue
        _, pc, rule = key
        kind, message = _FINDING_KINDS[rule]
        witness = None
        if len(findings) < MINIMISED_FINDINGS:
            witness = _exit_witness(session, pc, rule, guards[key], settled.firing.get(key))
        findings.append(Finding(kind, pc, f"instruction {pc} ({program[pc]}): {message}", witness))

    # A reachable `ret #k` returns k; a guard that fires returns its constant.
    returned = {program[pc][3] for pc in range(len(program))
                if program[pc][0] == 0x06 and settled.status(("reach", pc)) == SAT}
    returned |= {e.value for e in enc.exits if e.rule is not None and e.rule != RULE_LOOP_BOUND
                 and isinstance(e.value, int) and settled.status(("guard", e.pc, e.rule)) == SAT}
    settled.report("verdicts", 0, 1)
    session.share(1.0)
    verdicts = _verdict_set(session, enc, returned)
    if enc.loop_bound is not False and session.loop_bound_possible():
        # Runs that loop longer than the unrolling were not explored: nothing
        # is proved unreachable and the verdicts may be incomplete.
        why = "the program loops (libpcap backward jumps) beyond the unrolling bound"
        unknown += [(pc, why) for pc in dead]
        dead = []
        verdicts = VerdictSet(verdicts.ranges, False, why + " (other verdicts may exist)")
    if enc.approximations and verdicts.exact:
        verdicts = VerdictSet(verdicts.ranges, False, "; ".join(enc.approximations) +
                              " (the set may include values no packet produces)",
                              _membership(session, _as_term(enc.verdict), session.within_unrolling(True)))
    session.lift_budget()       # the budget was the analysis's: witness() asks afresh
    return Analysis(program, target, verdicts, dead, findings, unknown, session.elapsed, session)


def _as_term(verdict):
    return verdict if not isinstance(verdict, int) else z3.BitVecVal(verdict, 32)


def _exit_witness(session: Session, pc: int, rule: str, cond, hint=None) -> Optional[Witness]:
    def replay(value, ctx):
        t = session.run("program", value, ctx)
        return t.rule == rule and t.rule_pc == pc
    status, value, ctx, note = session.find(cond, replay, hint, incremental=True)
    if status != SAT:
        return None
    return session.make_witness(value, ctx, rule=rule, rule_pc=pc, note=note)


def _or(conds):
    conds = [c for c in conds if c is not False]
    if any(c is True for c in conds):
        return True
    if not conds:
        return False
    return conds[0] if len(conds) == 1 else z3.Or(*conds)


class _Settler:
    """Settles many conditions with few solver questions.

    Each question asks for an input satisfying one still-open condition;
    the answer is replayed on the reference VM, and everything that run
    reached or fired is settled at once.  Questions go to one incremental
    solver (:meth:`Session.check_incrementally`), which keeps what it
    learnt between them: an impossible condition then costs milliseconds,
    so asking one at a time is cheaper than big disjunctions, whose every
    "yes" settles a single guard at the price of a question over them all.
    """

    # Concrete exploration after each solver answer goes on while it keeps
    # finding instructions (a run costs milliseconds, a question far more):
    # it stops after EXPLORE_STALL seconds without a find, or EXPLORE_BUDGET.
    EXPLORE_BUDGET = 20.0
    EXPLORE_STALL = 0.75
    REPLAY_BUDGET = 2.0    # seconds of cutting inputs to fire out-of-bounds loads
    PATH_BUDGET = 20.0     # seconds of single-path questions firing guards
    FLIP_BUDGET = 10.0     # seconds of branch flips along known runs, per call
    REACH_CHUNK = 64       # instructions per reach question (guards: one each)
    # Questions in a row the solver could not answer (its --timeout ran
    # out) after which the rest are not asked but reported unknown: on a
    # formula too hard for the limit every question times out, and asking
    # each of thousands would take hours to say "unknown" thousands of times.
    GIVE_UP_AFTER = 6

    def __init__(self, session: Session, role: str = "program",
                 progress: Optional[Callable[[str, int, int], None]] = None):
        self.session = session
        self.progress = progress
        self.phase = ""
        self.role = role
        self.results: Dict[object, Tuple[str, Optional[str]]] = {}
        self.reaching: Dict[int, tuple] = {}   # pc -> an input known to reach it
        self.firing: Dict[object, tuple] = {}   # guard key -> an input known to fire it
        self.predecessors = _predecessors(self.session.machines[role].program)
        self.unanswered = 0    # questions in a row that came back unknown

    def settle_all(self, conds: Dict[object, object], follow_up=None, chunk: int = 1) -> None:
        """Settle every condition in the order given — callers put the
        deepest instructions first, so each input found runs a long path
        and settles much.  A question may be about several open conditions
        at once (up to ``chunk``): a "no" settles them all.  Dead code comes
        in long runs, so each "no" doubles how many the next question asks
        about, and each "yes" (which settles at least one) goes back to one.
        A condition at an instruction all of whose predecessors are dead is
        settled without a question.  ``follow_up(value, ctx, keys)``, when
        given, is called with each input a question found and the keys
        still open, to settle more of them from it cheaply."""
        open_ = {}
        for key, cond in conds.items():
            if key in self.results:
                continue
            if cond is False:
                self.results[key] = (UNSAT, None)
            elif cond is True:
                self.results[key] = (SAT, None)
            else:
                open_[key] = cond
        size = 1
        while open_:
            batch = {}
            for key, cond in open_.items():
                if self._dead_by_predecessors(key):
                    self.results[key] = (UNSAT, None)
                    continue
                batch[key] = cond
                if len(batch) >= size:
                    break
            for key in [key for key in open_ if key in self.results]:
                open_.pop(key)
            if not batch:
                continue
            if self.session.out_of_budget():
                self._settle(open_, list(open_), UNKNOWN, "not asked: " + self.session.budget_reason())
                break
            if self.progress is not None:
                self.report(self.phase, sum(1 for key in conds if key in self.results), len(conds))
            goal = z3.Or(*batch.values()) if len(batch) > 1 else next(iter(batch.values()))
            status, model, found = self._check(goal, batch)
            self.unanswered = self.unanswered + 1 if status == UNKNOWN else 0
            if status == UNSAT:
                self._settle(open_, batch, UNSAT)
                size = min(chunk, 2 * size)
            elif status == UNKNOWN:
                reason = self.session.last_reason
                if self.unanswered >= self.GIVE_UP_AFTER:
                    why = (f"not asked: the solver could not answer the {self.unanswered} questions "
                           f"before it ({reason})")
                    self._settle(open_, batch, UNKNOWN, reason)
                    self._settle(open_, list(open_), UNKNOWN, why)
                    break
                if len(batch) > 1:
                    chunk = size = 1     # one at a time: some may still be settled
                    continue
                self._settle(open_, batch, UNKNOWN, reason)
            else:
                size = 1
                value, ctx = found if found is not None else self.session.concrete(model)
                seen = self._observe_input(value, ctx, open_) & set(open_)
                if not seen & set(batch):   # not replayable (an over-approximated extension)
                    seen |= {k for k, c in batch.items() if _true_in(model, c)}
                self._settle(open_, seen, SAT)
                if follow_up is not None and value is not None and open_:
                    follow_up(value, ctx, list(open_))
                    for done in [k for k in open_ if k in self.results]:
                        open_.pop(done)

    def settle_fired(self, conds) -> None:
        """Guards some run already fired (while reaching instructions) can fire."""
        for key in conds:
            if key in self.firing and key not in self.results:
                self.results[key] = (SAT, None)

    def report(self, phase: str, done: int, total: int) -> None:
        self.phase = phase
        if self.progress is not None:
            self.progress(phase, done, total)

    def _check(self, goal, batch):
        """An answer for ``goal`` (one of ``batch``'s conditions holds):
        ``(status, model, input)``, preferring inputs small enough to
        replay (a packet the solver leaves unbounded could be gigabytes
        long).  ``input``, when not None, is a replayed input doing what
        the model does.  The unbounded question comes first: it alone is
        exact when the answer is no (most questions, on a program with
        dead code).  The questions share one incremental solver (see
        :meth:`Session.check_incrementally`): a program's many reach and
        guard questions differ only in their goal."""
        status, model = self.session.check_incrementally(goal)
        small = self.session.small_input()
        if status != SAT or small is None or _true_in(model, small):
            return status, model, None
        # The same input with its packet cut to a replayable length usually
        # still does it (the program reads far less): a run, not a question.
        value, ctx = self.session.concrete(model, cut=PREFERRED_MAX)
        if value is not None and (self._record_run(value, ctx) or set()) & set(batch):
            return status, model, (value, ctx)
        status_small, model_small = self.session.check_incrementally(goal, small)
        return (status_small, model_small, None) if status_small == SAT else (status, model, None)

    def seed(self, conds: Dict[object, object]) -> None:
        """Settle what plain inputs (all-zero packets, default metadata) and
        their mutations reach, before any solver question: on most filters
        that is nearly every instruction."""
        if self.session.target == "seccomp" or self.session.inputs.fixed:
            return       # pinned inputs: only the solver's inputs respect them
        open_ = {key: cond for key, cond in conds.items()
                 if key not in self.results and cond is not False and cond is not True}
        for size in (1514, 64):
            if not open_:
                break
            self._settle(open_, self._observe_input(bytes(size), Context(), open_) & set(open_), SAT)

    def _observe_input(self, value, ctx, open_) -> set:
        """What one concrete run reaches and fires — and what cheap
        mutations of that input reach besides."""
        seen = self._record_run(value, ctx) if value is not None else None
        if seen is None:
            return set()
        machine = self.session.machines[self.role]
        wanted = {key[1] for key in open_ if key[0] == "reach"} - {key[1] for key in seen}
        if wanted:
            fixed = self.session.inputs.fixed
            found = explore(machine, [(value, ctx)], wanted,
                            budget=self.session.within_budget(self.EXPLORE_BUDGET), stall=self.EXPLORE_STALL,
                            keep_length="caplen" in fixed or "len" in fixed)
            for pc, reached_by in found.items():
                self.reaching.setdefault(pc, reached_by)
            seen |= {("reach", pc) for pc in found}
        guards = [key for key in open_ if key[0] == "guard" and key not in seen]
        if guards:
            fired = fire_loads_out_of_bounds(machine, self.reaching, guards,
                                             self.session.within_budget(self.REPLAY_BUDGET))
            for key, by in fired.items():
                self.firing.setdefault(key, by)
            seen |= set(fired)
        return seen

    def settle_by_replay(self, conds) -> None:
        """Settle out-of-bounds guards from inputs already known to reach
        their instruction, before asking the solver anything."""
        wanted = [key for key, cond in conds.items() if key not in self.results and key[0] == "guard"]
        found = fire_loads_out_of_bounds(self.session.machines[self.role], self.reaching, wanted,
                                         self.session.within_budget(self.REPLAY_BUDGET))
        for key, by in found.items():
            self.results[key] = (SAT, None)
            self.firing.setdefault(key, by)

    def flip_towards(self, conds, inputs) -> None:
        """Reach open instructions of ``conds`` by flipping branches of the
        runs of ``inputs`` (see :mod:`.flips`): each a question along one
        run, replayed before it counts."""
        wanted = {key[1] for key, cond in conds.items() if key[0] == "reach" and key not in self.results
                  and cond is not False and cond is not True}

        def observe(value, ctx):
            seen = self._record_run(value, ctx) or set()
            for key in seen:
                if key in conds and key not in self.results:
                    self.results[key] = (SAT, None)
            return {key[1] for key in seen if key[0] == "reach"}
        flip_towards(self.session, self.role, inputs, wanted, self.session.within_budget(self.FLIP_BUDGET),
                     observe)

    def _dead_by_predecessors(self, key) -> bool:
        """Whether ``key`` is impossible because the instruction it is at
        is: a guard at an unreachable instruction, or an instruction all of
        whose predecessors are unreachable (in a program that only jumps
        forward, a run reaches an instruction from one of them)."""
        pc = key[1]
        if key[0] == "guard":
            return self.results.get(("reach", pc), (None,))[0] == UNSAT
        preds = self.predecessors.get(pc) if self.predecessors is not None else None
        return bool(preds) and all(self.results.get(("reach", p), (None,))[0] == UNSAT for p in preds)

    def _record_run(self, value, ctx) -> Optional[set]:
        """What one concrete run reaches and fires, remembering the input
        as reaching and firing them (None when it cannot be run)."""
        try:
            trace = self.session.run(self.role, value, ctx)
        except ExecutionError:
            return None
        for pc in trace.path:
            self.reaching.setdefault(pc, (value, ctx))
        seen = {("reach", pc) for pc in trace.path}
        if trace.rule is not None:
            key = ("guard", trace.rule_pc, trace.rule)
            self.firing.setdefault(key, (value, ctx))
            seen.add(key)
        return seen

    def fire_along(self, value, ctx, keys) -> None:
        """Settle guards in ``keys`` by small questions along the path this
        input takes (see :mod:`.paths`); each answer counts only once
        replayed.  Guards are asked deepest first, so the input a question
        finds has a short packet that still runs far (the guards that need
        a question fire only on short packets), and the guards before it
        on its path usually fire along it."""
        wanted = [key for key in keys if key not in self.results and key[0] == "guard"]

        def observe(found_value, found_ctx):
            for key in self._record_run(found_value, found_ctx) or ():
                if key in wanted and key not in self.results:
                    self.results[key] = (SAT, None)
        if wanted:
            fire_on_known_paths(self.session, self.role, [(value, ctx)], wanted,
                                self.session.within_budget(self.PATH_BUDGET), observe,
                                lambda key: key not in self.results)

    def _settle(self, open_, keys, status, reason: Optional[str] = None) -> None:
        for key in keys:
            self.results[key] = (status, reason)
            open_.pop(key, None)

    def status(self, key):
        return self.results[key][0]

    def reason(self, key):
        return self.results[key][1]


def _predecessors(program) -> Optional[Dict[int, List[int]]]:
    """pc -> the pcs a run can come to it from; None when the program jumps
    backwards (libpcap loops: then a run can come from anywhere later)."""
    preds: Dict[int, List[int]] = {}
    for pc, (code, jt, jf, k) in enumerate(program):
        cls = code & 0x07
        if cls == isa.RET:
            continue
        if cls == isa.JMP:
            if code & 0xF0 == isa.JA:
                targets = {pc + 1 + isa.signed32(k)}
            else:
                targets = {pc + 1 + jt, pc + 1 + jf}
        else:
            targets = {pc + 1}
        for target in targets:
            if target <= pc:
                return None
            preds.setdefault(target, []).append(pc)
    return preds


def _true_in(model, cond) -> bool:
    if isinstance(cond, bool):
        return cond
    return z3.is_true(model.eval(cond, model_completion=True))


def _verdict_set(session: Session, enc, returned=()) -> VerdictSet:
    """``returned``: verdicts already known to be returned by some input."""
    verdict = enc.verdict if not isinstance(enc.verdict, int) else z3.BitVecVal(enc.verdict, 32)
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
    return _ranges(session, verdict, stay, found)


def _bounds_only(session: Session, enc, verdict, stay, found) -> VerdictSet:
    """When the solver cannot list the verdicts: the values found so far
    and the bounds the abstract run guarantees (every u32 without one)."""
    bounds = enc.facts.verdict_ranges() if enc.facts is not None else [(0, 0xFFFFFFFF)]
    return VerdictSet(bounds + [(v, v) for v in found], False, session.last_reason,
                      _membership(session, verdict, stay))


def _and(a, b):
    if a is True:
        return b
    return z3.And(a, b)


def _membership(session, verdict, stay):
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
    exact = True
    reasons = []
    out = []
    stack = [(0, 0xFFFFFFFF)]
    budget = GAP_QUESTIONS
    while stack:
        lo, hi = stack.pop()
        budget -= 1
        inside = _and(stay, z3.And(z3.UGE(verdict, lo), z3.ULE(verdict, hi)))
        status, model = session.check_incrementally(inside)
        if status == UNSAT:
            continue
        if status == UNKNOWN or budget <= 0:
            out.append((lo, hi))
            exact = False
            reasons.append(session.last_reason or "too many gaps to list")
            continue
        m = _extreme(session, verdict, stay, lo, hi, lowest=True)
        big_m = _extreme(session, verdict, stay, lo, hi, lowest=False)
        if m is None or big_m is None:
            out.append((lo, hi))
            exact = False
            reasons.append(session.last_reason or "bounds unknown")
            continue
        if big_m - m < 64:
            values = _enumerate_between(session, verdict, stay, m, big_m)
            if values is None:
                out.append((m, big_m))
                exact = False
                reasons.append(session.last_reason or "enumeration unknown")
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
    return VerdictSet(out, exact, reason, None if exact else _membership(session, verdict, stay))


def _extreme(session, verdict, stay, lo, hi, lowest: bool) -> Optional[int]:
    """Binary search for the smallest (or largest) verdict in [lo, hi]."""
    while lo < hi:
        mid = (lo + hi) // 2 if lowest else (lo + hi + 1) // 2
        bound = z3.And(z3.UGE(verdict, lo), z3.ULE(verdict, mid)) if lowest else \
            z3.And(z3.UGE(verdict, mid), z3.ULE(verdict, hi))
        status, _ = session.check_incrementally(_and(stay, bound))
        if status == UNKNOWN:
            return None
        if lowest:
            lo, hi = (lo, mid) if status == SAT else (mid + 1, hi)
        else:
            lo, hi = (mid, hi) if status == SAT else (lo, mid - 1)
    return lo


def _enumerate_between(session, verdict, stay, lo, hi) -> Optional[List[int]]:
    values = []
    while True:
        cond = z3.And(z3.UGE(verdict, lo), z3.ULE(verdict, hi), *[verdict != v for v in values])
        status, model = session.check_incrementally(_and(stay, cond))
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
