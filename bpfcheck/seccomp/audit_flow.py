"""Control-flow checks: the architecture test, and instructions no input reaches."""

from __future__ import annotations

from typing import List, Optional, Tuple

import z3

from .. import isa
from .. import syscalls as sc
from ..context import SeccompData
from . import actions
from .explain import data_from_words, known_arches
from .verdicts import minimise
from .findings import AuditFinding, Context
from .paths import TooManyPaths, walk
from .policy import SAT, UNSAT


# --- arch-not-checked ----------------------------------------------------------------------------
def arch_not_checked(ctx: Context) -> None:
    for index, program in enumerate(ctx.policy.filters):
        found: List[tuple] = []

        def hook(pc, cond, atoms, solver, zw):
            if _arch_pinned(solver, zw):
                return True
            if 0 in cond.words():
                found.append((pc, atoms, cond))
                return True
            return False
        try:
            walk(program, {}, hook=hook)
        except TooManyPaths as e:
            ctx.result.unknown.append(f"arch-not-checked (filter {index}): {e}")
            continue
        for pc, atoms, cond in found[:1]:           # the first such test says it all
            finding = _arch_finding(ctx, index, program, pc, atoms, cond)
            if finding is not None:
                ctx.add(finding)


def _arch_pinned(solver, zw) -> bool:
    if 4 not in zw.vars:
        return False
    if solver.check() != z3.sat:
        return True
    value = solver.model().eval(zw.vars[4], model_completion=True)
    solver.push()
    solver.add(zw.vars[4] != value)
    pinned = solver.check() == z3.unsat
    solver.pop()
    return pinned


def _arch_finding(ctx, index, program, pc, atoms, cond) -> Optional[AuditFinding]:
    from .paths import Z3Words
    zw = Z3Words()
    feasible: List[Tuple[int, str, SeccompData]] = []
    for value, name in sorted(known_arches().items(), key=lambda kv: kv[1] != "i386"):
        solver = z3.SolverFor("QF_BV")
        solver.add(*[zw.atom(a) for a in atoms + (cond,)], zw.word(4) == value)
        if solver.check() == z3.sat:
            model = solver.model()
            words = {off: model.eval(v, model_completion=True).as_long() for off, v in zw.vars.items()}
            feasible.append((value, name, data_from_words(words)))
    if not feasible:
        return None
    value, name, data = next(((v, n, d) for v, n, d in feasible if n != "x86_64"), feasible[0])

    def reaches(d):
        return pc in ctx.policy.machines[index].trace(d).path and d.arch == value
    data = minimise(data, reaches)
    arches = ", ".join(f"{n} ({v:#x})" for v, n, _ in feasible)
    names = [f"{sc.syscall_name(data.nr, n) or 'nothing'} on {n}" for v, n, _ in feasible[:3]]
    message = (f"filter {index}, instruction {pc} ({program[pc]}) tests the system call number "
               f"before the architecture is pinned to one value: it runs for arch {arches}; "
               f"nr {data.nr} is {', '.join(names)}")
    return AuditFinding("arch-not-checked", message, ctx.ps.witness(data), pc=pc, filter=index)


