"""A seccomp policy as a process runs it: one filter, or a stack of them.

Filters are kept in installation order (oldest first), the order
``PTRACE_SECCOMP_GET_FILTER`` numbers them in.  The kernel runs every
filter on every system call, newest first, and keeps the verdict whose
action is lowest as a signed 32-bit number; a tie keeps the one seen
first, that is the newest (``seccomp_run_filters``, SEMANTICS.md 23).

:class:`Policy` runs that concretely; :class:`PolicySolver` encodes it
over one set of symbolic inputs (each filter by the shared symbolic
executor, the stack as an if-then-else chain in the same order), so that
every question about a policy is one solver query.
"""

from __future__ import annotations

import contextlib
import itertools
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import z3

from .. import isa
from ..context import SeccompData
from ..program import Program
from ..proof.outcome import Witness
from ..proof.session import SAT, UNKNOWN, UNSAT, Session
from ..symbolic import SymbolicInputs, encode
from ..vm import Machine
from .actions import signed_action

_copies = itertools.count()


def combine(verdicts: Sequence[int]) -> int:
    """The stack's verdict from each filter's, given oldest first.  One
    filter's verdict is returned as is."""
    if len(verdicts) == 1:
        return verdicts[0]
    result = isa.SECCOMP_RET_ALLOW
    for v in reversed(verdicts):
        if signed_action(v) < signed_action(result):
            result = v
    return result


def combine_z3(verdicts: Sequence) -> z3.BitVecRef:
    """:func:`combine` over z3 terms (``<`` on bit-vectors is signed in z3py,
    which is what the kernel's ``(s32)`` comparison needs)."""
    terms = [z3.BitVecVal(v, 32) if isinstance(v, int) else v for v in verdicts]
    if len(terms) == 1:
        return terms[0]
    mask = z3.BitVecVal(isa.SECCOMP_RET_ACTION_FULL, 32)
    result = z3.BitVecVal(isa.SECCOMP_RET_ALLOW, 32)
    for v in reversed(terms):
        result = z3.If((v & mask) < (result & mask), v, result)
    return result


class Policy:
    """The filters a process has installed, oldest first."""

    def __init__(self, filters: Sequence[Sequence], names: Optional[Sequence[str]] = None):
        if not filters:
            from ..errors import UsageError
            raise UsageError("a seccomp policy needs at least one filter")
        self.filters: Tuple[Program, ...] = tuple(Program(f) for f in filters)
        # Machine() validates with the kernel's seccomp rules (ValidationError).
        self.machines = [Machine(f, "seccomp") for f in self.filters]
        self.names = list(names) if names else [f"filter {i}" for i in range(len(self.filters))]
        self._traces: dict = {}

    def __len__(self) -> int:
        return len(self.filters)

    def run(self, data: SeccompData) -> int:
        cached = self._traces.get(data)
        if cached is not None:
            return combine([t.verdict for t in cached])
        return combine([m.run(data) for m in self.machines])

    def each(self, data: SeccompData) -> List[int]:
        return [m.run(data) for m in self.machines]

    def traces(self, data: SeccompData):
        """Each filter's run on ``data`` (remembered: explain, diff and audit
        ask for the same first runs)."""
        cached = self._traces.get(data)
        if cached is None:
            cached = [m.trace(data) for m in self.machines]
            if len(self._traces) < 100_000:
                self._traces[data] = cached
        return cached

    def reads_arguments(self, data: SeccompData) -> bool:
        """Whether some filter's run on ``data`` loads a word past nr and
        arch.  When none does, every input with the same nr and arch takes
        the same paths, so the verdict cannot depend on ip or arguments."""
        ld_abs = isa.LD | isa.W | isa.ABS
        for program, trace in zip(self.filters, self.traces(data)):
            if any(program[pc][0] == ld_abs and program[pc][3] >= 8 for pc in trace.path):
                return True
        return False

    def live_pcs(self, index: int) -> set:
        """Instructions of filter ``index`` some remembered run went through."""
        live = set()
        for traces in self._traces.values():
            live.update(traces[index].path)
        return live

    @property
    def instructions(self) -> int:
        return sum(len(f) for f in self.filters)

    def describe(self) -> str:
        if len(self.filters) == 1:
            return f"1 filter, {len(self.filters[0])} instructions"
        sizes = ", ".join(str(len(f)) for f in self.filters)
        return f"a stack of {len(self.filters)} filters ({sizes} instructions, oldest first)"


