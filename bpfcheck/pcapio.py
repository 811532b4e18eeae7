"""Capture files: stream records out of pcap and pcapng, write classic pcap.

Capture files come from strangers, so the reader treats every byte as
hostile: it reads incrementally through one bounded window (never the whole
file), bounds every length field before believing it, and turns every
malformation into a one-line :class:`CaptureError` (a
:class:`~bpfcheck.errors.ParseError`) naming the record, the block and the
byte offset.  No other exception escapes, and no input makes it loop.

Reading::

    for rec in read_packets("in.pcapng"):        # or "-" / a binary file object
        rec.data, rec.wirelen, rec.linktype, rec.timestamp, rec.interface

    for linktype, batch in iter_batches("in.pcap"):   # the fast path
        for data, wirelen in batch: ...

    for chunk in iter_chunks("in.pcap"):              # the numpy path
        chunk.buffer, chunk.starts, chunk.caplens, chunk.wirelens

Writing::

    with PcapWriter("out.pcap", linktype="EN10MB", atomic=True) as w:
        w.write(frame)

Timestamps are exact ``(seconds, nanoseconds)`` pairs: a float cannot hold
nanoseconds since 1970, and pcapng resolutions go finer still (finer ones
are truncated to the nanosecond).  ``Record.time`` gives the float.
"""

from __future__ import annotations

import io
import os
import stat
import struct
import sys
import tempfile
from itertools import repeat
from typing import Any, BinaryIO, Iterator, List, NamedTuple, Optional, Tuple, Union

from .errors import ParseError

Source = Union[str, bytes, os.PathLike, BinaryIO]

#: the largest captured length accepted per record: libpcap's MAXIMUM_SNAPLEN
#: (it refuses larger records in files too, as "invalid packet capture length").
MAX_CAPLEN = 262144
#: pcapng blocks we read whole (headers, interface descriptions, packets with
#: options) must fit in this; larger unknown blocks are skipped, never read.
MAX_BLOCK = MAX_CAPLEN + 1024 * 1024
#: bytes asked of the operating system per read.
DEFAULT_CHUNK = 1 << 20
#: captured bytes per batch of :meth:`CaptureReader.batches`: the record
#: count alone would let 65536 records of 256 KiB make a 16 GiB batch.
MAX_BATCH_BYTES = 32 << 20
#: bytes of capture held at once by :meth:`CaptureReader.chunks` (one
#: reused buffer, or two halves when a file is read ahead; each at least
#: two of the largest records)
CHUNK_BUFFER = 16 << 20
NSEC = 1_000_000_000

# ---------------------------------------------------------------- linktypes
#
# Numbers are the LINKTYPE_* values stored in files (tcpdump.org/linktypes);
# names are libpcap's DLT names, which ``tcpdump -L`` and ``pcap_compile``
# use.  The two differ where DLT values were never portable: raw IP is DLT 12
# (14 on some BSDs) but LINKTYPE 101 in files, and old files still carry 12/14.

LINKTYPES = {
    "NULL": 0, "EN10MB": 1, "AX25": 3, "IEEE802": 6, "ARCNET": 7, "SLIP": 8,
    "PPP": 9, "FDDI": 10, "PPP_SERIAL": 50, "PPP_ETHER": 51, "SYMANTEC_FIREWALL": 99,
    "ATM_RFC1483": 100, "RAW": 101, "C_HDLC": 104, "IEEE802_11": 105, "FRELAY": 107,
    "LOOP": 108, "ENC": 109, "LINUX_SLL": 113, "LTALK": 114, "PFLOG": 117,
    "PRISM_HEADER": 119, "IP_OVER_FC": 122, "SUNATM": 123, "IEEE802_11_RADIO": 127,
    "ARCNET_LINUX": 129, "LINUX_IRDA": 144, "IEEE802_11_RADIO_AVS": 163,
    "PPP_PPPD": 166, "BLUETOOTH_HCI_H4": 187, "USB_LINUX": 189, "PPI": 192,
    "IEEE802_15_4": 195, "ERF": 197, "USB_LINUX_MMAPPED": 220, "IPNET": 226,
    "CAN_SOCKETCAN": 227, "IPV4": 228, "IPV6": 229, "IEEE802_15_4_NOFCS": 230,
    "DBUS": 231, "NFLOG": 239, "NETANALYZER": 240, "IPOIB": 242, "MPEG_2_TS": 243,
    "PFSYNC": 246, "USBPCAP": 249, "BLUETOOTH_LE_LL": 251, "NETLINK": 253,
    "VSOCK": 271, "LINUX_SLL2": 276, "EBHSCR": 279, "IEEE802_15_4_TAP": 283,
}
#: other spellings accepted by :func:`linktype_number` (LINKTYPE_* names and
#: the legacy raw-IP values).
_ALIASES = {"ETHERNET": 1, "PPP_HDLC": 50, "IEEE802_5": 6, "SLL": 113, "SLL2": 276,
            "RADIOTAP": 127, "LINUX_COOKED": 113}
_LEGACY_NUMBERS = {12: "RAW", 14: "RAW"}
_NAMES = {number: name for name, number in LINKTYPES.items()}
_NAMES.update(_LEGACY_NUMBERS)


