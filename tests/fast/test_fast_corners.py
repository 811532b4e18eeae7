"""Every guard and dialect corner, on every back end (VM, compiled, batch).

Verdicts on the path that does *not* end early are non-zero, so a fast
path that wrongly drops (or wrongly keeps) cannot pass by returning 0.
"""

import pytest

from bpfcheck import Context, ExecutionError, Program, SeccompData, isa
from bpfcheck.fast import compile_program

from fast_backends import answers, verdict

RET_A = (0x16, 0, 0, 0)
TAX, TXA = (0x07, 0, 0, 0), (0x87, 0, 0, 0)


def ret(k):
    return (0x06, 0, 0, k)


def ld_imm(k):
    return (0x00, 0, 0, k)


def ldx_imm(k):
    return (0x01, 0, 0, k)


def ld_abs(size, k):
    return (0x20 | size, 0, 0, k)


def ld_ind(size, k):
    return (0x40 | size, 0, 0, k)


W, H, B = 0x00, 0x08, 0x10
PKT = bytes(range(1, 65))


# --- division ---------------------------------------------------------------------
@pytest.mark.parametrize("target", ["socket", "pcap", "seccomp"])
@pytest.mark.parametrize("op", [0x3C, 0x9C])   # div x, mod x
def test_division_by_x_zero_ends_with_zero(target, op):
    if target == "seccomp" and op == 0x9C:
        pytest.skip("seccomp forbids mod")
    p = [ld_imm(77), ldx_imm(0), (op, 0, 0, 0), ret(5)]
    inp = SeccompData(0, 0) if target == "seccomp" else PKT
    assert verdict(p, inp, target=target) == 0
    p[1] = ldx_imm(7)
    assert verdict(p, inp, target=target) == 5


def test_division_results():
    p = [ld_imm(0xFFFFFFFF), ldx_imm(7), (0x3C, 0, 0, 0), RET_A]
    assert verdict(p, PKT) == 0xFFFFFFFF // 7
    p = [ld_imm(0xFFFFFFFF), ldx_imm(7), (0x9C, 0, 0, 0), RET_A]
    assert verdict(p, PKT) == 0xFFFFFFFF % 7


# --- bounds -------------------------------------------------------------------------
@pytest.mark.parametrize("size,nbytes", [(W, 4), (H, 2), (B, 1)])
@pytest.mark.parametrize("target", ["socket", "pcap"])
def test_absolute_load_at_the_last_fitting_offset_and_one_past(size, nbytes, target):
    n = 40
    packet = bytes(range(100, 100 + n))
    inside = [ld_abs(size, n - nbytes), (0x44, 0, 0, 1), RET_A]   # or #1: never 0
    assert verdict(inside, packet, target=target) == \
        int.from_bytes(packet[n - nbytes:], "big") | 1
    outside = [ld_abs(size, n - nbytes + 1), (0x44, 0, 0, 1), RET_A]
    assert verdict(outside, packet, target=target) == 0


@pytest.mark.parametrize("size,nbytes", [(W, 4), (H, 2), (B, 1)])
@pytest.mark.parametrize("target", ["socket", "pcap"])
def test_indirect_load_bounds(size, nbytes, target):
    n = 33
    packet = bytes(range(7, 7 + n))
    for x, fits in ((n - nbytes - 3, True), (n - nbytes - 2, False)):
        p = [ldx_imm(x), ld_ind(size, 3), (0x44, 0, 0, 1), RET_A]
        want = (int.from_bytes(packet[x + 3:x + 3 + nbytes], "big") | 1) if fits else 0
        assert verdict(p, packet, target=target) == want


@pytest.mark.parametrize("target", ["socket", "pcap"])
def test_ldx_msh_bounds_and_value(target):
    p = [(0xB1, 0, 0, 14), TXA, RET_A]
    packet = bytes(14) + b"\x4f"
    assert verdict(p, packet, target=target) == 60
    assert verdict(p, packet[:14], target=target) == 0


def test_loads_past_the_matrix_width_read_the_packet():
    # The batch matrix keeps a prefix of each packet; later bytes come from
    # the packet itself, for fixed and per-packet offsets alike.
    packet = bytes(i & 0xFF for i in range(3000))
    for k in (90, 95, 96, 200, 2996):
        assert verdict([ld_abs(W, k), RET_A], packet) == int.from_bytes(packet[k:k + 4], "big")
        assert verdict([ldx_imm(k - 10), ld_ind(H, 10), RET_A], packet) == \
            int.from_bytes(packet[k:k + 2], "big")
    assert verdict([ld_abs(W, 2997), ret(9)], packet) == 0


