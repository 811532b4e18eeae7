"""``prove``, ``equivalent`` and ``subsumes``: questions about every input."""

from __future__ import annotations

from typing import Dict, Optional, Sequence

import z3

from ..context import Context
from ..errors import ExecutionError, UsageError
from ..program import Program
from ..properties.evaluate import ConcreteOps, ConcreteView, Z3Ops, check_applicable, evaluate
from ..properties.parser import parse_property
from ..validate import TARGETS
from .explore import explore
from .outcome import PROVED, REFUTED, UNKNOWN, Outcome
from .session import SAT, UNSAT, Session, solver_limits


def _check_target(target: str) -> None:
    if target not in TARGETS:
        raise UsageError(f"unknown target {target!r} (expected one of {', '.join(TARGETS)})")


class _Z3View:
    """The leaves of a property over every run of the session's programs."""

    def __init__(self, session: Session, role: str, other_role: Optional[str], linktype: str):
        self.s = session
        self.enc = session.encodings[role]
        self.other = other_role
        self.linktype = linktype
        i = session.inputs
        self.i = i

    def verdict(self):
        return z3.ZeroExt(32, _bv(self.enc.verdict))

    def len(self):
        return z3.ZeroExt(32, self.i.wirelen)

    def packet(self, offset, size):
        value = None
        length = z3.ZeroExt(32, self.i.length)
        for k in range(size):
            pos = offset + k
            byte = z3.If(z3.ULT(pos, length),
                         z3.ZeroExt(56, z3.Select(self.i.packet, z3.Extract(31, 0, pos))),
                         z3.BitVecVal(0, 64))
            value = byte if value is None else (value << 8) | byte
        return value

    def ctx(self, field):
        if field == "has_device":
            return self.i.has_device
        if field == "link_header":
            return z3.If(self.i.has_link_header, z3.ZeroExt(32, self.i.link_header), z3.BitVecVal(0, 64))
        if field == "network_header":
            return z3.ZeroExt(32, self.i.network_header)
        return z3.ZeroExt(32, self.i.fields[field])

    def nr(self):
        return z3.ZeroExt(32, self.i.nr)

    def arch(self):
        return z3.ZeroExt(32, self.i.arch)

    def ip(self):
        return self.i.ip

    def arg(self, index):
        return self.i.args[index]

    def reaches(self, pc):
        r = self.enc.reach.get(pc, False)
        return z3.BoolVal(r) if isinstance(r, bool) else r

    def matches(self, expr):
        role = f"match:{expr}"
        if role not in self.s.encodings:
            from ..oracles.libpcap import compile as compile_expr
            self.s.add_program(role, compile_expr(expr, linktype=self.linktype), target="pcap")
        return _bv(self.s.encodings[role].verdict) != 0

    def other_verdict(self):
        return z3.ZeroExt(32, _bv(self.s.encodings[self.other].verdict))


def _bv(v):
    return z3.BitVecVal(v, 32) if isinstance(v, int) else v


def resolver_for(target: str, arch: Optional[str]):
    """Names a property may use besides the built-ins."""
    from ..isa import SECCOMP_ACTIONS

    def resolve(name: str):
        if name in SECCOMP_ACTIONS:
            return SECCOMP_ACTIONS[name]
        if target == "seccomp":
            from ..syscalls import resolve_property_name
            return resolve_property_name(name, arch or "x86_64")
        return None
    return resolve


@solver_limits()
def prove(program: Sequence, prop: str, target: str = "socket", timeout: Optional[float] = None,
          arch: Optional[str] = None, other: Optional[Sequence] = None,
          fixed: Optional[Dict[str, object]] = None, linktype: str = "EN10MB") -> Outcome:
    """Prove ``prop`` (the property language) for every input, or refute it
    with a witness, or say why it could not decide."""
    _check_target(target)
    program = Program(program)
    tree = parse_property(prop, resolver_for(target, arch)) if isinstance(prop, str) else prop
    check_applicable(tree, target, len(program), other is not None)
    session = Session(target, timeout, fixed)
    session.add_program("program", program)
    if other is not None:
        session.add_program("other", Program(other))
    claim = evaluate(tree, Z3Ops, _Z3View(session, "program", "other" if other is not None else None,
                                          linktype))

    def replay(value, ctx):
        return not _holds_concretely(tree, session, value, ctx, linktype)

    status, value, ctx, note = session.find(z3.Not(claim), replay, _concrete_counterexample(session, replay))
    text = prop if isinstance(prop, str) else None
    if status == SAT:
        return Outcome(REFUTED, session.make_witness(value, ctx), None, session.elapsed, text)
    if status == UNSAT:
        if session.loop_bound_possible():
            return Outcome(UNKNOWN, None, "the program loops (libpcap backward jumps) beyond the "
                           "unrolling bound", session.elapsed, text)
        return Outcome(PROVED, None, None, session.elapsed, text)
    return Outcome(UNKNOWN, None, note, session.elapsed, text)