class PolicySolver:
    """One solver over one ``struct seccomp_data``; policies are added by name."""

    def __init__(self, timeout: Optional[float] = None):
        self.session = Session("seccomp", timeout)
        self.inputs: SymbolicInputs = self.session.inputs
        self.policies: Dict[str, Policy] = {}
        self.verdicts: Dict[str, z3.BitVecRef] = {}

    def add(self, name: str, policy: Policy) -> z3.BitVecRef:
        encs = [self.session.add_program(f"{name}.{i}", f) for i, f in enumerate(policy.filters)]
        term = combine_z3([e.verdict for e in encs])
        self.policies[name] = policy
        self.verdicts[name] = term
        return term

    def encoding(self, name: str, index: int = 0):
        return self.session.encodings[f"{name}.{index}"]

    def copy(self, name: str) -> Tuple[SymbolicInputs, z3.BitVecRef]:
        """A second, independent run of policy ``name`` over fresh inputs:
        for questions that compare two inputs (the caller links them)."""
        inputs = SymbolicInputs("seccomp", name=f"copy{next(_copies)}")
        verdicts = []
        for program in self.policies[name].filters:
            enc = encode(program, inputs, "seccomp", name=f"c{next(_copies)}")
            if enc.definitions:
                self.session.solver.add(*enc.definitions)
            verdicts.append(enc.verdict)
        return inputs, combine_z3(verdicts)

    # --- asking ---------------------------------------------------------------
    @contextlib.contextmanager
    def assuming(self, *conds):
        """Add ``conds`` for the queries inside the block (push/pop keeps the
        encodings and what z3 learnt about them)."""
        solver = self.session.solver
        solver.push()
        try:
            solver.add(*conds)
            yield
        finally:
            solver.pop()

    def check(self, goal):
        return self.session.check(goal)

    def fresh_solver(self) -> z3.Solver:
        """A non-incremental solver holding the same encodings.  z3 answers
        one big query (say, "some call of these 200 returns another
        verdict") many times faster this way than on the incremental
        solver that has seen push/pop."""
        from ..domains.z3dom import limit_params
        solver = z3.SolverFor("QF_BV")
        solver.set(**limit_params(self.session.timeout))
        solver.add(*self.session.solver.assertions())
        return solver

    def find(self, goal, holds: Callable[[SeccompData], bool]):
        """``(status, data, reason)``: a concrete, minimised input satisfying
        ``goal`` that ``holds`` confirms on the reference VM."""
        status, data, _ctx, note = self.session.find(goal, lambda value, ctx: holds(value))
        return status, data, note

    def model_data(self, model) -> SeccompData:
        from ..proof.witness import seccomp_from_model
        return seccomp_from_model(model, self.inputs)

    def pin(self, nr: Optional[int] = None, arch: Optional[int] = None) -> list:
        conds = []
        if nr is not None:
            conds.append(self.inputs.nr == nr)
        if arch is not None:
            conds.append(self.inputs.arch == arch)
        return conds

    def assume_abi(self, audit_arch: int) -> None:
        """On a 32-bit architecture the kernel zero-extends the registers
        it copies into ``struct seccomp_data``: assume so for that arch."""
        if is_64bit(audit_arch):
            return
        i = self.inputs
        highs = [z3.Extract(63, 32, v) == 0 for v in [i.ip, *i.args]]
        self.session.solver.add(z3.Implies(i.arch == audit_arch, z3.And(*highs)))

    def witness(self, data: SeccompData, names: Optional[Sequence[str]] = None, note=None) -> Witness:
        names = list(names) if names else list(self.policies)
        verdicts = {}
        for name in names:
            policy = self.policies[name]
            if len(policy) > 1:
                for label, v in zip(policy.names, policy.each(data)):
                    verdicts[f"{name}:{label}"] = v
            verdicts[name] = policy.run(data)
        return Witness("seccomp", seccomp=data, verdicts=verdicts, note=note)


def is_64bit(audit_arch: int) -> bool:
    """``__AUDIT_ARCH_64BIT``."""
    return bool(audit_arch & 0x80000000)


def abi_words(audit_arch: int) -> dict:
    """Words that are 0 on ``audit_arch`` (the high halves, when 32-bit)."""
    if is_64bit(audit_arch):
        return {}
    return {off: 0 for off in [12] + [20 + 8 * i for i in range(6)]}


def action(term):
    """``verdict & 0xffff0000`` over z3."""
    return term & z3.BitVecVal(isa.SECCOMP_RET_ACTION_FULL, 32)


def effective_z3(term):
    """:func:`actions.effective` over z3: what the kernel does with ``term``."""
    from .actions import _DATA_ACTIONS, MAX_ERRNO, NAME_OF
    act = action(term)
    data = term & z3.BitVecVal(isa.SECCOMP_RET_DATA, 32)
    known = z3.Or(*[act == a for a in NAME_OF])
    capped = z3.If(z3.UGT(data, MAX_ERRNO), z3.BitVecVal(MAX_ERRNO, 32), data)
    with_data = z3.If(act == isa.SECCOMP_RET_ERRNO, act | capped,
                      z3.If(z3.Or(*[act == a for a in _DATA_ACTIONS]), term, act))
    return z3.If(known, with_data, z3.BitVecVal(isa.SECCOMP_RET_KILL_PROCESS, 32))


def weaker_z3(a, b):
    """``a`` lets the process do more than ``b`` (signed comparison of the
    effective actions, as :func:`actions.weaker`)."""
    return action(effective_z3(a)) > action(effective_z3(b))


__all__ = ["Policy", "PolicySolver", "combine", "combine_z3", "SAT", "UNSAT", "UNKNOWN"]
