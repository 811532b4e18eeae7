"""Settling many reach and guard conditions with few solver questions."""

from __future__ import annotations

from typing import Callable, Dict, List, Optional, Tuple

import z3

from .. import isa
from ..context import Context
from ..errors import ExecutionError
from .explore import explore, fire_loads_out_of_bounds
from .flips import flip_towards
from .paths import fire_on_known_paths
from .session import SAT, UNKNOWN, UNSAT, Session
from .witness import PREFERRED_MAX


class Settler:
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
        # In a program that loops, a condition false within the unrolling may
        # still hold after more laps (when the abstract run allows it), and
        # a run shows it does.
        enc = self.session.encodings[self.role]
        beyond = set()
        if enc.loop_bound is not False:
            beyond = {("reach", pc) for pc in enc.facts.reachable} | \
                {("guard", pc, rule) for pc, rule in enc.facts.guards}
        open_ = {key: cond for key, cond in conds.items()
                 if key not in self.results and (cond is not False or key in beyond) and cond is not True}
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
        machine = self.session.explorer(self.role)
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
        found = fire_loads_out_of_bounds(self.session.explorer(self.role), self.reaching, wanted,
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
            trace = self.session.explore_run(self.role, value, ctx)
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
