"""Reading pcap and pcapng: every magic, byte order, block kind and
timestamp resolution, from files, streams and dribbling pipes."""

from __future__ import annotations

import io
import os
import struct
import threading

import pytest

import pcapio_craft as craft
from bpfcheck.pcapio import (CaptureError, CaptureReader, Interface, PcapWriter, Record,
                             iter_batches, read_packets)


def records_of(data: bytes, **kw):
    return list(read_packets(io.BytesIO(data), **kw))


def summary(recs):
    return [(r.data, r.wirelen, r.linktype, r.timestamp, r.interface) for r in recs]


# ---------------------------------------------------------------- pcap

@pytest.mark.parametrize("order", ["<", ">"])
@pytest.mark.parametrize("nanosecond", [False, True])
def test_every_pcap_magic_and_byte_order(order, nanosecond):
    frac = 123456789 if nanosecond else 123456
    data = craft.pcap([(1700000000, frac, craft.frame(1), 60),
                       (1700000001, 0, craft.frame(2, 14), 1514),
                       (0, 0, b"", 0)], order=order, nanosecond=nanosecond, linktype=113)
    reader = CaptureReader(io.BytesIO(data))
    assert (reader.format, reader.linktype, reader.nanosecond) == ("pcap", 113, nanosecond)
    recs = list(reader)
    assert summary(recs) == [
        (craft.frame(1), 60, 113, (1700000000, 123456789 if nanosecond else 123456000), 0),
        (craft.frame(2, 14), 1514, 113, (1700000001, 0), 0),
        (b"", 0, 113, (0, 0), 0),
    ]
    assert [r.number for r in recs] == [1, 2, 3]
    assert [r.offset for r in recs] == [24, 24 + 16 + 60, 24 + 16 + 60 + 16 + 14]
    assert recs[0].time == pytest.approx(1700000000.123456, abs=1e-6)


def test_pcap_linktype_keeps_low_16_bits():
    # the top bits of the header's link type carry the FCS length
    data = craft.pcap([(0, 0, b"x", 1)], linktype=0x14000000 | 105)
    assert CaptureReader(io.BytesIO(data)).linktype == 105


def test_empty_pcap_has_no_records():
    assert records_of(craft.pcap([])) == []


def test_hostile_subsecond_field_is_carried_not_trusted():
    data = craft.pcap([(10, 2_500_000, b"x", 1)])          # 2.5 s of microseconds
    assert records_of(data)[0].timestamp == (12, 500_000_000)


# ---------------------------------------------------------------- pcapng

TWO_INTERFACE_RECORDS = [
    (craft.frame(1), 60, 1, (1_700_000_000, 250_000_000), 0),
    (craft.frame(2, 41), 1500, 101, (105, 7), 1),
    (craft.frame(3, 20), 20, 228, (3, 500_000_000), 2),
    (craft.frame(4, 33), 33, 1, None, 0),
    (craft.frame(5, 9), 9, 101, (100, 7), 1),
]


@pytest.mark.parametrize("order", ["<", ">"])
def test_pcapng_interfaces_resolutions_and_block_kinds(order):
    reader = CaptureReader(io.BytesIO(craft.two_interface_file(order)))
    assert (reader.format, reader.linktype) == ("pcapng", 1)
    recs = list(reader)
    assert summary(recs) == TWO_INTERFACE_RECORDS
    assert [r.number for r in recs] == [1, 2, 3, 4, 5]
    assert reader.interfaces == [Interface(1, 0, 10**6, 0, 0), Interface(101, 65535, 10**9, 100, 0),
                                 Interface(228, 0, 1024, 0, 0)]


def test_pcapng_sections_switch_byte_order_and_restart_interface_ids():
    data = (craft.shb("<") + craft.idb(1) + craft.epb(0, 1, b"little")
            + craft.shb(">") + craft.idb(101, order=">") + craft.epb(0, 2, b"big", order=">")
            + craft.shb("<") + craft.idb(229) + craft.idb(1) + craft.epb(1, 3, b"third"))
    recs = records_of(data)
    assert [(r.data, r.linktype, r.interface) for r in recs] == [
        (b"little", 1, 0), (b"big", 101, 1), (b"third", 1, 3)]
    assert [i.section for i in CaptureReader(io.BytesIO(data)).interfaces] == [0]   # lazily read


