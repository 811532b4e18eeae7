"""``seccomp audit``: proved findings about a policy, each with a witness.

Every finding comes from a solver answer or an exhaustive path walk and
carries a concrete ``struct seccomp_data`` that replays on the reference
VM (and, when possible, on the kernel) to show it.  The checks:

kernel-rejects     the kernel refuses the filter (opcodes, loads, length)
arch-not-checked   a filter tests ``nr`` before ``arch`` is pinned to one value
x32-bypass         an x32 call (``nr | 0x40000000`` under AUDIT_ARCH_X86_64)
                   gets a weaker action than the same x86_64 call
half-compared      an argument of unknown width compared on one 32-bit half
sign-extension     a 32-bit (``int``/``unsigned int``) argument whose verdict
                   depends on the high half the kernel ignores
default-allow      numbers outside the syscall table (future calls) or an
                   unknown architecture are allowed
dead-rule          instructions no input reaches (rules that never fire)
errno-data         ERRNO data above 4095 (the kernel caps it)
errno-zero         ERRNO(0): the call is skipped and reports success
unknown-action     an action the kernel does not know (acts as KILL_PROCESS)
property           a user's property (``--check``) that does not hold

"Weaker" is the kernel's own order of actions (SEMANTICS.md 23).
"""

from __future__ import annotations

import dataclasses
import time
from typing import List, Optional, Sequence

import z3

from .. import syscalls as sc
from ..context import SeccompData
from ..errors import ValidationError
from ..program import Program
from ..validate import validate
from . import actions, audit_args, audit_flow, audit_values
from .findings import CHECKS, Audit, AuditFinding, Context
from .policy import SAT, UNSAT, Policy, PolicySolver

__all__ = ["CHECKS", "Audit", "AuditFinding", "audit", "audit_text"]


def audit(filters: Sequence[Sequence], arch: str = "x86_64", checks: Optional[Sequence[str]] = None,
          properties: Sequence[str] = (), timeout: Optional[float] = None, kernel: bool = True,
          names: Optional[Sequence[str]] = None) -> Audit:
    """Audit a filter, or a stack of them given oldest first."""
    started = time.monotonic()
    arch = sc.arch_name(arch)
    wanted = CHECKS if checks is None else tuple(checks)
    result = Audit(arch, checks=wanted)
    filters = [Program(f) for f in filters]
    rejected = _kernel_rejects(filters, kernel)
    if rejected:
        result.findings = rejected
        result.seconds = time.monotonic() - started
        return result
    policy = Policy(filters, names)
    ps = PolicySolver(timeout)
    ps.add("policy", policy)
    ps.assume_abi(sc.ARCHITECTURES[arch])
    ctx = Context(ps, policy, arch, result)
    for check in wanted:
        runner = _RUNNERS.get(check)
        if runner is not None:
            runner(ctx)
    for prop in properties:
        _property(ctx, prop)
    if kernel:
        _confirm_on_kernel(policy, result.findings)
    result.seconds = time.monotonic() - started
    return result

# --- kernel-rejects --------------------------------------------------------------------------
def _kernel_rejects(filters: List[Program], kernel: bool) -> List[AuditFinding]:
    findings = []
    for i, program in enumerate(filters):
        try:
            validate(program, "seccomp")
        except ValidationError as e:
            message = f"the kernel refuses this filter: {e}"
            if kernel:
                answer = _kernel_answer(program)
                if answer:
                    message += f" ({answer})"
            findings.append(AuditFinding("kernel-rejects", message, pc=e.pc, filter=i))
    return findings


def _kernel_answer(program: Program) -> Optional[str]:
    try:
        from ..oracles._fork import errno_name
        from ..oracles.seccomp import kernel_seccomp_accepts
        ok, err = kernel_seccomp_accepts(program)
    except Exception:       # no kernel oracle here (not Linux x86-64)
        return None
    return "the running kernel accepts it" if ok else f"confirmed: seccomp() fails with {errno_name(err)}"


