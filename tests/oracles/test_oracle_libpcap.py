"""libpcap through ctypes: the compiler against tcpdump, the guarded
interpreter, and libpcap 1.10.3's measured behaviour (so that a libpcap
upgrade that changes any of it fails here, loudly)."""

import os
import re
import shutil
import struct
import subprocess
import time

import pytest

from bpfcheck import isa
from bpfcheck.errors import CompileError, ExecutionError, UsageError
from bpfcheck.oracles._fork import Child
from bpfcheck.oracles._pcapguard import HANDLED_OPCODES
from bpfcheck.program import Program

pytestmark = pytest.mark.libpcap
AD = isa.SKF_AD_OFF
RET_A = (0x16, 0, 0, 0)


def P(*insns):
    return Program(list(insns))


def ret(k):
    return (0x06, 0, 0, k)


def raw_filter(pcap, program, packet=b"", wirelen=None, timeout=2.0):
    """libpcap's own bpf_filter, unguarded, in a forked child: the verdict,
    or 'SIGABRT'/'SIGSEGV'/..., or 'timeout'."""
    lib = pcap._load()
    raw = Program(program).to_bytes()
    wl = len(packet) if wirelen is None else wirelen

    def work(fd):
        os.write(fd, struct.pack("<I", lib.bpf_filter(raw, packet, wl, len(packet))))

    with Child(work) as child:
        data = child.read_exact(4, timeout)
        if data is None:
            return "timeout"
        status = child.wait(timeout)
        if len(data) == 4:
            return struct.unpack("<I", data)[0]
        return f"SIG{__import__('signal').Signals(os.WTERMSIG(status)).name[3:]}"


# --- the compiler ---------------------------------------------------------------
def tcpdump_dd(expr, linktype):
    """`tcpdump -y LINKTYPE -dd EXPR`, parsed here from its `{ code, jt, jf, k },` lines."""
    out = subprocess.run(["tcpdump", "-y", linktype, "-dd", expr], capture_output=True,
                         text=True, timeout=20)
    if out.returncode != 0:
        pytest.skip(f"tcpdump cannot compile here: {out.stderr.strip()}")
    insns = []
    for line in out.stdout.splitlines():
        m = re.fullmatch(r"\{\s*(0x[0-9a-f]+),\s*(\d+),\s*(\d+),\s*(0x[0-9a-f]+)\s*\},?", line.strip())
        assert m, f"unexpected tcpdump -dd line {line!r}"
        insns.append((int(m[1], 16), int(m[2]), int(m[3]), int(m[4], 16)))
    return Program(insns)


@pytest.mark.skipif(shutil.which("tcpdump") is None, reason="tcpdump is not installed")
@pytest.mark.parametrize("expr,linktype", [
    ("tcp port 80", "EN10MB"),
    ("ip", "EN10MB"),
    ("arp or icmp", "EN10MB"),
    ("vlan and udp", "EN10MB"),
    ("ip6 protochain 6", "EN10MB"),
    ("ether host 01:02:03:04:05:06", "EN10MB"),
    ("ip[2:2] > 576 and tcp[tcpflags] & tcp-syn != 0", "EN10MB"),
    ("ip", "RAW"),
    ("tcp dst port 22", "LINUX_SLL"),
    ("udp", "LINUX_SLL2"),
])
def test_compile_matches_tcpdump(pcap, expr, linktype):
    assert pcap.compile(expr, linktype=linktype) == tcpdump_dd(expr, linktype)


def test_compile_errors_carry_libpcap_text(pcap):
    with pytest.raises(CompileError, match="syntax error"):
        pcap.compile("tcp port 80 and")
    with pytest.raises(CompileError, match="illegal port number 99999 > 65535"):
        pcap.compile("port 99999")
    with pytest.raises(CompileError, match="VLAN"):
        pcap.compile("vlan", linktype="LINUX_SLL2")


