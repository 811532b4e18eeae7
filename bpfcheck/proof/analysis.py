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

from ..program import Program
from ..semantics import (RULE_DIV_BY_ZERO, RULE_MOD_BY_ZERO, RULE_NO_DEVICE, RULE_NO_LINK_HEADER,
                         RULE_OUT_OF_BOUNDS)
from ..symbolic.executor import RULE_LOOP_BOUND
from .outcome import Finding, Witness
from .session import SAT, UNKNOWN, UNSAT, Session, solver_limits
from .settler import Settler
from .verdicts import VerdictSet, as_term, beyond_unrolling, membership, verdict_set

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
    _reaching: Dict[int, tuple] = field(default_factory=dict)    # pc -> an input run that reached it

    def witness(self, pc: int) -> Optional[Witness]:
        """An input that reaches instruction ``pc`` (None when it is dead)."""
        session = self._session
        enc = session.encodings["program"]
        goal = enc.reach.get(pc, False)

        def replay(value, ctx):
            return pc in session.run("program", value, ctx).path
        status, value, ctx, note = session.find(goal, replay, self._reaching.get(pc))
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
    settled = Settler(session, progress=progress)
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
    verdicts = verdict_set(session, enc, returned)
    if enc.loop_bound is not False and session.loop_bound_possible():
        # Runs that loop longer than the unrolling were not explored by the
        # solver; the abstract run covers them (coarsely, see .abstract).
        why = "the program loops (libpcap backward jumps) beyond the unrolling bound"
        unknown += [(pc, why) for pc in dead if pc in enc.facts.reachable]
        dead = [pc for pc in dead if pc not in enc.facts.reachable]
        verdicts = beyond_unrolling(verdicts, enc.facts.verdict_ranges(), why)
    if enc.approximations and verdicts.exact:
        verdicts = VerdictSet(verdicts.ranges, False, "; ".join(enc.approximations) +
                              " (the set may include values no packet produces)",
                              membership(session, as_term(enc.verdict), session.within_unrolling(True)))
    session.lift_budget()       # the budget was the analysis's: witness() asks afresh
    return Analysis(program, target, verdicts, dead, findings, unknown, session.elapsed, session,
                    settled.reaching)


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
