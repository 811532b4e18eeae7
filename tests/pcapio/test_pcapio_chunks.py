"""The numpy chunk reader (``iter_chunks``, ``CaptureReader.chunks``) gives
exactly the records, the errors and the truncation notes of the plain
record reader, whatever the byte order, timestamp unit, buffer size,
stream granularity or record layout -- with the C walk and with the
Python one, reading a file on a second thread or a stream in one."""

import io
import random
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pcapio_craft as craft
from bpfcheck.pcapio import (CHUNK_BUFFER, DEFAULT_CHUNK, CaptureError, CaptureReader, iter_batches,
                             iter_chunks, read_packets)

np = pytest.importorskip("numpy")


@pytest.fixture(autouse=True, params=["c-walk", "python-walk"])
def walk(request, monkeypatch):
    from bpfcheck.fast import native
    if request.param == "python-walk":
        monkeypatch.setenv("BPFCHECK_NATIVE", "0")
    else:
        monkeypatch.setenv("BPFCHECK_NATIVE", "1")
        if native.walker() is None:
            pytest.skip(f"the C walk is not built here: {native.failure()}")
    return request.param


def on_disk(tmp_path, data, name="in.pcap"):
    """A path: the reader owns the file and reads it ahead on a thread."""
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def chunked(source, **kw):
    """(records as (data, wirelen), chunk lengths) through the chunk reader,
    each chunk read before the next is asked for (the buffer is reused)."""
    records, sizes, number = [], [], 1
    for chunk in iter_chunks(source, **kw):
        assert chunk.first == number
        raw = chunk.buffer.tobytes()
        for s, n, w in zip(chunk.starts.tolist(), chunk.caplens.tolist(), chunk.wirelens.tolist()):
            records.append((raw[s:s + n], w))
        sizes.append(len(chunk))
        number += len(chunk)
    return records, sizes


def reference(source, **kw):
    return [(r.data, r.wirelen) for r in read_packets(source, **kw)]


def varied_capture(count, order="<", nanosecond=False, seed=1, largest=1500):
    rng = random.Random(seed)
    records = []
    for i in range(count):
        size = rng.choice([0, 1, 14, 15, 16, 17, 60, 61, 62, 63, 64, rng.randrange(largest + 1)])
        data = bytes(rng.randrange(256) for _ in range(size))
        records.append((1000 + i, i % (10**9 if nanosecond else 10**6), data, size + rng.randrange(3)))
    return craft.pcap(records, order=order, nanosecond=nanosecond)


@pytest.mark.parametrize("order", ["<", ">"])
@pytest.mark.parametrize("nanosecond", [False, True], ids=["us", "ns"])
@pytest.mark.parametrize("make", ["bytes", "dribble", "file"])
def test_records_straddling_buffers_are_the_plain_readers(order, nanosecond, make, tmp_path):
    data = varied_capture(400, order, nanosecond)
    source = {"bytes": io.BytesIO, "dribble": lambda d: craft.Dribble(d, 1000),
              "file": lambda d: on_disk(tmp_path, d)}[make](data)
    # max_caplen 1500 makes the buffer 3032 bytes: most refills cut a record
    got, sizes = chunked(source, max_caplen=1500, buffer_size=64, max_records=37)
    assert got == reference(io.BytesIO(data))
    assert sum(sizes) == 400 and max(sizes) <= 37


def test_a_file_path_and_the_default_buffer(tmp_path):
    data = varied_capture(3000, seed=5)
    path = tmp_path / "in.pcap"
    path.write_bytes(data)
    got, sizes = chunked(str(path), max_records=1000)
    assert got == reference(str(path)) and sizes == [1000, 1000, 1000]


@settings(max_examples=60, deadline=None)
@given(sizes=st.lists(st.integers(0, 300), max_size=60), order=st.sampled_from("<>"),
       max_records=st.integers(1, 9), content=st.integers(0, 255))
