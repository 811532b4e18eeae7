"""The C record walk (bpfcheck/fast/native.py, pcapwalk.c) finds exactly
what the Python walk finds, on any bytes; it is built once into a cache,
never loaded when someone else could have written it, and its absence
only costs speed."""

import os
import random
import stat
import struct
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pcapio_craft as craft
from bpfcheck import pcapchunks
from bpfcheck.fast import native
from bpfcheck.pcapio import iter_chunks, read_packets

np = pytest.importorskip("numpy")


@pytest.fixture(scope="module")
def c_walk():
    if native.walker() is None:
        pytest.skip(f"the C walk is not built here: {native.failure()}")
    return native.walker()


def both_walks(data: bytes, order: str):
    """(C, Python) answers for one buffer: heads, caplens, wirelens, end."""
    store = bytearray(data) + bytearray(8)
    array = np.frombuffer(store, dtype=np.uint8)
    words = np.ndarray(buffer=store, dtype=np.dtype(order + "u4"), shape=(len(store) - 3,), strides=(1,))
    c = pcapchunks._native_walk(np, array, order)(0, len(data))
    py = pcapchunks._python_walk(np, store, words, order)(0, len(data))
    return ([a.tolist() for a in c[:3]] + [c[3]]), ([a.tolist() for a in py[:3]] + [py[3]])


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=400), order=st.sampled_from("<>"))
def test_the_c_walk_is_the_python_walk_on_any_bytes(c_walk, data, order):
    c, py = both_walks(data, order)
    assert c == py


@settings(max_examples=100, deadline=None)
@given(sizes=st.lists(st.integers(0, 70), max_size=40), cut=st.integers(0, 90), order=st.sampled_from("<>"))
def test_the_c_walk_on_real_records_cut_anywhere(c_walk, sizes, cut, order):
    data = craft.pcap([(0, 0, bytes([n]) * n, n + 3) for n in sizes], order=order)[24:]
    data = data[:max(0, len(data) - cut)]
    c, py = both_walks(data, order)
    assert c == py
    # and it is right, not merely the same: every whole record, in order
    expected, stop = [], 0
    for n in sizes:
        stop += 16 + n
        if stop > len(data):
            break
        expected.append(n)
    assert c[1] == expected and c[2] == [n + 3 for n in expected]
    assert c[3] == sum(16 + n for n in expected)


def test_lengths_near_the_top_of_32_bits_do_not_wrap(c_walk):
    for incl in (0xFFFFFFFF, 0xFFFFFFF0, 0x80000000, 0x7FFFFFFF):
        data = struct.pack("<IIII", 0, 0, 4, 4) + b"abcd" + struct.pack("<IIII", 0, 0, incl, incl) + b"x" * 64
        c, py = both_walks(data, "<")
        assert c == py == [[16], [4], [4], 20]


def test_a_walk_stopped_at_its_limit_goes_on(c_walk, monkeypatch, tmp_path):
    # Empty records are 16 bytes each: a buffer holds far more than the
    # walk's arrays, and every one must still come out, once, in order.
    monkeypatch.setattr(pcapchunks, "WALK_LIMIT", 7)
    records = [(i, 0, bytes([i % 256]) * (i % 3), i % 3) for i in range(500)]
    data = craft.pcap(records)
    path = tmp_path / "tiny.pcap"
    path.write_bytes(data)
    got = []
    for chunk in iter_chunks(str(path), max_records=5, buffer_size=1 << 12):
        raw = chunk.buffer.tobytes()
        got += [raw[s:s + n] for s, n in zip(chunk.starts.tolist(), chunk.caplens.tolist())]
    assert got == [r[2] for r in records]


def test_reading_ahead_leaves_no_thread_behind(tmp_path):
    rng = random.Random(2)
    data = craft.pcap([(0, 0, bytes(rng.randrange(256) for _ in range(n)), n)
                       for n in (rng.randrange(200) for _ in range(3000))])
    path = tmp_path / "ahead.pcap"
    path.write_bytes(data)
    before = threading.active_count()
    chunks = iter_chunks(str(path), max_records=100, buffer_size=4096)
    next(chunks)
    next(chunks)
    chunks.close()          # the caller stops early (an interrupt, an error)
    assert threading.active_count() == before
    total = sum(len(c) for c in iter_chunks(str(path), max_records=100, buffer_size=4096))
    assert total == 3000 == sum(1 for _ in read_packets(str(path)))
    assert threading.active_count() == before


# --- building and loading ------------------------------------------------------------
@pytest.fixture
def fresh_cache(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv("BPFCHECK_CACHE", str(cache))
    monkeypatch.delenv("BPFCHECK_NATIVE", raising=False)
    monkeypatch.setattr(native, "_tried", False)
    monkeypatch.setattr(native, "_loaded", None)
    monkeypatch.setattr(native, "_failure", None)
    return cache


def test_built_once_into_the_cache_private_to_its_owner(fresh_cache):
    if native.compiler() is None:
        pytest.skip("no C compiler here")
    path = native.build()
    assert os.path.dirname(path) == str(fresh_cache)
    mode = os.stat(path).st_mode
    assert not mode & 0o022 and stat.S_IMODE(os.stat(fresh_cache).st_mode) == 0o700
    built = os.stat(path).st_mtime_ns
    assert native.build() == path and os.stat(path).st_mtime_ns == built   # cached, not rebuilt
    assert [n for n in os.listdir(fresh_cache) if n.startswith(".")] == []  # no partial files
    assert native.walker() is not None


def test_a_library_others_can_write_is_rebuilt_not_loaded(fresh_cache):
    if native.compiler() is None:
        pytest.skip("no C compiler here")
    path = native.build()
    with open(path, "wb") as f:
        f.write(b"not a library")
    os.chmod(path, 0o666)
    assert native.build() == path
    assert not os.stat(path).st_mode & 0o022 and open(path, "rb").read(4) == b"\x7fELF"


def test_no_compiler_means_the_python_walk_with_the_reason(fresh_cache, monkeypatch, tmp_path):
    monkeypatch.setenv("CC", "/bin/false")
    assert native.walker() is None
    assert "/bin/false failed" in native.failure()
    data = craft.pcap([(0, 0, b"abc", 3), (1, 0, b"", 0)])
    path = tmp_path / "two.pcap"
    path.write_bytes(data)
    chunk = next(iter_chunks(str(path)))
    assert chunk.caplens.tolist() == [3, 0] and len(chunk) == 2


def test_switched_off_by_the_environment(fresh_cache, monkeypatch):
    monkeypatch.setenv("BPFCHECK_NATIVE", "0")
    assert native.walker() is None and not os.path.exists(fresh_cache)