def linktype_number(value: Union[str, int]) -> int:
    """The LINKTYPE number for a name (``"EN10MB"``, ``"DLT_RAW"``,
    ``"LINKTYPE_ETHERNET"``, any case) or a number (returned unchanged)."""
    if isinstance(value, bool):
        raise ValueError(f"not a link type: {value!r}")
    if isinstance(value, int):
        if not 0 <= value <= 0xFFFF:
            raise ValueError(f"link type {value} is outside 0..65535")
        return value
    if not isinstance(value, str):
        raise ValueError(f"not a link type: {value!r}")
    key = value.strip().upper()
    for prefix in ("DLT_", "LINKTYPE_"):
        if key.startswith(prefix):
            key = key[len(prefix):]
    if key.isascii() and key.isdigit():
        if len(key.lstrip("0")) > 5:
            raise ValueError(f"link type {value[:20]!r} is outside 0..65535")
        return linktype_number(int(key))
    number = LINKTYPES.get(key, _ALIASES.get(key))
    if number is None:
        raise ValueError(f"unknown link type {value!r}; known: {', '.join(sorted(LINKTYPES))}")
    return number


def linktype_name(number: int) -> str:
    """libpcap's name for a LINKTYPE number, or ``"LINKTYPE_<n>"`` if unknown."""
    return _NAMES.get(number, f"LINKTYPE_{number}")


# ---------------------------------------------------------------- records


class Record(NamedTuple):
    """One captured packet.

    ``data`` the captured bytes; ``wirelen`` the length on the wire (may
    exceed ``len(data)`` when the capture was cut at a snaplen; a hostile
    file may also claim less); ``linktype`` the LINKTYPE of its interface;
    ``timestamp`` exact ``(seconds, nanoseconds)``, or ``None`` for a pcapng
    Simple Packet Block, which has none; ``interface`` the pcapng interface
    index counted over the whole file (sections included; 0 for pcap);
    ``number`` the 1-based record number; ``offset`` the byte offset of the
    record (pcap) or block (pcapng) from the start of the stream.
    """

    data: bytes
    wirelen: int
    linktype: int
    timestamp: Optional[Tuple[int, int]]
    interface: int
    number: int
    offset: int

    @property
    def time(self) -> Optional[float]:
        """The timestamp as float seconds (loses nanoseconds)."""
        if self.timestamp is None:
            return None
        return self.timestamp[0] + self.timestamp[1] / NSEC


class Interface(NamedTuple):
    """A pcapng Interface Description Block (pcap files have one implicitly)."""

    linktype: int
    snaplen: int
    units_per_second: int     # from if_tsresol; 10**6 by default
    tsoffset: int             # if_tsoffset, seconds added to every timestamp
    section: int              # 0-based section the interface belongs to


class RecordChunk:
    """Consecutive records of one link type, as numpy arrays (the batch
    path's input, without a Python object per packet).

    Packet ``i`` is ``buffer[starts[i]:starts[i] + caplens[i]]``; ``buffer``
    is a uint8 array with at least 8 bytes after the last packet, so loads
    a little past a packet's end stay inside it.  ``wirelens`` are the
    lengths on the wire; ``first`` the 1-based number of the first record.
    The buffer and the arrays belong to the reader and are refilled when
    the next chunk is asked for: copy out what you keep.
    """

    __slots__ = ("linktype", "buffer", "starts", "caplens", "wirelens", "first")

    def __init__(self, linktype: int, buffer: Any, starts: Any, caplens: Any, wirelens: Any,
                 first: int):
        self.linktype = linktype
        self.buffer = buffer
        self.starts = starts
        self.caplens = caplens
        self.wirelens = wirelens
        self.first = first

    def __len__(self) -> int:
        return len(self.starts)


class CaptureError(ParseError):
    """A capture file that cannot be read.  ``line`` is the record number
    (``None`` in a file header); ``offset`` the byte offset of the record
    or block; the message says which and what was wrong, on one line."""

    def __init__(self, message: str, record: Optional[int] = None,
                 offset: Optional[int] = None, fmt: Optional[str] = None):
        ParseError.__init__(self, message, None, fmt)
        self.line = record
        self.offset = offset


# ---------------------------------------------------------------- input window


class _Window:
    """A forward-only view of a byte stream through one bounded buffer.

    ``buf[pos:]`` holds the bytes not yet consumed; ``base`` is the stream
    offset of ``buf[0]``.  Nothing is kept behind ``pos`` across refills,
    so memory stays at about one chunk plus one record whatever the size of
    the stream, and no seeking is needed (pipes and stdin work).
    """

    __slots__ = ("read", "chunk", "buf", "pos", "base", "eof", "seek", "size")

    def __init__(self, f, chunk: int, seekable: bool = False):
        # read1 returns what one system call gives, so a live pipe
        # (tcpdump -w - | bpfcheck) is not held up waiting for a full chunk.
        self.read = getattr(f, "read1", None) or f.read
        self.chunk = chunk
        # A regular file we opened ourselves is skipped through by seeking:
        # a block claiming gigabytes costs no reading.
        self.seek = f.seek if seekable else None
        self.size = (lambda: os.fstat(f.fileno()).st_size) if seekable else None
        self.buf = b""
        self.pos = 0
        self.base = 0
        self.eof = False

    def offset(self) -> int:
        return self.base + self.pos

    def available(self) -> int:
        return len(self.buf) - self.pos

    def fill(self, n: int) -> bool:
        """Make at least ``n`` unread bytes available; False at end of stream."""
        have = len(self.buf) - self.pos
        if have >= n:
            return True
        parts = [self.buf[self.pos:]]
        self.base += self.pos
        self.pos = 0
        while have < n and not self.eof:
            try:
                data = self.read(max(self.chunk, n - have))
            except OSError as e:
                raise CaptureError(f"cannot read the capture: {e.strerror or e}") from None
            if not data:        # b"" at end; None from a non-blocking stream
                self.eof = True
                break
            if not isinstance(data, (bytes, bytearray)):
                raise CaptureError("the capture must be opened in binary mode")
            parts.append(bytes(data))
            have += len(data)
        self.buf = b"".join(parts)
        return have >= n

    def take(self, n: int) -> bytes:
        """The next ``n`` bytes (the caller has called ``fill(n)``)."""
        start = self.pos
        self.pos = start + n
        return self.buf[start:self.pos]

    def skip(self, n: int) -> bool:
        """Drop ``n`` bytes, reading and discarding (bounded); False if the
        stream ended first."""
        while True:
            have = len(self.buf) - self.pos
            if have >= n:
                self.pos += n
                return True
            n -= have
            self.base += len(self.buf)
            self.buf, self.pos = b"", 0
            if self.seek is not None and n > self.chunk:
                start = self.base
                try:
                    target = min(start + n, self.size())     # asked now: the file may be growing
                    self.seek(target)
                except OSError as e:
                    raise CaptureError(f"cannot read the capture: {e.strerror or e}") from None
                self.base = target
                if target - start < n:          # the file ends inside what was to be skipped
                    self.eof = True
                    return False
                return True
            if self.eof or not self.fill(min(n, self.chunk)):
                return False