def test_batch_reads_past_the_matrix_for_many_packets():
    from bpfcheck.batch import run_batch
    from bpfcheck.vm import run
    packets = [bytes((i + j) & 0xFF for j in range(100 + i % 50)) for i in range(300)]
    for p in ([ld_abs(W, 120), RET_A], [(0xB1, 0, 0, 0), ld_ind(H, 100), RET_A]):
        want = [run(p, pk) for pk in packets]
        assert list(run_batch(p, packets)) == want


# --- wrapped and relative offsets (socket) ----------------------------------------------
def test_indirect_offset_wraps_to_a_small_positive_one():
    # X = 0xffffffff, k = 10: (X + k) mod 2**32 = 9 (measured).
    p = [ldx_imm(0xFFFFFFFF), ld_ind(B, 10), RET_A]
    assert verdict(p, PKT) == PKT[9]


def test_pcap_indirect_offset_does_not_wrap():
    p = [ldx_imm(0xFFFFFFFF), ld_ind(B, 10), ret(3)]
    assert verdict(p, PKT, target="pcap") == 0


def test_network_relative_loads():
    ctx = Context(network_header=14, link_header=0)
    p = [ld_abs(H, isa.SKF_NET_OFF + 2), RET_A]
    assert verdict(p, PKT, ctx) == int.from_bytes(PKT[16:18], "big")
    # past the end
    p = [ld_abs(W, isa.SKF_NET_OFF + len(PKT) - 14 - 3), ret(1)]
    assert verdict(p, PKT, ctx) == 0
    # indirect into the network area: X + k lands at SKF_NET_OFF + 1
    p = [ldx_imm(isa.SKF_NET_OFF), ld_ind(B, 1), RET_A]
    assert verdict(p, PKT, ctx) == PKT[15]


def test_link_relative_loads_need_a_link_header():
    p = [ld_imm(9), ld_abs(B, isa.SKF_LL_OFF + 3), RET_A]
    assert verdict(p, PKT, Context()) == 0                        # AF_UNIX: no link header
    assert verdict(p, PKT, Context(link_header=2)) == PKT[5]
    p = [ldx_imm(isa.SKF_LL_OFF), ld_ind(H, 4), RET_A]
    assert verdict(p, PKT, Context()) == 0
    assert verdict(p, PKT, Context(link_header=1)) == int.from_bytes(PKT[5:7], "big")


def test_offsets_below_the_link_area_fail():
    p = [ld_abs(B, isa.SKF_LL_OFF - 1), ret(1)]
    assert verdict(p, PKT, Context(link_header=0)) == 0
    p = [ldx_imm(isa.SKF_LL_OFF - 8), ld_ind(B, 1), ret(1)]
    assert verdict(p, PKT, Context(link_header=0)) == 0


def test_the_offset_just_below_the_extensions_is_network_relative():
    p = [ld_abs(B, isa.SKF_AD_OFF - 1), ret(7)]
    assert verdict(p, PKT) == 0          # 0xFEFFF bytes into a 64-byte packet


def test_mixed_lanes_of_an_indirect_load():
    # One program, lanes reading absolute, network-relative, link-relative
    # (with and without a header) and out-of-range offsets.
    from bpfcheck.batch import run_batch
    from bpfcheck.vm import run
    xs = [0, 5, isa.SKF_NET_OFF + 1, isa.SKF_LL_OFF + 2, isa.SKF_LL_OFF - 4, 0xFFFFFFFF, 60]
    packets, contexts = [], []
    for i, x in enumerate(xs * 2):
        packets.append(x.to_bytes(4, "big") + PKT)
        contexts.append(Context(network_header=3, link_header=None if i % 2 else 1))
    # X = the packet's first word; A = P[X + 0] | 0x100
    p = [ld_abs(W, 0), TAX, (0x40 | B, 0, 0, 0), (0x44, 0, 0, 0x100), RET_A]
    want = [run(p, pk, c) for pk, c in zip(packets, contexts)]
    assert len(set(want)) > 3 and 0 in want
    assert list(run_batch(p, packets, contexts)) == want


