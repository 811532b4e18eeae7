"""Compiled filters: generated Python, cached by (program bytes, target).

:func:`compile_program` validates a program, asks :mod:`.codegen` for its
source, compiles it once and caches the result.  The object it returns
runs like :class:`bpfcheck.vm.Machine` (same inputs, same verdicts, same
errors) and exposes the generated function for hot loops.
"""

from __future__ import annotations

import functools
import linecache
import struct
from typing import Callable, Iterable, List, Optional, Sequence

from ..context import Context, SeccompData
from ..domains.concrete import netlink_attr_offset
from ..domains.pysource import socket_area
from ..errors import ExecutionError, UsageError
from ..program import Program
from ..validate import TARGETS, validate
from .codegen import generate

#: compiled programs kept (a fuzz campaign compiles many; each is small)
CACHE_SIZE = 1024
_SECCOMP_WORDS = struct.Struct("<16I").unpack
_DEFAULT_CONTEXT = Context()


def _abort(code: int, pc: int) -> ExecutionError:
    # The same words as the reference VM.
    return ExecutionError(f"libpcap's bpf_filter aborts the process on opcode {code:#06x}", pc)


def _namespace() -> dict:
    """What generated code may name: its helpers and ``len``, nothing else."""
    return {
        "__builtins__": {"len": len},
        "_u16": struct.Struct(">H").unpack_from,
        "_u32": struct.Struct(">I").unpack_from,
        "_nla": netlink_attr_offset,
        "_addr": socket_area,
        "_abort": _abort,
    }


def seccomp_words(data) -> tuple:
    """The 16 host-endian words a compiled seccomp filter reads."""
    if isinstance(data, (bytes, bytearray, memoryview)):
        data = SeccompData.from_bytes(bytes(data))
    if not isinstance(data, SeccompData):
        raise UsageError(f"a seccomp run needs SeccompData, not {type(data).__name__}")
    return _SECCOMP_WORDS(data.to_bytes())


class CompiledProgram:
    """A program compiled for one target.

    ``run(packet, ctx=None)`` behaves as ``Machine(program, target).run``.
    ``raw`` is the generated function itself, with the target's own
    signature and no argument checks: ``raw(packet_bytes, ctx)`` (socket,
    ``ctx`` a :class:`Context`, never None), ``raw(packet_bytes, wirelen)``
    (pcap), ``raw(words)`` (seccomp, see :func:`seccomp_words`).
    ``source`` is the generated Python, or None for a libpcap program with
    backward jumps, which runs on the reference VM.
    """

    def __init__(self, program: Program, target: str, source: Optional[str], raw: Callable):
        self.program = program
        self.target = target
        self.source = source
        self.raw = raw

    def run(self, packet=b"", ctx: Optional[Context] = None) -> int:
        target = self.target
        if target == "seccomp":
            return self.raw(seccomp_words(packet))
        if not isinstance(packet, (bytes, bytearray, memoryview)):
            raise UsageError(f"a {target} run needs the packet as bytes, not {type(packet).__name__}")
        packet = bytes(packet)
        if target == "pcap":
            return self.raw(packet, len(packet) if ctx is None or ctx.len is None else ctx.len)
        return self.raw(packet, _DEFAULT_CONTEXT if ctx is None else ctx)

    __call__ = run

    def run_many(self, packets: Iterable, ctx: Optional[Context] = None) -> List[int]:
        return [self.run(p, ctx) for p in packets]

    def __repr__(self) -> str:
        how = "VM fallback" if self.source is None else "compiled"
        return f"<CompiledProgram {len(self.program)} instructions, {self.target}, {how}>"


def _load(source: str, label: str) -> Callable:
    filename = f"<bpfcheck-generated {label}>"
    # Tracebacks through generated code show its lines.
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace = _namespace()
    code = compile(source, filename, "exec")
    exec(code, namespace)  # generated-code: straight-line Python built by codegen from integers and fixed templates only
    return namespace["_entry"]


def _vm_fallback(program: Program, target: str) -> Callable:
    """libpcap programs with backward jumps run on the reference VM (its
    step limit turns libpcap's endless loops into ExecutionError)."""
    from ..vm import Machine
    machine = Machine(program, target)

    def run_on_vm(packet, wirelen):
        return machine.run(packet, Context(len=wirelen))
    return run_on_vm


@functools.lru_cache(maxsize=CACHE_SIZE)
def _compile_cached(data: bytes, target: str) -> CompiledProgram:
    program = Program.from_bytes(data)
    validate(program, target)
    source = generate(program, target)
    if source is None:
        return CompiledProgram(program, target, None, _vm_fallback(program, target))
    label = f"{target} {len(program)} insns {hash(data) & 0xFFFFFFFF:08x}"
    return CompiledProgram(program, target, source, _load(source, label))


def compile_program(program: Sequence, target: str = "socket") -> CompiledProgram:
    """The compiled form of ``program`` for ``target``, cached by its bytes.

    Raises :class:`~bpfcheck.errors.ValidationError` when the target would
    refuse the program, as :class:`~bpfcheck.vm.Machine` does.
    """
    if target not in TARGETS:
        raise UsageError(f"unknown target {target!r} (expected one of {', '.join(TARGETS)})")
    return _compile_cached(Program(program).to_bytes(), target)


def run_compiled(program: Sequence, packet=b"", ctx: Optional[Context] = None,
                 target: str = "socket") -> int:
    """:func:`bpfcheck.run` through the compiled path."""
    return compile_program(program, target).run(packet, ctx)