def test_linktypes(pcap):
    assert pcap.linktype_value("EN10MB") == 1 == pcap.linktype_value("DLT_EN10MB") == pcap.linktype_value(1)
    assert pcap.linktype_value("RAW") == 12
    assert pcap.linktype_value("LINUX_SLL") == 113 and pcap.linktype_value("LINUX_SLL2") == 276
    assert pcap.linktype_value("NULL") == 0 and pcap.linktype_value("IEEE802_11") == 105
    with pytest.raises(UsageError, match="unknown link type"):
        pcap.linktype_value("NOPE")
    assert pcap.compile("ip", linktype="RAW") != pcap.compile("ip")
    assert len(pcap.compile("tcp", optimize=False)) > len(pcap.compile("tcp"))


def test_version_and_image(pcap):
    assert "libpcap version 1.10" in pcap.version()
    assert pcap.bpf_image((0x28, 0, 0, 12), 0) == "(000) ldh      [12]"
    assert pcap.bpf_image((0x0E, 0, 0, 0), 3) == "(003) unimp    0xe"
    assert pcap.bpf_image((0x30, 0, 0, AD + 48), 1) == "(001) ldb      [vlanp]"


# --- the interpreter on crafted packets --------------------------------------------
TCP80 = (bytes(12) + b"\x08\x00" + bytes.fromhex("45000028000100004006000001020304050607 08".replace(" ", ""))
         + bytes.fromhex("04d20050000000000000000050022000000000 00".replace(" ", "")))
UDP80 = TCP80[:23] + b"\x11" + TCP80[24:]


def test_bpf_filter_on_crafted_packets(pcap):
    prog = pcap.compile("tcp port 80")
    assert pcap.bpf_filter_many(prog, [TCP80, UDP80, b"", TCP80[:30]]) == [262144, 0, 0, 0]
    assert pcap.bpf_filter(P((0x80, 0, 0, 0), RET_A), b"abc", wirelen=1000) == 1000
    # loads are bounded by the captured bytes, whatever the wire length
    assert pcap.bpf_filter(P((0x30, 0, 0, 3), ret(1)), b"abc", wirelen=1000) == 0
    assert pcap.bpf_filter(P((0x30, 0, 0, 2), RET_A), b"abc", wirelen=1000) == ord("c")


def test_validate(pcap):
    assert pcap.bpf_validate(pcap.compile("tcp"))
    assert not pcap.bpf_validate(P())
    assert not pcap.bpf_validate(P((0x15, 5, 0, 0), ret(1)))
    assert not pcap.bpf_validate(P(ret(1), (0x00, 0, 0, 0)))
    # 1.10.3's validator checks class and mode, not the opcode:
    assert pcap.bpf_validate(P((0x0E, 0, 0, 0)))                 # ret x
    assert pcap.bpf_validate(P((0x08, 0, 0, 0), ret(1)))         # ldh #k
    assert pcap.bpf_validate(P((0x106, 0, 0, 0)))                # bits above 0xff
    assert pcap.bpf_validate(P((0x05, 0, 0, 0xFFFFFFFF), ret(1)))  # ja -1
    assert pcap.bpf_validate(P((0x64, 0, 0, 32), ret(1)))        # lsh #32
    assert not pcap.bpf_validate(P((0x34, 0, 0, 0), ret(1)))     # div #0
    assert not pcap.bpf_validate(P((0x60, 0, 0, 16), RET_A))     # M[16]


# --- the guards -----------------------------------------------------------------------
@pytest.mark.parametrize("program,pc,reason", [
    (P((0x0E, 0, 0, 0)), 0, "opcode 0x0e makes libpcap 1.10.3 abort"),
    (P((0x08, 0, 0, 0), ret(1)), 0, "opcode 0x08"),
    (P((0x8C, 0, 0, 0), ret(1)), 0, "opcode 0x8c"),
    (P((0x106, 0, 0, 0), ret(1)), 0, "opcode 0x106"),
    (P((0x00, 0, 0, 1), (0x34, 0, 0, 0), ret(1)), 1, "div #0"),
    (P((0x94, 0, 0, 0), ret(1)), 0, "mod #0"),
    (P((0x02, 0, 0, 16), ret(1)), 0, "st M[16]"),
    (P((0x61, 0, 0, 0x10000000), ret(1)), 0, "outside the 16"),
    (P((0x00, 0, 0, 1),), None, "runs past the end"),
    (P((0x15, 200, 200, 0), ret(1)), None, "runs past the end"),
    (P((0x05, 0, 0, 1000), ret(1)), 0, "ja jumps outside"),
    (P(ret(1), (0x05, 0, 0, 0xFFFFFFF0), ret(1)), None, None),     # unreachable: no error
    (P((0x05, 0, 0, 0xFFFFFFFF), ret(1)), 0, "loops forever"),
])
def test_guards_name_the_pc_instead_of_crashing(pcap, program, pc, reason):
    if reason is None:
        assert pcap.bpf_filter(program, b"xyz") == 1
        return
    with pytest.raises(ExecutionError, match=re.escape(reason)) as info:
        pcap.bpf_filter(program, b"xyz")
    assert info.value.pc == pc


