"""Generate straight-line Python for a program from the semantics table.

The driver walks the program once, calls each instruction's handler with
the source domain (:mod:`bpfcheck.domains.pysource`) and writes what the
returned :class:`~bpfcheck.semantics.Effect` says: guards become
``if cond: return value``, new register values become assignments, a
conditional jump an ``if``, a ``ret`` a ``return``.  It knows nothing about
opcodes.

Jumps only go forward, so no dispatch loop is needed.  Code is nested
``if`` statements: a block with one predecessor is written inline where
that predecessor jumps to it; a block several paths join (a *join*)
starts a *region* of its own, a later ``if nxt == pc:`` section of the
same function that the paths into it reach by setting its inputs and
``nxt`` (tail calls would do, but Python keeps a frame per call and a long
chain of joins would overflow its stack).  Small blocks that end in a
``ret`` at once (``ret #0``) are copied into each path instead.  Machine
state is merged at joins as the symbolic executor merges it: a value every
path brings as the same constant stays a constant, anything else becomes
an input.  Liveness keeps dead values out of the inputs.

Three passes, each named for what it establishes:

* :func:`survey` — per pc: successors, and which of A, X, M[i] the
  instruction reads and writes (found by running each handler on
  placeholder values and looking for them in the source it returns);
* :func:`liveness` — per pc, the state that may still be read later;
* :class:`_Writer` — the source, region by region in pc order, so every
  path into a region is known before the region is written.

libpcap programs that jump backwards (``ip6 protochain``) are not
compiled: :func:`generate` returns ``None`` and the caller runs them on the
reference VM.
"""

from __future__ import annotations

import functools
import heapq
from dataclasses import dataclass, field
from typing import Dict, FrozenSet, List, Optional, Tuple

from .. import isa
from ..domains.pysource import PYSOURCE, SOURCE_ENVS, Expr
from ..program import Program
from ..semantics import TABLES

#: the deepest ``if`` nesting written inline; beyond it a branch starts a
#: region (Python's tokenizer stops at 100 indentation levels)
MAX_DEPTH = 40
#: a join block ending in ``ret`` within this many instructions is copied
#: into each path rather than made a region
SMALL_TAIL = 2

_A, _X = "a", "x"
_PLACEHOLDER_A, _PLACEHOLDER_X = "__A__", "__X__"


def _placeholder_m(i: int) -> str:
    return f"__M{i}__"


class _MemProbe:
    """Scratch memory for the survey: reads return placeholders."""

    def __getitem__(self, i):
        return Expr(_placeholder_m(i))


@dataclass
class Survey:
    """What each instruction does to control flow and state."""

    successors: List[Tuple[int, ...]]
    uses: List[FrozenSet]           # subsets of {"a", "x", 0..15}
    defs: List[FrozenSet]
    ends_in_ret: List[Optional[int]]   # instructions until a ret on the fall-through path
    has_backward_jump: bool