# --- user properties ---------------------------------------------------------------------------------------
class _PolicyView:
    """The leaves of a property over every run of the policy: ``verdict``
    is the stack's; ``reaches(PC)`` is about the first (oldest) filter."""

    def __init__(self, ctx: Context):
        self.ps = ctx.ps
        self.enc = ctx.ps.encoding("policy", 0)

    def verdict(self):
        return z3.ZeroExt(32, self.ps.verdicts["policy"])

    def nr(self):
        return z3.ZeroExt(32, self.ps.inputs.nr)

    def arch(self):
        return z3.ZeroExt(32, self.ps.inputs.arch)

    def ip(self):
        return self.ps.inputs.ip

    def arg(self, index):
        return self.ps.inputs.args[index]

    def reaches(self, pc):
        r = self.enc.reach.get(pc, False)
        return z3.BoolVal(r) if isinstance(r, bool) else r


def _property(ctx: Context, text: str) -> None:
    """A user's property over the policy, refuted with a replayed witness."""
    from ..proof.prove import resolver_for
    from ..properties.evaluate import ConcreteOps, ConcreteView, Z3Ops, check_applicable, evaluate
    from ..properties.parser import parse_property
    ps = ctx.ps
    tree = parse_property(text, resolver_for("seccomp", ctx.arch))
    check_applicable(tree, "seccomp", len(ctx.policy.filters[0]), False)
    claim = evaluate(tree, Z3Ops, _PolicyView(ctx))

    def refutes(d: SeccompData) -> bool:
        trace = ctx.policy.machines[0].trace(d)
        concrete = ConcreteView("seccomp", ctx.policy.run(d), trace.path, seccomp=d)
        return not evaluate(tree, ConcreteOps, concrete)
    status, data, note = ps.find(z3.Not(claim), refutes)
    if status == SAT:
        ctx.add(AuditFinding("property", f"{text!r} does not hold: {sc.describe_seccomp(data).split(' (')[0]} "
                             f"gets {actions.describe(ctx.policy.run(data))}", ps.witness(data)))
    elif status != UNSAT:
        ctx.result.unknown.append(f"property {text!r}: {note}")


_RUNNERS = {
    "arch-not-checked": audit_flow.arch_not_checked,
    "x32-bypass": audit_args.x32_bypass,
    "half-compared": audit_args.half_compared,
    "sign-extension": audit_args.sign_extension,
    "default-allow": audit_values.default_allow,
    "dead-rule": audit_flow.dead_rules,
    "errno-data": audit_values.errno_data,
    "errno-zero": audit_values.errno_zero,
    "unknown-action": audit_values.unknown_action,
}


# --- the kernel's word ---------------------------------------------------------------------------------------
def _confirm_on_kernel(policy: Policy, findings: List[AuditFinding]) -> None:
    """Replay every witness through the kernel's socket path, filter by
    filter, and combine as the kernel would; record whether it agrees."""
    inputs = [f.witness.seccomp for f in findings if f.witness is not None]
    if not inputs:
        return
    try:
        from ..oracles.seccomp import seccomp_run_via_socket
        from .policy import combine
        per_filter = [seccomp_run_via_socket(p, inputs) for p in policy.filters]
    except Exception:      # no kernel oracle here: leave kernel_confirmed unset
        return
    k = 0
    for f in findings:
        if f.witness is None:
            continue
        kernel = combine([column[k] for column in per_filter])
        f.witness = dataclasses.replace(f.witness, kernel=kernel == policy.run(f.witness.seccomp))
        k += 1


def audit_text(a: Audit) -> str:
    lines = [f"audit ({a.arch}): {len(a.findings)} finding{'s' * (len(a.findings) != 1)}"
             f"{'' if not a.unknown else f', {len(a.unknown)} checks unknown'} ({a.seconds:.2f} s)"]
    for f in a.findings:
        lines.append(f"[{f.check}] {f.message}")
        if f.witness is not None:
            confirmed = {True: "  (kernel agrees)", False: "  (KERNEL DISAGREES)", None: ""}[f.witness.kernel]
            lines.append(f"    witness: {sc.describe_seccomp(f.witness.seccomp)}{confirmed}")
        if f.related is not None:
            lines.append(f"    compare: {sc.describe_seccomp(f.related)}")
    for why in a.unknown:
        lines.append(f"unknown: {why}")
    return "\n".join(lines)
