"""Every trap of SEMANTICS.md, on the reference VM, with hand-computed verdicts.

The same cases run on the real kernel and libpcap in tests/conformance;
here they pin down the reference VM itself, so a regression names the trap.
"""

import pytest

from bpfcheck import Context, ExecutionError, Program, SeccompData, run, trace, validate
from bpfcheck import isa
from bpfcheck.validate import (BadLength, BadScratchIndex, DivisionByZero, JumpOutOfRange,
                               MissingReturn, ScratchReadBeforeWrite, SeccompForbidden,
                               ShiftTooLarge, UnknownExtension, UnknownOpcode)

RET_A = (0x16, 0, 0, 0)


def ret(k):
    return (0x06, 0, 0, k)


def ld_imm(k):
    return (0x00, 0, 0, k)


def ldx_imm(k):
    return (0x01, 0, 0, k)


PKT = bytes(range(64))


# --- machine and checker (1-6) ---------------------------------------------------
def test_a_and_x_start_at_zero():
    assert run([RET_A], PKT) == 0
    assert run([(0x87, 0, 0, 0), RET_A], PKT) == 0   # txa


def test_scratch_read_before_write_rejected_by_kernel_but_zero_in_libpcap():
    p = [(0x60, 0, 0, 3), RET_A]
    with pytest.raises(ScratchReadBeforeWrite) as e:
        validate(p)
    assert e.value.pc == 0
    assert run(p, PKT, target="pcap") == 0


def test_scratch_written_on_one_path_only_is_rejected():
    p = [(0x15, 0, 1, 7),      # jeq #7, next, skip
         (0x02, 0, 0, 1),      # st M[1]
         (0x60, 0, 0, 1), RET_A]
    with pytest.raises(ScratchReadBeforeWrite) as e:
        validate(p)
    assert e.value.pc == 2


def test_kernel_quirk_scratch_state_falls_through_ret():
    # Instruction 3 is reachable only by the jump, on which M[0] was written,
    # but the kernel's linear walk also carries the (dead) fall-through from
    # the ret at 2, on which it was not: rejected.
    p = [(0x02, 0, 0, 0), (0x15, 1, 1, 0), ret(1), (0x60, 0, 0, 0), RET_A]
    validate(p)   # the store at 0 covers every path here
    p = [(0x15, 1, 0, 0), (0x02, 0, 0, 0), ret(1), (0x60, 0, 0, 0), RET_A]
    # pc 3 is reached only from pc 0's jt (M[0] unwritten): rejected, rightly.
    with pytest.raises(ScratchReadBeforeWrite):
        validate(p)
    p = [(0x02, 0, 0, 0), (0x15, 2, 0, 0), (0x01, 0, 0, 0), ret(1), (0x60, 0, 0, 0), RET_A]
    validate(p)


def test_kernel_quirk_code_after_ja_counts_as_initialised():
    # Nothing jumps to pc 2, so its mask stays "all written": dead code may read M[].
    p = [(0x05, 0, 0, 1), (0x60, 0, 0, 5), RET_A]
    validate(p)


@pytest.mark.parametrize("n,ok", [(0, False), (1, True), (4096, True), (4097, False)])
def test_length_limits(n, ok):
    p = [ret(0)] * n
    if ok:
        validate(p)
    else:
        with pytest.raises(BadLength) as e:
            validate(p)
        assert e.value.pc is None


def test_last_instruction_must_be_ret_even_when_unreachable():
    with pytest.raises(MissingReturn) as e:
        validate([ret(0), ld_imm(1)])
    assert e.value.pc == 1


@pytest.mark.parametrize("code", [0x0E, 0x08, 0x8C, 0x18, 0x81 | 0x100, 0xFFFF])
def test_opcodes_outside_the_49(code):
    with pytest.raises(UnknownOpcode):
        validate([(code, 0, 0, 0), ret(0)])


def test_exactly_49_opcodes_are_accepted():
    accepted = []
    for code in range(0x10000):
        try:
            validate([(code, 0, 0, 1), ret(0)])
        except UnknownOpcode:
            continue
        except (ScratchReadBeforeWrite, JumpOutOfRange):
            pass    # a known opcode judged on other grounds
        accepted.append(code)
    assert len(accepted) == 49
    assert 0x0E not in accepted and 0x81 in accepted