def survey(program: Program, target: str) -> Survey:
    table = TABLES[target]
    n = len(program)
    successors, uses, defs = [], [], []
    flows = []
    backward = False
    for pc, insn in enumerate(program):
        handler = table.get(insn[0])
        if handler is None:           # libpcap aborts here: nothing follows
            successors.append(())
            uses.append(frozenset())
            defs.append(frozenset())
            flows.append("end")
            continue
        env = SOURCE_ENVS[target]()
        effect = handler(insn, Expr(_PLACEHOLDER_A), Expr(_PLACEHOLDER_X), _MemProbe(), PYSOURCE, env)
        texts = list(env.take_statements())
        for cond, value, _rule in effect.guards:
            texts += [str(cond), str(value)]
        texts += [str(v) for v in (effect.a, effect.x) if v is not None]
        if effect.store is not None:
            texts.append(str(effect.store[1]))
        flow = effect.flow
        if flow is not None:
            texts += [str(v) for v in flow[1:]]
        blob = " ".join(texts)
        used = {name for name, mark in ((_A, _PLACEHOLDER_A), (_X, _PLACEHOLDER_X)) if mark in blob}
        used |= {i for i in range(isa.MEMWORDS) if _placeholder_m(i) in blob}
        written = {name for name, v in ((_A, effect.a), (_X, effect.x)) if v is not None}
        if effect.store is not None:
            written.add(effect.store[0])
        uses.append(frozenset(used))
        defs.append(frozenset(written))
        if flow is None:
            succ = (pc + 1,)
            flows.append("next")
        elif flow[0] == "jump":
            succ = tuple(sorted({pc + 1 + flow[2], pc + 1 + flow[3]}))
            flows.append("jump")
        elif flow[0] == "goto":
            succ = (pc + 1 + flow[1],)
            backward = backward or flow[1] < 0
            flows.append("jump")
        else:
            succ = ()
            flows.append("ret")
        successors.append(tuple(s for s in succ if 0 <= s < n))
    ends = [None] * n
    for pc in reversed(range(n)):
        if flows[pc] == "ret":
            ends[pc] = 0
        elif flows[pc] == "next" and pc + 1 < n and ends[pc + 1] is not None:
            ends[pc] = ends[pc + 1] + 1
    return Survey(successors, uses, defs, ends, backward)


def liveness(s: Survey) -> List[FrozenSet]:
    """State that may be read at or after each pc (forward-only jumps, so
    one backward sweep is exact)."""
    n = len(s.successors)
    live_in: List[FrozenSet] = [frozenset()] * n
    for pc in reversed(range(n)):
        out = frozenset().union(*(live_in[t] for t in s.successors[pc]))
        live_in[pc] = s.uses[pc] | (out - s.defs[pc])
    return live_in


@functools.lru_cache(maxsize=256)
def flow_facts(data: bytes, target: str) -> Tuple[Survey, List[FrozenSet]]:
    """:func:`survey` and :func:`liveness` of a program given by its
    bytes, cached: the batch executor asks for them on every chunk."""
    s = survey(Program.from_bytes(data), target)
    return s, liveness(s)


def predecessors(s: Survey) -> List[int]:
    """How many edges reach each pc from pcs reachable from the entry."""
    n = len(s.successors)
    count = [0] * n
    reachable = [False] * n
    if n:
        reachable[0] = True
    for pc in range(n):
        if reachable[pc]:
            for t in s.successors[pc]:
                count[t] += 1
                reachable[t] = True
    return count


@dataclass
class _State:
    a: object = 0
    x: object = 0
    mem: tuple = (0,) * isa.MEMWORDS
    known: int = 0          # captured length this path has already checked

    def copy(self) -> "_State":
        return _State(self.a, self.x, self.mem, self.known)

    def get(self, slot):
        return self.a if slot == _A else self.x if slot == _X else self.mem[slot]


@dataclass
class _Goto:
    """A path that continues in region ``pc``: rendered, once that region's
    inputs are known, as an assignment of them and ``nxt = pc``."""

    indent: int
    pc: int
    state: _State


@dataclass
class _Region:
    pc: int
    gotos: List[_Goto] = field(default_factory=list)
    params: List = field(default_factory=list)     # slots: "a", "x", cell numbers
    lines: list = field(default_factory=list)


def _slot_name(slot) -> str:
    return slot if isinstance(slot, str) else f"m{slot}"


def _is_name(v) -> bool:
    return isinstance(v, str) and v.isidentifier()