def test_spb_is_cut_at_the_interface_snaplen():
    data = craft.shb() + craft.idb(1, snaplen=16) + craft.spb(craft.frame(1, 16), wirelen=60)
    rec = records_of(data)[0]
    assert (rec.data, rec.wirelen) == (craft.frame(1, 16), 60)


def test_tsresol_finer_than_nanoseconds_truncates():
    data = craft.shb() + craft.idb(1, tsresol=12) + craft.epb(0, 1_999_999_999_999, b"x")
    assert records_of(data)[0].timestamp == (1, 999_999_999)


def test_pcapng_without_packets():
    data = craft.shb() + craft.idb(105)
    reader = CaptureReader(io.BytesIO(data))
    assert reader.linktype == 105 and list(reader) == []
    assert CaptureReader(io.BytesIO(craft.shb())).linktype is None


# ---------------------------------------------------------------- batches

def test_batches_match_records_and_split_on_linktype():
    data = craft.two_interface_file()
    batches = list(iter_batches(io.BytesIO(data), batch_size=2))
    assert [(lt, [w for _, w in b]) for lt, b in batches] == [
        (1, [60]), (101, [1500]), (228, [20]), (1, [33]), (101, [9])]
    pcap = craft.pcap([(0, 0, craft.frame(i, i % 70), 100 + i) for i in range(11)])
    batches = list(iter_batches(io.BytesIO(pcap), batch_size=4))
    assert [len(b) for _, b in batches] == [4, 4, 3]
    assert [x for _, b in batches for x in b] == [(r.data, r.wirelen) for r in records_of(pcap)]


@pytest.mark.parametrize("batch_size", [1, 3, 65536])
def test_pcapng_batches_of_many_epbs(batch_size):
    data = craft.shb() + craft.idb(1) + craft.idb(1) + b"".join(
        craft.epb(i % 2, i, craft.frame(i, 50 + i % 7)) for i in range(50))
    got = [x for _, b in iter_batches(io.BytesIO(data), batch_size=batch_size) for x in b]
    assert got == [(craft.frame(i, 50 + i % 7), 50 + i % 7) for i in range(50)]
    assert all(len(b) <= batch_size for _, b in iter_batches(io.BytesIO(data), batch_size=batch_size))


# ---------------------------------------------------------------- streams

@pytest.mark.parametrize("make", [craft.two_interface_file,
                                  lambda: craft.pcap([(i, i, craft.frame(i, i * 3), i * 3) for i in range(40)])])
@pytest.mark.parametrize("step", [1, 7, 4096])
def test_dribbling_pipe_and_tiny_chunks_give_the_same_records(make, step):
    data = make()
    expected = summary(records_of(data))
    assert summary(read_packets(craft.Dribble(data, step), chunk=64)) == expected
    assert [x for _, b in iter_batches(craft.Dribble(data, step), chunk=64, batch_size=5) for x in b] == \
        [(d, w) for d, w, *_ in expected]


def test_reads_from_a_real_pipe_and_from_stdin(monkeypatch):
    data = craft.pcap([(1, 2, craft.frame(i), 60) for i in range(1000)])
    r, w = os.pipe()

    def feed():
        with os.fdopen(w, "wb") as f:
            f.write(data)
    t = threading.Thread(target=feed)
    t.start()
    with os.fdopen(r, "rb") as f:
        assert len(list(read_packets(f))) == 1000
    t.join()

    class FakeStdin:
        buffer = io.BytesIO(data)
    monkeypatch.setattr("sys.stdin", FakeStdin)
    assert len(list(read_packets("-"))) == 1000


def test_text_streams_are_refused():
    with pytest.raises(CaptureError, match="binary"):
        CaptureReader(io.StringIO("hello"))


