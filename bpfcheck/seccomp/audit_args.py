"""Argument checks: x32 numbers, halves of 64-bit arguments, and the high half of 32-bit ones."""

from __future__ import annotations

from typing import Optional

import z3

from .. import syscalls as sc
from ..context import SeccompData
from . import actions
from .argtypes import INT, arg_type
from .explain import example_of
from .verdicts import minimise
from .findings import AuditFinding, Context
from .paths import Cmp, Word
from .policy import is_64bit, weaker_z3

X32_BIT = sc.X32_SYSCALL_BIT
X86_64 = sc.ARCHITECTURES["x86_64"]


# --- x32 ---------------------------------------------------------------------------------------------
def x32_bypass(ctx: Context) -> None:
    """Each x32 call against the x86_64 call of the same name (or, for the
    x32-only numbers, the same number without the bit).  Arguments are
    taken with zero high halves, as an x32 caller passes them (its longs
    and pointers are 32-bit), so that only the number differs.  A pair
    whose VM runs read only nr and arch is settled by those runs; the
    others are one pinned two-run solver query each."""
    policy = ctx.policy
    x32 = sc.table("x32")
    native = sc.numbers("x86_64")
    pairs = {nx: native.get(name, nx & ~X32_BIT) for nx, name in x32.items()}
    open_pairs = []
    for nx, base in pairs.items():
        d2, d1 = SeccompData(nx, X86_64), SeccompData(base, X86_64)
        if not policy.reads_arguments(d1) and not policy.reads_arguments(d2):
            if actions.weaker(policy.run(d2), policy.run(d1)):
                if not ctx.add(_x32_finding(ctx, x32, nx, base, d2, d1)):
                    return
        else:
            open_pairs.append((nx, base))
    if not open_pairs:
        return
    ps = ctx.ps
    inputs2, v2 = ctx.copy()
    i1, v1 = ps.inputs, ps.verdicts["policy"]
    link = [inputs2.arch == i1.arch, inputs2.ip == i1.ip, i1.arch == X86_64] + \
        [a == b for a, b in zip(inputs2.args, i1.args)] + [z3.Extract(63, 32, a) == 0 for a in i1.args]
    for nx, base in open_pairs:
        solver = ps.fresh_solver()
        solver.add(*link, inputs2.nr == nx, i1.nr == base, weaker_z3(v2, v1))
        answer = solver.check()
        if answer == z3.unknown:
            ctx.result.unknown.append(f"x32-bypass {x32[nx]}: {solver.reason_unknown()}")
            continue
        if answer != z3.sat:
            continue
        d2 = _shrink_pair(_data(solver.model(), inputs2),
                          lambda d: actions.weaker(policy.run(d), policy.run(_renumber(d, base))))
        if not ctx.add(_x32_finding(ctx, x32, nx, base, d2, _renumber(d2, base))):
            return


def _x32_finding(ctx, x32, nx, base, d2, d1) -> AuditFinding:
    va, vb = ctx.policy.run(d2), ctx.policy.run(d1)
    message = (f"x32 {x32[nx]} (nr {nx:#x}) gets {actions.describe(va)} while x86_64 "
               f"{sc.syscall_name(base, 'x86_64') or f'nr {base}'} (nr {base}) gets "
               f"{actions.describe(vb)}: the filter does not handle nr | 0x40000000")
    return AuditFinding("x32-bypass", message, ctx.ps.witness(d2), related=d1)


def _renumber(d: SeccompData, nr: int) -> SeccompData:
    return SeccompData(nr, d.arch, d.instruction_pointer, d.args)


def _data(model, inputs) -> SeccompData:
    from ..proof.witness import seccomp_from_model
    return seccomp_from_model(model, inputs)


def _shrink_pair(d: SeccompData, holds) -> SeccompData:
    return minimise(d, holds)



# --- argument halves -----------------------------------------------------------------------------------
def half_compared(ctx: Context) -> None:
    if not is_64bit(ctx.audit_arch):
        return
    table = sc.table(ctx.arch)
    for nr, combos in ctx.calls().items():
        name = table[nr]
        strongest = min((actions.strength(_verdict(c)) for c in combos), default=0)
        reported = set()
        for combo in sorted(combos, key=lambda c: -actions.strength(_verdict(c))):
            verdict = _verdict(combo)
            if actions.strength(verdict) == strongest:
                continue
            atoms = tuple(a for p in combo for a in p.atoms)
            loaded = frozenset().union(*[p.loaded for p in combo])
            mentioned = set().union(*[a.words() for a in atoms]) if atoms else set()
            for i in range(6):
                lo, hi = 16 + 8 * i, 20 + 8 * i
                if i in reported or arg_type(name, i) is not None:
                    continue
                for seen, unseen, half in ((lo, hi, "low"), (hi, lo, "high")):
                    if seen in mentioned and unseen not in loaded:
                        finding = _half_finding(ctx, nr, name, i, half, atoms, unseen, verdict)
                        if finding is not None:
                            reported.add(i)
                            if not ctx.add(finding):
                                return
                        break


def _verdict(combo) -> int:
    from .policy import combine
    return combine([p.verdict for p in combo])