class _Writer:
    """Writes the program as *regions* of nested ``if`` statements in one
    function.  A block one path reaches is written inline on that path;
    a join (or a branch nested too deep) starts a region of its own, and
    the paths that reach it set its inputs and ``nxt``.  Regions follow
    each other in pc order, each under ``if nxt == pc:``, so every region
    runs after all that can lead to it, at most once, with no loop and no
    call (Python has no tail calls: a chain of joins as calls would
    overflow its stack)."""

    def __init__(self, program: Program, target: str, s: Survey):
        self.program = program
        self.target = target
        self.table = TABLES[target]
        self.survey = s
        self.live = liveness(s)
        self.preds = predecessors(s)
        self.env = SOURCE_ENVS[target]()
        self.regions: Dict[int, _Region] = {}
        self.pending: List[int] = []
        self.values = 0

    # -- state -------------------------------------------------------------------
    def _bind(self, value, live: bool, lines: list, indent: int):
        """Materialise a computed value in a fresh local when it will be
        read (each such name is assigned once, so older expressions that
        name it stay valid); a dead one stays an unevaluated expression."""
        if isinstance(value, int) or _is_name(value) or not live:
            return value
        self.values += 1
        name = Expr(f"v{self.values}")
        name.bound = value.bound
        lines.append((indent, f"{name} = {value}"))
        return name

    # -- blocks ------------------------------------------------------------------
    def _inline_join(self, pc: int) -> bool:
        tail = self.survey.ends_in_ret[pc]
        return tail is not None and tail < SMALL_TAIL

    def _goto(self, pc: int, st: _State, lines: list, indent: int) -> None:
        region = self.regions.get(pc)
        if region is None:
            region = self.regions[pc] = _Region(pc)
            heapq.heappush(self.pending, pc)
        goto = _Goto(indent, pc, st.copy())
        region.gotos.append(goto)
        lines.append(goto)

    def _emit(self, pc: int, st: _State, lines: list, indent: int, entry: bool = False) -> bool:
        """Code that runs the program from ``pc`` in state ``st``.  Every
        path it writes ends in ``return``, ``raise`` or a goto to a later
        region; returns whether any path ends in a goto (so that code
        written after it must sit in an ``else``)."""
        env = self.env
        gone = False
        while True:
            if not entry and self.preds[pc] > 1 and not self._inline_join(pc):
                self._goto(pc, st, lines, indent)
                return True
            entry = False
            insn = self.program[pc]
            handler = self.table.get(insn[0])
            if handler is None:
                lines.append((indent, f"raise _abort({insn[0]}, {pc})"))
                return gone
            effect = handler(insn, st.a, st.x, st.mem, PYSOURCE, env)
            for text in env.take_statements():
                lines.append((indent, text))
            for cond, value, _rule in effect.guards:
                if cond is False:
                    continue
                if cond is True:
                    lines.append((indent, f"return {value}"))
                    return gone
                need = getattr(cond, "need", None)
                if need is not None:
                    if need <= st.known:
                        continue
                    st.known = need
                lines.append((indent, f"if {cond}: return {value}"))
            live = frozenset().union(*(self.live[t] for t in self.survey.successors[pc]))
            a, x, mem = st.a, st.x, st.mem
            if effect.a is not None:
                a = self._bind(effect.a, _A in live, lines, indent)
            if effect.x is not None:
                x = self._bind(effect.x, _X in live, lines, indent)
            if effect.store is not None:
                cell, value = effect.store
                value = self._bind(value, cell in live, lines, indent)
                mem = mem[:cell] + (value,) + mem[cell + 1:]
            st.a, st.x, st.mem = a, x, mem
            flow = effect.flow
            if flow is None:
                pc += 1
            elif flow[0] == "ret":
                lines.append((indent, f"return {flow[1]}"))
                return gone
            elif flow[0] == "goto":
                pc += 1 + flow[1]
            else:
                _, cond, jt, jf = flow
                taken, fallen = pc + 1 + jt, pc + 1 + jf
                if isinstance(cond, bool) or taken == fallen:
                    pc = taken if cond is True or taken == fallen else fallen
                    continue
                if indent >= MAX_DEPTH:
                    # Too deep to nest further: both ways start regions.
                    lines.append((indent, f"if {cond}:"))
                    self._goto(taken, st, lines, indent + 1)
                    lines.append((indent, "else:"))
                    self._goto(fallen, st, lines, indent + 1)
                    return True
                lines.append((indent, f"if {cond}:"))
                if self._emit(taken, st.copy(), lines, indent + 1):
                    # The taken side may fall out of the ``if``: the other
                    # side must not run after it.
                    gone = True
                    lines.append((indent, "else:"))
                    indent += 1
                pc = fallen

    # -- regions -----------------------------------------------------------------
    def _entry_state(self, region: _Region) -> _State:
        """Merge the incoming states: constants every path agrees on stay
        constants; anything else live becomes an input of the region."""
        live = self.live[region.pc]
        st = _State(known=min(g.state.known for g in region.gotos))
        mem = list(st.mem)
        for slot in [_A, _X] + list(range(isa.MEMWORDS)):
            if slot not in live:
                continue
            values = [g.state.get(slot) for g in region.gotos]
            first = values[0]
            if isinstance(first, int) and all(isinstance(v, int) and v == first for v in values):
                value = first
            else:
                region.params.append(slot)
                value = Expr(_slot_name(slot))
                bounds = [v if isinstance(v, int) else getattr(v, "bound", None) for v in values]
                if all(b is not None for b in bounds):
                    value.bound = max(bounds)
            if slot == _A:
                st.a = value
            elif slot == _X:
                st.x = value
            else:
                mem[slot] = value
        st.mem = tuple(mem)
        return st

    def write(self) -> List[_Region]:
        """The entry region, then the others in pc order: a region is
        written only after every path into it."""
        main = _Region(0)
        self._emit(0, _State(), main.lines, 1, entry=True)
        done = [main]
        while self.pending:
            region = self.regions[heapq.heappop(self.pending)]
            st = self._entry_state(region)
            self._emit(region.pc, st, region.lines, 2, entry=True)
            done.append(region)
        return done

    def render_goto(self, goto: _Goto) -> str:
        region = self.regions[goto.pc]
        pad = "    " * goto.indent
        if not region.params:
            return f"{pad}nxt = {goto.pc}"
        names = ", ".join(_slot_name(slot) for slot in region.params)
        values = ", ".join(str(goto.state.get(slot)) for slot in region.params)
        # one tuple assignment: a value may name another slot's old value
        return f"{pad}{names} = {values}; nxt = {goto.pc}"