def _holds_concretely(tree, session: Session, value, ctx, linktype) -> bool:
    trace = session.run("program", value, ctx)
    other = session.run("other", value, ctx).verdict if "other" in session.machines else None
    if session.target == "seccomp":
        view = ConcreteView("seccomp", trace.verdict, trace.path, seccomp=value, other_verdict=other)
    else:
        view = ConcreteView(session.target, trace.verdict, trace.path, packet=value, context=ctx,
                            other_verdict=other, matcher=lambda expr, pkt, c: _matches(session, expr, pkt, c))
    return bool(evaluate(tree, ConcreteOps, view))


def _matches(session: Session, expr: str, packet: bytes, ctx) -> bool:
    machine = session.machines[f"match:{expr}"]
    wire = ctx.len if ctx is not None and ctx.len is not None else len(packet)
    from ..context import Context
    return machine.run(packet, Context(len=wire)) != 0


def equivalent(a: Sequence, b: Sequence, target: str = "socket", timeout: Optional[float] = None,
               fixed: Optional[Dict[str, object]] = None) -> Outcome:
    """Proved when ``a`` and ``b`` return the same verdict on every input."""
    return _compare(a, b, target, timeout, fixed, subsumption=False)


def subsumes(a: Sequence, b: Sequence, target: str = "socket", timeout: Optional[float] = None,
             fixed: Optional[Dict[str, object]] = None) -> Outcome:
    """Proved when every input ``a`` accepts, ``b`` accepts too."""
    return _compare(a, b, target, timeout, fixed, subsumption=True)


#: programs this long (together, with those a property matches against)
#: are first run on the inputs concrete exploration of each finds: a
#: counterexample found so costs a fraction of a second, where the
#: question over their formulas can take many
CONCRETE_FIRST = 1024
#: seconds of exploration per program for that
EXPLORE_BUDGET = 0.1


def _concrete_counterexample(session: Session, replay):
    """For programs of :data:`CONCRETE_FIRST` instructions or more: an
    input on which ``replay`` (the claim fails) holds, among plain inputs
    and those exploring each program reaches; None when none does (then
    only the solver can say), or when the programs are small."""
    if sum(len(m.program) for m in session.machines.values()) < CONCRETE_FIRST:
        return None        # the solver answers small programs faster than running them
    if session.target == "seccomp" or session.inputs.fixed:
        return None        # pinned inputs: only the solver's respect them
    seeds = [(bytes(n), Context()) for n in (64, 1514)]
    found = _first_passing(replay, seeds)
    for machine in session.machines.values():
        if found is not None:
            break
        everywhere = set(range(len(machine.program)))
        found = _first_passing(replay, explore(machine, seeds, everywhere, budget=EXPLORE_BUDGET,
                                               stall=0.05).values())
    return found


def _first_passing(replay, inputs):
    for value, ctx in dict.fromkeys(inputs):
        try:
            if replay(value, ctx):
                return value, ctx
        except ExecutionError:
            continue
    return None


@solver_limits()
def _compare(a, b, target, timeout, fixed, subsumption: bool) -> Outcome:
    _check_target(target)
    a, b = Program(a), Program(b)
    if a == b:
        # Identical instructions mean identical verdicts, whatever the
        # program does (this settles loops the executor can only unroll).
        from ..validate import validate
        validate(a, target)
        return Outcome(PROVED, None, None, 0.0)
    session = Session(target, timeout, fixed)
    ea = session.add_program("a", Program(a))
    eb = session.add_program("b", Program(b))
    va, vb = _bv(ea.verdict), _bv(eb.verdict)
    if subsumption:
        goal = z3.And(va != 0, vb == 0)

        def replay(value, ctx):
            return session.run("a", value, ctx).verdict != 0 and session.run("b", value, ctx).verdict == 0
    else:
        goal = va != vb

        def replay(value, ctx):
            return session.run("a", value, ctx).verdict != session.run("b", value, ctx).verdict
    status, value, ctx, note = session.find(goal, replay, _concrete_counterexample(session, replay))
    if status == SAT:
        return Outcome(REFUTED, session.make_witness(value, ctx), None, session.elapsed)
    if status == UNSAT:
        if session.loop_bound_possible():
            return Outcome(UNKNOWN, None, "a program loops (libpcap backward jumps) beyond the "
                           "unrolling bound", session.elapsed)
        return Outcome(PROVED, None, None, session.elapsed)
    return Outcome(UNKNOWN, None, note, session.elapsed)
