"""Stream a capture through a filter: ``bpfcheck run FILE --pcap F``.

The capture is read in chunks and each chunk is evaluated at once on the
batch path (numpy): :func:`bpfcheck.pcapio.iter_chunks` reads a pcap file
into one reused buffer and the loads gather straight from it
(:class:`bpfcheck.fast.packed.BufferPackets`), with no Python object per
packet.  Without numpy (or for a libpcap program that jumps back) records
come as bytes (:func:`bpfcheck.pcapio.iter_batches`) and run packet by
packet on the compiled path.  Only one chunk is in memory at a time,
whatever the size of the file.  What comes back is a
running summary (counts, a histogram of verdicts, the first verdicts in
order) and, per chunk, a callback for whoever prints per-packet lines.

With ``write=`` the accepted packets are written to a pcap file, each cut
to ``min(captured length, verdict)`` bytes with its wire length and
timestamp kept: what a packet socket (``SO_ATTACH_FILTER``) or libpcap
(whose filter verdict is the snapshot length) would capture.
"""

from __future__ import annotations

import gc
from collections.abc import Sequence as SequenceABC
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Callable, Dict, List, Optional, Sequence

from .context import Context
from .errors import UsageError
from .program import Program
from .validate import validate

#: records per chunk: the unit of memory and of vectorised work
CHUNK = 1 << 16
#: verdicts kept in order for the caller (the JSON ``verdicts`` list)
MAX_LISTED = 10_000

_first, _second = itemgetter(0), itemgetter(1)
#: ``on_chunk(datas, wirelens, verdicts)``: sequences, valid during the call only
ChunkCallback = Callable[[Sequence[bytes], Sequence[int], Sequence[int]], None]


@dataclass
class CaptureSummary:
    packets: int = 0
    accepted: int = 0
    histogram: Dict[int, int] = field(default_factory=dict)
    verdicts: List[int] = field(default_factory=list)    # the first MAX_LISTED, in order
    written: int = 0

    def add(self, verdicts) -> None:
        """Count a chunk's verdicts (a numpy array or a list)."""
        self.packets += len(verdicts)
        room = MAX_LISTED - len(self.verdicts)
        if room > 0:
            self.verdicts.extend(int(v) for v in verdicts[:room])
        try:
            import numpy as np
        except ImportError:
            np = None
        if np is not None and isinstance(verdicts, np.ndarray):
            pairs = _tally(np, verdicts)
        else:
            tally: Dict[int, int] = {}
            for v in verdicts:
                tally[v] = tally.get(v, 0) + 1
            pairs = tally.items()
        for value, count in pairs:
            self.histogram[value] = self.histogram.get(value, 0) + count
            if value:
                self.accepted += count


def _tally(np, verdicts):
    """(value, count) pairs of a verdict array.  Filters return few
    distinct verdicts, so peel them off one by one (a pass each) rather
    than sort; fall back to sorting when there turn out to be many."""
    pairs = []
    rest = verdicts
    for _ in range(8):
        if rest.size == 0:
            return pairs
        value = rest[0]
        same = rest == value
        pairs.append((int(value), int(np.count_nonzero(same))))
        rest = rest[~same]
    values, counts = np.unique(rest, return_counts=True)
    return pairs + list(zip(values.tolist(), counts.tolist()))


class _Evaluator:
    """One chunk of records → verdicts, by the fastest path available."""

    def __init__(self, program: Program, target: str, base: Context):
        from . import batch
        self.program = program
        self.target = target
        self.base = base
        self.vectorised = batch.available() and not batch.has_backward_jump(program, target)
        if not self.vectorised:
            from .fast.compiled import compile_program
            self.compiled = compile_program(program, target)

    def __call__(self, linktype: int, datas: Sequence[bytes], wirelens: Sequence[int]):
        if self.target == "pcap":
            if self.vectorised:
                return self._batch(datas, wirelens, None)
            return [self.compiled.run(d, Context(len=w)) for d, w in zip(datas, wirelens)]
        from .capture import context_for_frame
        base = self.base

        def make(frame: bytes, wirelen: int) -> Context:
            return context_for_frame(frame, linktype, wirelen, base)

        if self.vectorised:
            return self._batch(datas, wirelens, make)
        return [self.compiled.run(d, make(d, w)) for d, w in zip(datas, wirelens)]

    def chunk(self, chunk):
        """Verdicts of a :class:`~bpfcheck.pcapio.RecordChunk` (the batch
        path), and the packed packets they were computed on."""
        from .batch import evaluate
        from .fast.packed import BufferPackets
        packed = BufferPackets(chunk.buffer, chunk.starts, chunk.caplens, chunk.wirelens,
                               chunk.linktype)
        if self.target == "pcap":
            return evaluate(self.program, "pcap", packed), packed
        from .capture import context_for_frame
        from .fast.batch_env import FrameContexts
        linktype, base = chunk.linktype, self.base

        def make(frame: bytes, wirelen: int) -> Context:
            return context_for_frame(frame, linktype, wirelen, base)

        return evaluate(self.program, self.target, packed, FrameContexts(packed, make, base)), packed

    def _batch(self, datas, wirelens, make):
        from .batch import evaluate
        from .fast.batch_env import FrameContexts
        from .fast.packed import PackedPackets
        packed = PackedPackets(datas, wirelens, trusted=True)
        contexts = None if make is None else FrameContexts(packed, make, self.base)
        return evaluate(self.program, self.target, packed, contexts)


