"""Cheap concrete exploration: reach new instructions without the solver.

Most branches in real filters compare a field just loaded from the packet
with a constant (``ldh [12]; jeq #0x800``).  Given an input that reaches
such a branch, writing the constant (or a neighbour of it) into the bytes
the field came from usually sends the run the other way.  Each attempt is
one reference-VM run, about a thousand times cheaper than a solver
question on a large program, and every instruction it reaches is reached
for real — so the solver is left with what this cannot find, and with
proving the rest dead.
"""

from __future__ import annotations

import random
import time
from collections import deque
from typing import Dict, List, Optional, Set, Tuple

from .. import isa
from ..context import Context
from ..domains.concrete import PcapInput, SocketInput, socket_address
from ..errors import ExecutionError
from ..isa import JEQ, JGE, JGT, JSET
from ..vm import Machine

Input = Tuple[bytes, Optional[Context]]


class _Recording:
    """Remembers where the last packet load read from (absolute position, size)."""

    def __init__(self):
        self.last = None


class _RecordingSocketInput(SocketInput):
    __slots__ = ("record",)

    def __init__(self, packet, ctx, record):
        super().__init__(packet, ctx)
        self.record = record

    def _load(self, offset, nbytes):
        pos, why = socket_address(offset, self.ctx)
        self.record.last = (pos, nbytes) if why is None else None
        return super()._load(offset, nbytes)


class _RecordingPcapInput(PcapInput):
    __slots__ = ("record",)

    def __init__(self, packet, wirelen, record):
        super().__init__(packet, wirelen)
        self.record = record

    def _load(self, pos, nbytes):
        self.record.last = (pos, nbytes)
        return super()._load(pos, nbytes)


class Branch:
    __slots__ = ("pc", "op", "k", "origin", "value", "taken", "other")

    def __init__(self, pc, op, k, origin, value, taken, other):
        self.pc, self.op, self.k, self.origin = pc, op, k, origin
        self.value, self.taken, self.other = value, taken, other


def known_input(target: str, packet: bytes, ctx: Optional[Context], record: Optional[_Recording] = None):
    """The reference VM's input for a candidate ``(packet, ctx)``; with
    ``record``, one that notes where each packet load reads.  For ``pcap``
    the wire length is never shorter than what was captured (a candidate
    may have grown past a ``len`` it kept)."""
    if target == "pcap":
        wire = len(packet) if ctx is None or ctx.len is None else max(ctx.len, len(packet))
        return PcapInput(packet, wire) if record is None else _RecordingPcapInput(packet, wire, record)
    ctx = ctx or Context()
    return SocketInput(packet, ctx) if record is None else _RecordingSocketInput(packet, ctx, record)


def _run(machine: Machine, packet: bytes, ctx: Optional[Context]):
    """A trace, plus every constant comparison on a freshly loaded field."""
    record = _Recording()
    env = known_input(machine.target, packet, ctx, record)
    branches: List[Branch] = []
    origin = [None]
    reads = set()

    def observe(pc, insn, effect, a):
        code, jt, jf, k = insn
        if record.last is not None:
            reads.add(record.last)
        if effect.a is not None:
            # A holds a raw field only right after a packet load into A.
            loaded = (code & 0x07 == isa.LD and code & 0xE0 in (isa.ABS, isa.IND)
                      and isa.extension_of(k) is None)
            origin[0] = record.last if loaded else None
        record.last = None
        flow = effect.flow
        if flow is not None and flow[0] == "jump" and not code & isa.X and jt != jf and origin[0]:
            taken = bool(flow[1])
            other = pc + 1 + (jf if taken else jt)
            branches.append(Branch(pc, code & 0xF0, k, origin[0], a, taken, other))

    trace = machine.observe(env, observe)
    return trace, branches, reads


def _flips(branch: Branch) -> List[int]:
    """Field values that send ``branch`` the other way."""
    op, k, a, taken = branch.op, branch.k, branch.value, branch.taken
    if op == JEQ:
        return [k ^ 1] if taken else [k]
    if op == JGT:
        return [k] if taken else [k + 1]
    if op == JGE:
        return [k - 1] if taken else [k]
    if op == JSET:
        return [a & ~k] if taken else [a | k, k]
    return []


def _mutate(packet: bytes, origin, value: int) -> Optional[bytes]:
    pos, size = origin
    if value < 0 or value >> (8 * size):
        return None       # the field cannot hold it
    data = bytearray(packet)
    if pos + size > len(data):
        data.extend(bytes(pos + size - len(data)))
    data[pos:pos + size] = value.to_bytes(size, "big")
    return bytes(data)


#: candidates tried per wanted instruction before exploration leaves it to the solver
ATTEMPTS_PER_TARGET = 3
#: random mutations in a row without a find before exploration gives up
RANDOM_TRIES = 64