# --- metadata ------------------------------------------------------------------------------
@pytest.mark.parametrize("ext", [isa.SKF_AD_IFINDEX, isa.SKF_AD_HATYPE])
def test_device_fields_without_a_device_end_returning_a(ext):
    p = [ld_imm(123), ld_abs(W, isa.SKF_AD_OFF + ext), ret(5)]
    assert verdict(p, PKT, Context()) == 123
    assert verdict(p, PKT, Context(has_device=True, ifindex=3, hatype=1)) == 5
    p = [ld_imm(123), ld_abs(W, isa.SKF_AD_OFF + ext), RET_A]
    assert verdict(p, PKT, Context(has_device=True, ifindex=3, hatype=1)) == \
        (3 if ext == isa.SKF_AD_IFINDEX else 1)


@pytest.mark.parametrize("size", [W, H, B])
def test_extension_loads_ignore_the_size_bits(size):
    ctx = Context(protocol=0x86DD, vlan_tci=0xABCD, mark=0x12345678)
    assert verdict([ld_abs(size, isa.SKF_AD_OFF + isa.SKF_AD_PROTOCOL), RET_A], PKT, ctx) == 0x86DD
    assert verdict([ld_abs(size, isa.SKF_AD_OFF + isa.SKF_AD_VLAN_TAG), RET_A], PKT, ctx) == 0xABCD
    assert verdict([ld_abs(size, isa.SKF_AD_OFF + isa.SKF_AD_MARK), RET_A], PKT, ctx) == 0x12345678


def test_every_context_field():
    ctx = Context(len=999, protocol=1, pkttype=2, ifindex=3, mark=4, queue_mapping=5, hatype=6,
                  rxhash=7, cpu=8, vlan_tci=9, vlan_present=1, vlan_tpid=0x88A8, random=11,
                  payload_offset=12, has_device=True)
    for ext in isa.EXTENSIONS:
        if ext in (isa.SKF_AD_NLATTR, isa.SKF_AD_NLATTR_NEST):
            continue
        p = [ld_imm(0x55), ldx_imm(0x0F), ld_abs(W, isa.SKF_AD_OFF + ext), RET_A]
        verdict(p, PKT, ctx)
    assert verdict([(0x80, 0, 0, 0), RET_A], PKT, ctx) == 999
    assert verdict([(0x81, 0, 0, 0), TXA, RET_A], PKT, ctx) == 999


def test_xor_x_extension():
    p = [ld_imm(0xF0F0), ldx_imm(0x0FF0), ld_abs(W, isa.SKF_AD_OFF + isa.SKF_AD_ALU_XOR_X), RET_A]
    assert verdict(p, PKT) == 0xF0F0 ^ 0x0FF0


def test_netlink_attribute_search():
    # two attributes: type 1 (len 8) then type 5 (len 8), host order
    attrs = (8).to_bytes(2, "little") + (1).to_bytes(2, "little") + b"abcd" + \
        (8).to_bytes(2, "little") + (5).to_bytes(2, "little") + b"efgh"
    packet = b"\0" * 4 + attrs
    for x, want in ((5, 12), (1, 4), (9, 0)):
        p = [ld_imm(4), ldx_imm(x), ld_abs(W, isa.SKF_AD_OFF + isa.SKF_AD_NLATTR), RET_A]
        assert verdict(p, packet) == want
    p = [ld_imm(4), ldx_imm(2), ld_abs(W, isa.SKF_AD_OFF + isa.SKF_AD_NLATTR_NEST), RET_A]
    verdict(p, packet)


def test_len_is_the_context_length_for_sockets_and_the_wire_length_for_pcap():
    p = [(0x80, 0, 0, 0), RET_A]
    assert verdict(p, PKT, Context(len=1500)) == 1500
    assert verdict(p, PKT) == len(PKT)
    assert verdict(p, PKT, Context(len=1500), target="pcap") == 1500
    # libpcap bounds loads by the captured bytes, not the wire length
    assert verdict([ld_abs(B, len(PKT)), ret(1)], PKT, Context(len=1500), target="pcap") == 0


# --- shifts per dialect ---------------------------------------------------------------------
@pytest.mark.parametrize("x", [0, 1, 31, 32, 33, 63, 0xFFFFFFFF])
def test_shift_by_x(x):
    lsh = [ld_imm(1), ldx_imm(x), (0x6C, 0, 0, 0), RET_A]
    rsh = [ld_imm(0x80000000), ldx_imm(x), (0x7C, 0, 0, 0), RET_A]
    assert verdict(lsh, PKT) == (1 << (x & 31)) & isa.U32           # kernel: X & 31
    assert verdict(rsh, PKT) == 0x80000000 >> (x & 31)
    assert verdict(lsh, PKT, target="pcap") == ((1 << x) & isa.U32 if x < 32 else 0)
    assert verdict(rsh, PKT, target="pcap") == (0x80000000 >> x if x < 32 else 0)
    seccomp = SeccompData(0, 0)
    assert verdict(lsh, seccomp, target="seccomp") == (1 << (x & 31)) & isa.U32


