"""Classic pcap files read a buffer at a time, for the numpy path.

:meth:`bpfcheck.pcapio.CaptureReader.chunks` comes here for pcap files.
Each buffer (one read of about 16 MiB) is walked for where its records
start -- by the C walk of :mod:`bpfcheck.fast.native` when it is built,
else in Python -- and handed out as :class:`~bpfcheck.pcapio.RecordChunk`
arrays over the buffer, nothing copied per packet.  A record cut by the
end of a buffer moves to the front of the next; every length is bounded by
``max_caplen`` before any byte of its record is waited for.

For a regular file there are two buffers: while the caller filters the
chunks of one, a second thread reads and walks the next (``readinto``
and the C walk run without the GIL), so reading costs little wall time.
A pipe is read in the caller's thread, one buffer, so an interrupt never
waits on a read that may block.
"""

from __future__ import annotations

import io
import struct
import sys
import threading
from array import array
from typing import Iterator, Optional, Tuple

from .pcapio import CaptureError, RecordChunk

_NATIVE = "<" if sys.byteorder == "little" else ">"
#: records found per call of the C walk (its arrays' length)
WALK_LIMIT = 1 << 16
#: bytes of the first read of a file read ahead
RAMP_START = 1 << 20


def pcap_chunks(reader, max_records: int, buffer_size: int) -> Iterator[RecordChunk]:
    import numpy as np
    win = reader._win
    maxcap = reader.max_caplen
    order = reader._order
    rest = win.buf[win.pos:]              # what the header read brought in already
    ahead = win.seek is not None          # a regular file bpfcheck opened
    # Reading ahead, the two buffers share the memory of one.
    size = max(buffer_size // 2 if ahead else buffer_size, 2 * (16 + maxcap), len(rest))
    buffers = [_Buffer(np, size, order) for _ in range(2 if ahead else 1)]
    current = buffers[0]
    current.array[:len(rest)] = np.frombuffer(rest, dtype=np.uint8)
    current.have = len(rest)
    del rest
    base = win.offset()                   # stream offset of current.array[0]
    win.buf, win.pos, win.base = b"", 0, base
    # Reading ahead, the first buffers are filled only part way, growing
    # (1 MiB, 2 MiB, ...): filtering starts after a short read, and each
    # read hides behind the filtering of the buffer before.
    fill = _Filler(reader._file, win, size, max(RAMP_START, 2 * (16 + maxcap)) if ahead else size)
    current.load(fill)
    pending: Optional[_Ahead] = None
    try:
        while True:
            have, eof = current.have, current.eof
            following = current
            found = current.found
            while True:
                starts, caplens, wirelens, end, complete = found
                if complete and ahead and not eof:
                    # This buffer's last records are known: the next one
                    # can start loading behind its tail while they are used.
                    following = buffers[1] if current is buffers[0] else buffers[0]
                    following.take_tail(current, end)
                    pending = _Ahead(following, fill)
                over = np.flatnonzero(caplens > maxcap)
                good = int(over[0]) if len(over) else len(starts)
                for i in range(0, good, max_records):
                    j = min(good, i + max_records)
                    first = reader.records + 1
                    reader.records += j - i
                    yield RecordChunk(reader.linktype, current.array, starts[i:j], caplens[i:j],
                                      wirelens[i:j], first)
                if len(over):
                    reader._caplen_error(reader.records + 1, base + int(starts[good]) - 16,
                                         int(caplens[good]))
                if complete:
                    break
                found = current.walk(end, have)   # the walk stopped at its limit: walk on
            tail_length = _length_at(current, end, have)
            if tail_length is not None and tail_length > maxcap:
                reader._caplen_error(reader.records + 1, base + end, tail_length)
            if eof:
                if have > end:
                    # The stream ends inside a record: the window says how,
                    # as the other readers do.
                    win.buf, win.pos, win.base, win.eof = current.array[end:have].tobytes(), 0, base + end, True
                    if tail_length is None:
                        reader._pcap_refill(0, 16, "header", reader.records + 1)
                    else:
                        reader._pcap_refill(0, 16 + tail_length, "data", reader.records + 1)
                return
            if pending is not None:
                pending, waited = None, pending
                waited.result()
            else:
                current.take_tail(current, end)
                current.load(fill)
            base += end
            current = following
    finally:
        if pending is not None:
            pending.wait()


def _length_at(buffer: "_Buffer", end: int, have: int) -> Optional[int]:
    """The captured length of the incomplete record at ``end``, if its
    header is whole."""
    return int(buffer.words[end + 8]) if have - end >= 16 else None


class _Buffer:
    """One reused buffer: the bytes, their numpy views, and what the last
    walk found (``found``: starts, caplens, wirelens, end, complete)."""

    def __init__(self, np, size: int, order: str):
        # Not a bytearray: that would zero megabytes up front, page by page.
        # The pages are touched first by the read that fills them.
        self.array = np.empty(size + 8, dtype=np.uint8)
        self.array[size:] = 0             # 8 spare bytes: loads just past a packet
        self.view = memoryview(self.array)
        self.words = np.ndarray(buffer=self.array, dtype=np.dtype(order + "u4"),
                                shape=(size + 5,), strides=(1,))
        self.walk = _native_walk(np, self.array, order) or _python_walk(np, self.array, self.words, order)
        self.have = 0
        self.eof = False
        self.found = None

    def take_tail(self, other: "_Buffer", end: int) -> None:
        """Start with ``other``'s bytes from ``end`` (an incomplete record)."""
        tail = other.array[end:other.have].copy()
        self.array[:len(tail)] = tail
        self.have = len(tail)

    def load(self, fill: "_Filler") -> None:
        self.have, self.eof = fill(self.view, self.have)
        self.found = self.walk(0, self.have)


class _Ahead:
    """A buffer loading on a second thread; ``result`` waits and raises
    what it raised."""

    def __init__(self, buffer: _Buffer, fill: "_Filler"):
        self.error: Optional[BaseException] = None
        self.thread = threading.Thread(target=self._load, args=(buffer, fill),
                                       name="bpfcheck-pcap-reader", daemon=True)
        self.thread.start()

    def _load(self, buffer: _Buffer, fill: "_Filler") -> None:
        try:
            buffer.load(fill)
        except BaseException as e:    # handed to the caller's thread by result()
            self.error = e

    def wait(self) -> None:
        self.thread.join()

    def result(self) -> None:
        self.wait()
        if self.error is not None:
            raise self.error


class _Filler:
    """Fills a buffer from the file (``readinto`` where the file has it,
    else through the window's ``read``), up to its size or the end of the
    stream: up to ``first`` bytes the first time, twice as many each time
    after, up to ``size``."""

    def __init__(self, f, win, size: int, first: int):
        # Only where readinto is known to work: other file objects may
        # inherit one that raises (io.RawIOBase's, for a class that
        # defines only read).
        known = isinstance(f, (io.FileIO, io.BufferedReader, io.BytesIO))
        self.readinto = f.readinto if known else None
        self.read = win.read
        self.size = size
        self.limit = min(size, first)
        self.eof = win.eof

    def __call__(self, view: memoryview, have: int) -> Tuple[int, bool]:
        """``(bytes now in view, whether the stream has ended)``."""
        size = max(self.limit, have)
        self.limit = min(self.size, 2 * self.limit)
        while have < size and not self.eof:
            try:
                if self.readinto is not None:
                    got = self.readinto(view[have:size])
                else:
                    data = self.read(size - have)
                    if data and not isinstance(data, (bytes, bytearray)):
                        raise CaptureError("the capture must be opened in binary mode")
                    got = len(data) if data else 0
                    if got > size - have:
                        raise CaptureError("the capture's file object returned more bytes than asked")
                    view[have:have + got] = data or b""
            except OSError as e:
                raise CaptureError(f"cannot read the capture: {e.strerror or e}") from None
            if not got:               # 0 at the end; None from a non-blocking stream
                self.eof = True
                break
            have += got
        return have, self.eof


# --- finding the records --------------------------------------------------------------
def _native_walk(np, buffer, order: str):
    """The C walk over ``buffer`` as ``walk(pos, have) -> (starts,
    caplens, wirelens, end, complete)``, or None when it is not built.
    The arrays are views of three arrays reused by every walk."""
    from .fast.native import walker
    native = walker()
    if native is None:
        return None
    import ctypes
    starts, caplens, wirelens = (np.empty(WALK_LIMIT, dtype=np.int64) for _ in range(3))
    end = ctypes.c_long(0)
    swap = int(order != _NATIVE)
    addresses = (starts.ctypes.data, caplens.ctypes.data, wirelens.ctypes.data)
    address = buffer.ctypes.data

    def walk(pos: int, have: int):
        count = native(address, pos, have, swap, WALK_LIMIT, *addresses, ctypes.byref(end))
        return starts[:count], caplens[:count], wirelens[:count], end.value, count < WALK_LIMIT
    return walk


def _python_walk(np, store, words, order: str):
    """The pure-Python walk, the same ``walk`` as :func:`_native_walk`'s
    (it always walks to the end: its ``pos`` is 0)."""
    def walk(pos: int, have: int):
        heads, end = walk_pcap(store, have, order)
        heads = np.frombuffer(heads, dtype=np.int64)
        return (heads + 16, words[heads + 8].astype(np.int64), words[heads + 12].astype(np.int64),
                end, True)
    return walk


def walk_pcap(store, have: int, order: str) -> Tuple[array, int]:
    """``(heads, end)``: the offsets of the headers of the complete pcap
    records at the start of ``store[:have]`` (the first at 0), as
    ``array("q")``, and the offset of the first record that is not complete
    (``have`` when there is none).  The length word of a record at ``p`` is
    at ``p + 8``, element ``p >> 2`` of the view for alignment ``p & 3``:
    the loop does nothing else, and leaves the last records and files in
    the other byte order to the careful loop below it."""
    heads = array("q")
    append = heads.append
    pos = 0
    count = (have - 8) // 4 - 1
    if order == _NATIVE and count > 0:
        whole = memoryview(store)
        views = [whole[k + 8:k + 8 + 4 * count].cast("I") for k in range(4)]
        try:
            while True:
                append(pos)
                pos += 16 + views[pos & 3][pos >> 2]
        except IndexError:         # pos's length word is past the views
            heads.pop()
        if heads and pos > have:   # ... and the record before it is cut short
            pos = heads.pop()
        for view in views:
            view.release()
        whole.release()
    unpack = struct.Struct(order + "I").unpack_from
    last = have - 16
    while pos <= last:
        nxt = pos + 16 + unpack(store, pos + 8)[0]
        if nxt > have:
            break
        append(pos)
        pos = nxt
    return heads, min(pos, have)