_SIGNATURES = {
    # target: (entry parameters, prologue lines)
    "socket": ("p, ctx", ["n = len(p)"]),
    "pcap": ("p, wl", ["n = len(p)"]),
    "seccomp": ("w", []),
}


def generate(program: Program, target: str) -> Optional[str]:
    """Python source defining ``_entry`` for ``program`` on ``target``, or
    ``None`` when it jumps backwards (the caller falls back to the VM).

    ``_entry(p, ctx)`` for sockets, ``_entry(p, wirelen)`` for libpcap,
    ``_entry(words)`` for seccomp; the program must already be valid.
    """
    program = Program(program)
    s = survey(program, target)
    if s.has_backward_jump:
        return None
    writer = _Writer(program, target, s)
    regions = writer.write()
    params, prologue = _SIGNATURES[target]
    if target == "socket" and "wl" in writer.env.uses:
        prologue = prologue + ["wl = n if ctx.len is None else ctx.len"]
    if len(regions) > 1:
        prologue = prologue + ["nxt = 0"]
    out = [f"def _entry({params}):"] + [f"    {line}" for line in prologue]
    for region in regions:
        if region.pc != 0:
            out.append(f"    if nxt == {region.pc}:")
        for item in region.lines:
            if isinstance(item, _Goto):
                out.append(writer.render_goto(item))
            else:
                indent, text = item
                out.append("    " * indent + text)
    return "\n".join(out) + "\n"
