"""Abstract interpretation: what no input can do, found without a solver.

The semantics table runs over :mod:`bpfcheck.domains.ranges` (unsigned
ranges and known bits) once, in pc order, joining the machine states
where paths meet.  Along the way it tracks the shortest packet every path
has shown by its loads, and narrows registers on each side of a jump
(``jgt #200`` leaves 201..255 on the taken side of a byte) — and every
later load of the same place, since the input does not change during a
run (after ``ldh [12]; jeq #0x800``, another ``ldh [12]`` is 0x800).  What comes
out is an over-approximation — every concrete run stays inside it — so
whatever it calls impossible is impossible:

* instructions no path reaches (dead code),
* jump sides no input takes,
* guards (out-of-bounds loads, division by zero, ...) that never fire.

That settles, in milliseconds, questions that over a big program's whole
formula can cost the solver seconds each.

Programs that jump backwards (libpcap's loops, for ``ip6 protochain``)
are interpreted too, coarsely: the instruction a taken backward jump goes
to (a loop head) starts from "anything" (every register and cell any
value, nothing known of the packet), which holds whatever the loop did
before; every other instruction is only entered by forward jumps, so one
pass in pc order still covers it.  Which backward jumps some run can take
is what the pass finds out, so it is repeated until that stops growing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Set, Tuple

from .. import isa
from ..context import FIELD_RANGES
from ..domains.ranges import RANGES, UNSURE, Comparison, Span, bounds, full_width, join, meet, top
from ..program import Program
from ..semantics import RULE_NO_LINK_HEADER, RULE_OUT_OF_BOUNDS, TABLES

_SIGNED_MAX = 0x7FFFFFFF
#: distinct loads a state remembers (each state copies them when it loads
#: something new: a program reading thousands of places must not make the
#: abstract run quadratic)
REMEMBERED_LOADS = 64
#: a socket load at a negative offset (network- or link-relative): areas the
#: interpreter does not model, so either of its checks may fail
_UNMODELLED = ((UNSURE, RULE_NO_LINK_HEADER), (UNSURE, RULE_OUT_OF_BOUNDS))


class ShortPacket:
    """The bounds check of a load ending somewhere in ``[lo_end, hi_end]``:
    it fails when the packet is shorter than the end."""

    __slots__ = ("lo_end", "hi_end")

    def __init__(self, lo_end: int, hi_end: int):
        self.lo_end, self.hi_end = lo_end, hi_end

    def truth(self, known_length: int) -> Optional[bool]:
        if self.lo_end > isa.U32:
            return True
        if known_length >= self.hi_end:
            return False
        return None


@dataclass
class State:
    a: object
    x: object
    mem: tuple
    length: int          # every run here has a packet at least this long
    #: what every run here has loaded, by where it read it (``("packet",
    #: offset, size)``, ``("seccomp", offset)``, ``("field", name)``): the
    #: input does not change during a run, so loading again gives the
    #: same value, narrowed by every jump since (never written to: copied)
    loaded: Dict[tuple, object] = field(default_factory=dict)

    def replaced(self, old, new) -> "State":
        """Every register, cell and load holding ``old`` (the same value) now holds ``new``."""
        loaded = self.loaded
        if any(v is old for v in loaded.values()):
            loaded = {key: new if v is old else v for key, v in loaded.items()}
        return State(new if self.a is old else self.a, new if self.x is old else self.x,
                     tuple(new if m is old else m for m in self.mem), self.length, loaded)


@dataclass
class Facts:
    """What the abstract run found possible; everything else is impossible."""

    reachable: Set[int] = field(default_factory=set)
    guards: Set[Tuple[int, str]] = field(default_factory=set)    # (pc, rule) that may fire
    never: Set[Tuple[int, str]] = field(default_factory=set)     # (pc, rule) checked, never fires
    edges: Dict[int, Tuple[bool, bool]] = field(default_factory=dict)   # jump pc -> (taken, not taken)
    states: Dict[int, State] = field(default_factory=dict)       # on entry to each reachable pc
    returns: List[object] = field(default_factory=list)          # every verdict, abstractly

    def verdict_ranges(self) -> List[Tuple[int, int]]:
        """Inclusive ranges holding every verdict a run can return."""
        return [bounds(v) for v in self.returns]


class _Env:
    """The inputs, abstractly: any bytes, any length, metadata in range."""

    def __init__(self, target: str):
        self.target = target
        self.known_length = 0
        self.loaded: Dict[tuple, object] = {}    # the current state's (see State.loaded)

    def _load(self, key: tuple, make):
        """The value loaded from ``key`` before on every path here, else a new one."""
        value = self.loaded.get(key)
        if value is None:
            value = make()
            kept = self.loaded
            if len(kept) >= REMEMBERED_LOADS:     # forget the oldest: always sound
                kept = dict(list(kept.items())[len(kept) - REMEMBERED_LOADS + 1:])
            self.loaded = {**kept, key: value}
        return value

    def length(self):
        if self.target == "seccomp":
            return isa.SECCOMP_DATA_SIZE
        return Span(self.known_length, isa.U32)

    def load_abs(self, k: int, nbytes: int):
        if self.target == "seccomp":
            return self._load(("seccomp", k), top), ()
        offset = k if self.target == "pcap" else isa.signed32(k)
        if offset < 0:
            return full_width(nbytes), _UNMODELLED
        value = self._load(("packet", offset, nbytes), lambda: full_width(nbytes))
        return value, ((ShortPacket(offset + nbytes, offset + nbytes), RULE_OUT_OF_BOUNDS),)

    def load_ind(self, x, k: int, nbytes: int):
        if isinstance(x, int):
            position = x + k
            if self.target != "pcap":
                position &= isa.U32
            return self.load_abs(position, nbytes) if position <= isa.U32 else \
                (0, ((True, RULE_OUT_OF_BOUNDS),))
        lo, hi = x.lo + k, x.hi + k
        if self.target != "pcap" and hi > _SIGNED_MAX:
            return full_width(nbytes), _UNMODELLED      # the sum may wrap or turn negative
        return full_width(nbytes), ((ShortPacket(lo + nbytes, hi + nbytes), RULE_OUT_OF_BOUNDS),)

    def field(self, name: str):
        lo, hi = FIELD_RANGES[name]
        return self._load(("field", name), lambda: Span(lo, hi))

    def has_device(self):
        return UNSURE

    def netlink_attr(self, a, x, nested: bool):
        return top()


def interpret(program, target: str = "socket") -> Facts:
    """The abstract run of a validated ``program``."""
    program = Program(program)
    looping: Set[int] = set()        # loop heads some backward jump may go to
    while True:
        facts, taken_back = _one_pass(program, target, looping)
        if taken_back <= looping:
            return facts
        looping |= taken_back


def _one_pass(program: Program, target: str, looping: Set[int]) -> Tuple[Facts, Set[int]]:
    """The abstract run, with the heads in ``looping`` entered in any
    state; also the heads a backward jump went to in this pass."""
    table = TABLES[target]
    env = _Env(target)
    facts = Facts()
    taken_back: Set[int] = set()
    incoming: Dict[int, List[State]] = {0: [State(0, 0, (0,) * isa.MEMWORDS, 0)]}
    for pc, insn in enumerate(program):
        states = incoming.pop(pc, None)
        if pc in looping:
            state = State(top(), top(), (top(),) * isa.MEMWORDS, 0)
        elif states:
            state = _join(states)
        else:
            continue
        facts.reachable.add(pc)
        facts.states[pc] = state
        handler = table.get(insn[0])
        if handler is None:
            continue           # libpcap aborts here: no run goes on (the encoder says so)
        env.known_length = state.length
        env.loaded = state.loaded
        effect = handler(insn, state.a, state.x, state.mem, RANGES, env)
        state = State(state.a, state.x, state.mem, state.length, env.loaded)
        live = _after_guards(pc, effect.guards, state, facts)
        if live is None:
            continue
        a, x, mem = effect.applied(live.a, live.x, live.mem)
        live = State(a, x, mem, live.length, live.loaded)
        flow = effect.flow

        def go(target_pc: int, state: State) -> None:
            if target_pc <= pc:
                taken_back.add(target_pc)      # that head starts from anything
            else:
                incoming.setdefault(target_pc, []).append(state)
        if flow is None:
            go(pc + 1, live)
        elif flow[0] == "goto":
            go(pc + 1 + flow[1], live)
        elif flow[0] == "jump":
            _, cond, jt, jf = flow
            taken, not_taken = _assuming(cond, live), _assuming(RANGES.not_(cond), live)
            facts.edges[pc] = (taken is not None, not_taken is not None)
            if taken is not None:
                go(pc + 1 + jt, taken)
            if not_taken is not None:
                go(pc + 1 + jf, not_taken)
        else:
            facts.returns.append(flow[1])
    return facts, taken_back


def _after_guards(pc: int, guards, state: State, facts: Facts) -> Optional[State]:
    """Record the guards that may fire and those that never do; the state
    of the runs none stops (None when every run stops here)."""
    for cond, value, rule in guards:
        if isinstance(cond, ShortPacket):
            truth = cond.truth(state.length)
            (facts.never if truth is False else facts.guards).add((pc, rule))
            if truth is not False:
                facts.returns.append(value)
            if truth is True:
                return None
            state = State(state.a, state.x, state.mem, max(state.length, cond.lo_end), state.loaded)
            continue
        truth = cond if isinstance(cond, bool) else cond.truth()
        (facts.never if truth is False else facts.guards).add((pc, rule))
        if truth is not False:
            facts.returns.append(value)
        if truth is True:
            return None
        if truth is None:
            survived = _assuming(RANGES.not_(cond), state)
            if survived is None:
                return None
            state = survived
    return state


def _assuming(cond, state: State) -> Optional[State]:
    """``state`` narrowed to the runs where ``cond`` holds (None: no run)."""
    if isinstance(cond, bool):
        return state if cond else None
    if cond.truth() is False:
        return None
    if not isinstance(cond, Comparison):
        return state
    narrowed = cond.narrowed()
    if narrowed is None:
        return None
    new_a, new_b = narrowed
    if cond.a is cond.b:
        both = meet(new_a, new_b)
        return None if both is None else state.replaced(cond.a, both)
    return state.replaced(cond.a, new_a).replaced(cond.b, new_b)


def _join(states: List[State]) -> State:
    first = states[0]
    if len(states) == 1:
        return first
    a, x, length, loaded = first.a, first.x, first.length, first.loaded
    mem = list(first.mem)
    for s in states[1:]:
        a, x = join(a, s.a), join(x, s.x)
        mem = [join(m, n) for m, n in zip(mem, s.mem)]
        length = min(length, s.length)
        if loaded is not s.loaded:
            other = s.loaded
            loaded = {key: v if v is other[key] else join(v, other[key])
                      for key, v in loaded.items() if key in other}
    return State(a, x, tuple(mem), length, loaded)