def explore(machine: Machine, seeds: List[Input], wanted: Set[int], budget: float = 5.0,
            stall: Optional[float] = None, keep_length: bool = False) -> Dict[int, Input]:
    """Instructions in ``wanted`` reached by flipping fields of ``seeds``,
    each with an input that reaches it (for packet targets only).

    Every candidate input is made for one wanted instruction (the far side
    of a branch some run took); a target has at most one candidate waiting
    at a time, and candidates whose target another run has reached in the
    meantime are dropped unrun.  So a program whose branches mostly lead
    to a few shared places (the ``ret``s of a long host filter) costs a
    run per place, not a run per branch.  Exploration stops after
    ``budget`` seconds, or after ``stall`` seconds without a new find.
    ``keep_length`` never grows a packet (when its length is pinned)."""
    found: Dict[int, Input] = {}
    if machine.target == "seccomp" or not wanted:
        return found
    now = time.monotonic()
    deadline = now + budget
    stalled = now + stall if stall is not None else deadline
    queue = deque((packet, ctx, None) for packet, ctx in seeds)
    waiting: Set[int] = set()            # targets with a candidate in the queue
    attempts: Dict[int, int] = {}
    seen_inputs = set()
    pool: List[tuple] = []               # (input, where its run read the packet), for random mutation
    rng = random.Random(len(wanted))
    fruitless = 0                        # random mutations in a row that found nothing
    while len(found) < len(wanted):
        now = time.monotonic()
        if now > deadline or now > stalled:
            break
        if not queue:
            # No branch left to flip on a raw field (comparisons on computed
            # values): mutate bytes the runs read at random, while that
            # keeps finding instructions (``stall``).
            if stall is None or not pool or fruitless >= RANDOM_TRIES:
                break
            fruitless += 1
            queue.append(_random_mutation(rng, pool, keep_length) + (None,))
        packet, ctx, target = queue.popleft()
        if target is not None:
            waiting.discard(target)
            if target in found:
                continue
        try:
            trace, branches, reads = _run(machine, packet, ctx)
        except ExecutionError:
            continue
        new = False
        for pc in trace.path:
            if pc in wanted and pc not in found:
                found[pc] = (packet, ctx)
                new = True
                fruitless = 0
                if stall is not None:
                    stalled = min(deadline, time.monotonic() + stall)
        if (new or target is None and len(pool) < 4) and reads:
            pool.append(((packet, ctx), sorted(reads)))
        if new or target is None:
            # One candidate flipping every such branch at once (later flips
            # win where fields overlap): a chain of independent tests, each
            # leading somewhere new, is then covered by a single run.
            combined = packet
            flipped = 0
            for branch in branches:
                if branch.other in wanted and branch.other not in found:
                    values = _flips(branch)
                    candidate = _mutate(combined, branch.origin, values[0]) if values else None
                    if candidate is not None and not (keep_length and len(candidate) != len(packet)):
                        combined = candidate
                        flipped += 1
            if flipped > 1 and (combined, ctx) not in seen_inputs:
                seen_inputs.add((combined, ctx))
                queue.appendleft((combined, ctx, None))
        for branch in branches:
            other = branch.other
            if other not in wanted or other in found or other in waiting \
                    or attempts.get(other, 0) >= ATTEMPTS_PER_TARGET:
                continue
            for value in _flips(branch):
                candidate = _mutate(packet, branch.origin, value)
                if candidate is None or (keep_length and len(candidate) != len(packet)) \
                        or (candidate, ctx) in seen_inputs:
                    continue
                seen_inputs.add((candidate, ctx))
                queue.append((candidate, ctx, other))
                waiting.add(other)
                attempts[other] = attempts.get(other, 0) + 1
    return found


_NASTY = (0, 1, 0x7F, 0x80, 0xFF)


def _random_mutation(rng: random.Random, pool, keep_length: bool):
    """An input from ``pool`` with one to three of the fields its run read
    set to random or boundary values."""
    (packet, ctx), reads = pool[rng.randrange(len(pool))]
    data = bytearray(packet)
    for _ in range(rng.randint(1, 3)):
        pos, size = reads[rng.randrange(len(reads))]
        if pos < 0 or pos + size > (len(data) if keep_length else 1 << 16):
            continue
        if pos + size > len(data):
            data.extend(bytes(pos + size - len(data)))
        for i in range(pos, pos + size):
            data[i] = rng.choice(_NASTY) if rng.random() < 0.3 else rng.randrange(256)
    return bytes(data), ctx


def fire_loads_out_of_bounds(machine: Machine, reaching: Dict[int, Input], wanted, budget: float = 5.0,
                             ) -> Dict[tuple, Input]:
    """``("guard", pc, rule)`` keys of out-of-bounds loads shown to fire by
    cutting an input that reaches ``pc`` just short of the bytes it loads
    (each cut input is replayed: only a run that really ends there counts).
    Where each load reads is recorded once per input, for every load at once."""
    from ..semantics import RULE_OUT_OF_BOUNDS
    found: Dict[tuple, Input] = {}
    if machine.target == "seccomp":
        return found
    deadline = time.monotonic() + budget
    by_input: Dict[Input, List[tuple]] = {}
    for key in wanted:
        _, pc, rule = key
        if rule == RULE_OUT_OF_BOUNDS and pc in reaching:
            by_input.setdefault(reaching[pc], []).append(key)
    for (packet, ctx), keys in by_input.items():
        if time.monotonic() > deadline:
            break
        positions = _load_positions(machine, packet, ctx)
        for key in keys:
            _, pc, rule = key
            position = positions.get(pc)
            if position is None or position[0] + position[1] - 1 > len(packet) or position[0] < 0:
                continue
            cut = packet[:position[0] + position[1] - 1]
            try:
                trace = machine.trace(cut, ctx) if ctx is not None else machine.trace(cut)
            except ExecutionError:
                continue
            if trace.rule == rule and trace.rule_pc == pc:
                found[key] = (cut, ctx)
            if time.monotonic() > deadline:
                break
    return found


def _load_positions(machine: Machine, packet: bytes, ctx: Optional[Context]) -> Dict[int, tuple]:
    """Where each packet load of this run reads (first visit of each pc)."""
    record = _Recording()
    env = known_input(machine.target, packet, ctx, record)
    seen: Dict[int, tuple] = {}

    def observe(at, insn, effect, a):
        if record.last is not None:
            seen.setdefault(at, record.last)
        record.last = None

    try:
        machine.observe(env, observe)
    except ExecutionError:
        pass
    return seen