def test_reader_closes_files_it_opened(tmp_path):
    path = tmp_path / "x.pcap"
    path.write_bytes(craft.pcap([(0, 0, b"a", 1)]))
    with CaptureReader(path) as reader:
        assert [r.data for r in reader] == [b"a"]
        f = reader._file
    assert f.closed
    with pytest.raises(RuntimeError, match="once"):
        iter(reader)


def test_missing_file_is_a_capture_error(tmp_path):
    with pytest.raises(CaptureError, match="cannot open"):
        read_packets(tmp_path / "nope.pcap")


# ---------------------------------------------------------------- writer

@pytest.mark.parametrize("nanosecond", [False, True])
def test_writer_round_trip(tmp_path, nanosecond):
    path = tmp_path / "w.pcap"
    with PcapWriter(path, linktype="LINUX_SLL2", snaplen=100, nanosecond=nanosecond) as w:
        w.write(b"abc")
        w.write(b"x" * 150, timestamp=(1700000000, 123456789))
        w.write(b"", wirelen=9000, timestamp=1.5)
        w.write(bytearray(b"yz"))
    recs = list(read_packets(path))
    frac = 123456789 if nanosecond else 123456000
    assert summary(recs) == [
        (b"abc", 3, 276, (0, 0), 0),
        (b"x" * 100, 150, 276, (1700000000, frac), 0),     # cut at snaplen, wirelen kept
        (b"", 9000, 276, (1, 500_000_000), 0),
        (b"yz", 2, 276, (0, 3000), 0),                    # default: index in µs
    ]
    reader = CaptureReader(path)
    assert (reader.snaplen, reader.nanosecond, reader.version) == (100, nanosecond, (2, 4))
    reader.close()


def test_writer_rejects_inconsistent_records(tmp_path):
    with PcapWriter(tmp_path / "w.pcap") as w:
        with pytest.raises(ValueError, match="wirelen"):
            w.write(b"abcd", wirelen=3)
        with pytest.raises(ValueError, match="32-bit"):
            w.write(b"a", timestamp=-1)
    with pytest.raises(ValueError, match="link type"):
        PcapWriter(io.BytesIO(), linktype="NOT_A_LINK")
    with pytest.raises(ValueError, match="atomic"):
        PcapWriter(io.BytesIO(), atomic=True)


def test_writer_to_a_stream_and_stdout(capsysbinary):
    buf = io.BytesIO()
    with PcapWriter(buf) as w:
        w.write(b"hello")
    assert [r.data for r in records_of(buf.getvalue())] == [b"hello"]
    with PcapWriter("-") as w:
        w.write(b"out")
    assert [r.data for r in records_of(capsysbinary.readouterr().out)] == [b"out"]


def test_atomic_writer_appears_only_when_complete(tmp_path):
    path = tmp_path / "result.pcap"
    w = PcapWriter(path, atomic=True)
    w.write(b"partial")
    assert not path.exists()
    w.close()
    assert [r.data for r in read_packets(path)] == [b"partial"]
    mask = os.umask(0)
    os.umask(mask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~mask

    with pytest.raises(KeyError):
        with PcapWriter(path, atomic=True) as w:
            w.write(b"doomed")
            raise KeyError("interrupted")
    assert [r.data for r in read_packets(path)] == [b"partial"]    # the old file survives
    assert sorted(p.name for p in tmp_path.iterdir()) == ["result.pcap"]  # no temp file left


def test_record_is_a_plain_value():
    rec = Record(b"a", 1, 1, (2, 3), 0, 1, 24)
    assert rec == Record(b"a", 1, 1, (2, 3), 0, 1, 24)
    assert rec.time == 2.000000003
    assert Record(b"", 0, 1, None, 0, 1, 0).time is None


def test_pcap_header_struct_matches_libpcap_layout():
    # 24-byte header, 16-byte record header: what every reader expects
    with PcapWriter(buf := io.BytesIO(), linktype=101) as w:
        w.write(b"1234")
    raw = buf.getvalue()
    assert struct.unpack("<IHHiIII", raw[:24]) == (0xA1B2C3D4, 2, 4, 0, 0, 262144, 101)
    assert struct.unpack("<IIII", raw[24:40]) == (0, 0, 4, 4) and raw[40:] == b"1234"
