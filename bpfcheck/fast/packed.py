"""Packets packed once for batch evaluation, reusable across programs.

:class:`PackedPackets` holds the first ``width`` bytes of each of up to a
chunk of packets, zero-padded, as a padded 2-D matrix stored *by columns*
in blocks of 8 bytes: ``blocks[j, lane]`` is bytes ``8j .. 8j+7`` of packet
``lane``, as one uint64.  A load at a fixed offset (``ldh [12]``) then
reads one short stride through a block that stays in cache, instead of
touching one cache line per packet across the whole matrix (which made a
row-major matrix memory-bound); a load at a per-packet offset
(``ldh [x + 14]``) reads neighbouring cells for packets with the same
offset.  The lengths ride along as vectors.  A load past ``width`` (long
IPv6 chains, payload matches) gathers from one flat copy of all the bytes,
built the first time it is needed; capping the width keeps memory at
``width`` bytes per packet whatever their size.

:class:`Packed` is a whole input set as a list of such chunks, packed once
and then run by as many programs as you like.  :class:`PackedSeccomp` is
the same for ``struct seccomp_data``: 16 host-endian words per input.
"""

from __future__ import annotations

from typing import List, Optional, Sequence

import numpy as np

#: bytes per packet in the matrix (a multiple of 8): Ethernet + VLAN tag +
#: IPv4 with the longest options + ports (82), or + IPv6 + ports, fit
DEFAULT_WIDTH = 96
#: at most this share of a chunk's packets read past the matrix one by one;
#: more, and one flat copy of the chunk's bytes serves them
FEW_FAR = 1 / 64
#: packets per chunk: large enough to spread the per-instruction Python
#: cost, small enough that a block (8 bytes x chunk) stays in cache
CHUNK = 1 << 16
U32 = np.uint32
_BIG_ENDIAN = {1: np.dtype(np.uint8), 2: np.dtype(">u2"), 4: np.dtype(">u4")}