def test_any_record_sizes(sizes, order, max_records, content):
    # Content that looks like headers (all the same byte, small lengths)
    # must not matter: records are found by walking the lengths only.
    records = [(0, 0, bytes([content]) * n, n) for n in sizes]
    data = craft.pcap(records, order=order)
    got, _ = chunked(craft.Dribble(data, 97), max_caplen=300, buffer_size=1, max_records=max_records)
    assert got == [(r[2], r[3]) for r in records]


def test_pcapng_goes_through_the_block_reader():
    data = craft.two_interface_file()
    want = [(r.linktype, r.data, r.wirelen) for r in read_packets(io.BytesIO(data))]
    got = []
    for chunk in iter_chunks(io.BytesIO(data)):
        raw = chunk.buffer.tobytes()
        got += [(chunk.linktype, raw[s:s + n], w) for s, n, w in
                zip(chunk.starts.tolist(), chunk.caplens.tolist(), chunk.wirelens.tolist())]
    assert got == want


def _error_of(fn):
    try:
        fn()
    except CaptureError as e:
        return str(e)
    return None


@pytest.mark.parametrize("cut", [3, 16 + 8, 16 + 30], ids=["in-header", "header-only", "in-data"])
@pytest.mark.parametrize("from_file", [False, True], ids=["stream", "file"])
def test_a_truncated_last_record(cut, from_file, tmp_path):
    data = varied_capture(50, seed=3)
    last = craft.pcap([(1, 2, b"x" * 40, 40)])[24:]
    data = data + last[:cut]
    # strict: the same one-line error as the other readers, after every whole record
    seen = []

    def consume():
        source = on_disk(tmp_path, data) if from_file else io.BytesIO(data)
        for chunk in iter_chunks(source, max_caplen=1500, buffer_size=1):
            seen.append(len(chunk))

    message = _error_of(consume)
    assert message is not None and "truncated record" in message
    assert message == _error_of(lambda: list(iter_batches(io.BytesIO(data))))
    assert sum(seen) == 50
    # not strict: the records, then the reason
    reader = CaptureReader(io.BytesIO(data), strict=False, max_caplen=1500)
    count = sum(len(c) for c in reader.chunks(buffer_size=1))
    plain = CaptureReader(io.BytesIO(data), strict=False, max_caplen=1500)
    assert count == sum(1 for _ in plain) == 50
    assert reader.truncated == plain.truncated and reader.truncated


@pytest.mark.parametrize("incl", [1501, 5000, 0xFFFFFFF0])
@pytest.mark.parametrize("from_file", [False, True], ids=["stream", "file"])
def test_a_length_over_the_limit_stops_at_that_record(incl, from_file, tmp_path):
    good = varied_capture(20, seed=4)
    bad = struct.pack("<IIII", 0, 0, incl, incl) + b"\0" * min(incl, 6000)
    data = good + bad + craft.pcap([(0, 0, b"after", 5)])[24:]
    seen = []

    def consume():
        source = on_disk(tmp_path, data) if from_file else io.BytesIO(data)
        for chunk in iter_chunks(source, max_caplen=1500, buffer_size=1 << 20):
            seen.append(len(chunk))

    message = _error_of(consume)
    assert "record 21" in message and f"captured length {incl}" in message
    assert message == _error_of(lambda: list(iter_batches(io.BytesIO(data), max_caplen=1500)))
    assert sum(seen) == 20


def test_the_buffer_is_bounded_whatever_the_file():
    # the buffer holds the largest record twice over, or what the file
    # header's read brought in (one read of ``chunk`` bytes), no more
    data = varied_capture(2000, seed=6)
    reader = CaptureReader(io.BytesIO(data), max_caplen=1500, chunk=64)
    chunks = 0
    for chunk in reader.chunks(buffer_size=1):
        assert len(chunk.buffer) == 2 * (16 + 1500) + 8
        chunks += 1
    assert chunks > 50
    for chunk in iter_chunks(io.BytesIO(data)):
        assert len(chunk.buffer) <= max(CHUNK_BUFFER, DEFAULT_CHUNK) + 8
