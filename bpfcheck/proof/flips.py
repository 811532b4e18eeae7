"""Branch flips: reach instructions by small questions along known runs.

Concrete exploration (:mod:`.explore`) flips branches that compare a raw
packet field with a constant; a branch on a computed value (``add x;
jgt #k``) needs the solver.  But not a question over the whole program:
when a known run takes a branch whose other side is an instruction still
unreached, "follow this run up to the branch, then go the other way" is a
question over that one path (milliseconds, where one over the whole
program of 4,096 instructions takes a second).  Its model is only a
candidate: what it reaches counts once the reference VM has run it.
"""

from __future__ import annotations

import itertools
import time
from collections import deque
from typing import Callable, Iterable, Set

import z3

from .. import isa
from ..domains.z3dom import Z3
from ..errors import ExecutionError
from .paths import path_solver, shadow_run

#: time limit of one flip question (seconds)
FLIP_QUESTION_TIMEOUT = 0.25
#: questions asked for one unreached instruction before it is left to the solver
ATTEMPTS_PER_TARGET = 2
_literals = itertools.count()


def flip_towards(session, role: str, inputs: Iterable[tuple], wanted: Set[int], budget: float,
                 observe_input: Callable[[object, object], Set[int]]) -> None:
    """Flip branches of the runs of ``inputs`` (``(value, ctx)`` pairs)
    whose other side is a pc in ``wanted``, and of the runs the answers
    lead to, until nothing in ``wanted`` is left to try or ``budget``
    seconds have passed.  ``observe_input(value, ctx)`` replays each
    candidate and returns the pcs now reached; they leave ``wanted``."""
    if session.target == "seccomp" or not wanted:
        return
    program = session.machines[role].program
    deadline = time.monotonic() + budget
    attempts = {}
    queue = deque(inputs)
    while queue and wanted and time.monotonic() < deadline:
        value, ctx = queue.popleft()
        # A cheap concrete run first: only a run with a branch into
        # ``wanted`` is worth replaying over z3 terms.
        try:
            trace = session.explore_run(role, value, ctx)
        except ExecutionError:
            continue
        open_targets = {pc for pc in wanted if attempts.get(pc, 0) < ATTEMPTS_PER_TARGET}
        steps = _steps_needed(program, trace.path, open_targets)
        if not steps:
            continue
        run = shadow_run(session, role, value, ctx, steps=steps)
        if run is None:
            continue
        prefix, _, branches = run
        solver = path_solver(session, FLIP_QUESTION_TIMEOUT)
        asserted = 0
        for index, other in branches:
            if other not in wanted or attempts.get(other, 0) >= ATTEMPTS_PER_TARGET:
                continue
            if time.monotonic() > deadline:
                return
            attempts[other] = attempts.get(other, 0) + 1
            solver.add(*prefix[asserted:index])
            asserted = index
            literal = z3.Bool(f"flip_{index}_{next(_literals)}")
            solver.add(z3.Implies(literal, Z3.not_(prefix[index])))
            if solver.check(literal) != z3.sat:
                continue
            found_value, found_ctx = session.concrete(solver.model())
            if found_value is None:
                continue
            reached = observe_input(found_value, found_ctx)
            if reached & wanted:
                wanted -= reached
                queue.append((found_value, found_ctx))


def _steps_needed(program, path, wanted) -> int:
    """How much of the run to replay over terms: up to its last conditional
    jump whose other side is wanted (0: it has none)."""
    for step in range(len(path) - 1, -1, -1):
        pc = path[step]
        code, jt, jf, _ = program[pc]
        if code & 0x07 == isa.JMP and code & 0xF0 != isa.JA and jt != jf:
            if pc + 1 + jt in wanted or pc + 1 + jf in wanted:
                return step + 1
    return 0