def test_a_hazard_only_counts_when_the_run_reaches_it(pcap):
    prog = P((0x30, 0, 0, 0), (0x15, 0, 1, 1), (0x0E, 0, 0, 0), ret(5))
    out = pcap.bpf_filter_many(prog, [b"\x00", b"\x01", b"\x02"], errors="return")
    assert out[0] == 5 and out[2] == 5
    assert isinstance(out[1], ExecutionError) and out[1].pc == 2
    with pytest.raises(ExecutionError):
        pcap.bpf_filter_many(prog, [b"\x00", b"\x01"])
    # a program that returns the sentinel values itself is not confused
    for v in (0xB0F10000, 0xB0F10001, 0xB0E20000):
        assert pcap.bpf_filter(P((0x0E, 0, 0, 0), ret(v))[1:], b"") == v
        assert pcap.bpf_filter(P((0x00, 0, 0, v), (0x15, 0, 1, 0), (0x0E, 0, 0, 0), RET_A), b"") == v


def test_backward_ja_loop_is_bounded(pcap):
    loop = P((0x00, 0, 0, 1), (0x05, 0, 0, 0xFFFFFFFE), ret(1))      # ja back to 0: forever
    start = time.monotonic()
    with pytest.raises(ExecutionError, match="libpcap loops forever"):
        pcap.bpf_filter(loop, b"", timeout=0.2)
    assert time.monotonic() - start < 2.0
    assert pcap.may_loop(loop)
    # the batch survives: the looping packet is reported, the others run
    cond = P((0x30, 0, 0, 0), (0x15, 1, 0, 0), ret(9), (0x05, 0, 0, 0xFFFFFFFB))
    out = pcap.bpf_filter_many(cond, [b"\x01", b"\x00", b"\x02"], errors="return", timeout=0.2)
    assert out[0] == 9 and out[2] == 9 and isinstance(out[1], ExecutionError)


def test_protochain_runs_with_its_backward_jumps(pcap):
    prog = pcap.compile("ip6 protochain 6")
    assert pcap.may_loop(prog)
    tcp6 = bytes(12) + b"\x86\xdd" + bytes.fromhex("6000000000140640") + bytes(32) + bytes(20)
    udp6 = tcp6[:20] + b"\x11" + tcp6[21:]
    hop_then_tcp = (bytes(12) + b"\x86\xdd" + bytes.fromhex("60000000001c0040") + bytes(32)
                    + bytes.fromhex("0600000000000000") + bytes(20))
    assert pcap.bpf_filter_many(prog, [tcp6, udp6, hop_then_tcp, b""]) == [262144, 0, 262144, 0]


def test_m_is_zeroed_by_the_guarded_run(pcap):
    dirty = P((0x00, 0, 0, 0xDEADBEEF), *[(0x02, 0, 0, i) for i in range(16)], RET_A)
    pcap.bpf_filter(dirty, b"")
    assert [pcap.bpf_filter(P((0x60, 0, 0, i), RET_A), b"") for i in range(16)] == [0] * 16


# --- libpcap 1.10.3 as measured ---------------------------------------------------------
def test_measured_the_opcodes_bpf_filter_handles(pcap):
    handled = set()
    for code in range(256):
        # k = 1 keeps div/mod away from SIGFPE; ja 0 and jumps 0/0 fall through
        k = 0 if code == 0x05 else 1
        if raw_filter(pcap, P((code, 0, 0, k), ret(1)), bytes(8)) != "SIGABRT":
            handled.add(code)
    assert handled == set(HANDLED_OPCODES)
    assert raw_filter(pcap, P((0x106, 0, 0, 0), ret(1))) == "SIGABRT"     # the code is 16 bits