def run_capture(program: Sequence, source, target: str = "socket", base: Context = Context(), *,
                chunk: int = CHUNK, on_chunk: Optional[ChunkCallback] = None,
                write: Optional[str] = None) -> CaptureSummary:
    """Run ``program`` over every record of the capture ``source`` (a path,
    ``"-"`` or a binary file object).  ``base`` is the socket metadata to
    start from (``--ctx``); each Ethernet or raw-IP record then gets what a
    packet socket would see.  ``on_chunk(datas, wirelens, verdicts)`` is
    called after each chunk; ``write`` names a pcap file for the accepted
    packets (written atomically)."""
    if target == "seccomp":
        raise UsageError("a capture holds packets: run it with --target socket or pcap")
    program = Program(program)
    validate(program, target)
    evaluate = _Evaluator(program, target, base)
    summary = CaptureSummary()
    # The reader makes a tuple per record and nothing here builds cycles:
    # the cyclic collector would only rescan those tuples, again and again.
    collecting = gc.isenabled()
    gc.disable()
    try:
        if write is None and evaluate.vectorised:
            from .pcapio import iter_chunks
            for records in iter_chunks(source, chunk):
                verdicts, packed = evaluate.chunk(records)
                summary.add(verdicts)
                if on_chunk is not None:
                    datas = _Packets(packed)
                    on_chunk(datas, records.wirelens, verdicts)
                    datas.packed = None     # the reader reuses the buffer
        elif write is None:
            from .pcapio import iter_batches
            for linktype, batch in iter_batches(source, chunk):
                datas = list(map(_first, batch))
                wirelens = list(map(_second, batch))
                verdicts = evaluate(linktype, datas, wirelens)
                summary.add(verdicts)
                if on_chunk is not None:
                    on_chunk(datas, wirelens, verdicts)
        else:
            _run_and_write(evaluate, source, chunk, on_chunk, write, target, summary)
    finally:
        if collecting:
            gc.enable()
    return summary


class _Packets(SequenceABC):
    """A chunk's packets as bytes for an ``on_chunk`` callback, made only
    if it looks at them, and only during the call."""

    def __init__(self, packed):
        self.packed = packed

    def _list(self) -> List[bytes]:
        if self.packed is None:
            raise RuntimeError("a chunk's packets are only readable during the on_chunk call")
        return self.packed.packets

    def __len__(self) -> int:
        return len(self._list())

    def __getitem__(self, index):
        return self._list()[index]


def kept_bytes(verdict: int, caplen: int) -> int:
    """How many captured bytes an accepted packet keeps."""
    return min(caplen, verdict)


def _chunks(reader, size: int):
    """Records in lists of ``size`` at most (and about MAX_BATCH_BYTES of
    data), never mixing link types."""
    from .pcapio import MAX_BATCH_BYTES
    chunk: list = []
    room = MAX_BATCH_BYTES
    for record in reader:
        if chunk and (len(chunk) >= size or room <= 0 or record.linktype != chunk[0].linktype):
            yield chunk
            chunk = []
            room = MAX_BATCH_BYTES
        chunk.append(record)
        room -= len(record.data)
    if chunk:
        yield chunk


def _run_and_write(evaluate, source, size, on_chunk, path, target, summary) -> None:
    """The same run through the record reader, which keeps timestamps."""
    from .pcapio import CaptureReader, PcapWriter, linktype_number
    with CaptureReader(source) as reader:
        fine = reader.format == "pcapng" or reader.nanosecond
        writer = None
        try:
            for records in _chunks(reader, size):
                linktype = records[0].linktype
                datas = [r.data for r in records]
                wirelens = [r.wirelen for r in records]
                verdicts = evaluate(linktype, datas, wirelens)
                summary.add(verdicts)
                if on_chunk is not None:
                    on_chunk(datas, wirelens, verdicts)
                for record, verdict in zip(records, verdicts if isinstance(verdicts, list)
                                           else verdicts.tolist()):
                    if not verdict:
                        continue
                    if writer is None:
                        writer = PcapWriter(path, linktype=linktype, nanosecond=fine, atomic=True)
                    elif linktype_number(linktype) != writer.linktype:
                        raise UsageError(f"--write: the capture mixes link types {writer.linktype} "
                                         f"and {linktype}; a pcap file holds one")
                    data = record.data[:kept_bytes(verdict, len(record.data))]
                    # (a damaged record may claim fewer bytes on the wire than it holds)
                    writer.write(data, max(record.wirelen, len(data)), record.timestamp)
                    summary.written += 1
            if writer is None:   # nothing accepted: still leave a valid, empty capture
                linktype = reader.linktype if reader.linktype is not None else 1
                writer = PcapWriter(path, linktype=linktype, nanosecond=fine, atomic=True)
        except BaseException:
            if writer is not None:
                writer.abort()
            raise
        writer.close()
