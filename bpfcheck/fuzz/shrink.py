"""Shrinking a disagreement to a minimal program and input.

Delta debugging over instructions and bytes, greedy and to a fixed point:
a candidate is kept when ``fails(program, input)`` still holds (the same
two sides still disagree in the same way; the predicate re-runs both).
Passes, cheapest and most rewarding first:

* programs: cut the program short at each pc (a ``ret`` there); delete one
  instruction; make a conditional jump unconditional; simplify constants
  (0, 1, then halving); clear jt/jf of jumps that are no-ops;
* packets: the shortest prefix; zeroed chunks, halving; zeroed bytes;
  libpcap's wire length back to the packet's;
* seccomp inputs: zeroed arguments, instruction pointer, nr, arch.

Deleting an instruction keeps every jump's target: a jump over it skips
one instruction less, a jump onto it lands on its successor.  Candidates
a checker refuses are simply not failures (the predicate sees both sides
refuse or disagree about validity, which is a different finding).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Iterator, List, Optional, Tuple

from .. import isa
from ..context import Context, SeccompData
from ..differential.values import Input
from ..program import Instruction, Program

Predicate = Callable[[Program, Optional[Input]], bool]
RET_A = Instruction(isa.RET | isa.RET_A, 0, 0, 0)


@dataclass
class Shrunk:
    program: Program
    input: Optional[Input]
    evaluations: int
    seconds: float
    complete: bool          # reached a fixed point (not stopped by the budget)


def shrink(program: Program, inp: Optional[Input], fails: Predicate, seconds: float = 30.0,
           max_evaluations: int = 20_000, should_stop: Callable[[], bool] = lambda: False) -> Shrunk:
    started = time.monotonic()
    deadline = started + seconds
    count = [0]

    def out_of_budget() -> bool:
        return time.monotonic() > deadline or count[0] >= max_evaluations or should_stop()

    def try_(p: Program, i: Optional[Input]) -> bool:
        count[0] += 1
        try:
            return fails(p, i)
        except Exception:         # a candidate an oracle cannot run is no failure
            return False

    best_p, best_i = Program(program), inp
    changed = True
    while changed and not out_of_budget():
        changed = False
        for candidate in _program_candidates(best_p):
            if out_of_budget():
                break
            if _smaller(candidate, best_p) and try_(candidate, best_i):
                best_p, changed = candidate, True
                break
        if changed:
            continue
        if best_i is not None:
            for candidate in _input_candidates(best_i):
                if out_of_budget():
                    break
                if _input_key(candidate) < _input_key(best_i) and try_(best_p, candidate):
                    best_i, changed = candidate, True
                    break
    return Shrunk(best_p, best_i, count[0], time.monotonic() - started, not out_of_budget())


# --- ordering: shorter, then simpler --------------------------------------------------
def _program_key(p: Program) -> Tuple:
    return (len(p), sum(1 for c, _, _, _ in p if c & 0x07 == isa.JMP),
            sum(min(k, 0xFFFFFFFF).bit_length() for _, _, _, k in p), sum(jt + jf for _, jt, jf, _ in p))


def _smaller(a: Program, b: Program) -> bool:
    return _program_key(a) < _program_key(b)


def _input_key(i: Input) -> Tuple:
    if i.is_seccomp:
        s = i.value
        return (sum(1 for a in s.args if a), s.instruction_pointer != 0, s.nr, s.arch, s.args)
    ctx = i.context
    wire = 0 if ctx is None or ctx.len is None else ctx.len
    return (len(i.value), sum(1 for b in i.value if b), wire, i.value)


# --- programs -------------------------------------------------------------------------
def _retarget(program: List[Instruction], removed: int) -> List[Instruction]:
    """Delete instruction ``removed``; every jump keeps its target (one
    onto it lands on its successor)."""
    out = []
    for pc, insn in enumerate(program):
        if pc == removed:
            continue
        code, jt, jf, k = insn
        if pc < removed and code & 0x07 == isa.JMP:
            if code == isa.JMP | isa.JA:
                if pc + 1 + k > removed:
                    k -= 1
            else:
                if pc + 1 + jt > removed:
                    jt -= 1
                if pc + 1 + jf > removed:
                    jf -= 1
        out.append(Instruction(code, jt, jf, k))
    return out


def _cut(program: Program, at: int, ret: Instruction) -> Optional[Program]:
    """Instructions before ``at``, then ``ret``; jumps past ``at`` land on it."""
    out = []
    for pc, (code, jt, jf, k) in enumerate(program[:at]):
        if code & 0x07 == isa.JMP:
            room = at - pc - 1
            if code == isa.JMP | isa.JA:
                k = min(k, room)
            else:
                jt, jf = min(jt, room), min(jf, room)
        out.append(Instruction(code, jt, jf, k))
    return Program(out + [ret])


def _program_candidates(p: Program) -> Iterator[Program]:
    n = len(p)
    last = p[-1]
    for at in range(n - 1):
        for ret in (RET_A, last, Instruction(isa.RET | isa.RET_K, 0, 0, 0)):
            yield _cut(p, at, ret)
    for pc in range(n - 1):
        yield Program(_retarget(list(p), pc))
    for pc, (code, jt, jf, k) in enumerate(p):
        if code & 0x07 == isa.JMP and code != isa.JMP | isa.JA:
            for skip in (jt, jf):
                yield _replace(p, pc, Instruction(isa.JMP | isa.JA, 0, 0, skip))
            if jt == jf and (jt or k):
                yield _replace(p, pc, Instruction(code, 0, 0, 0))
    for pc, (code, jt, jf, k) in enumerate(p):
        for smaller in _smaller_constants(k):
            yield _replace(p, pc, Instruction(code, jt, jf, smaller))
        if code & 0x07 != isa.JMP and (jt or jf):
            yield _replace(p, pc, Instruction(code, 0, 0, k))


def _replace(p: Program, pc: int, insn: Instruction) -> Program:
    return Program(list(p[:pc]) + [insn] + list(p[pc + 1:]))


def _smaller_constants(k: int) -> List[int]:
    if k == 0:
        return []
    out = [0, 1, 2, 32, 0xFF] + [k >> s for s in (1, 4, 8, 16)] + [k - 1]
    if k >= isa.SKF_NET_OFF:            # keep a negative offset negative, smaller
        out = [isa.SKF_AD_OFF + (k - isa.SKF_AD_OFF) // 2, isa.SKF_NET_OFF, isa.SKF_LL_OFF] + out
    return sorted({v for v in out if 0 <= v < k}, key=lambda v: (v.bit_length(), v))


# --- inputs ----------------------------------------------------------------------------
def _input_candidates(i: Input) -> Iterator[Input]:
    if i.is_seccomp:
        yield from _seccomp_candidates(i)
        return
    data = i.value
    if i.context is not None and i.context.len is not None:
        yield Input(data, _without_len(i.context))
    n = len(data)
    for size in sorted({0, n // 2, n - 1, *(range(n - 1, max(-1, n - 9), -1))} - {n}):
        if 0 <= size < n:
            yield Input(data[:size], _keep_wire(i.context, size))
    chunk = max(1, n // 2)
    while chunk >= 1:
        for start in range(0, n, chunk):
            piece = data[start:start + chunk]
            if any(piece):
                yield Input(data[:start] + bytes(len(piece)) + data[start + chunk:], i.context)
        chunk //= 2
    for pos, b in enumerate(data):
        if b not in (0, 1):
            yield Input(data[:pos] + bytes([1 if b & 1 else 0]) + data[pos + 1:], i.context)


def _without_len(ctx: Context) -> Optional[Context]:
    ctx = ctx.replace(len=None)
    return None if ctx == Context() else ctx


def _keep_wire(ctx: Optional[Context], size: int) -> Optional[Context]:
    # a wire length shorter than the packet makes no sense: clamp it
    if ctx is not None and ctx.len is not None and ctx.len < size:
        return ctx.replace(len=size)
    return ctx


def _seccomp_candidates(i: Input) -> Iterator[Input]:
    s: SeccompData = i.value
    for n in range(6):
        if s.args[n]:
            args = list(s.args)
            args[n] = 0
            yield Input(SeccompData(s.nr, s.arch, s.instruction_pointer, tuple(args)), i.context)
    if s.instruction_pointer:
        yield Input(SeccompData(s.nr, s.arch, 0, s.args), i.context)
    for nr in (0, s.nr >> 1):
        if nr < s.nr:
            yield Input(SeccompData(nr, s.arch, s.instruction_pointer, s.args), i.context)
    for arch in (0, 0xC000003E):
        if arch < s.arch:
            yield Input(SeccompData(s.nr, arch, s.instruction_pointer, s.args), i.context)
