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

import time
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


def _run(machine: Machine, packet: bytes, ctx: Optional[Context]):
    """A trace, plus every constant comparison on a freshly loaded field."""
    record = _Recording()
    if machine.target == "pcap":
        wire = len(packet) if ctx is None or ctx.len is None else max(ctx.len, len(packet))
        env = _RecordingPcapInput(packet, wire, record)
    else:
        env = _RecordingSocketInput(packet, ctx or Context(), record)
    branches: List[Branch] = []
    origin = [None]

    def observe(pc, insn, effect, a):
        code, jt, jf, k = insn
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
    return trace, branches


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


def explore(machine: Machine, seeds: List[Input], wanted: Set[int], budget: float = 5.0,
            ) -> Dict[int, Input]:
    """Instructions in ``wanted`` reached by flipping fields of ``seeds``,
    each with an input that reaches it (for packet targets only)."""
    found: Dict[int, Input] = {}
    if machine.target == "seccomp" or not wanted:
        return found
    deadline = time.monotonic() + budget
    queue = list(seeds)
    seen_inputs = set()
    while queue and time.monotonic() < deadline and wanted - set(found):
        packet, ctx = queue.pop()
        try:
            trace, branches = _run(machine, packet, ctx)
        except ExecutionError:
            continue
        for pc in trace.path:
            if pc in wanted and pc not in found:
                found[pc] = (packet, ctx)
        for branch in branches:
            if branch.other not in wanted or branch.other in found:
                continue
            for value in _flips(branch):
                candidate = _mutate(packet, branch.origin, value)
                if candidate is None or (candidate, ctx) in seen_inputs:
                    continue
                seen_inputs.add((candidate, ctx))
                queue.append((candidate, ctx))
            if time.monotonic() > deadline:
                break
    return found


def fire_loads_out_of_bounds(machine: Machine, reaching: Dict[int, Input], wanted, budget: float = 5.0,
                             ) -> Dict[tuple, Input]:
    """``("guard", pc, rule)`` keys of out-of-bounds loads shown to fire by
    cutting an input that reaches ``pc`` just short of the bytes it loads."""
    from ..semantics import RULE_OUT_OF_BOUNDS
    found: Dict[tuple, Input] = {}
    if machine.target == "seccomp":
        return found
    deadline = time.monotonic() + budget
    for key in wanted:
        _, pc, rule = key
        if rule != RULE_OUT_OF_BOUNDS or pc not in reaching or time.monotonic() > deadline:
            continue
        packet, ctx = reaching[pc]
        position = _load_position(machine, packet, ctx, pc)
        if position is None or position[0] + position[1] - 1 > len(packet) or position[0] < 0:
            continue
        cut = packet[:position[0] + position[1] - 1]
        try:
            trace = machine.trace(cut, ctx) if ctx is not None else machine.trace(cut)
        except ExecutionError:
            continue
        if trace.rule == rule and trace.rule_pc == pc:
            found[key] = (cut, ctx)
    return found


def _load_position(machine: Machine, packet: bytes, ctx: Optional[Context], pc: int):
    """Where the load at ``pc`` reads, on this input."""
    record = _Recording()
    if machine.target == "pcap":
        wire = len(packet) if ctx is None or ctx.len is None else max(ctx.len, len(packet))
        env = _RecordingPcapInput(packet, wire, record)
    else:
        env = _RecordingSocketInput(packet, ctx or Context(), record)
    seen = [None]

    def observe(at, insn, effect, a):
        if at == pc:
            seen[0] = record.last
        record.last = None

    try:
        machine.observe(env, observe)
    except ExecutionError:
        return None
    return seen[0]