def test_arithmetic_wraps():
    assert verdict([ld_imm(0xFFFFFFFF), (0x04, 0, 0, 2), RET_A], PKT) == 1
    assert verdict([ld_imm(1), (0x14, 0, 0, 2), RET_A], PKT) == 0xFFFFFFFF
    assert verdict([ld_imm(0x10000), (0x24, 0, 0, 0x10000), RET_A], PKT) == 0
    assert verdict([ld_imm(5), (0x84, 0, 0, 0), RET_A], PKT) == (-5) & isa.U32
    assert verdict([ld_abs(B, 0), (0x84, 0, 0, 0), RET_A], b"\x05") == (-5) & isa.U32


# --- jumps ---------------------------------------------------------------------------------
@pytest.mark.parametrize("op", [0x15, 0x25, 0x35, 0x45, 0x1D, 0x2D, 0x3D, 0x4D])
@pytest.mark.parametrize("a", [0, 1, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF])
def test_conditional_jumps_unsigned(op, a):
    p = [ld_abs(W, 0), ldx_imm(0x80000000), (op, 1, 0, 0x80000000), ret(10), ret(20)]
    verdict(p, a.to_bytes(4, "big"))


def test_jump_with_equal_targets_and_ja():
    p = [ld_abs(B, 0), (0x15, 1, 1, 5), ret(1), (0x05, 0, 0, 1), ret(2), ret(3)]
    assert verdict(p, b"\x05") == 3
    assert verdict(p, b"") == 0


# --- libpcap's aborts and loops ------------------------------------------------------------
def test_pcap_abort_opcode_raises_when_reached_only():
    p = Program([ld_abs(B, 0), (0x15, 0, 1, 1), (0x0E, 0, 0, 0), ret(9)])   # ret x
    assert verdict(p, b"\x02", target="pcap") == 9
    got = answers(p, b"\x01", target="pcap")
    assert set(got.values()) == {("ExecutionError", 2)}, got


def test_pcap_backward_jump_falls_back_to_the_vm(monkeypatch):
    # ip6 protochain-style: a loop that runs twice, then leaves
    p = Program([ld_imm(0), (0x04, 0, 0, 1), (0x15, 1, 0, 2), (0x05, 0, 0, 0xFFFFFFFD), ret(7)])
    assert compile_program(p, "pcap").source is None
    assert verdict(p, PKT, target="pcap") == 7
    # ja -1 loops forever in libpcap: the VM's step limit (made small here)
    # turns that into an ExecutionError on every path
    import bpfcheck.vm
    monkeypatch.setattr(bpfcheck.vm, "MAX_STEPS", 1000)
    forever = Program([(0x05, 0, 0, 0xFFFFFFFF), ret(1)])
    got = answers(forever, PKT, target="pcap")
    assert {v[0] for v in got.values()} == {"ExecutionError"}, got


# --- seccomp --------------------------------------------------------------------------------
def test_seccomp_words_and_length():
    data = SeccompData(nr=-1, arch=0xC000003E, instruction_pointer=0x1122334455667788,
                       args=(0xAABBCCDD00112233,))
    for k in range(0, 64, 4):
        assert verdict([ld_abs(W, k), RET_A], data, target="seccomp") == data.word(k)
    assert verdict([(0x80, 0, 0, 0), RET_A], data, target="seccomp") == 64
    assert verdict([ld_abs(W, 0), RET_A], data.to_bytes(), target="seccomp") == 0xFFFFFFFF


# --- scratch memory --------------------------------------------------------------------------
def test_scratch_memory_merges_at_joins():
    p = [ld_abs(B, 0), (0x15, 0, 2, 1),
         ld_imm(10), (0x05, 0, 0, 1),
         ld_imm(20),
         (0x02, 0, 0, 3),            # st M[3]
         ld_imm(0), (0x60, 0, 0, 3), # ld M[3]
         RET_A]
    assert verdict(p, b"\x01") == 10
    assert verdict(p, b"\x02") == 20


def test_pcap_scratch_starts_zeroed():
    assert verdict([(0x60, 0, 0, 5), (0x44, 0, 0, 0x100), RET_A], PKT, target="pcap") == 0x100
