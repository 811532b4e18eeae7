"""Checks on the values returned: ALLOW by default, ERRNO data, unknown actions."""

from __future__ import annotations

import z3

from .. import isa
from .. import syscalls as sc
from ..context import SeccompData
from . import actions
from .explain import known_arches
from .findings import AuditFinding, Context
from .policy import SAT, UNSAT, action, effective_z3


# --- default-allow ------------------------------------------------------------------------------------
_ALLOWING = (isa.SECCOMP_RET_ALLOW, isa.SECCOMP_RET_LOG)


def default_allow(ctx: Context) -> None:
    ps = ctx.ps
    term = action(effective_z3(ps.verdicts["policy"]))
    allows = z3.Or(*[term == a for a in _ALLOWING])
    nr_var, arch_var = ps.inputs.nr, ps.inputs.arch
    known = known_arches()
    for value, name in known.items():
        numbers = set(sc.table(name))
        if name == "x86_64":
            numbers |= set(sc.table("x32"))
        outside = z3.And(*[nr_var != n for n in numbers])
        nicer = [n for n in range(0, 4096) if n not in numbers]

        def accept(d, v=value, numbers=numbers):
            return d.arch == v and d.nr not in numbers and actions.effective(ctx.policy.run(d)) & \
                actions.ACTION_MASK in _ALLOWING
        with ps.assuming(arch_var == value, outside):
            status, data, note = ps.find(allows, accept)
        if status == SAT:
            data = _nicest(data, nicer, accept)
            message = (f"numbers outside the {name} table (system calls added to the kernel later, "
                       f"or none at all) get {actions.describe(ctx.policy.run(data))}: the default "
                       f"action allows")
            ctx.add(AuditFinding("default-allow", message, ps.witness(data)))
        elif status != UNSAT:
            ctx.result.unknown.append(f"default-allow ({name}): {note}")
    with ps.assuming(z3.And(*[arch_var != v for v in known])):
        status, data, note = ps.find(allows, lambda d: d.arch not in known and actions.effective(
            ctx.policy.run(d)) & actions.ACTION_MASK in _ALLOWING)
    if status == SAT:
        message = (f"an architecture the table does not know (arch {data.arch:#x}) gets "
                   f"{actions.describe(ctx.policy.run(data))}")
        ctx.add(AuditFinding("default-allow", message, ps.witness(data)))


def _nicest(data: SeccompData, nicer, accept) -> SeccompData:
    for nr in nicer:
        candidate = SeccompData(nr, data.arch, data.instruction_pointer, data.args)
        if accept(candidate):
            return candidate
    return data


# --- verdict values ------------------------------------------------------------------------------------
def _verdict_check(ctx: Context, check: str, goal, holds, text) -> None:
    ps = ctx.ps
    status, data, note = ps.find(goal, holds)
    if status == SAT:
        v = ctx.policy.run(data)
        ctx.add(AuditFinding(check, text(v, data), ps.witness(data)))
    elif status != UNSAT:
        ctx.result.unknown.append(f"{check}: {note}")


def errno_data(ctx: Context) -> None:
    v = ctx.ps.verdicts["policy"]
    data = v & 0xFFFF
    _verdict_check(
        ctx, "errno-data", z3.And(action(v) == isa.SECCOMP_RET_ERRNO, z3.UGT(data, actions.MAX_ERRNO)),
        lambda d: _is_errno(ctx.policy.run(d)) and ctx.policy.run(d) & 0xFFFF > actions.MAX_ERRNO,
        lambda verdict, d: f"{sc.describe_seccomp(d).split(' on ')[0]} returns ERRNO data "
                           f"{verdict & 0xFFFF}; the kernel caps it, so the caller sees errno 4095")


def errno_zero(ctx: Context) -> None:
    v = ctx.ps.verdicts["policy"]
    _verdict_check(
        ctx, "errno-zero", v == isa.SECCOMP_RET_ERRNO,
        lambda d: ctx.policy.run(d) == isa.SECCOMP_RET_ERRNO,
        lambda verdict, d: f"{sc.describe_seccomp(d).split(' on ')[0]} returns ERRNO(0): the call "
                           f"is skipped but reports success")


def _is_errno(v: int) -> bool:
    return v & actions.ACTION_MASK == isa.SECCOMP_RET_ERRNO


def unknown_action(ctx: Context) -> None:
    v = ctx.ps.verdicts["policy"]
    _verdict_check(
        ctx, "unknown-action", z3.And(*[action(v) != a for a in actions.NAME_OF]),
        lambda d: ctx.policy.run(d) & actions.ACTION_MASK not in actions.NAME_OF,
        lambda verdict, d: f"{sc.describe_seccomp(d).split(' on ')[0]} returns {verdict:#x}, an "
                           f"action the kernel does not know: it acts as KILL_PROCESS")
