"""The reference VM: the semantics table driven with concrete integers.

It is deliberately plain — one loop, the table does the work — because it
is what every faster path and every proof is checked against.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple, Union

from . import isa
from .context import Context, SeccompData
from .domains.concrete import CONCRETE, PcapInput, SeccompInput, SocketInput
from .errors import ExecutionError, UsageError
from .program import Program
from .semantics import DIALECTS, TABLES
from .validate import TARGETS, validate

#: how many instructions a libpcap program with backward jumps may execute
#: before we give up (forward-only programs never need more than their length)
MAX_STEPS = 200_000


@dataclass(frozen=True)
class Trace:
    """One run: the verdict, the instructions executed in order, and the
    rule that ended the program early (``None`` when a ``ret`` did)."""

    verdict: int
    path: Tuple[int, ...]
    rule: Optional[str] = None
    rule_pc: Optional[int] = None


def make_input(target: str, packet, ctx: Optional[Context]):
    """The concrete environment for one run of ``target``."""
    if target == "seccomp":
        if isinstance(packet, (bytes, bytearray, memoryview)):
            packet = SeccompData.from_bytes(bytes(packet))
        if not isinstance(packet, SeccompData):
            raise UsageError(f"a seccomp run needs SeccompData, not {type(packet).__name__}")
        return SeccompInput(packet)
    if not isinstance(packet, (bytes, bytearray, memoryview)):
        raise UsageError(f"a {target} run needs the packet as bytes, not {type(packet).__name__}")
    packet = bytes(packet)
    ctx = Context() if ctx is None else ctx
    if target == "pcap":
        return PcapInput(packet, len(packet) if ctx.len is None else ctx.len)
    return SocketInput(packet, ctx)


class Machine:
    """A program checked once for a target, ready to run many inputs."""

    def __init__(self, program: Sequence, target: str = "socket", *, max_laps: Optional[int] = None):
        """``max_laps``: backward jumps (libpcap loops) a run may take
        before it counts as never finishing (None: :data:`MAX_STEPS`)."""
        if target not in TARGETS:
            raise UsageError(f"unknown target {target!r} (expected one of {', '.join(TARGETS)})")
        self.program = Program(program)
        self.target = target
        self.max_laps = max_laps
        validate(self.program, target)
        table = TABLES[target]
        self._handlers = [table.get(insn[0]) for insn in self.program]
        self._insns = tuple(self.program)     # a plain tuple: Program's indexing is a Python call
        self._signed_ja = DIALECTS[target].signed_ja

    def run(self, packet=b"", ctx: Optional[Context] = None) -> int:
        return self._execute(make_input(self.target, packet, ctx), None).verdict

    def trace(self, packet=b"", ctx: Optional[Context] = None) -> Trace:
        return self._execute(make_input(self.target, packet, ctx), [])

    def observe(self, env, observer) -> Trace:
        """Run on a prepared environment, calling ``observer(pc, insn,
        effect, a)`` after each instruction's effect is known (``a`` is the
        accumulator before it) — for tools that watch a run unfold."""
        return self._execute(env, [], observer)

    def _execute(self, env, path: Optional[List[int]], observer=None) -> Trace:
        program, handlers, dom = self._insns, self._handlers, CONCRETE
        a = x = 0
        mem = [0] * isa.MEMWORDS   # libpcap zeroes it; the kernel proves it is never read unwritten
        pc = 0
        steps = 0
        limit = MAX_STEPS if self.max_laps is None else self.max_laps
        while True:
            handler = handlers[pc]
            if path is not None:
                path.append(pc)
            if handler is None:
                # Only libpcap gets here: bpf_validate let the opcode through.
                raise ExecutionError(
                    f"libpcap's bpf_filter aborts the process on opcode {program[pc][0]:#06x}", pc)
            insn = program[pc]
            effect = handler(insn, a, x, mem, dom, env)
            if observer is not None:
                observer(pc, insn, effect, a)
            for cond, value, rule in effect.guards:
                if cond:
                    return Trace(value, tuple(path or ()), rule, pc)
            if effect.a is not None:
                a = effect.a
            if effect.x is not None:
                x = effect.x
            if effect.store is not None:
                mem[effect.store[0]] = effect.store[1]
            flow = effect.flow
            if flow is None:
                pc += 1
            elif flow[0] == "jump":
                pc += 1 + (flow[2] if flow[1] else flow[3])
            elif flow[0] == "goto":
                pc += 1 + flow[1]
                steps += 1
                if flow[1] < 0 and steps > limit:
                    raise ExecutionError(
                        f"libpcap's bpf_filter would not finish: more than {limit} "
                        f"backward jumps", pc)
            else:
                return Trace(flow[1], tuple(path or ()))


def run(program: Sequence, packet: Union[bytes, SeccompData] = b"", ctx: Optional[Context] = None,
        target: str = "socket") -> int:
    """The verdict ``program`` returns for one input, as ``target`` runs it.

    Raises :class:`~bpfcheck.errors.ValidationError` when the target would
    refuse the program.  For seccomp, ``packet`` is a
    :class:`~bpfcheck.context.SeccompData` (or its 64 bytes).
    """
    return Machine(program, target).run(packet, ctx)


def trace(program: Sequence, packet=b"", ctx: Optional[Context] = None, target: str = "socket") -> Trace:
    return Machine(program, target).trace(packet, ctx)


def delivered(verdict: int, packet_len: int) -> Optional[int]:
    """What a socket receives: None when dropped, else the trimmed length."""
    return None if verdict == 0 else min(packet_len, verdict)