def _open(source: Source):
    """(binary file, whether we opened it)."""
    if isinstance(source, (str, bytes, os.PathLike)):
        if source in ("-", b"-"):
            return sys.stdin.buffer, False
        try:
            return open(source, "rb", buffering=0), True
        except OSError as e:
            raise CaptureError(f"cannot open {os.fsdecode(source)}: {e.strerror or e}") from None
    if isinstance(source, io.TextIOBase):
        if hasattr(source, "buffer"):
            return source.buffer, False
        raise CaptureError("the capture must be a binary stream, not text")
    if not hasattr(source, "read"):
        raise TypeError(f"expected a path, '-' or a binary file object, got {type(source).__name__}")
    return source, False


def _is_regular(f) -> bool:
    """Whether ``f`` is a regular file (one that can be skipped through by
    seeking), not a pipe, a device or anything unusual."""
    try:
        return stat.S_ISREG(os.fstat(f.fileno()).st_mode)
    except (OSError, AttributeError, ValueError, io.UnsupportedOperation):
        return False


# ---------------------------------------------------------------- pcap

_PCAP_MAGICS = {
    # magic as read little-endian -> (byte order, nanosecond timestamps)
    0xA1B2C3D4: ("<", False), 0xD4C3B2A1: (">", False),
    0xA1B23C4D: ("<", True), 0x4D3CB2A1: (">", True),
}
_MODIFIED_PCAP = {0xA1B2CD34, 0x34CDB2A1}
_PCAPNG_SHB = 0x0A0D0D0A
_BOM = 0x1A2B3C4D

# pcapng block types
_SHB, _IDB, _PB, _SPB, _EPB = 0x0A0D0D0A, 1, 2, 3, 6
_BLOCK_NAMES = {_SHB: "Section Header Block", _IDB: "Interface Description Block",
                _PB: "Packet Block", _SPB: "Simple Packet Block", _EPB: "Enhanced Packet Block"}
#: smallest legal total length of each block we interpret
_BLOCK_MIN = {_SHB: 28, _IDB: 20, _PB: 32, _SPB: 16, _EPB: 32}
_OPT_ENDOFOPT, _IF_TSRESOL, _IF_TSOFFSET = 0, 9, 14


