"""Single-path questions: fire a guard along a run already known.

A guard (an out-of-bounds load, a link-relative load without a header, a
division by zero) fires on at most one instruction per run, so a question
over the whole program's formula settles one guard per answer — on a large
program that is a second or more each.  Most guards can be fired on a path
some known input already takes: replaying that input with the semantics
table over z3 terms (the symbolic inputs, but only the instructions of this
one run, no merged states) gives the path's condition up to the guard, and
"this path, then the guard fires" is a small question.  Its model is only a
candidate: it counts once the reference VM, run on it, ends at that guard.
"""

from __future__ import annotations

import itertools
import time
from typing import Dict, Iterable, List, Optional, Tuple

import z3

from .. import isa
from ..context import Context
from ..domains.z3dom import Z3, make_incremental_solver
from ..errors import ExecutionError
from ..semantics import TABLES
from ..symbolic.executor import NAMING_STRIDE, named_state
from .explore import known_input

#: time limit of one path question (seconds)
PATH_QUESTION_TIMEOUT = 0.5
_literals = itertools.count()


def path_conditions(session, role: str, value, ctx: Optional[Context], stop_pcs: Iterable[int]):
    """For the run of ``role`` on ``(value, ctx)``: for each pc in
    ``stop_pcs`` the run visits, its first visit's ``(prefix, guards)`` —
    the conditions (z3 terms) the run satisfied before that instruction,
    and the instruction's guards over the same terms, in the order the
    table checks them.  None when the run cannot be replayed."""
    stops = set(stop_pcs)
    try:
        path = session.explore_run(role, value, ctx).path
    except ExecutionError:
        return None
    # Replaying over terms costs far more than running: only up to the
    # last instruction asked about.
    steps = max((step for step, pc in enumerate(path) if pc in stops), default=-1) + 1
    if not steps:
        return {}
    run = shadow_run(session, role, value, ctx, stops, steps=steps)
    if run is None:
        return None
    prefix, seen, _ = run
    return {pc: (prefix[:n], guards) for pc, (n, guards) in seen.items()}


def shadow_run(session, role: str, value, ctx: Optional[Context], stop_pcs: Iterable[int] = (),
               steps: Optional[int] = None):
    """The run of ``role`` on ``(value, ctx)`` replayed over z3 terms:
    ``(prefix, seen, branches)`` where ``prefix`` lists the conditions the
    run satisfied in order, ``seen`` maps each pc of ``stop_pcs`` it
    visits to ``(length of the prefix at its first visit, its guards)``,
    and ``branches`` lists ``(index in prefix, pc not taken)`` for every
    conditional jump it took one way.  With ``steps``, only the run's
    first ``steps`` instructions are replayed over terms (the rest of the
    run is not needed, and replaying costs far more than running).  None
    when the run cannot be replayed."""
    machine = session.machines[role]
    table = TABLES[machine.target]
    env = session.inputs.env(machine.target)
    stops = set(stop_pcs)
    state = {"a": 0, "x": 0, "mem": (0,) * isa.MEMWORDS}
    prefix: List = []
    seen: Dict[int, Tuple[int, tuple]] = {}     # pc -> (length of the prefix, guards)
    branches: List[Tuple[int, int]] = []
    left = [steps if steps is not None else -1]
    replayed = [0]

    def define(value, label):
        """A variable for ``value``; its definition joins the path's conditions."""
        var = z3.BitVec(f"path_{label}{next(_literals)}", 32)
        prefix.append(var == value)
        return var

    def observe(pc, insn, effect, a):
        if left[0] == 0:
            return
        left[0] -= 1
        shadow = table[insn[0]](insn, state["a"], state["x"], state["mem"], Z3, env)
        if pc in stops and pc not in seen:
            seen[pc] = (len(prefix), shadow.guards)
        for guard in shadow.guards:
            # The run went on past this instruction: no guard fired.
            if not isinstance(guard.cond, bool):
                prefix.append(Z3.not_(guard.cond))
        state["a"], state["x"], state["mem"] = shadow.applied(state["a"], state["x"], state["mem"])
        replayed[0] += 1
        if replayed[0] % NAMING_STRIDE == 0:
            state["a"], state["x"], state["mem"] = named_state(state["a"], state["x"], state["mem"], define)
        flow, concrete_flow = shadow.flow, effect.flow
        if flow is not None and flow[0] == "jump" and not isinstance(flow[1], bool):
            taken = bool(concrete_flow[1])
            if flow[2] != flow[3]:
                branches.append((len(prefix), pc + 1 + (flow[3] if taken else flow[2])))
            prefix.append(flow[1] if taken else Z3.not_(flow[1]))

    concrete_env = known_input(machine.target, value, ctx)
    try:
        machine.observe(concrete_env, observe)
    except ExecutionError:
        return None
    return prefix, seen, branches


def path_solver(session, timeout: float) -> z3.Solver:
    """A fresh solver for questions along one run: the inputs' own
    constraints and the bound that keeps packets replayable, nothing of
    the program's formula.  Its questions are asked under assumptions, a
    path condition growing between them: the incremental core's work."""
    solver = make_incremental_solver(timeout=timeout)
    solver.add(*session.inputs.constraints)
    solver.add(session.small_input())
    return solver


def fire_on_known_paths(session, role: str, inputs: Iterable[tuple], wanted, budget: float,
                        observe_input, is_open, stall: float = 1.0) -> None:
    """Ask, for each guard key ``("guard", pc, rule)`` in ``wanted`` and
    each known input (``inputs``: ``(value, ctx)`` pairs) whose run visits
    ``pc``, for an input that follows that run's path to ``pc`` and fires
    the guard there, until ``is_open(key)`` says it is settled.  Every
    model is handed to ``observe_input(value, ctx)``, which replays it and
    settles what it really fires.  Stops after ``budget`` seconds, or
    ``stall`` seconds without settling anything (guards that cannot fire
    are left to one question over the whole program)."""
    if session.target == "seccomp":
        return
    start = time.monotonic()
    deadline = start + budget
    stalled = start + stall
    for value, ctx in inputs:
        keys = [key for key in wanted if is_open(key)]
        if len(keys) < len(wanted):
            wanted = keys
            stalled = min(deadline, time.monotonic() + stall)
        if not keys or time.monotonic() > stalled:
            return
        conds = path_conditions(session, role, value, ctx, {key[1] for key in keys})
        if not conds:
            continue
        # One solver per run: its keys are taken in path order, so each
        # question only adds the conditions since the previous one, and asks
        # about its guard under an assumption (what the solver learnt about
        # the path stays for the next question).
        solver = path_solver(session, PATH_QUESTION_TIMEOUT)
        asserted = 0
        for key in sorted((key for key in keys if key[1] in conds), key=lambda key: len(conds[key[1]][0])):
            _, pc, rule = key
            if not is_open(key) or time.monotonic() > stalled:
                continue
            prefix, guards = conds[pc]
            solver.add(*prefix[asserted:])
            asserted = len(prefix)
            before = []
            for guard in guards:
                if guard.rule == rule and not isinstance(guard.cond, bool):
                    literal = z3.Bool(f"fires_{pc}_{len(before)}_{next(_literals)}")
                    solver.add(z3.Implies(literal, z3.And(*before, guard.cond)))
                    if solver.check(literal) == z3.sat:
                        found_value, found_ctx = session.concrete(solver.model())
                        if found_value is not None:
                            observe_input(found_value, found_ctx)
                    break
                if isinstance(guard.cond, bool):
                    break     # a guard that always fires first: nothing after it can
                before.append(Z3.not_(guard.cond))