def _half_finding(ctx, nr, name, i, half, atoms, unseen, verdict) -> Optional[AuditFinding]:
    other = Cmp("eq", Word(unseen), 0, negated=True)
    example = example_of(ctx.policy, [atoms + (other,)], {0: nr, 4: ctx.audit_arch}, verdict)
    if example is None:
        return None
    shift = 0 if unseen % 8 == 0 else 32
    keep = ~(0xFFFFFFFF << shift) & ((1 << 64) - 1)
    plain = list(example.args)
    plain[i] = (example.args[i] & keep) | (1 << shift)
    plain = SeccompData(example.nr, example.arch, example.instruction_pointer, tuple(plain))
    if ctx.policy.run(plain) == verdict:
        example = plain                                # a readable other half: 1
    args = list(example.args)
    args[i] &= keep
    related = SeccompData(example.nr, example.arch, example.instruction_pointer, tuple(args))
    message = (f"{name} args[{i}] is compared on its {half} 32 bits only: {example.args[i]:#x} gets "
               f"{actions.describe(verdict)} just as {args[i]:#x} does; if args[{i}] is a 64-bit "
               f"value, its other half is never checked")
    return AuditFinding("half-compared", message, ctx.ps.witness(example), related=related)


def sign_extension(ctx: Context) -> None:
    if not is_64bit(ctx.audit_arch):
        return
    ps = ctx.ps
    table = sc.table(ctx.arch)
    inputs2, v2 = ctx.copy()
    i1, v1 = ps.inputs, ps.verdicts["policy"]
    for nr, combos in ctx.calls().items():
        name = table[nr]
        loaded = frozenset().union(*[p.loaded for c in combos for p in c])
        for i in range(6):
            kind = arg_type(name, i)
            hi_off = 20 + 8 * i
            if kind is None or hi_off not in loaded:
                continue
            lo1 = z3.Extract(31, 0, i1.args[i])
            hi1, hi2 = z3.Extract(63, 32, i1.args[i]), z3.Extract(63, 32, inputs2.args[i])
            same = [inputs2.nr == i1.nr, inputs2.arch == i1.arch, inputs2.ip == i1.ip,
                    z3.Extract(31, 0, inputs2.args[i]) == lo1] + \
                [inputs2.args[j] == i1.args[j] for j in range(6) if j != i]
            negative = z3.Extract(31, 31, lo1) == 1
            canon = z3.If(negative, z3.BitVecVal(0xFFFFFFFF, 32), z3.BitVecVal(0, 32)) \
                if kind == INT else z3.BitVecVal(0, 32)
            pinned = [i1.nr == nr, i1.arch == ctx.audit_arch]
            # (a) a non-canonical high half gets more than the canonical one.
            bypass = [hi1 == canon, hi2 != canon, weaker_z3(v2, v1)]
            # (b) a rule written for the zero-extended value of a negative int:
            # the sign-extended value real callers pass gets more.
            unsigned_rule = [negative, hi1 == 0xFFFFFFFF, hi2 == 0, weaker_z3(v1, v2)] if kind == INT else None
            for goal, which in ((bypass, "a"), (unsigned_rule, "b")):
                if goal is None:
                    continue
                solver = ps.fresh_solver()
                solver.add(*same, *pinned, *goal)
                answer = solver.check()
                if answer == z3.unknown:
                    ctx.result.unknown.append(f"sign-extension {name} args[{i}]: {solver.reason_unknown()}")
                    continue
                if answer != z3.sat:
                    continue
                m = solver.model()
                d1, d2 = _prettify(ctx.policy, i, kind, which, _data(m, i1), _data(m, inputs2))
                if not ctx.add(_sign_finding(ctx, name, i, kind, which, d1, d2)):
                    return
                break


def _prettify(policy, i, kind, which, canonical, other):
    """Readable values for a sign-extension pair: the other arguments
    zeroed, and a plain high half (1 or 0xffffffff) where one will do."""
    def holds(c, o):
        vc, vo = policy.run(c), policy.run(o)
        return actions.weaker(vo, vc) if which == "a" else actions.weaker(vc, vo)

    def with_arg(d, j, value):
        args = list(d.args)
        args[j] = value
        return SeccompData(d.nr, d.arch, 0, tuple(args))
    if not holds(canonical, other):
        return canonical, other
    canonical, other = with_arg(canonical, i, canonical.args[i]), with_arg(other, i, other.args[i])
    for j in range(6):
        if j != i and canonical.args[j]:
            c2, o2 = with_arg(canonical, j, 0), with_arg(other, j, 0)
            if holds(c2, o2):
                canonical, other = c2, o2
    if which == "a":
        low = other.args[i] & 0xFFFFFFFF
        canon_high = canonical.args[i] >> 32
        for high in (1, 0xFFFFFFFF, 0x80000000):
            if high != canon_high:
                o2 = with_arg(other, i, (high << 32) | low)
                if holds(canonical, o2):
                    return canonical, o2
    return canonical, other


def _sign_finding(ctx, name, i, kind, which, canonical: SeccompData, other: SeccompData) -> AuditFinding:
    vc, vo = ctx.policy.run(canonical), ctx.policy.run(other)
    low = canonical.args[i] & 0xFFFFFFFF
    if which == "a":
        message = (f"{name} args[{i}] is an {kind}: the kernel uses only its low 32 bits, but the "
                   f"filter also compares the high half, so {other.args[i]:#x} gets "
                   f"{actions.describe(vo)} while the same value as callers pass it, "
                   f"{canonical.args[i]:#x}, gets {actions.describe(vc)}")
        return AuditFinding("sign-extension", message, ctx.ps.witness(other), related=canonical)
    message = (f"{name} args[{i}] is an int compared as the zero-extended {other.args[i]:#x}; "
               f"callers pass {low - (1 << 32)} sign-extended, {canonical.args[i]:#x}, which gets "
               f"{actions.describe(vc)} instead of {actions.describe(vo)}")
    return AuditFinding("sign-extension", message, ctx.ps.witness(canonical), related=other)
