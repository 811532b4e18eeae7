"""Symbolic execution of one program: the semantics table over z3 terms.

Control flow in a validated socket or seccomp program only goes forward,
so instructions are visited once, in pc order.  Where paths join, the
machine state is *merged*: each register or scratch cell that differs
between the incoming edges becomes a fresh variable defined by an
if-then-else over the (mutually exclusive) edge conditions.  The formula
therefore grows with the program, never with the number of paths: a chain
of 2,000 diamonds (2^2000 paths) costs 2,000 small definitions.

libpcap programs may jump backwards (``ip6 protochain``).  Those loops are
unrolled: a node is ``(iteration, pc)``, a backward jump moves to the next
iteration, and past ``max_unroll`` iterations the run ends in a
``loop bound`` exit that a proof must show unreachable before it may say
"proved".
"""

from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

import z3

from .. import isa
from ..domains.z3dom import Z3, and_all, bv, or_all
from ..errors import ExecutionError
from ..program import Program
from ..semantics import RULE_OUT_OF_BOUNDS, TABLES
from ..validate import validate
from .abstract import interpret
from .inputs import SymbolicInputs

RULE_LOOP_BOUND = "backward jumps beyond the unrolling bound"
#: every this many instructions, register and cell values get a name (see encode)
NAMING_STRIDE = 64
_names = itertools.count()


@dataclass
class Exit:
    """One way the program can end: at ``pc`` by a ``ret`` (``rule`` None)
    or by a guard that fired."""

    pc: int
    cond: Any
    value: Any
    rule: Optional[str] = None


@dataclass
class Encoding:
    program: Program
    target: str
    inputs: SymbolicInputs
    verdict: Any                               # z3 BV32 term (or int)
    definitions: List[Any] = field(default_factory=list)
    reach: Dict[int, Any] = field(default_factory=dict)   # pc -> condition
    states: Dict[int, tuple] = field(default_factory=dict)  # pc -> (A, X, M) on entry (first visit)
    exits: List[Exit] = field(default_factory=list)
    loop_bound: Any = False                    # condition for leaving the unrolled region
    approximations: List[str] = field(default_factory=list)   # where the formula over-approximates
    #: the abstract run the formula was pruned by
    facts: Any = None
    #: (src, dst) -> condition for a run to go from src to dst within the
    #: unrolling (edges no such run takes are absent)
    edges: Dict[Tuple[int, int], Any] = field(default_factory=dict)

    def constraints(self):
        return self.definitions