class PackedPackets:
    """Up to a chunk of packets: a column-blocked matrix plus length vectors.

    ``caplen`` (the bytes present) bounds every load; ``wirelen`` is the
    length on the wire (libpcap's ``len``).  ``packets`` keeps the bytes
    themselves (loads past the matrix, per-packet fallbacks).
    """

    def __init__(self, packets: Sequence[bytes], wirelens: Optional[Sequence[int]] = None,
                 width: int = DEFAULT_WIDTH, linktype: Optional[int] = None, trusted: bool = False):
        # ``trusted``: the caller guarantees a list of bytes (a capture
        # reader's records), which spares a pass over them.
        if not trusted and (not isinstance(packets, (list, tuple))
                            or set(map(type, packets)) - {bytes}):
            packets = [bytes(p) for p in packets]
        n = len(packets)
        self.packets = packets
        self.n = n
        self.linktype = linktype
        self.caplen = np.fromiter(map(len, packets), dtype=np.int64, count=n)
        self.wirelen = self.caplen if wirelens is None else \
            np.fromiter(wirelens, dtype=np.int64, count=n)
        width = max(8, -(-int(width) // 8) * 8)
        if n and int(self.caplen.max()) < width:
            width = max(8, -(-int(self.caplen.max()) // 8) * 8)
        self.width = width
        # numpy's fixed-width bytes type pads short packets with zeros and
        # cuts long ones, in C; viewing each row as width/8 uint64 and
        # transposing those is cheap (a uint8 transpose is not).
        rows = np.array(packets, dtype=f"S{width}").view(np.uint64).reshape(n, width // 8)
        self.blocks = np.ascontiguousarray(rows.T)
        self._cells = self.blocks.view(np.uint8).reshape(-1)
        self._lane8 = None
        self._flat = None

    def __len__(self) -> int:
        return self.n

    # -- reading --------------------------------------------------------------------
    def column(self, k: int, nbytes: int, lanes: Optional[np.ndarray] = None) -> np.ndarray:
        """Big-endian ``nbytes`` at the same position ``k`` in every packet
        (garbage in packets too short for it: the caller's guard covers them).

        ``lanes`` (sorted indices) restricts the reading to those packets,
        the others get 0: worth it when few packets reach the load."""
        if lanes is not None or k + nbytes > self.width or self.n == 0:
            count = self.n if lanes is None else len(lanes)
            return self.gather(np.full(count, k, dtype=np.int64), nbytes, lanes)
        block, byte = divmod(k, 8)
        if byte + nbytes <= 8:
            # One strided pass over block ``block``: numpy reads the
            # unaligned big-endian items itself.
            view = np.ndarray(buffer=self.blocks, dtype=_BIG_ENDIAN[nbytes], shape=(self.n,),
                              strides=(8,), offset=(block * self.n) * 8 + byte)
            return view.astype(U32)
        value = self.column(k, 1)
        for i in range(1, nbytes):
            value <<= U32(8)
            value |= self.column(k + i, 1)
        return value

    def gather(self, pos: np.ndarray, nbytes: int, lanes: Optional[np.ndarray] = None) -> np.ndarray:
        """Big-endian ``nbytes`` at a position per packet (int64 ``pos``,
        one per lane of ``lanes`` when given, the other packets get 0);
        packets that do not hold all the bytes get garbage."""
        if lanes is None:
            if self._lane8 is None:
                self._lane8 = np.arange(self.n, dtype=np.int64) * 8
            return self._read(self._lane8, None, pos, nbytes)
        out = np.zeros(self.n, dtype=U32)
        out[lanes] = self._read(lanes * 8, lanes, pos, nbytes)
        return out

    def _read(self, lane8: np.ndarray, lanes, pos: np.ndarray, nbytes: int) -> np.ndarray:
        w = self.width
        if len(pos) == 0:
            return np.zeros(0, dtype=U32)
        lo, hi = int(pos.min()), int(pos.max())
        near = pos if 0 <= lo and hi <= w - nbytes else np.clip(pos, 0, w - nbytes)
        cells, stride = self._cells, self.n * 8
        value = None
        for i in range(nbytes):
            at = near + i if i else near
            index = (at >> 3) * stride + lane8 + (at & 7)
            byte = cells[index]
            if value is None:
                value = byte.astype(U32)
            else:
                value <<= U32(8)
                value |= byte
        if hi + nbytes <= w:
            return value
        # Bytes past the matrix: from the flat copy of every packet.
        rows = np.arange(self.n) if lanes is None else lanes
        far = (pos + nbytes > w) & (pos + nbytes <= self.caplen[rows]) & (pos >= 0)
        which = np.flatnonzero(far)
        if len(which) == 0:
            return value
        if len(which) <= FEW_FAR * self.n:
            packets = self.packets
            value[which] = [int.from_bytes(packets[r][q:q + nbytes], "big")
                            for r, q in zip(rows[which].tolist(), pos[which].tolist())]
            return value
        flat, starts = self._flat_bytes()
        where = starts[rows[which]] + pos[which]
        got = flat[where].astype(U32)
        for i in range(1, nbytes):
            got = (got << U32(8)) | flat[where + i]
        value[which] = got
        return value

    def short(self, need) -> np.ndarray:
        """Packets whose captured length is below ``need`` (an int or array)."""
        return self.caplen < need

    def _flat_bytes(self):
        if self._flat is None:
            flat = np.frombuffer(b"".join(self.packets), dtype=np.uint8)
            starts = np.cumsum(self.caplen) - self.caplen
            self._flat = (flat, starts)
        return self._flat


class BufferPackets:
    """Up to a chunk of packets lying in one buffer (a capture reader's,
    :class:`bpfcheck.pcapio.RecordChunk`): read in place, nothing copied.

    The same interface as :class:`PackedPackets` (``n``, ``caplen``,
    ``wirelen``, ``column``, ``gather``, ``short``, ``packets``); every
    load is one gather from the buffer.  A load a packet does not hold
    reads other bytes of the buffer (the caller's guard covers it):
    positions are clamped to the packet's end, and the buffer has a few
    spare bytes after its last packet.  ``packets`` (bytes objects) is
    made only when asked for, for loads the table cannot vectorise.
    """

    def __init__(self, buffer: np.ndarray, starts: np.ndarray, caplens: np.ndarray,
                 wirelens: np.ndarray, linktype: Optional[int] = None):
        self.buffer = buffer
        self.starts = starts
        self.caplen = caplens
        self.wirelen = wirelens
        self.n = len(starts)
        self.linktype = linktype
        self.shortest = int(caplens.min()) if self.n else 0
        self._views = {}
        self._packets: Optional[List[bytes]] = None

    def __len__(self) -> int:
        return self.n

    @property
    def packets(self) -> List[bytes]:
        if self._packets is None:
            raw = memoryview(self.buffer).cast("B")
            self._packets = [raw[s:s + c].tobytes()
                             for s, c in zip(self.starts.tolist(), self.caplen.tolist())]
        return self._packets

    def _view(self, nbytes: int) -> np.ndarray:
        """The big-endian ``nbytes`` starting at every byte of the buffer."""
        view = self._views.get(nbytes)
        if view is None:
            view = self._views[nbytes] = np.ndarray(
                buffer=self.buffer, dtype=_BIG_ENDIAN[nbytes],
                shape=(len(self.buffer) - nbytes + 1,), strides=(1,))
        return view

    def column(self, k: int, nbytes: int, lanes: Optional[np.ndarray] = None) -> np.ndarray:
        """Big-endian ``nbytes`` at position ``k`` of every packet (of
        ``lanes`` when given, the others get 0)."""
        starts = self.starts if lanes is None else self.starts[lanes]
        if k + nbytes <= self.shortest:
            at = starts + k
        else:
            caps = self.caplen if lanes is None else self.caplen[lanes]
            at = np.minimum(caps, k)
            at += starts
        return self._spread(self._view(nbytes)[at].astype(U32), lanes)

    def gather(self, pos: np.ndarray, nbytes: int, lanes: Optional[np.ndarray] = None) -> np.ndarray:
        """Big-endian ``nbytes`` at a position per packet (int64 ``pos``, one
        per lane of ``lanes`` when given, the other packets get 0)."""
        if len(pos) == 0:
            return self._spread(np.zeros(0, dtype=U32), lanes)
        starts = self.starts if lanes is None else self.starts[lanes]
        if int(pos.min()) >= 0 and int(pos.max()) + nbytes <= self.shortest:
            at = pos + starts
        else:
            caps = self.caplen if lanes is None else self.caplen[lanes]
            at = np.clip(pos, 0, caps)
            at += starts
        return self._spread(self._view(nbytes)[at].astype(U32), lanes)

    def _spread(self, values: np.ndarray, lanes) -> np.ndarray:
        if lanes is None:
            return values
        out = np.zeros(self.n, dtype=U32)
        out[lanes] = values
        return out

    def short(self, need) -> np.ndarray:
        """Packets whose captured length is below ``need`` (an int or array)."""
        return self.caplen < need


class Packed:
    """A whole input set packed once: a list of :class:`PackedPackets`
    (or :class:`PackedSeccomp`) chunks, reusable by any number of programs."""

    def __init__(self, chunks: List):
        self.chunks = list(chunks)
        self.n = sum(len(c) for c in self.chunks)

    def __len__(self) -> int:
        return self.n

    @classmethod
    def of_packets(cls, packets: Sequence[bytes], wirelens: Optional[Sequence[int]] = None,
                   width: int = DEFAULT_WIDTH, chunk: int = CHUNK) -> "Packed":
        packets = list(packets)
        wirelens = None if wirelens is None else list(wirelens)
        if wirelens is not None and len(wirelens) != len(packets):
            raise ValueError(f"{len(wirelens)} wire lengths for {len(packets)} packets")
        return cls([PackedPackets(packets[i:i + chunk],
                                  None if wirelens is None else wirelens[i:i + chunk], width)
                    for i in range(0, len(packets), chunk)])


class PackedSeccomp:
    """``n`` seccomp inputs as a ``(n, 16)`` matrix of host-endian words."""

    def __init__(self, inputs: Sequence):
        from ..context import SeccompData
        from ..errors import UsageError
        raw = []
        for item in inputs:
            if isinstance(item, (bytes, bytearray, memoryview)):
                item = SeccompData.from_bytes(bytes(item))
            if not isinstance(item, SeccompData):
                raise UsageError(f"a seccomp run needs SeccompData, not {type(item).__name__}")
            raw.append(item.to_bytes())
        self.n = len(raw)
        self.words = np.frombuffer(b"".join(raw), dtype="<u4").reshape(self.n, 16).astype(U32)

    def __len__(self) -> int:
        return self.n

    def word(self, k: int) -> np.ndarray:
        return np.ascontiguousarray(self.words[:, k // 4])
