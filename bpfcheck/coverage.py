"""Instruction and edge coverage of a filter, and inputs made to cover it.

An *edge* is one step of the control-flow graph: ``(pc, successor)``.  A
conditional jump has a *true* and a *false* edge (one *always* edge when
``jt == jf``), ``ja`` one, a ``ret`` none, every other instruction one to
``pc + 1`` — taken only when the instruction did not end the program
early (a load past the packet, a division by zero).

Coverage is a measurement (:func:`measure`: which instructions and edges
some input executed), and the denominator is what *can* be executed: the
solver proves the other instructions and edges dead (:func:`reachability`),
so "100 %" means every reachable edge, and dead ones are reported apart.
:func:`generate` asks the solver for a small set of inputs that together
take every reachable edge.

The symbolic executor gives, for each pc, the condition under which a run
reaches it.  Edge conditions follow from those alone, because control only
goes forward (socket and seccomp programs always, libpcap programs without
a backward ``ja``): a run that reaches ``pc`` and then ``t`` with no
instruction of its own in between must have stepped from ``pc`` to ``t``;

* single successor ``s``: ``reach(pc) and reach(s)`` (``pc`` did not end the run);
* branch to ``t`` or ``f`` with ``t < f``: to ``t`` is ``reach(pc) and
  reach(t)``, to ``f`` is ``reach(pc) and not reach(t)`` (jumps never end a
  run, and ``t`` cannot be reached once the run is past it).

Programs with backward jumps get no edge proofs: their edges not seen
executed are "unknown".
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple

from . import isa
from .context import Context, SeccompData
from .program import Program
from .semantics import DIALECTS

#: one CFG edge: (source pc, destination pc)
EdgeKey = Tuple[int, int]

#: contexts generated inputs are made for; reachability also takes "any"
#: (every context the kernel can produce: the honest denominator for cases
#: whose packets carry their own contexts)
CONTEXT_MODES = ("capture", "afunix")


@dataclass(frozen=True)
class Edge:
    src: int
    dst: int
    kind: str            # "next", "true", "false", "always" (jt == jf or ja)

    @property
    def key(self) -> EdgeKey:
        return (self.src, self.dst)

    def __str__(self) -> str:
        return f"{self.src}->{self.dst}" + (f" ({self.kind})" if self.kind in ("true", "false") else "")


def edges(program: Sequence, target: str = "socket") -> List[Edge]:
    """Every edge of the control-flow graph, in pc order."""
    program = Program(program)
    signed_ja = DIALECTS[target].signed_ja
    out: List[Edge] = []
    for pc, (code, jt, jf, k) in enumerate(program):
        cls = isa.bpf_class(code)
        if cls == isa.RET:
            continue
        if cls == isa.JMP and isa.bpf_op(code) == isa.JA:
            out.append(Edge(pc, pc + 1 + (isa.signed32(k) if signed_ja else k), "always"))
        elif cls == isa.JMP:
            if jt == jf:
                out.append(Edge(pc, pc + 1 + jt, "always"))
            else:
                out.append(Edge(pc, pc + 1 + jt, "true"))
                out.append(Edge(pc, pc + 1 + jf, "false"))
        else:
            out.append(Edge(pc, pc + 1, "next"))
    return out


def has_loops(program: Sequence, target: str = "socket") -> bool:
    return any(e.dst <= e.src for e in edges(program, target))


def path_edges(path: Sequence[int]) -> List[EdgeKey]:
    """The edges a run took, from its executed pcs in order."""
    return list(zip(path, path[1:]))


# --- measuring ---------------------------------------------------------------------
@dataclass
class Coverage:
    """What a set of inputs executed: hit counts per pc and per edge."""

    program: Program
    target: str
    inputs: int = 0
    pc_hits: Dict[int, int] = field(default_factory=dict)
    edge_hits: Dict[EdgeKey, int] = field(default_factory=dict)
    errors: int = 0                   # runs with no verdict (libpcap would abort or hang)

    def add_path(self, path: Sequence[int]) -> None:
        self.inputs += 1
        for pc in path:
            self.pc_hits[pc] = self.pc_hits.get(pc, 0) + 1
        for key in path_edges(path):
            self.edge_hits[key] = self.edge_hits.get(key, 0) + 1

    @property
    def pcs(self) -> set:
        return set(self.pc_hits)

    @property
    def edge_keys(self) -> set:
        return set(self.edge_hits)


def run_context(target: str, mode: str, packet: bytes, wirelen: Optional[int] = None,
                linktype: int = 1, base: Optional[Context] = None) -> Optional[Context]:
    """The context a packet runs with: what ``bpfcheck run --pcap`` uses
    for a captured record (``capture``), or an AF_UNIX datagram's
    (``afunix``, the kernel oracle's).  libpcap only sees the wire length."""
    if target == "seccomp":
        return None
    base = base or Context()
    if target == "pcap":
        return base.replace(len=wirelen if wirelen is not None and wirelen != len(packet) else base.len)
    if mode == "afunix":
        return base
    from .capture import context_for_frame
    return context_for_frame(packet, linktype, len(packet) if wirelen is None else wirelen, base)


def measure(program: Sequence, target: str, inputs: Iterable[Tuple[object, Optional[Context]]]) -> Coverage:
    """Coverage of ``program`` by ``(packet or SeccompData, context)`` inputs."""
    from .errors import ExecutionError
    from .vm import Machine
    machine = Machine(program, target)
    cov = Coverage(machine.program, target)
    for value, ctx in inputs:
        try:
            trace = machine.trace(value, ctx) if target != "seccomp" else machine.trace(value)
        except ExecutionError:
            cov.errors += 1
            continue
        cov.add_path(trace.path)
    return cov


# --- what can be executed at all ----------------------------------------------------
LIVE, DEAD, UNKNOWN = "reachable", "dead", "unknown"


@dataclass
class Reachability:
    """Which instructions and edges some input executes (proved both ways)."""

    pcs: Dict[int, str]
    edges: Dict[EdgeKey, str]
    reasons: Dict[object, str] = field(default_factory=dict)
    loops: bool = False
    seconds: float = 0.0

    def of(self, status: str, edges: bool = True) -> List:
        table = self.edges if edges else self.pcs
        return sorted(k for k, s in table.items() if s == status)


def _and(a, b):
    import z3
    if a is False or b is False:
        return False
    if a is True:
        return b
    if b is True:
        return a
    return z3.And(a, b)


def _not(a):
    import z3
    if isinstance(a, bool):
        return not a
    return z3.Not(a)


def edge_conditions(program: Program, target: str, reach: Dict[int, object]) -> Dict[EdgeKey, object]:
    """The condition for each edge, from the per-pc reach conditions (see
    the module docstring for why this is exact on loop-free programs)."""
    conds: Dict[EdgeKey, object] = {}
    by_src: Dict[int, List[Edge]] = {}
    for e in edges(program, target):
        by_src.setdefault(e.src, []).append(e)
    for src, out in by_src.items():
        here = reach.get(src, False)
        if len(out) == 1:
            conds[out[0].key] = _and(here, reach.get(out[0].dst, False))
            continue
        near, far = sorted(out, key=lambda e: e.dst)
        conds[near.key] = _and(here, reach.get(near.dst, False))
        conds[far.key] = _and(here, _not(reach.get(near.dst, False)))
    return conds


def _session(program: Program, target: str, timeout: Optional[float], mode: str, linktype: int):
    from .proof.session import Session
    session = Session(target, timeout, _fixed_context(target, mode, linktype))
    if target == "socket" and mode == "capture":
        _tie_context_to_bytes(session, linktype)
    enc = session.add_program("program", program)
    return session, enc


def reachability(program: Sequence, target: str = "socket", timeout: Optional[float] = None,
                 seen: Iterable[EdgeKey] = (), mode: str = "afunix", linktype: int = 1) -> Reachability:
    """Prove each instruction and edge reachable (some input executes it)
    or dead.  ``seen`` edges were executed by real inputs and need no
    question; every model the solver finds settles all it satisfies."""
    import z3
    from .proof.session import SAT, UNSAT
    started = time.monotonic()
    program = Program(program)
    all_edges = [e.key for e in edges(program, target)]
    seen = set(seen)
    pcs = {pc: (LIVE if pc == 0 else None) for pc in range(len(program))}
    for src, dst in seen:
        pcs[src] = pcs[dst] = LIVE
    loops = has_loops(program, target)
    result = Reachability({}, {k: (LIVE if k in seen else None) for k in all_edges}, loops=loops)
    session, enc = _session(program, target, timeout, mode, linktype)
    conds: Dict[object, object] = {("pc", pc): enc.reach.get(pc, False) for pc in pcs}
    if not loops:
        conds.update({("edge", k): c for k, c in edge_conditions(program, target, enc.reach).items()})
    else:
        conds.update({("edge", k): enc.edges.get(k, False) for k in all_edges})
    status: Dict[object, str] = {("pc", pc): s for pc, s in pcs.items() if s}
    status.update({("edge", k): LIVE for k in seen})
    # Deepest first: an input reaching a late instruction passes many early ones.
    order = sorted(conds, key=lambda key: -(key[1] if key[0] == "pc" else key[1][1]))
    for key in order:
        if key in status:
            continue
        cond = conds[key]
        answer, model = (UNSAT, None) if cond is False else session.check(session.within_unrolling(cond))
        if answer == SAT:
            status[key] = LIVE
            for other in order:
                if other not in status and _true_in(model, conds[other], z3):
                    status[other] = LIVE
        elif answer == UNSAT:
            status[key] = _dead_unless_looping(enc, key, result.reasons)
        else:
            status[key] = UNKNOWN
            result.reasons[key] = session.last_reason or "the solver could not decide"
    result.pcs = {pc: status.get(("pc", pc), UNKNOWN) for pc in pcs}
    for k in all_edges:
        result.edges[k] = status.get(("edge", k), UNKNOWN)
    result.seconds = time.monotonic() - started
    return result


def _dead_unless_looping(enc, key, reasons) -> str:
    """DEAD for an instruction or edge no run takes within the solver's
    unrolling — in a program that loops, only when the abstract run (which
    covers every lap) agrees; else UNKNOWN, with the reason."""
    if enc.loop_bound is False or _never_taken(enc.facts, enc.program, key):
        return DEAD
    reasons[key] = "taken, if at all, only after more laps of a loop than the solver unrolls"
    return UNKNOWN


def _never_taken(facts, program: Program, key) -> bool:
    kind, what = key
    if kind == "pc":
        return what not in facts.reachable
    src, dst = what
    if src not in facts.reachable:
        return True
    taken, not_taken = facts.edges.get(src, (True, True))
    _, jt, jf, _ = program[src]
    return (dst == src + 1 + jt and not taken) or (dst == src + 1 + jf and not not_taken)


def _true_in(model, cond, z3) -> bool:
    if isinstance(cond, bool):
        return cond
    return z3.is_true(model.eval(cond, model_completion=True))


# --- the contexts inputs are made for -------------------------------------------------
def _fixed_context(target: str, mode: str, linktype: int) -> Dict[str, object]:
    """Pinned metadata so that the solver's inputs replay under the
    context :func:`run_context` will give them."""
    if target != "socket" or mode == "any":
        return {}
    from .capture import LINKTYPE_IPV4, LINKTYPE_IPV6, LINKTYPE_RAW
    from .context import FIELD_RANGES
    fixed: Dict[str, object] = {name: 0 for name in FIELD_RANGES}
    fixed.update(has_device=False, link_header=None, network_header=0)
    if mode == "capture" and linktype in (1, LINKTYPE_RAW, LINKTYPE_IPV4, LINKTYPE_IPV6):
        ethernet = linktype == 1
        fixed.update(has_device=True, ifindex=1, hatype=1 if ethernet else 0xFFFE, link_header=0,
                     network_header=14 if ethernet else 0)
        del fixed["protocol"]           # both follow from the bytes: tied by constraints
        del fixed["pkttype"]
    return fixed


def _tie_context_to_bytes(session, linktype: int) -> None:
    """``skb->protocol`` and ``pkttype`` as :mod:`bpfcheck.capture` derives
    them from a captured frame, as constraints over the packet bytes."""
    import z3
    from .capture import LINKTYPE_IPV4, LINKTYPE_IPV6, LINKTYPE_RAW
    i = session.inputs
    length = i.length
    byte = [z3.ZeroExt(24, i.byte(n)) for n in range(16)]
    proto, ptype = i.fields["protocol"], i.fields["pkttype"]

    def k(value):
        return z3.BitVecVal(value, 32)
    if linktype == 1:
        ethertype = (byte[12] << 8) | byte[13]
        novell = z3.And(z3.UGE(length, 16), byte[14] == 0xFF, byte[15] == 0xFF)
        session.solver.add(proto == z3.If(z3.ULT(length, 14), 0,
                                          z3.If(z3.UGE(ethertype, 0x600), ethertype,
                                                z3.If(novell, k(0x0001), k(0x0004)))))
        broadcast = z3.And(*[byte[n] == 0xFF for n in range(6)])
        session.solver.add(ptype == z3.If(z3.ULT(length, 6), 0,
                                          z3.If(broadcast, k(1), z3.If(byte[0] & 1 == 1, k(2), k(0)))))
    elif linktype in (LINKTYPE_RAW, LINKTYPE_IPV4, LINKTYPE_IPV6):
        six = z3.And(z3.UGE(length, 1), z3.LShR(byte[0], 4) == 6)
        session.solver.add(proto == z3.If(six, k(0x86DD), k(0x0800)), ptype == 0)
    else:
        session.solver.add(proto == 0, ptype == 0)


# --- making inputs --------------------------------------------------------------------
@dataclass(frozen=True)
class GeneratedInput:
    """One solver-made input: a packet (with its wire length) or a syscall,
    the context it runs with, its verdict, and the edges it was made for."""

    packet: Optional[bytes]
    seccomp: Optional[SeccompData]
    context: Optional[Context]
    verdict: int
    path: Tuple[int, ...]
    target_edge: EdgeKey

    @property
    def wirelen(self) -> Optional[int]:
        if self.context is None or self.context.len is None:
            return None
        return self.context.len


@dataclass
class Generated:
    inputs: List[GeneratedInput]
    reachability: Reachability
    coverage: Coverage
    seconds: float = 0.0


def generate(program: Sequence, target: str = "socket", timeout: Optional[float] = None,
             mode: str = "capture", linktype: int = 1,
             progress: Optional[Callable[[int, int], None]] = None) -> Generated:
    """A small set of inputs that together take every reachable edge.

    Edges are visited deepest first; each one no earlier input took is
    asked of the solver (a minimised witness that really takes it on the
    reference VM), or proved dead.  ``mode`` is the context the inputs are
    made for (:func:`run_context`); ``cover`` must replay them the same way.
    """
    from .proof.session import SAT, UNSAT
    from .vm import Machine
    if mode not in CONTEXT_MODES:
        raise ValueError(f"mode={mode!r}: expected one of {CONTEXT_MODES}")
    started = time.monotonic()
    program = Program(program)
    machine = Machine(program, target)
    cov = Coverage(program, target)
    graph = edges(program, target)
    loops = has_loops(program, target)
    session, enc = _session(program, target, timeout, mode, linktype)
    conds = enc.edges if loops else edge_conditions(program, target, enc.reach)
    status: Dict[EdgeKey, str] = {}
    reasons: Dict[object, str] = {}
    made: List[GeneratedInput] = []

    def context_for(value, ctx):
        if target == "seccomp":
            return None
        wirelen = ctx.len if (target == "pcap" and ctx is not None) else None
        return run_context(target, mode, value, wirelen, linktype)

    def trace(value, ctx):
        return machine.trace(value) if target == "seccomp" else machine.trace(value, context_for(value, ctx))

    order = sorted(graph, key=lambda e: (-e.dst, -e.src))
    for n, edge in enumerate(order):
        if progress:
            progress(n, len(order))
        key = edge.key
        if key in cov.edge_hits:
            continue
        goal = conds.get(key, False)

        def takes_edge(value, ctx, key=key):
            try:
                return key in path_edges(trace(value, ctx).path)
            except Exception:     # no verdict (libpcap would loop): not a usable input
                return False
        answer, value, ctx, note = (UNSAT, None, None, None) if goal is False else \
            session.find(goal, takes_edge)
        if answer == SAT:
            t = trace(value, ctx)
            cov.add_path(t.path)
            made.append(GeneratedInput(value if target != "seccomp" else None,
                                       value if target == "seccomp" else None,
                                       context_for(value, ctx), t.verdict, t.path, key))
        elif answer == UNSAT:
            status[key] = _dead_unless_looping(enc, ("edge", key), reasons)
        else:
            status[key] = UNKNOWN
            reasons[("edge", key)] = note or "the solver could not decide"
    for key in cov.edge_hits:
        status[key] = LIVE
    pcs = {pc: LIVE if pc in cov.pc_hits else None for pc in range(len(program))}
    for pc in pcs:
        if pcs[pc] is None:
            incoming = [status.get(e.key) for e in graph if e.dst == pc]
            pcs[pc] = DEAD if incoming and all(s == DEAD for s in incoming) else UNKNOWN
    reach = Reachability(pcs, {e.key: status.get(e.key, UNKNOWN) for e in graph}, reasons, loops)
    reach.seconds = time.monotonic() - started
    return Generated(made, reach, cov, reach.seconds)


# --- summaries ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Summary:
    """Coverage measured against what can be executed."""

    pcs_covered: int
    pcs_reachable: int
    pcs_dead: Tuple[int, ...]
    edges_covered: int
    edges_reachable: int
    edges_dead: Tuple[EdgeKey, ...]
    edges_unknown: Tuple[EdgeKey, ...]
    uncovered: Tuple[EdgeKey, ...]        # reachable (or unknown) edges no input took

    @staticmethod
    def percent(part: int, whole: int) -> float:
        return 100.0 if whole == 0 else 100.0 * part / whole

    @property
    def pc_percent(self) -> float:
        return self.percent(self.pcs_covered, self.pcs_reachable)

    @property
    def edge_percent(self) -> float:
        return self.percent(self.edges_covered, self.edges_reachable)

    def to_json(self) -> dict:
        return {"instructions": {"covered": self.pcs_covered, "reachable": self.pcs_reachable,
                                 "dead": list(self.pcs_dead), "percent": round(self.pc_percent, 2)},
                "edges": {"covered": self.edges_covered, "reachable": self.edges_reachable,
                          "dead": [list(e) for e in self.edges_dead],
                          "unknown": [list(e) for e in self.edges_unknown],
                          "uncovered": [list(e) for e in self.uncovered],
                          "percent": round(self.edge_percent, 2)}}


def summarise(cov: Coverage, reach: Reachability) -> Summary:
    """Covered over reachable; an executed instruction or edge counts as
    reachable whatever the solver said (a run is the best proof)."""
    pcs = {pc: LIVE if pc in cov.pc_hits else s for pc, s in reach.pcs.items()}
    eds = {k: LIVE if k in cov.edge_hits else s for k, s in reach.edges.items()}
    live_edges = [k for k, s in eds.items() if s == LIVE]
    return Summary(
        pcs_covered=sum(1 for pc in pcs if pc in cov.pc_hits),
        pcs_reachable=sum(1 for s in pcs.values() if s == LIVE),
        pcs_dead=tuple(sorted(pc for pc, s in pcs.items() if s == DEAD)),
        edges_covered=sum(1 for k in live_edges if k in cov.edge_hits),
        edges_reachable=len(live_edges),
        edges_dead=tuple(sorted(k for k, s in eds.items() if s == DEAD)),
        edges_unknown=tuple(sorted(k for k, s in eds.items() if s == UNKNOWN)),
        uncovered=tuple(sorted(k for k, s in eds.items() if s != DEAD and k not in cov.edge_hits)))