# --- dead rules ------------------------------------------------------------------------------------------
def dead_rules(ctx: Context) -> None:
    """Reachability of every instruction: the runs already made mark most
    of them live for free; each remaining one is a solver question whose
    model, run on the VM, marks a whole path live at once."""
    ps = ctx.ps
    for index, program in enumerate(ctx.policy.filters):
        enc = ps.encoding("policy", index)
        machine = ctx.policy.machines[index]
        live = ctx.policy.live_pcs(index)
        dead = set()
        for pc in range(len(program)):
            if pc in live:
                continue
            reach = enc.reach.get(pc, False)
            status, model = ps.check(z3.BoolVal(reach) if isinstance(reach, bool) else reach)
            if status == SAT:
                live.add(pc)
                live.update(machine.trace(ps.model_data(model)).path)
            elif status == UNSAT:
                dead.add(pc)
            else:
                ctx.result.unknown.append(f"dead-rule: instruction {pc} of filter {index}: "
                                          f"{ps.session.last_reason}")
        last = len(program) - 1
        # A trailing catch-all `ret` after the last rule is an idiom (libseccomp emits one), not a rule.
        if last in dead and program[last][0] & 0x07 == isa.RET and not _jumped_to(program, last):
            dead.discard(last)
        for start, end in _regions(sorted(dead)):
            rets = [pc for pc in range(start, end + 1) if program[pc][0] & 0x07 == isa.RET]
            jumps = [pc for pc in range(start, end + 1) if program[pc][0] & 0x07 == isa.JMP]
            what = ", ".join(f"{pc}: {program[pc]}" for pc in rets[:4]) or f"{program[start]}"
            source, witness = _shadowing_jump(program, enc, start, end, dead, ctx, index)
            where = f"instruction {start}" if start == end else f"instructions {start}-{end}"
            message = (f"filter {index}: {where} can never run ({len(rets)} ret, {len(jumps)} "
                       f"comparisons; {what})")
            if source is not None:
                message += f": every input reaching instruction {source} ({program[source]}) " \
                           f"goes the other way"
                would = _would_match(ctx, index, program, source, start, end, witness)
                if would is not None:
                    witness = ctx.ps.witness(would)
                    message += (f"; e.g. {sc.describe_seccomp(would).split(' (nr')[0]} passes its "
                                f"test but gets {actions.describe(ctx.policy.run(would))}")
            if not ctx.add(AuditFinding("dead-rule", message, witness, pc=start, filter=index)):
                return


def _jumped_to(program, target) -> bool:
    for pc, insn in enumerate(program):
        code = insn[0]
        if code & 0x07 == isa.JMP:
            if code & 0xF0 == isa.JA:
                if pc + 1 + insn[3] == target:
                    return True
            elif target in (pc + 1 + insn[1], pc + 1 + insn[2]):
                return True
    return False


def _regions(pcs):
    out = []
    for pc in pcs:
        if out and pc == out[-1][1] + 1:
            out[-1][1] = pc
        else:
            out.append([pc, pc])
    return [tuple(r) for r in out]


def _shadowing_jump(program, enc, start, end, dead, ctx, index):
    """A live jump with an edge into the region, and an input reaching it."""
    machine = ctx.policy.machines[index]
    for pc in range(0, start):
        insn = program[pc]
        if pc in dead or insn[0] & 0x07 != isa.JMP or insn[0] & 0xF0 == isa.JA:
            continue
        if any(start <= pc + 1 + off <= end for off in (insn[1], insn[2])):
            reach = enc.reach.get(pc, False)
            status, data, _ = ctx.ps.find(z3.BoolVal(reach) if isinstance(reach, bool) else reach,
                                          lambda d, pc=pc: pc in machine.trace(d).path)
            if status == SAT:
                return pc, ctx.ps.witness(data)
    return None, None


def _would_match(ctx, index, program, jump, start, end, reaching) -> Optional[SeccompData]:
    """An input that passes the test of ``jump`` toward the dead region (its
    own condition, with every other word as in ``reaching``) — which the
    filter therefore decides somewhere else."""
    from .paths import Z3Words
    if reaching is None:
        return None
    conds = []

    def hook(pc, cond, atoms, solver, zw):
        if pc == jump:
            conds.append(cond)
            return True
        return False
    try:
        walk(program, {}, limit=256, hook=hook)
    except TooManyPaths:
        return None
    if not conds:
        return None
    insn = program[jump]
    cond = conds[0] if start <= jump + 1 + insn[1] <= end else conds[0].negate()
    zw = Z3Words()
    solver = z3.SolverFor("QF_BV")
    solver.add(zw.atom(cond))
    words = {off: reaching.seccomp.word(off) for off in range(0, 64, 4)}
    for off, value in words.items():
        if off not in cond.words():
            solver.add(zw.word(off) == value)
    if solver.check() != z3.sat:
        return None
    model = solver.model()
    words.update({off: model.eval(v, model_completion=True).as_long() for off, v in zw.vars.items()})
    return data_from_words(words)