def test_measured_crashes_and_loops(pcap):
    assert raw_filter(pcap, P((0x34, 0, 0, 0), ret(1))) == "SIGFPE"       # div #0
    assert raw_filter(pcap, P((0x3C, 0, 0, 0), ret(1))) == 0              # div x, X = 0
    assert raw_filter(pcap, P((0x02, 0, 0, 0x10000000), ret(1))) in ("SIGSEGV", "SIGBUS")
    assert raw_filter(pcap, P((0x05, 0, 0, 0xFFFFFFFF), ret(1)), timeout=0.3) == "timeout"


def test_measured_m_is_not_zeroed(pcap):
    lib = pcap._load()
    dirty = P((0x00, 0, 0, 0xDEADBEEF), *[(0x02, 0, 0, i) for i in range(16)], RET_A).to_bytes()
    lib.bpf_filter(dirty, b"", 0, 0)
    leftovers = [lib.bpf_filter(P((0x60, 0, 0, i), RET_A).to_bytes(), b"", 0, 0) for i in range(16)]
    assert 0xDEADBEEF in leftovers        # the previous call's cells show through


@pytest.mark.parametrize("k", [0, 1, 31, 32, 33, 63, 64, 0xFFFFFFFF])
def test_measured_shifts(pcap, k):
    a = 0x80000001
    # by a constant: x86 masks the count, so k >= 32 acts as k & 31
    assert pcap.bpf_filter(P((0x00, 0, 0, a), (0x64, 0, 0, k), RET_A), b"") == (a << (k & 31)) & isa.U32
    assert pcap.bpf_filter(P((0x00, 0, 0, a), (0x74, 0, 0, k), RET_A), b"") == a >> (k & 31)
    # by X: 1.10.3 checks, X >= 32 gives 0
    want_l = (a << k) & isa.U32 if k < 32 else 0
    want_r = a >> k if k < 32 else 0
    assert pcap.bpf_filter(P((0x00, 0, 0, a), (0x01, 0, 0, k), (0x6C, 0, 0, 0), RET_A), b"") == want_l
    assert pcap.bpf_filter(P((0x00, 0, 0, a), (0x01, 0, 0, k), (0x7C, 0, 0, 0), RET_A), b"") == want_r


@pytest.mark.parametrize("n", [0, 4, 8, 36, 44, 48, 52, 56, 60, 64])
@pytest.mark.parametrize("size", [0x20, 0x28, 0x30])
def test_measured_extension_loads_end_with_0(pcap, n, size):
    # no Linux extension in the userland interpreter: ldb [vlanp] and
    # ldb [vlan_tci] end with 0 (no aux data), the rest are out of bounds
    prog = P((0x00, 0, 0, 77), (size, 0, 0, AD + n), ret(5))
    assert pcap.bpf_filter(prog, bytes(1500)) == 0


@pytest.mark.parametrize("k", [0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFC, 0x80000000, 0x7FFFFFFF])
@pytest.mark.parametrize("code", [0x20, 0x28, 0x30, 0x40, 0x48, 0x50, 0xB1])
def test_measured_loads_near_2_32_do_not_wrap(pcap, code, k):
    assert pcap.bpf_filter(P((0x00, 0, 0, 77), (code, 0, 0, k), ret(5)), bytes(64)) == 0
    # nor does X + k: X = 2^32 - 4, k = 8 would wrap to 4
    assert pcap.bpf_filter(P((0x01, 0, 0, 0xFFFFFFFC), (0x50, 0, 0, 8), ret(5)), bytes(64)) == 0


def test_throughput(pcap, capsys):
    prog = pcap.compile("tcp port 80")
    packets = [TCP80, UDP80] * 50000
    start = time.perf_counter()
    pcap.bpf_filter_many(prog, packets)
    elapsed = time.perf_counter() - start
    with capsys.disabled():
        print(f"\n  libpcap oracle: {len(packets) / elapsed:,.0f} packets/s")