def test_jump_bounds():
    validate([(0x15, 1, 0, 0), ret(0), ret(1)])
    with pytest.raises(JumpOutOfRange):
        validate([(0x15, 2, 0, 0), ret(0), ret(1)])
    validate([(0x05, 0, 0, 1), ret(0), ret(1)])
    with pytest.raises(JumpOutOfRange):
        validate([(0x05, 0, 0, 2), ret(0), ret(1)])
    with pytest.raises(JumpOutOfRange):
        validate([(0x05, 0, 0, 0xFFFFFFFF), ret(0), ret(1)])


def test_ja_ignores_jt_jf_and_jeq_00_is_a_no_op():
    assert run([(0x05, 7, 9, 1), ret(5), ret(6)], b"") == 6
    assert run([(0x15, 0, 0, 3), ret(5)], b"") == 5


def test_constant_division_and_shift_limits():
    for code in (0x34, 0x94):
        with pytest.raises(DivisionByZero):
            validate([(code, 0, 0, 0), ret(0)])
    for code in (0x64, 0x74):
        validate([(code, 0, 0, 31), ret(0)])
        with pytest.raises(ShiftTooLarge):
            validate([(code, 0, 0, 32), ret(0)])
    with pytest.raises(BadScratchIndex):
        validate([(0x02, 0, 0, 16), ret(0)])


def test_extension_area():
    validate([(0x20, 0, 0, isa.SKF_AD_OFF + isa.SKF_AD_PROTOCOL), ret(0)])
    with pytest.raises(UnknownExtension):
        validate([(0x20, 0, 0, isa.SKF_AD_OFF + 2), ret(0)])
    with pytest.raises(UnknownExtension):
        validate([(0x20, 0, 0, isa.SKF_AD_OFF + isa.SKF_AD_MAX), ret(0)])
    # just below the extension area: accepted, and a network-relative load far away
    p = [(0x20, 0, 0, isa.SKF_AD_OFF - 1), RET_A]
    validate(p)
    assert run(p, PKT) == 0


# --- arithmetic (7-10) ------------------------------------------------------------
def test_wraparound_and_unsigned():
    assert run([ld_imm(0xFFFFFFFF), (0x04, 0, 0, 2), RET_A], b"") == 1
    assert run([ld_imm(0), (0x14, 0, 0, 1), RET_A], b"") == 0xFFFFFFFF
    assert run([ld_imm(0x80000000), (0x34, 0, 0, 2), RET_A], b"") == 0x40000000
    assert run([ld_imm(5), (0x84, 0, 0, 0), RET_A], b"") == 0xFFFFFFFB
    assert run([ld_imm(0xFFFFFFFF), (0x25, 0, 1, 1), ret(1), ret(2)], b"") == 1   # unsigned jgt


def test_division_by_x_zero_ends_with_zero():
    for code in (0x3C, 0x9C):
        t = trace([ld_imm(7), ldx_imm(0), (code, 0, 0, 0), ret(9)], b"")
        assert t.verdict == 0 and t.rule is not None and t.rule_pc == 2


def test_shift_by_x_is_masked_in_the_kernel_and_zero_in_libpcap():
    p = [ld_imm(1), ldx_imm(33), (0x6C, 0, 0, 0), RET_A]
    assert run(p, b"") == 2
    assert run(p, b"", target="pcap") == 0
    p = [ld_imm(0x80), ldx_imm(32), (0x7C, 0, 0, 0), RET_A]
    assert run(p, b"") == 0x80
    assert run(p, b"", target="pcap") == 0


