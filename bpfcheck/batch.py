"""Batch evaluation: one program over many packets at once.

    verdicts = run_batch(program, packets)                    # socket, Context()
    verdicts = run_batch(program, packets, contexts=ctx_list)  # a Context per packet
    packed = pack(packets)                                     # pack once ...
    a = run_batch(p1, packed); b = run_batch(p2, packed)       # ... reuse for many programs

The verdicts are those of the reference VM on every input (a ``uint32``
array).  The work is numpy's: the semantics table runs once per
instruction over all packets (:mod:`bpfcheck.fast.batch_executor`).
numpy is the optional extra ``fast``; without it :func:`run_batch` runs
the compiled path packet by packet and returns a list.
"""

from __future__ import annotations

from typing import Optional, Sequence, Union

from .context import Context
from .errors import UsageError
from .program import Program
from .validate import TARGETS, validate

try:
    import numpy as np
except ImportError:          # the compiled path still works
    np = None


def available() -> bool:
    """Whether the numpy batch path is installed (``pip install bpfcheck[fast]``)."""
    return np is not None


def pack(packets: Sequence, wirelens: Optional[Sequence[int]] = None, target: str = "socket",
         width: Optional[int] = None):
    """Pack inputs once for many :func:`run_batch` calls: packets (bytes)
    for ``socket``/``pcap`` (with their wire lengths, for ``pcap``),
    :class:`SeccompData` for ``seccomp``."""
    _need_numpy()
    from .fast.packed import CHUNK, DEFAULT_WIDTH, Packed, PackedSeccomp
    if target == "seccomp":
        packets = list(packets)
        return Packed([PackedSeccomp(packets[i:i + CHUNK]) for i in range(0, len(packets), CHUNK)])
    return Packed.of_packets(packets, wirelens, width or DEFAULT_WIDTH)


def _need_numpy() -> None:
    if np is None:
        raise UsageError("batch evaluation needs numpy: pip install 'bpfcheck[fast]'")


def has_backward_jump(program: Program, target: str) -> bool:
    """libpcap programs that jump back (``ip6 protochain``) run on the
    compiled path, which hands them to the reference VM."""
    from .fast.codegen import flow_facts
    return target == "pcap" and flow_facts(program.to_bytes(), target)[0].has_backward_jump


def context_source(contexts, n: int):
    """The per-lane metadata for ``contexts``: None, one :class:`Context`,
    a sequence of ``n`` of them, or a :class:`ContextSource` already."""
    from .fast.batch_env import ContextList, ContextSource, UniformContext
    if contexts is None:
        return UniformContext(Context())
    if isinstance(contexts, Context):
        return UniformContext(contexts)
    if isinstance(contexts, ContextSource):
        return contexts
    contexts = list(contexts)
    if len(contexts) != n:
        raise UsageError(f"contexts: {len(contexts)} given for {n} packets")
    return ContextList(contexts)


def evaluate(program: Program, target: str, packed, contexts=None) -> "np.ndarray":
    """Verdicts of a *valid* program on one packed chunk, no checks."""
    from .fast.batch_env import PcapBatchEnv, SeccompBatchEnv, SocketBatchEnv
    from .fast.batch_executor import execute
    if target == "seccomp":
        env = SeccompBatchEnv(packed)
    elif target == "pcap":
        if contexts is None:
            wirelen = packed.wirelen.astype(np.uint32)
        else:
            wirelen = context_source(contexts, packed.n).length(packed)
        env = PcapBatchEnv(packed, wirelen)
    else:
        env = SocketBatchEnv(packed, context_source(contexts, packed.n))
    return execute(program, target, env, packed.n)


def _whole(contexts) -> bool:
    """Whether ``contexts`` serves every packet as it is (not one per packet)."""
    from .fast.batch_env import ContextSource
    return contexts is None or isinstance(contexts, (Context, ContextSource))


def _slice_contexts(contexts, start: int, stop: int):
    return contexts if _whole(contexts) else contexts[start:stop]


def run_batch(program: Sequence, packets, contexts: Union[None, Context, Sequence[Context]] = None,
              target: str = "socket"):
    """The verdict of ``program`` for every input, as the reference VM gives it.

    ``packets``: a list of bytes (socket, pcap), of :class:`SeccompData`
    (seccomp), or what :func:`pack` made of them.  ``contexts``: None
    (``Context()`` for every packet), one :class:`Context` for all, or one
    per packet; for ``pcap`` only their ``len`` (the wire length) is read,
    and without them the packed wire lengths (or the packet lengths) are.
    Raises :class:`ValidationError` for a program the target refuses and
    :class:`ExecutionError` when some input makes libpcap abort or loop.
    """
    if target not in TARGETS:
        raise UsageError(f"unknown target {target!r} (expected one of {', '.join(TARGETS)})")
    program = Program(program)
    validate(program, target)
    if np is None or has_backward_jump(program, target):
        return _run_compiled(program, packets, contexts, target)
    from .fast.packed import Packed
    packed = packets if isinstance(packets, Packed) else pack(packets, target=target)
    n = len(packed)
    if not _whole(contexts):
        contexts = list(contexts)
        if len(contexts) != n:
            raise UsageError(f"contexts: {len(contexts)} given for {n} packets")
    out = np.empty(n, dtype=np.uint32)
    start = 0
    for chunk in packed.chunks:
        stop = start + len(chunk)
        out[start:stop] = evaluate(program, target, chunk, _slice_contexts(contexts, start, stop))
        start = stop
    return out


def _run_compiled(program: Program, packets, contexts, target: str):
    """Packet by packet on the compiled path (no numpy, or a libpcap
    program with backward jumps, which that path hands to the VM)."""
    from .fast.compiled import compile_program
    compiled = compile_program(program, target)
    inputs = _unpack(packets)
    if target == "pcap" and contexts is None and np is not None:
        from .fast.packed import Packed
        if isinstance(packets, Packed):
            contexts = [Context(len=w) for c in packets.chunks for w in c.wirelen.tolist()]
    if contexts is None or isinstance(contexts, Context):
        verdicts = [compiled.run(p, contexts) for p in inputs]
    else:
        contexts = list(contexts)
        if len(contexts) != len(inputs):
            raise UsageError(f"contexts: {len(contexts)} given for {len(inputs)} packets")
        verdicts = [compiled.run(p, c) for p, c in zip(inputs, contexts)]
    return verdicts if np is None else np.array(verdicts, dtype=np.uint32)


def _unpack(packets) -> list:
    """Inputs back out of a packed batch (for the per-packet path)."""
    if np is not None:
        from .fast.packed import Packed, PackedSeccomp
        if isinstance(packets, Packed):
            out = []
            for chunk in packets.chunks:
                if isinstance(chunk, PackedSeccomp):
                    from .context import SeccompData
                    out += [SeccompData.from_bytes(row.astype("<u4").tobytes()) for row in chunk.words]
                else:
                    out += chunk.packets
            return out
    return list(packets)
