"""Interoperability with the real tools: tcpdump reads what we write,
we read what tcpdump writes, and libpcap agrees on link-type names."""

from __future__ import annotations

import ctypes
import ctypes.util
import shutil
import subprocess

import pytest

import pcapio_craft as craft
from bpfcheck.pcapio import LINKTYPES, CaptureReader, PcapWriter, linktype_name, linktype_number, read_packets

TCPDUMP = shutil.which("tcpdump")
needs_tcpdump = pytest.mark.skipif(TCPDUMP is None, reason="tcpdump is not installed")


def tcpdump(*args) -> list:
    """tcpdump's output, one line per packet (hex dump lines dropped)."""
    done = subprocess.run([TCPDUMP, *args], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return [line for line in done.stdout.splitlines() if not line[:1].isspace()]


def ethernet_frames(n):
    # an Ethernet header with an unknown EtherType: one output line each
    return [b"\x02" * 6 + b"\x04" * 6 + b"\x88\xb5" + craft.frame(i, 46) for i in range(n)]


@needs_tcpdump
@pytest.mark.parametrize("nanosecond", [False, True])
def test_tcpdump_reads_what_we_write(tmp_path, nanosecond):
    path = tmp_path / "ours.pcap"
    with PcapWriter(path, nanosecond=nanosecond) as w:
        for i, frame in enumerate(ethernet_frames(25)):
            w.write(frame, wirelen=len(frame) + i, timestamp=(1700000000 + i, 123456789))
    lines = tcpdump("-r", str(path), "-n", "-tt", "-e", "--time-stamp-precision=nano")
    assert len(lines) == 25
    frac = "123456789" if nanosecond else "123456000"
    assert lines[3].startswith(f"1700000003.{frac} 04:04:04:04:04:04 > 02:02:02:02:02:02")
    assert "length 63" in lines[3]            # tcpdump prints the wire length


@needs_tcpdump
def test_we_read_what_tcpdump_writes(tmp_path):
    source, copy = tmp_path / "in.pcap", tmp_path / "out.pcap"
    frames = ethernet_frames(40)
    with PcapWriter(source, snaplen=65535) as w:
        for i, frame in enumerate(frames):
            w.write(frame, wirelen=1000 + i, timestamp=(1600000000 + i, 1000 * i))
    # tcpdump filters and rewrites: every third record kept, in its own format
    tcpdump("-r", str(source), "-w", str(copy), "ether[14:4] % 3 == 0")
    reader = CaptureReader(copy)
    recs = list(reader)
    assert (reader.linktype, reader.snaplen) == (1, 65535)
    assert [(r.data, r.wirelen, r.timestamp) for r in recs] == [
        (frames[i], 1000 + i, (1600000000 + i, 1000 * i)) for i in range(0, 40, 3)]


@needs_tcpdump
def test_tcpdump_reads_our_pcapng_crafts_the_same_way(tmp_path):
    # libpcap wants one link type per file, but resolutions may differ:
    # both readers must turn the units into the same times.
    path = tmp_path / "two.pcapng"
    frames = ethernet_frames(3)
    path.write_bytes(b"".join([
        craft.shb(">"), craft.idb(1, order=">"), craft.idb(1, tsresol=9, order=">"),
        craft.idb(1, tsresol=0x80 | 20, order=">"),
        craft.epb(0, 1_700_000_000_654_321, frames[0], order=">"),
        craft.epb(1, 1_700_000_001_987_654_321, frames[1], order=">"),
        craft.epb(2, (1_700_000_002 << 20) | (1 << 19), frames[2], wirelen=1514, order=">"),
    ]))
    lines = tcpdump("-r", str(path), "-n", "-tt", "--time-stamp-precision=nano")
    ours = [f"{r.timestamp[0]}.{r.timestamp[1]:09d}" for r in read_packets(path)]
    assert ours == ["1700000000.654321000", "1700000001.987654321", "1700000002.500000000"]
    assert [line.split()[0] for line in lines] == ours


def _libpcap():
    name = ctypes.util.find_library("pcap") or "libpcap.so.0.8"
    try:
        lib = ctypes.CDLL(name)
    except OSError:
        pytest.skip("libpcap is not installed")
    lib.pcap_datalink_name_to_val.restype = ctypes.c_int
    lib.pcap_datalink_name_to_val.argtypes = [ctypes.c_char_p]
    return lib


# where the DLT value (what libpcap's names map to) is not the LINKTYPE
# number stored in files, and a LINKTYPE libpcap has no name for
_DLT_DIFFERS = {"RAW": 12, "ATM_RFC1483": 11, "AX25": -1}


def test_linktype_names_agree_with_libpcap():
    lib = _libpcap()
    for name, number in LINKTYPES.items():
        assert lib.pcap_datalink_name_to_val(name.encode()) == _DLT_DIFFERS.get(name, number), name


def test_linktype_names_and_aliases():
    assert linktype_number("EN10MB") == linktype_number("ethernet") == linktype_number("DLT_EN10MB") == 1
    assert linktype_number("LINKTYPE_ETHERNET") == 1 and linktype_number(" raw ") == 101
    assert (linktype_number("LINUX_SLL"), linktype_number("LINUX_SLL2"), linktype_number("NULL"),
            linktype_number("LOOP"), linktype_number("IEEE802_11"), linktype_number("IEEE802_11_RADIO"),
            linktype_number("IPV4"), linktype_number("IPV6"), linktype_number("PPP")) == \
        (113, 276, 0, 108, 105, 127, 228, 229, 9)
    assert linktype_number(276) == 276 and linktype_number("147") == 147
    assert linktype_name(101) == linktype_name(12) == linktype_name(14) == "RAW"
    assert linktype_name(1) == "EN10MB" and linktype_name(4000) == "LINKTYPE_4000"
    for bad in ("NOPE", -1, 70000, True, None, 1.0):
        with pytest.raises(ValueError):
            linktype_number(bad)