def encode(program, inputs: SymbolicInputs, target: str = "socket", name: Optional[str] = None,
           max_unroll: int = 8) -> Encoding:
    """Build the formula of ``program`` over ``inputs``.

    Jump sides and guards that the abstract run (:mod:`.abstract`)
    shows no input can take are left out: each was unsatisfiable anyway,
    so the formula means the same, and is smaller."""
    program = Program(program)
    validate(program, target)
    facts = interpret(program, target)
    table = TABLES[target]
    env = inputs.env(target)
    tag = name or f"p{next(_names)}"
    n = len(program)
    definitions: List[Any] = []
    exits: List[Exit] = []
    reach_parts: Dict[int, List[Any]] = {}
    edge_parts: Dict[Tuple[int, int], List[Any]] = {}
    states: Dict[int, tuple] = {}
    fresh = itertools.count()

    def name(term, make_var):
        """A variable standing for ``term``: the one already defining the
        same term over these inputs (another program's, when two programs
        share a prefix), else a new one.  The table keeps the terms alive,
        so their ids are not reused while the inputs live."""
        known = inputs.named.get(term.get_id())
        if known is None:
            var = make_var()
            known = (term, var, var == term)
            inputs.named[term.get_id()] = known
        definitions.append(known[2])
        return known[1]

    def define_bv(value_exprs, conds, label):
        term = bv(value_exprs[-1])
        for c, v in zip(reversed(conds[:-1]), reversed(value_exprs[:-1])):
            term = z3.If(c, bv(v), term)
        return name(term, lambda: z3.BitVec(f"{tag}_{label}{next(fresh)}", 32))

    def merge(values, conds, label):
        first = values[0]
        if all(_same(first, v) for v in values[1:]):
            return first
        return define_bv(values, conds, label)

    start = (0, 0)
    # An edge: (condition, A, X, M, known) where ``known`` is a packet length
    # every run along it has shown by a load at a constant offset.
    incoming: Dict[Tuple[int, int], List[tuple]] = {start: [(True, 0, 0, (0,) * isa.MEMWORDS, 0)]}
    ends = [_direct_load_end(insn, target) for insn in program]
    queue = [start]
    loop_exits = []
    while queue:
        node = heapq.heappop(queue)
        edges = incoming.pop(node)
        iteration, pc = node
        conds = [e[0] for e in edges]
        reach = or_all(conds)
        if reach is False or (facts is not None and pc not in facts.reachable):
            # The abstract run proved no input gets here (a guard before it
            # always fires, say, where the condition is not syntactically
            # false): nothing to encode, and no facts to encode it with.
            continue
        if len(edges) > 1 and not isinstance(reach, bool):
            reach = name(reach, lambda: z3.Bool(f"{tag}_r{pc}_{iteration}"))
        a = merge([e[1] for e in edges], conds, f"a{pc}_")
        x = merge([e[2] for e in edges], conds, f"x{pc}_")
        mem = tuple(merge([e[3][i] for e in edges], conds, f"m{pc}_{i}_") for i in range(isa.MEMWORDS))
        known = min(e[4] for e in edges)
        reach_parts.setdefault(pc, []).append(reach)
        states.setdefault(pc, (a, x, mem))

        insn = program[pc]
        handler = table.get(insn[0])
        if handler is None:   # libpcap would abort(): no verdict exists
            raise ExecutionError(f"libpcap's bpf_filter aborts the process on opcode {insn[0]:#06x}: "
                                 f"no verdict to reason about", pc)
        effect = handler(insn, a, x, mem, Z3, env)
        live = reach
        end = ends[pc]
        for cond, value, rule in effect.guards:
            if facts is not None and (pc, rule) in facts.never:
                continue          # never fires: its negation is implied
            if rule == RULE_OUT_OF_BOUNDS and end is not None and end <= known:
                # Every path here loaded at least as far already, so the
                # bounds check is implied by the reach condition: leaving it
                # out keeps the formula equivalent and smaller.
                continue
            fire = and_all(live, cond)
            if fire is not False:
                exits.append(Exit(pc, fire, value, rule))
            live = and_all(live, Z3.not_(cond))
            if live is False:
                break
        if live is False:
            continue
        a, x, mem = effect.applied(a, x, mem)
        if pc % NAMING_STRIDE == NAMING_STRIDE - 1:
            a, x, mem = named_state(a, x, mem, lambda value, label: name(
                value, lambda: z3.BitVec(f"{tag}_{label}{pc}_{next(fresh)}", 32)))
        if end is not None:
            known = max(known, end)

        def go(target_pc, cond):
            if cond is False:
                return
            step = iteration + 1 if target_pc <= pc else iteration
            if step > max_unroll:
                loop_exits.append(and_all(cond))
                exits.append(Exit(pc, cond, 0, RULE_LOOP_BOUND))
                return
            edge_parts.setdefault((pc, target_pc), []).append(cond)
            key = (step, target_pc)
            if key not in incoming:
                incoming[key] = []
                heapq.heappush(queue, key)
            incoming[key].append((cond, a, x, mem, known))

        flow = effect.flow
        if flow is None:
            go(pc + 1, live)
        elif flow[0] == "jump":
            _, cond, jt, jf = flow
            taken, not_taken = facts.edges[pc] if facts is not None else (True, True)
            if jt == jf:
                go(pc + 1 + jt, live)
            elif not taken:
                go(pc + 1 + jf, live)
            elif not not_taken:
                go(pc + 1 + jt, live)
            else:
                go(pc + 1 + jt, and_all(live, cond))
                go(pc + 1 + jf, and_all(live, Z3.not_(cond)))
        elif flow[0] == "goto":
            go(pc + 1 + flow[1], live)
        else:
            exits.append(Exit(pc, live, flow[1], None))

    verdict = z3.BitVec(f"{tag}_verdict", 32)
    if exits:
        term = bv(exits[-1].value)
        for e in reversed(exits[:-1]):
            term = z3.If(boolish(e.cond), bv(e.value), term)
        verdict = name(term, lambda: z3.BitVec(f"{tag}_verdict", 32))
    reach = {pc: or_all(parts) for pc, parts in reach_parts.items()}
    for pc in range(n):
        reach.setdefault(pc, False)
    approximations = []
    if target != "pcap" and any(insn[0] & 0xE7 == 0x20 and insn[3] in _NETLINK_OFFSETS for insn in program):
        approximations.append(NETLINK_APPROXIMATION)
    return Encoding(program, target, inputs, verdict, definitions, reach, states, exits,
                    or_all(loop_exits), approximations, facts,
                    {key: or_all(parts) for key, parts in edge_parts.items()})


def named_state(a, x, mem, name):
    """The registers and cells with every computed value replaced by
    ``name(value, label)``, a variable defined as that value.

    Without joins to name them, terms nest as deep as the program is long,
    and z3's incremental core takes a formula in, without looking at its
    time limit, in time about cubic in that depth (a join-free chain of
    arithmetic, for a question limited to 0.25 s: 1,000 instructions 1.2 s,
    2,000 9.7 s, 4,000 104 s).  Naming every NAMING_STRIDE instructions
    bounds the depth."""
    def one(value, label):
        return value if isinstance(value, int) or z3.is_const(value) else name(value, label)
    return one(a, "a"), one(x, "x"), tuple(one(m, f"m{i}_") for i, m in enumerate(mem))


def _direct_load_end(insn, target: str) -> Optional[int]:
    """For a load from the packet at a constant, non-negative offset (not an
    extension, not network- or link-relative): the length it needs, else None."""
    code, k = insn[0], insn[3]
    if target == "seccomp":
        return None
    if code & 0x07 == isa.LD and code & 0xE0 == isa.ABS:
        size = isa.SIZE_BYTES.get(code & 0x18)
    elif code == isa.LDX | isa.B | isa.MSH:
        size = 1
    else:
        return None
    if size is None:
        return None
    if target != "pcap" and (k >= isa.SKF_AD_OFF or isa.signed32(k) < 0):
        return None      # extensions, SKF_NET_OFF / SKF_LL_OFF loads
    if k + size > isa.U32:
        return None
    return k + size


_NETLINK_OFFSETS = (isa.SKF_AD_OFF + isa.SKF_AD_NLATTR, isa.SKF_AD_OFF + isa.SKF_AD_NLATTR_NEST)
NETLINK_APPROXIMATION = ("netlink attribute searches (ld [nla]/[nlan]) are modelled as "
                         "unknown functions of the packet")


def boolish(c):
    return z3.BoolVal(c) if isinstance(c, bool) else c


def _same(a, b) -> bool:
    if isinstance(a, int) or isinstance(b, int):
        return isinstance(a, int) and isinstance(b, int) and a == b
    return a.eq(b)