class CaptureReader:
    """Streams the records of a pcap or pcapng capture.

    ``CaptureReader(source, strict=True, max_caplen=MAX_CAPLEN, chunk=1 MiB)``
    where ``source`` is a path, ``"-"`` (standard input) or a binary file
    object (read forward only; no seeking).  The file header is read at
    once, so a file that is not a capture fails here.

    Attributes: ``format`` (``"pcap"``/``"pcapng"``), ``linktype`` (pcap:
    the header's; pcapng: the first interface's, ``None`` until one is
    seen), ``snaplen``, ``nanosecond`` (pcap), ``version`` (of the file
    or first section), ``interfaces`` (list of
    :class:`Interface`), ``records`` (records yielded so far) and
    ``truncated``: with ``strict=False`` a file that ends inside a record
    stops cleanly and this holds the reason; with ``strict=True`` (the
    default) that is a :class:`CaptureError`.

    Iterate for :class:`Record` objects, or call :meth:`batches` for the
    fast path.  Use as a context manager to close a file it opened.
    """

    def __init__(self, source: Source, *, strict: bool = True,
                 max_caplen: int = MAX_CAPLEN, chunk: int = DEFAULT_CHUNK):
        if not (isinstance(max_caplen, int) and 0 <= max_caplen <= MAX_BLOCK - 64):
            raise ValueError(f"max_caplen={max_caplen!r} must be an int in 0..{MAX_BLOCK - 64}")
        if not (isinstance(chunk, int) and chunk >= 64):
            raise ValueError(f"chunk={chunk!r} must be an int of at least 64 bytes")
        self._file, self._owned = _open(source)
        self.strict = strict
        self.max_caplen = max_caplen
        self.truncated: Optional[str] = None
        self.records = 0
        self.interfaces: List[Interface] = []
        self.linktype: Optional[int] = None
        self.snaplen: Optional[int] = None
        self.nanosecond = False
        self.version: Optional[Tuple[int, int]] = None
        self._win = _Window(self._file, chunk, self._owned and _is_regular(self._file))
        self._started = False
        try:
            self._read_file_header()
        except BaseException:
            self.close()
            raise

    # -- life cycle

    def close(self) -> None:
        if self._owned and self._file is not None:
            self._file.close()
        self._file = None

    def __enter__(self) -> "CaptureReader":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __iter__(self) -> Iterator[Record]:
        self._claim()
        if self.format == "pcap":
            return self._pcap_records()
        return self._pcapng_records()

    def batches(self, batch_size: int = 65536, max_bytes: int = MAX_BATCH_BYTES
                ) -> Iterator[Tuple[int, List[Tuple[bytes, int]]]]:
        """``(linktype, [(data, wirelen), ...])`` lists of up to ``batch_size``
        records holding about ``max_bytes`` of packet data at most (a batch
        ends after the record that reaches it); a batch never mixes link
        types (a pcapng file with several interfaces starts a new batch when
        the link type changes)."""
        _require_positive(batch_size=batch_size, max_bytes=max_bytes)
        self._claim()
        if self.format == "pcap":
            return self._pcap_batches(batch_size, max_bytes)
        return self._pcapng_batches(batch_size, max_bytes)

    def chunks(self, max_records: int = 65536, buffer_size: int = CHUNK_BUFFER
               ) -> Iterator[RecordChunk]:
        """:class:`RecordChunk` objects of up to ``max_records`` records: the
        numpy path (needs numpy).  A pcap file is read into about
        ``buffer_size`` bytes of reused buffers (see :mod:`.pcapchunks`)
        and its records are found there without a Python object per
        packet; pcapng goes through :meth:`batches`.  Each chunk is valid
        until the next is asked for."""
        _require_positive(max_records=max_records, buffer_size=buffer_size)
        self._claim()
        if self.format == "pcap":
            return self._pcap_chunks(max_records, buffer_size)
        return self._joined_chunks(self._pcapng_batches(max_records, MAX_BATCH_BYTES))

    def _claim(self) -> None:
        # One pass over one stream: two live iterators would interleave
        # records unpredictably, so refuse the second.
        if self._started:
            raise RuntimeError("a CaptureReader can be iterated only once")
        self._started = True

    # -- errors

    def _fail(self, message: str, record: Optional[int] = None,
              offset: Optional[int] = None, block: Optional[str] = None):
        where = []
        if record is not None:
            where.append(f"record {record}")
        if block is not None:
            where.append(block)
        if offset is not None:
            where.append(f"at byte offset {offset}")
        prefix = f"{self.format} " + " ".join(where) + ": " if where else f"{self.format}: "
        raise CaptureError(prefix + message, record, offset, self.format)

    def _truncated(self, what: str, need: int, record: Optional[int], offset: int,
                   block: Optional[str] = None) -> None:
        """The stream ended inside something: an error when strict,
        otherwise remembered in ``truncated`` and the caller stops."""
        have = self._win.offset() + self._win.available() - offset
        message = f"truncated {what}: needs {need} bytes, the file ends after {have}"
        if self.strict:
            self._fail(message, record, offset, block)
        where = f"record {record} " if record is not None else ""
        self.truncated = f"{where}at byte offset {offset}: {message}"

    # -- headers

    def _read_file_header(self) -> None:
        win = self._win
        if not win.fill(4):
            self.format = "capture"
            self._fail("empty or shorter than a file header "
                       f"({win.available()} bytes)", offset=0)
        magic = struct.unpack_from("<I", win.buf, win.pos)[0]
        if magic in _PCAP_MAGICS:
            self.format = "pcap"
            self._read_pcap_header(magic)
        elif magic == _PCAPNG_SHB:
            self.format = "pcapng"
            self._pcapng_prologue()
        else:
            self.format = "capture"
            if magic in _MODIFIED_PCAP:
                self._fail("the modified (Kuznetzov) pcap format is not supported; "
                           "convert it with editcap -F pcap", offset=0)
            self._fail(f"not a pcap or pcapng file (magic 0x{magic:08x})", offset=0)

    def _read_pcap_header(self, magic: int) -> None:
        win = self._win
        if not win.fill(24):
            self._fail(f"truncated file header: 24 bytes needed, the file has {win.available()}",
                       offset=0)
        order, self.nanosecond = _PCAP_MAGICS[magic]
        self._order = order
        _, major, minor, _, _, snaplen, network = struct.unpack_from(order + "IHHiIII", win.buf, win.pos)
        win.pos += 24
        if major != 2:
            self._fail(f"unsupported pcap version {major}.{minor} (only 2.x exists)", offset=0)
        self.version = (major, minor)
        self.snaplen = snaplen
        # The top bits carry the FCS length (LT_FCS_DATALINK_EXT); the link type
        # proper is the low 16 bits, as libpcap's LT_LINKTYPE takes it.
        self.linktype = network & 0xFFFF
        self.interfaces.append(Interface(self.linktype, snaplen, NSEC if self.nanosecond else 10**6, 0, 0))

    # -- pcap records

    def _pcap_refill(self, pos: int, need: int, what: str, number: int):
        """Refill after the hot loop ran out of buffered bytes at ``pos``
        while reading record ``number``.  Returns the new buffer, or None at
        the end of the stream (clean, or a tolerated truncated tail)."""
        win = self._win
        win.pos = pos
        if win.fill(need):
            return win.buf
        if what == "header" and win.available() == 0:
            return None                       # clean end of file
        self._truncated(f"record {what}", need, number, win.offset())
        return None

    def _pcap_records(self) -> Iterator[Record]:
        new = tuple.__new__          # builds the NamedTuple without its Python-level __new__
        win = self._win
        unpack = struct.Struct(self._order + "IIII").unpack_from
        maxcap = self.max_caplen
        linktype = self.linktype
        scale = 1 if self.nanosecond else 1000
        limit = NSEC // scale
        buf, pos = win.buf, win.pos
        end = len(buf)
        number = self.records
        while True:
            if pos + 16 > end:
                buf = self._pcap_refill(pos, 16, "header", number + 1)
                if buf is None:
                    return
                pos, end = win.pos, len(buf)
            sec, frac, incl, orig = unpack(buf, pos)
            if incl > maxcap:
                self._caplen_error(number + 1, win.base + pos, incl)
            stop = pos + 16 + incl
            if stop > end:
                buf = self._pcap_refill(pos, 16 + incl, "data", number + 1)
                if buf is None:
                    return
                pos, end = win.pos, len(buf)
                stop = pos + 16 + incl
            if frac >= limit:                 # hostile sub-second field: carry it
                sec, frac = sec + frac // limit, frac % limit
            number += 1
            self.records = number
            yield new(Record, (buf[pos + 16:stop], orig, linktype, (sec, frac * scale), 0, number,
                               win.base + pos))
            pos = stop

    def _pcap_batches(self, batch_size: int, max_bytes: int):
        # The hot path: one struct call (skipping the timestamp with pad
        # bytes), one slice and one tuple per record, all on locals; the
        # buffer bookkeeping runs only when the buffer runs dry.
        win = self._win
        unpack = struct.Struct(self._order + "8xII").unpack_from
        maxcap = self.max_caplen
        linktype = self.linktype
        buf, pos = win.buf, win.pos
        end = len(buf)
        done = False
        while not done:
            batch: List[Tuple[bytes, int]] = []
            append = batch.append
            room = max_bytes
            for _ in repeat(None, batch_size):
                start = pos + 16
                if start > end:
                    buf = self._pcap_refill(pos, 16, "header", self.records + len(batch) + 1)
                    if buf is None:
                        done = True
                        break
                    pos, end = win.pos, len(buf)
                    start = pos + 16
                incl, orig = unpack(buf, pos)
                stop = start + incl
                if stop > end or incl > maxcap:
                    number = self.records + len(batch) + 1
                    if incl > maxcap:
                        self._caplen_error(number, win.base + pos, incl)
                    buf = self._pcap_refill(pos, 16 + incl, "data", number)
                    if buf is None:
                        done = True
                        break
                    pos, end = win.pos, len(buf)
                    start = pos + 16
                    stop = start + incl
                append((buf[start:stop], orig))
                pos = stop
                room -= incl
                if room <= 0:
                    break
            if not done:
                win.pos = pos
            self.records += len(batch)
            if batch:
                yield linktype, batch

    def _pcap_chunks(self, max_records: int, buffer_size: int):
        from .pcapchunks import pcap_chunks
        return pcap_chunks(self, max_records, buffer_size)

    def _joined_chunks(self, batches):
        """Chunks made of :meth:`batches` (pcapng): the packets joined into
        one buffer."""
        import numpy as np
        done = 0
        for linktype, batch in batches:
            n = len(batch)
            datas = [d for d, _ in batch]
            caplens = np.fromiter(map(len, datas), dtype=np.int64, count=n)
            wirelens = np.fromiter((w for _, w in batch), dtype=np.int64, count=n)
            buffer = np.frombuffer(b"".join(datas) + bytes(8), dtype=np.uint8)
            starts = np.cumsum(caplens) - caplens
            yield RecordChunk(linktype, buffer, starts, caplens, wirelens, done + 1)
            done += n

    def _caplen_error(self, number: int, offset: int, incl: int, block: Optional[str] = None) -> None:
        self._fail(f"captured length {incl} is larger than the limit of {self.max_caplen} bytes "
                   "(a corrupt length field, or raise max_caplen)", number, offset, block)

    # -- pcapng

    def _pcapng_prologue(self) -> None:
        """Read the first Section Header Block and any blocks up to the
        first packet, so ``linktype`` is known when the file has one."""
        self._section = -1
        self._blocks = 0
        # Like pcap's file header, the first section header must be whole
        # even when a truncated tail is tolerated: without it, this is not
        # a capture at all.
        strict, self.strict = self.strict, True
        try:
            self._apply(self._next_block())
        finally:
            self.strict = strict
        self._pending = self._next_block()
        while self._pending is not None and self._pending[0] not in (_EPB, _SPB, _PB):
            self._apply(self._pending)
            self._pending = self._next_block()

    def _block_label(self, number: int, btype: int) -> str:
        name = _BLOCK_NAMES.get(btype, f"block type 0x{btype:08x}")
        return f"block {number} ({name})"

    def _next_block(self):
        """``(type, body, number, offset)`` of the next block we interpret,
        with its body (the bytes between the two length fields); unknown
        blocks are skipped.  None at the end of the stream."""
        win = self._win
        while True:
            offset = win.offset()
            number = self._blocks + 1
            if not win.fill(8):
                if win.available() == 0:
                    return None
                self._truncated("block header", 8, None, offset, f"block {number}")
                return None
            btype = struct.unpack_from("<I", win.buf, win.pos)[0]
            if btype == _SHB:
                # A new section may switch byte order: its byte-order magic
                # decides how to read even its own length.
                if not win.fill(12):
                    self._truncated("section header", 12, None, offset, self._block_label(number, btype))
                    return None
                bom = win.buf[win.pos + 8:win.pos + 12]
                if bom == b"\x4d\x3c\x2b\x1a":
                    self._order = "<"
                elif bom == b"\x1a\x2b\x3c\x4d":
                    self._order = ">"
                else:
                    self._fail(f"bad byte-order magic 0x{bom.hex()} (expected 1a2b3c4d either way round)",
                               None, offset, self._block_label(number, btype))
            order = self._order
            btype, blen = struct.unpack_from(order + "II", win.buf, win.pos)
            label = self._block_label(number, btype)
            if blen % 4:
                self._fail(f"block length {blen} is not a multiple of 4", None, offset, label)
            minimum = _BLOCK_MIN.get(btype, 12)
            if blen < minimum:
                self._fail(f"block length {blen} is smaller than the {minimum} bytes this block needs",
                           None, offset, label)
            self._blocks = number
            if btype not in _BLOCK_MIN:
                # Statistics, name resolution, custom blocks...: not needed,
                # skipped without reading them in, whatever their size.
                if not win.skip(blen):
                    self._truncated("block", blen, None, offset, label)
                    return None
                continue
            if blen > MAX_BLOCK:
                self._fail(f"block length {blen} is larger than the limit of {MAX_BLOCK} bytes",
                           None, offset, label)
            if not win.fill(blen):
                self._truncated("block", blen, None, offset, label)
                return None
            block = win.take(blen)
            trailer = struct.unpack_from(order + "I", block, blen - 4)[0]
            if trailer != blen:
                self._fail(f"trailing block length {trailer} differs from the leading {blen}",
                           None, offset, label)
            return btype, block[8:blen - 4], number, offset

    def _apply(self, block) -> None:
        """Take in a section header or interface description."""
        btype, body, number, offset = block
        order = self._order
        if btype == _SHB:
            major, minor = struct.unpack_from(order + "HH", body, 4)
            if major != 1:
                self._fail(f"unsupported pcapng version {major}.{minor}", None, offset,
                           self._block_label(number, btype))
            if self.version is None:
                self.version = (major, minor)
            self._section += 1
            self._section_ifaces: List[int] = []   # global interface index per local id
        elif btype == _IDB:
            linktype, _, snaplen = struct.unpack_from(order + "HHI", body, 0)
            units, tsoffset = 10**6, 0
            for code, value in self._options(body, 8, number, offset, btype):
                if code == _IF_TSRESOL and len(value) >= 1:
                    units = _tsresol_units(value[0])
                elif code == _IF_TSOFFSET and len(value) >= 8:
                    tsoffset = struct.unpack_from(order + "q", value, 0)[0]
            self._section_ifaces.append(len(self.interfaces))
            self.interfaces.append(Interface(linktype, snaplen, units, tsoffset, self._section))
            if self.linktype is None:
                self.linktype, self.snaplen = linktype, snaplen

    def _options(self, body: bytes, start: int, number: int, offset: int, btype: int):
        """``(code, value)`` pairs of a block's options; parsed only for the
        blocks whose options change how packets read (interfaces)."""
        order = self._order
        pos, end = start, len(body)
        while pos + 4 <= end:
            code, length = struct.unpack_from(order + "HH", body, pos)
            if code == _OPT_ENDOFOPT:
                return
            value_end = pos + 4 + length
            if value_end > end:
                self._fail(f"option {code} of length {length} runs past the end of the block",
                           None, offset, self._block_label(number, btype))
            yield code, body[pos + 4:value_end]
            pos = value_end + (-length % 4)

    def _packet(self, block):
        """``(interface index, linktype, data, wirelen, timestamp)`` of a
        packet block, every field checked."""
        btype, body, number, offset = block
        order = self._order
        label = self._block_label(number, btype)
        record = self.records + 1
        if btype == _EPB:
            local, hi, lo, incl, orig = struct.unpack_from(order + "IIIII", body, 0)
            head = 20
        elif btype == _PB:
            local, _drops, hi, lo, incl, orig = struct.unpack_from(order + "HHIIII", body, 0)
            head = 20
        else:   # Simple Packet Block: interface 0, captured length implied
            local, hi, lo, head = 0, None, None, 4
            orig = struct.unpack_from(order + "I", body, 0)[0]
        ifaces = self._section_ifaces
        if local >= len(ifaces):
            have = f"the section has only {len(ifaces)}" if ifaces else \
                "no Interface Description Block came before it"
            self._fail(f"refers to interface {local} but {have}", record, offset, label)
        index = ifaces[local]
        iface = self.interfaces[index]
        if btype == _SPB:
            incl = orig if iface.snaplen == 0 else min(orig, iface.snaplen)
        if incl > self.max_caplen:
            self._caplen_error(record, offset, incl, label)
        if incl > len(body) - head:
            self._fail(f"captured length {incl} runs past the end of the block "
                       f"({len(body) - head} bytes of data)", record, offset, label)
        data = body[head:head + incl]
        if hi is None:
            return index, iface.linktype, data, orig, None
        units = (hi << 32) | lo
        per = iface.units_per_second
        sec, rest = divmod(units, per)
        return index, iface.linktype, data, orig, (sec + iface.tsoffset, rest * NSEC // per)

    def _pcapng_step(self):
        """The slow path: one block through every check.  Returns the
        packet ``(index, linktype, data, wirelen, timestamp, offset)``,
        ``True`` after a header block, or ``None`` at the end."""
        block = self._pending
        if block is None:
            block = self._next_block()
            if block is None:
                return None
        self._pending = None
        if block[0] in (_SHB, _IDB):
            self._apply(block)
            return True
        packet = self._packet(block) + (block[3],)
        self.records += 1
        return packet

    def _fast_epbs(self):
        """The fast path's view of the current section: unpackers, and per
        local interface id its global index and :class:`Interface`.

        The fast loops take only Enhanced Packet Blocks that are wholly in
        the buffer and pass every check; anything else (another block type,
        a refill, any doubt) goes to :meth:`_pcapng_step`, so all errors
        are raised in one place with one wording."""
        order = self._order
        head = struct.Struct(order + "IIIIIII").unpack_from   # type len if hi lo incl orig
        tail = struct.Struct(order + "I").unpack_from
        ifaces = [(g, self.interfaces[g]) for g in self._section_ifaces]
        return head, tail, ifaces

    def _pcapng_records(self) -> Iterator[Record]:
        new = tuple.__new__
        win = self._win
        maxcap = self.max_caplen
        while True:
            if self._pending is None:
                head, tail, ifaces = self._fast_epbs()
                nifs = len(ifaces)
                buf, pos = win.buf, win.pos
                end = len(buf)
                while pos + 28 <= end:
                    btype, blen, local, hi, lo, incl, orig = head(buf, pos)
                    stop = pos + blen
                    if (btype != _EPB or stop > end or blen & 3 or blen < 32 or local >= nifs
                            or incl > maxcap or incl > blen - 32 or tail(buf, stop - 4)[0] != blen):
                        break
                    index, iface = ifaces[local]
                    per = iface.units_per_second
                    sec, rest = divmod((hi << 32) | lo, per)
                    self._blocks += 1
                    self.records += 1
                    win.pos = stop
                    yield new(Record, (buf[pos + 28:pos + 28 + incl], orig, iface.linktype,
                                       (sec + iface.tsoffset, rest * NSEC // per), index,
                                       self.records, win.base + pos))
                    pos = stop
            item = self._pcapng_step()
            if item is None:
                return
            if item is not True:
                index, linktype, data, orig, ts, offset = item
                yield Record(data, orig, linktype, ts, index, self.records, offset)

    def _pcapng_batches(self, batch_size: int, max_bytes: int):
        win = self._win
        maxcap = self.max_caplen
        batch: List[Tuple[bytes, int]] = []
        current = None
        room = max_bytes
        while True:
            if self._pending is None:
                head, tail, ifaces = self._fast_epbs()
                linktypes = [iface.linktype for _, iface in ifaces]
                nifs = len(linktypes)
                buf, pos = win.buf, win.pos
                end = len(buf)
                count = 0
                while pos + 28 <= end:
                    btype, blen, local, _hi, _lo, incl, orig = head(buf, pos)
                    stop = pos + blen
                    if (btype != _EPB or stop > end or blen & 3 or blen < 32 or local >= nifs
                            or incl > maxcap or incl > blen - 32 or tail(buf, stop - 4)[0] != blen):
                        break
                    linktype = linktypes[local]
                    if linktype != current or len(batch) >= batch_size or room <= 0:
                        if batch:
                            self._blocks += count
                            self.records += count
                            count = 0
                            win.pos = pos
                            yield current, batch
                        batch, current, room = [], linktype, max_bytes
                    room -= incl
                    batch.append((buf[pos + 28:pos + 28 + incl], orig))
                    count += 1
                    pos = stop
                self._blocks += count
                self.records += count
                win.pos = pos
            item = self._pcapng_step()
            if item is None:
                if batch:
                    yield current, batch
                return
            if item is not True:
                _index, linktype, data, orig, _ts, _offset = item
                if linktype != current or len(batch) >= batch_size or room <= 0:
                    if batch:
                        yield current, batch
                    batch, current, room = [], linktype, max_bytes
                room -= len(data)
                batch.append((data, orig))


def _require_positive(**sizes: int) -> None:
    for name, value in sizes.items():
        if not (isinstance(value, int) and value > 0):
            raise ValueError(f"{name}={value!r} must be a positive int")


def _tsresol_units(code: int) -> int:
    """Timestamp units per second from an if_tsresol byte: the top bit
    chooses a power of two, otherwise of ten."""
    if code & 0x80:
        return 1 << (code & 0x7F)
    return 10 ** code


def read_packets(source: Source, *, strict: bool = True, max_caplen: int = MAX_CAPLEN,
                 chunk: int = DEFAULT_CHUNK) -> Iterator[Record]:
    """Every :class:`Record` of a pcap or pcapng capture, streamed.

    The file header is checked before this returns; a file opened from a
    path is closed when the iterator is exhausted (or collected).  With
    ``strict=False`` a truncated tail ends the iteration silently: use
    :class:`CaptureReader` to learn that it happened.
    """
    reader = CaptureReader(source, strict=strict, max_caplen=max_caplen, chunk=chunk)
    return _closing(reader, iter(reader))


def iter_batches(source: Source, batch_size: int = 65536, *, strict: bool = True,
                 max_caplen: int = MAX_CAPLEN, chunk: int = DEFAULT_CHUNK
                 ) -> Iterator[Tuple[int, List[Tuple[bytes, int]]]]:
    """``(linktype, [(data, wirelen), ...])`` batches: the fast path for
    running a filter over a large capture."""
    reader = CaptureReader(source, strict=strict, max_caplen=max_caplen, chunk=chunk)
    return _closing(reader, reader.batches(batch_size))


def iter_chunks(source: Source, max_records: int = 65536, *, strict: bool = True,
                max_caplen: int = MAX_CAPLEN, buffer_size: int = CHUNK_BUFFER
                ) -> Iterator[RecordChunk]:
    """:class:`RecordChunk` objects (numpy arrays over one reused buffer):
    the batch path's way through a large capture.  Each chunk is valid
    until the next one is asked for."""
    reader = CaptureReader(source, strict=strict, max_caplen=max_caplen)
    return _closing(reader, reader.chunks(max_records, buffer_size))


def _closing(reader: CaptureReader, items):
    with reader:
        yield from items


# ---------------------------------------------------------------- writing


class PcapWriter:
    """Writes a classic pcap file (version 2.4, little-endian), which every
    tool reads.

    ``PcapWriter(dest, linktype=1, snaplen=262144, nanosecond=False, atomic=False)``;
    ``dest`` is a path, ``"-"`` (standard output) or a binary file object.
    ``linktype`` is a number or a name (``"EN10MB"``).  With ``atomic=True``
    (paths only) the records go to a temporary file in the same directory,
    renamed over ``dest`` by a successful :meth:`close`; leaving the ``with``
    block by an exception, or :meth:`abort`, removes it instead, so ``dest``
    is never half written.
    """

    def __init__(self, dest: Source, linktype: Union[int, str] = 1, snaplen: int = 262144,
                 nanosecond: bool = False, *, atomic: bool = False):
        self.linktype = linktype_number(linktype)
        if not (isinstance(snaplen, int) and 0 < snaplen <= 0x7FFFFFFF):
            raise ValueError(f"snaplen={snaplen!r} must be an int in 1..2**31-1")
        self.snaplen = snaplen
        self.nanosecond = bool(nanosecond)
        self.count = 0
        self._tmp: Optional[str] = None
        self._dest: Optional[str] = None
        if isinstance(dest, (str, bytes, os.PathLike)) and dest not in ("-", b"-"):
            path = os.fsdecode(dest)
            if atomic:
                directory = os.path.dirname(os.path.abspath(path))
                fd, self._tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".",
                                                 suffix=".tmp", dir=directory)
                self._dest = path
                self._f = os.fdopen(fd, "wb")
            else:
                self._f = open(path, "wb")
            self._owned = True
        else:
            if atomic:
                raise ValueError("atomic=True needs a path to rename into, not a stream")
            self._f = sys.stdout.buffer if dest in ("-", b"-") else dest
            self._owned = False
        self._hdr = struct.Struct("<IIII")
        magic = 0xA1B23C4D if self.nanosecond else 0xA1B2C3D4
        self._f.write(struct.pack("<IHHiIII", magic, 2, 4, 0, 0, snaplen, self.linktype))

    def write(self, data: bytes, wirelen: Optional[int] = None,
              timestamp: Union[None, float, int, Tuple[int, int]] = None) -> None:
        """Append one record.  ``data`` longer than ``snaplen`` is cut, as a
        capture would; ``wirelen`` defaults to ``len(data)``.  ``timestamp``
        is float seconds or exact ``(seconds, nanoseconds)``; ``None`` writes
        the record's index in microseconds, so files are reproducible and
        their records ordered."""
        data = bytes(data)
        if wirelen is None:
            wirelen = len(data)
        elif not (isinstance(wirelen, int) and len(data) <= wirelen <= 0xFFFFFFFF):
            raise ValueError(f"wirelen={wirelen!r} must be an int from len(data)={len(data)} to 2**32-1")
        if timestamp is None:
            sec, nsec = divmod(self.count * 1000, NSEC)
        elif isinstance(timestamp, tuple):
            sec, nsec = timestamp
            sec, nsec = sec + nsec // NSEC, nsec % NSEC
        else:
            whole = int(timestamp // 1)
            sec, nsec = whole, int(round((timestamp - whole) * NSEC))
            if nsec >= NSEC:
                sec, nsec = sec + 1, nsec - NSEC
        if not 0 <= sec <= 0xFFFFFFFF:
            raise ValueError(f"timestamp {timestamp!r} does not fit pcap's unsigned 32-bit seconds")
        frac = nsec if self.nanosecond else nsec // 1000
        if len(data) > self.snaplen:
            data = data[:self.snaplen]
        self._f.write(self._hdr.pack(sec, frac, len(data), wirelen))
        self._f.write(data)
        self.count += 1

    def close(self) -> None:
        """Flush, and for an atomic writer put the file in place."""
        f = self._f
        if f is None:
            return
        self._f = None
        if not self._owned:
            f.flush()
            return
        if self._tmp is None:
            f.close()
            return
        try:
            f.flush()
            os.fsync(f.fileno())
            f.close()
            _copy_mode(self._dest, self._tmp)
            os.replace(self._tmp, self._dest)
        except BaseException:
            self._discard(f)
            raise
        self._tmp = None

    def abort(self) -> None:
        """Give up: an atomic writer removes its temporary file."""
        f, self._f = self._f, None
        if f is not None and self._owned:
            self._discard(f)

    def _discard(self, f) -> None:
        f.close()
        if self._tmp is not None:
            try:
                os.unlink(self._tmp)
            except OSError:
                pass
            self._tmp = None

    def __enter__(self) -> "PcapWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None and self._tmp is not None:
            self.abort()
        else:
            self.close()


def _copy_mode(dest: str, tmp: str) -> None:
    """mkstemp makes 0600 files; give the result the mode an ordinary
    ``open`` would have (the old file's, or 0666 less the umask)."""
    try:
        mode = os.stat(dest).st_mode & 0o7777
    except OSError:
        mask = os.umask(0)
        os.umask(mask)
        mode = 0o666 & ~mask
    os.chmod(tmp, mode)