# --- loads (11-16) ------------------------------------------------------------------
@pytest.mark.parametrize("code,size", [(0x20, 4), (0x28, 2), (0x30, 1)])
def test_absolute_load_bounds(code, size):
    n = 20
    p = [(code, 0, 0, n - size), (0x04, 0, 0, 1), RET_A]     # verdict != 0 when in bounds
    packet = bytes([0xAA]) * n
    assert run(p, packet) == int.from_bytes(b"\xaa" * size, "big") + 1
    p = [(code, 0, 0, n - size + 1), (0x04, 0, 0, 1), RET_A]
    t = trace(p, packet)
    assert t.verdict == 0 and t.rule_pc == 0


def test_indirect_offset_wraps_and_is_signed():
    assert run([ldx_imm(0xFFFFFFFF), (0x50, 0, 0, 10), RET_A], PKT) == 9
    assert run([ldx_imm(2), (0x48, 0, 0, 3), RET_A], PKT) == 0x0506
    # libpcap refuses the wrapped sum
    assert run([ldx_imm(0xFFFFFFFF), (0x50, 0, 0, 10), (0x04, 0, 0, 1), RET_A], PKT, target="pcap") == 0


def test_network_and_link_relative_loads():
    net = isa.SKF_NET_OFF
    assert run([(0x30, 0, 0, net + 3), RET_A], PKT) == 3   # AF_UNIX: network header at 0
    ctx = Context(has_device=True, link_header=0, network_header=14)
    assert run([(0x30, 0, 0, net + 3), RET_A], PKT, ctx) == 17
    ll = isa.SKF_LL_OFF
    t = trace([(0x30, 0, 0, ll + 3), (0x04, 0, 0, 1), RET_A], PKT)
    assert t.verdict == 0 and t.rule == "link-relative load without a link-layer header"
    assert run([(0x30, 0, 0, ll + 3), RET_A], PKT, ctx) == 3
    t = trace([(0x30, 0, 0, ll - 1), (0x04, 0, 0, 1), RET_A], PKT, ctx)   # below SKF_LL_OFF
    assert t.verdict == 0
    # libpcap treats every negative offset as out of bounds
    assert run([(0x30, 0, 0, net + 3), (0x04, 0, 0, 1), RET_A], PKT, target="pcap") == 0


def test_indirect_loads_never_reach_extensions():
    p = [ldx_imm(isa.SKF_AD_OFF), (0x40, 0, 0, isa.SKF_AD_PROTOCOL), (0x04, 0, 0, 1), RET_A]
    assert run(p, PKT, Context(protocol=0x800)) == 0


def test_ldx_msh():
    p = [ld_imm(77), (0xB1, 0, 0, 14), (0x87, 0, 0, 0), RET_A]
    assert run(p, bytes(14) + b"\x45") == 20
    p = [ld_imm(77), (0xB1, 0, 0, 14), RET_A]
    assert run(p, bytes(14) + b"\x45") == 77


def test_len_is_wire_length_for_libpcap():
    p = [(0x80, 0, 0, 0), RET_A]
    assert run(p, PKT) == 64
    assert run(p, PKT, Context(len=1500), target="pcap") == 1500
    assert run([(0x81, 0, 0, 0), (0x87, 0, 0, 0), RET_A], PKT) == 64


# --- extensions (17-19) ----------------------------------------------------------------
def test_extension_loads_ignore_size_bits():
    for code in (0x20, 0x28, 0x30):
        assert run([(code, 0, 0, isa.SKF_AD_OFF + isa.SKF_AD_PROTOCOL), RET_A], b"",
                   Context(protocol=0x86DD)) == 0x86DD


def test_device_fields_without_a_device_end_the_program_returning_a():
    for ext in (isa.SKF_AD_IFINDEX, isa.SKF_AD_HATYPE):
        t = trace([ld_imm(123), (0x20, 0, 0, isa.SKF_AD_OFF + ext), ret(60)], b"x" * 100)
        assert t.verdict == 123 and t.rule_pc == 1
        ctx = Context(has_device=True, ifindex=3, hatype=1)
        assert run([ld_imm(123), (0x20, 0, 0, isa.SKF_AD_OFF + ext), RET_A], b"", ctx) in (3, 1)


