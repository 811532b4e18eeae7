"""Hostile captures: every malformation is a one-line CaptureError (a
ParseError) naming where it is; nothing else escapes, nothing hangs, and
memory stays bounded whatever the file claims."""

from __future__ import annotations

import contextlib
import io
import signal
import struct
import tracemalloc

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pcapio_craft as craft
from bpfcheck.errors import ParseError
from bpfcheck.pcapio import MAX_CAPLEN, CaptureError, CaptureReader, iter_batches, read_packets

SHB, IDB = craft.shb(), craft.idb(1)
PCAP_HEADER = craft.pcap([])


def pcap_record(caplen, wirelen=60, data=b""):
    return struct.pack("<IIII", 0, 0, caplen, wirelen) + data


HOSTILE = {
    "empty": (b"", "empty or shorter than a file header"),
    "three bytes": (b"\xd4\xc3\xb2", "empty or shorter than a file header"),
    "garbage magic": (b"GIF89a" + bytes(40), "not a pcap or pcapng file (magic 0x38464947)"),
    "zeros": (bytes(64), "not a pcap or pcapng file"),
    "modified pcap": (struct.pack("<I", 0xA1B2CD34) + bytes(20), "Kuznetzov"),
    "pcap header cut": (PCAP_HEADER[:20], "truncated file header"),
    "pcap version 1": (craft.pcap([], version=(1, 0)), "unsupported pcap version 1.0"),
    "pcap caplen 4 GiB": (PCAP_HEADER + pcap_record(0xFFFFFFFF),
                          "pcap record 1 at byte offset 24: captured length 4294967295 is larger "
                          "than the limit of 262144 bytes"),
    "pcap caplen over limit": (PCAP_HEADER + pcap_record(MAX_CAPLEN + 1), "larger than the limit"),
    "pcap record header cut": (PCAP_HEADER + pcap_record(4, data=b"abcd") + b"\0" * 5,
                               "pcap record 2 at byte offset 44: truncated record header: "
                               "needs 16 bytes, the file ends after 5"),
    "pcap record data cut": (PCAP_HEADER + pcap_record(100, data=b"x" * 99),
                             "pcap record 1 at byte offset 24: truncated record data"),
    "pcapng header cut": (SHB[:10], "truncated section header"),
    "pcapng bad byte order": (SHB[:8] + b"\x1a\x2b\x3c\x4e" + SHB[12:], "bad byte-order magic"),
    "block length not multiple of 4": (SHB + craft.block(1, bytes(8), length=22), "not a multiple of 4"),
    "block length below header": (SHB + craft.block(0x99, b"", length=8), "smaller than the 12 bytes"),
    "block length zero": (SHB + struct.pack("<II", 0x99, 0), "smaller than the 12 bytes"),
    "shb length below header": (struct.pack("<III", 0x0A0D0D0A, 12, 0x1A2B3C4D), "smaller than the 28"),
    "epb shorter than its fields": (SHB + IDB + craft.block(6, bytes(16)), "smaller than the 32"),
    "epb before idb": (SHB + craft.epb(0, 0, b"abc"),
                       "pcapng record 1 block 2 (Enhanced Packet Block) at byte offset 28: refers to "
                       "interface 0 but no Interface Description Block came before it"),
    "spb without idb": (SHB + craft.spb(b"abc"), "no Interface Description Block came before it"),
    "epb bad interface": (SHB + IDB + craft.epb(5, 0, b"abc"), "refers to interface 5 but the section has only 1"),
    "idb of an earlier section": (SHB + IDB + SHB + craft.epb(0, 0, b"abc"), "no Interface Description Block"),
    "epb caplen past block": (SHB + IDB + craft.epb(0, 0, b"abcd", caplen=9), "runs past the end of the block"),
    "epb caplen 4 GiB": (SHB + IDB + craft.epb(0, 0, b"abcd", caplen=0xFFFFFFFF),
                         "captured length 4294967295 is larger than the limit"),
    "epb claims 4 GiB": (SHB + IDB + struct.pack("<II", 6, 0xFFFFFFFC) + bytes(40), "larger than the limit of"),
    "unknown block claims 4 GiB": (SHB + struct.pack("<II", 0x99, 0xFFFFFFFC) + bytes(40),
                                   "truncated block: needs 4294967292 bytes, the file ends after 48"),
    "trailer mismatch": (SHB + craft.block(1, struct.pack("<HHI", 1, 0, 0), trailer=24), "trailing block length 24"),
    "idb option overruns": (SHB + craft.block(1, struct.pack("<HHIHH", 1, 0, 0, 9, 200)), "option 9 of length 200"),
    "pcapng version 2": (craft.shb(major=2), "unsupported pcapng version 2"),
    "epb cut": (SHB + IDB + craft.epb(0, 0, b"abcdefgh")[:-3], "truncated block"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_input_gives_one_line_parse_error(name):
    data, expected = HOSTILE[name]
    for run in (lambda: list(read_packets(io.BytesIO(data))),
                lambda: list(iter_batches(io.BytesIO(data)))):
        with pytest.raises(CaptureError) as info:
            run()
        message = str(info.value)
        assert isinstance(info.value, ParseError)
        assert expected in message and "\n" not in message


def test_record_errors_carry_record_number_and_offset():
    data = PCAP_HEADER + pcap_record(3, data=b"abc") + pcap_record(MAX_CAPLEN + 1)
    with pytest.raises(CaptureError) as info:
        list(read_packets(io.BytesIO(data)))
    assert (info.value.line, info.value.offset, info.value.fmt) == (2, 43, "pcap")


def test_caplen_at_the_limit_is_fine_and_the_limit_is_adjustable():
    data = PCAP_HEADER + pcap_record(MAX_CAPLEN, data=bytes(MAX_CAPLEN))
    assert len(next(read_packets(io.BytesIO(data))).data) == MAX_CAPLEN
    with pytest.raises(CaptureError, match="limit of 1000 bytes"):
        list(read_packets(io.BytesIO(data), max_caplen=1000))


# ---------------------------------------------------------------- truncation

def _valid_files():
    pcap = craft.pcap([(i, i, craft.frame(i, 10 + i), 10 + i) for i in range(3)])
    pcap_ends = [24]
    for i in range(3):
        pcap_ends.append(pcap_ends[-1] + 16 + 10 + i)
    pieces = [craft.shb(), craft.idb(1), craft.epb(0, 1, b"a" * 5), craft.spb(b"b" * 6),
              craft.block(0x77, b"skip"), craft.epb(0, 2, b"c" * 7)]
    ng_ends = []
    for p in pieces:
        ng_ends.append((ng_ends[-1] if ng_ends else 0) + len(p))
    return [("pcap", pcap, pcap_ends), ("pcapng", b"".join(pieces), ng_ends)]


@pytest.mark.parametrize("name,data,ends", _valid_files())
def test_every_truncation_point(name, data, ends):
    full = list(read_packets(io.BytesIO(data)))
    for cut in range(len(data)):
        head = data[:cut]
        clean = cut in ends
        if cut < ends[0]:
            with pytest.raises(CaptureError):
                CaptureReader(io.BytesIO(head), strict=False)
            continue
        if clean:
            recs = list(read_packets(io.BytesIO(head)))
        else:
            with pytest.raises(CaptureError, match="truncated"):
                list(read_packets(io.BytesIO(head)))
        reader = CaptureReader(io.BytesIO(head), strict=False)
        recs = list(reader)
        assert recs == full[:len(recs)]
        assert (reader.truncated is None) == clean, (cut, reader.truncated)
        if not clean:
            assert "truncated" in reader.truncated and "byte offset" in reader.truncated


# ---------------------------------------------------------------- fuzzing

@contextlib.contextmanager
def no_hang(seconds=5):
    def fire(*_):
        raise TimeoutError("the reader hung")
    old = signal.signal(signal.SIGALRM, fire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def outcome(make_source, **kw):
    """``(records, error)``: what every way of reading must agree on."""
    try:
        reader = CaptureReader(make_source(), **kw)
    except ParseError as e:
        return None, str(e)
    got = []
    try:
        got = [(r.data, r.wirelen, r.linktype, r.timestamp, r.interface, r.number, r.offset) for r in reader]
    except ParseError as e:
        assert "\n" not in str(e)
        return None, str(e)
    return got, reader.truncated


def batch_outcome(make_source, **kw):
    try:
        return [x for _, b in iter_batches(make_source(), batch_size=3, **kw) for x in b], None
    except ParseError as e:
        return None, str(e)


def check_only_parse_errors(data: bytes):
    with no_hang():
        records, error = outcome(lambda: io.BytesIO(data))
        # the fast paths, tiny buffers and a dribbling stream agree with it
        assert outcome(lambda: craft.Dribble(data, 5), chunk=64) == (records, error)
        batches, batch_error = batch_outcome(lambda: io.BytesIO(data))
        assert batch_error == error
        if records is not None:
            assert batches == [(r[0], r[1]) for r in records]
        # strict=False only ever forgives a truncated tail (a cut file
        # header still fails: without one it is no capture)
        loose, why = outcome(lambda: io.BytesIO(data), strict=False)
        if error is None or "truncated" not in error:
            assert (loose, why) == (records, error)
        else:
            assert (loose, why) == (None, error) or (loose is not None and why and why in error)


VALID = [craft.two_interface_file(), craft.two_interface_file(">"),
         craft.pcap([(i, i * 1000, craft.frame(i, 20 + i), 30) for i in range(4)]),
         craft.pcap([(1, 2, b"abc", 3)], order=">", nanosecond=True)]
NASTY_U32 = [0, 1, 3, 4, 11, 12, 13, 28, 31, 32, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFC, 0xFFFFFFFF,
             MAX_CAPLEN, MAX_CAPLEN + 1, 0x0A0D0D0A, 0x1A2B3C4D, 0x4D3C2B1A, 6, 3, 2]


@st.composite
def mutated(draw):
    data = bytearray(draw(st.sampled_from(VALID)))
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["byte", "u32", "cut", "insert", "delete"]))
        pos = draw(st.integers(0, max(0, len(data) - 1)))
        if kind == "byte" and data:
            data[pos] = draw(st.integers(0, 255))
        elif kind == "u32":
            value = draw(st.sampled_from(NASTY_U32))
            data[pos:pos + 4] = struct.pack(draw(st.sampled_from(["<I", ">I"])), value)
        elif kind == "cut":
            del data[pos:]
        elif kind == "insert":
            data[pos:pos] = draw(st.binary(max_size=12))
        else:
            del data[pos:pos + draw(st.integers(1, 16))]
    return bytes(data)


FUZZ = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(st.binary(max_size=200))
def test_fuzz_random_bytes(data):
    check_only_parse_errors(data)


@FUZZ
@given(st.sampled_from([craft.pcap([])[:24], craft.shb(), craft.shb(">")]), st.binary(max_size=200))
def test_fuzz_valid_header_then_random_bytes(header, tail):
    check_only_parse_errors(header + tail)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_fuzz_mutations_of_valid_files(data):
    check_only_parse_errors(data)


@pytest.mark.parametrize("data", VALID)
def test_valid_fuzz_seeds_read_cleanly(data):
    records, error = outcome(lambda: io.BytesIO(data))
    assert error is None and records


# ---------------------------------------------------------------- memory

def test_reading_uses_a_bounded_buffer(tmp_path):
    # ~20 MB of 1500-byte records; the reader must hold about one chunk,
    # not the file.
    frame = craft.frame(0, 1500)
    record = struct.pack("<IIII", 0, 0, 1500, 1500) + frame
    path = tmp_path / "big.pcap"
    n = 20 * 1024 * 1024 // len(record)
    with open(path, "wb") as f:
        f.write(PCAP_HEADER)
        for _ in range(n // 1000):
            f.write(record * 1000)
    size = path.stat().st_size
    tracemalloc.start()
    try:
        count = sum(1 for _ in read_packets(path))
        _, peak_records = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        batched = sum(len(b) for _, b in iter_batches(path, batch_size=256))
        _, peak_batches = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == batched == n // 1000 * 1000
    assert peak_records < 4 * 1024 * 1024 < size / 4, peak_records
    assert peak_batches < 4 * 1024 * 1024, peak_batches