def test_x_survives_extension_loads_and_xor_x():
    ctx = Context(mark=5, vlan_tci=0x123, vlan_present=1, cpu=1, random=0xDEAD)
    for ext in isa.EXTENSIONS:
        if ext in (isa.SKF_AD_IFINDEX, isa.SKF_AD_HATYPE):
            continue
        p = [ldx_imm(0x77), ld_imm(0x10), (0x20, 0, 0, isa.SKF_AD_OFF + ext), (0x87, 0, 0, 0), RET_A]
        assert run(p, b"", ctx) == 0x77
    p = [ldx_imm(0x0F), ld_imm(0xFF), (0x20, 0, 0, isa.SKF_AD_OFF + isa.SKF_AD_ALU_XOR_X), RET_A]
    assert run(p, b"") == 0xF0


def test_netlink_attribute_search():
    # two attributes: (len 8, type 1), (len 6, type 7); searched from offset 0
    packet = (8).to_bytes(2, "little") + (1).to_bytes(2, "little") + b"abcd" + \
        (6).to_bytes(2, "little") + (7).to_bytes(2, "little") + b"xy\0\0"
    nla = isa.SKF_AD_OFF + isa.SKF_AD_NLATTR
    assert run([ldx_imm(7), ld_imm(0), (0x20, 0, 0, nla), RET_A], packet) == 8
    assert run([ldx_imm(9), ld_imm(0), (0x20, 0, 0, nla), RET_A], packet) == 0


# --- seccomp (21-25) ---------------------------------------------------------------------
def test_seccomp_rules():
    validate([(0x20, 0, 0, 4), ret(isa.SECCOMP_RET_ALLOW)], "seccomp")
    for bad in ([(0x28, 0, 0, 0), ret(0)], [(0x20, 0, 0, 2), ret(0)], [(0x20, 0, 0, 64), ret(0)],
                [(0x94, 0, 0, 3), ret(0)], [(0x40, 0, 0, 0), ret(0)], [(0xB1, 0, 0, 0), ret(0)],
                [(0x20, 0, 0, isa.SKF_AD_OFF), ret(0)]):
        with pytest.raises(SeccompForbidden) as e:
            validate(bad, "seccomp")
        assert e.value.pc == 0


def test_seccomp_reads_host_endian_words():
    data = SeccompData(59, 0xC000003E, 0x1122334455667788, (0xAABBCCDD00112233,))
    word = lambda k: run([(0x20, 0, 0, k), RET_A], data, target="seccomp")   # noqa: E731
    assert word(0) == 59
    assert word(4) == 0xC000003E
    assert word(8) == 0x55667788 and word(12) == 0x11223344
    assert word(16) == 0x00112233 and word(20) == 0xAABBCCDD
    assert run([(0x80, 0, 0, 0), RET_A], data, target="seccomp") == 64
    assert SeccompData(-1, 0).nr == 0xFFFFFFFF


def test_seccomp_socket_packet_layout_reads_the_same_words():
    data = SeccompData(59, 0xC000003E, 7, (1, 2, 3, 4, 5, 0xFFFFFFFF00000001))
    packet = data.to_socket_packet()
    for k in range(0, 64, 4):
        p = [(0x20, 0, 0, k), RET_A]
        assert run(p, packet) == run(p, data, target="seccomp")


# --- libpcap's dialect ------------------------------------------------------------------------
def test_libpcap_validate_holes():
    validate([(0x0E, 0, 0, 0)], "pcap")            # ret x: passes bpf_validate...
    with pytest.raises(ExecutionError):
        run([(0x0E, 0, 0, 0)], b"", target="pcap")   # ...and would abort bpf_filter
    validate([(0x05, 0, 0, 0xFFFFFFFF), ret(0)], "pcap")  # ja -1 loops forever
    with pytest.raises(ExecutionError):
        run([(0x05, 0, 0, 0xFFFFFFFF), ret(0)], b"", target="pcap")


def test_libpcap_backward_jump_terminates_when_it_should():
    # count A up to 3 with a backward ja (what ip6 protochain does, in miniature)
    p = [(0x04, 0, 0, 1), (0x15, 1, 0, 3), (0x05, 0, 0, 0xFFFFFFFD), RET_A]
    assert run(p, b"", target="pcap") == 3
