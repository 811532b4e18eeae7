"""The public strategies: arguments checked at once, reprs like the call,
programs valid by construction, faults of the kind asked for, packets at
a program's load boundaries, scapy frames, nasty values."""

from __future__ import annotations

import importlib

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from bpfcheck import Program, isa
from bpfcheck.errors import ValidationError
from bpfcheck.strategies import (INVALID_KINDS, NASTY_U32, contexts, frames, instructions,
                                 invalid_programs, load_boundaries, packets, programs, seccomp_data,
                                 u32s)
from bpfcheck.validate import validate

validate_module = importlib.import_module("bpfcheck.validate")
QUICK = settings(max_examples=60, derandomize=True, deadline=None, database=None, phases=[Phase.generate],
                 suppress_health_check=list(HealthCheck))


# --- arguments and reprs ---------------------------------------------------------------
@pytest.mark.parametrize("make, words", [
    (lambda: programs("sock"), ["target='sock'", "did you mean 'socket'"]),
    (lambda: programs(max_len=0), ["max_len=0", "1..4096"]),
    (lambda: programs(max_len=5, min_len=6), ["min_len=6", "1..5"]),
    (lambda: programs(max_len="8"), ["max_len='8'"]),
    (lambda: invalid_programs("pcap", kind="ShiftTooLarge"), ["kind='ShiftTooLarge'", "'BadLength'"]),
    (lambda: invalid_programs(kind="Nonsense"), ["kind='Nonsense'"]),
    (lambda: packets(min_size=5, max_size=2), ["max_size=2", "5..65535"]),
    (lambda: packets(structured="yes"), ["structured='yes'"]),
    (lambda: packets(for_program=[(1, 2)]), ["for_program=", "not a program"]),
    (lambda: contexts(device=1), ["device=1"]),
    (lambda: seccomp_data(arch=-1), ["arch=-1"]),
    (lambda: frames(truncate=None), ["truncate=None"]),
])
def test_bad_arguments_fail_at_once_quoting_the_value(make, words):
    with pytest.raises(InvalidArgument) as caught:
        make()                               # no draw needed: the call itself refuses
    for word in words:
        assert word in str(caught.value)


@pytest.mark.parametrize("make, text", [
    (lambda: programs(), "programs()"),
    (lambda: programs("pcap", max_len=5), "programs(target='pcap', max_len=5)"),
    (lambda: invalid_programs("seccomp", kind=validate_module.SeccompForbidden),
     "invalid_programs(target='seccomp', kind='SeccompForbidden')"),
    (lambda: packets(max_size=64, structured=False), "packets(max_size=64, structured=False)"),
    (lambda: packets(for_program=[(6, 0, 0, 1)]), "packets(for_program=Program([(0x06, 0, 0, 0x1)]))"),
    (lambda: frames(truncate=False), "frames(truncate=False)"),
    (lambda: contexts(device=True), "contexts(device=True)"),
    (lambda: seccomp_data(arch=0xC000003E), "seccomp_data(arch=3_221_225_534)"),
    (lambda: instructions(), "instructions()"),
    (lambda: u32s(), "u32s()"),
])
def test_reprs_read_like_the_call(make, text):
    assert repr(make()) == text


# --- programs ----------------------------------------------------------------------------
@pytest.mark.parametrize("target", ["socket", "seccomp", "pcap"])
def test_programs_are_valid_by_construction(target):
    @QUICK
    @given(programs(target, max_len=32))
    def check(program):
        validate(program, target)
    check()


def test_programs_reach_the_corners():
    seen = set()

    @settings(QUICK, max_examples=300)
    @given(programs("socket"))
    def collect(program):
        for code, _, _, k in program:
            seen.add(code)
            if code & 0xE7 == isa.LD | isa.ABS and k >= isa.SKF_AD_OFF:
                seen.add("extension")
            if code & 0xE7 == isa.LD | isa.ABS and isa.SKF_NET_OFF <= k < isa.SKF_AD_OFF:
                seen.add("network-relative")
    collect()
    for code in (0x6C, 0x7C, 0x3C, 0x9C, 0x40, 0xB1, 0x60, 0x02, 0x05, 0x16):
        assert code in seen, f"opcode {code:#x} never drawn"
    assert {"extension", "network-relative"} <= seen


def test_nasty_values_are_mixed_in():
    drawn = set()

    @settings(QUICK, max_examples=200)
    @given(u32s())
    def collect(v):
        drawn.add(v)
    collect()
    assert {0, 0xFFFFFFFF, 0x80000000, 32} <= drawn | set(NASTY_U32) and len(drawn & set(NASTY_U32)) > 10


def test_instructions_cover_unknown_opcodes():
    codes = set()

    @settings(QUICK, max_examples=200)
    @given(instructions())
    def collect(insn):
        codes.add(insn.code)
    collect()
    assert any(c > 0xFF for c in codes) and 0x28 in codes | {0x28}


# --- invalid programs: one class per fault --------------------------------------------------
@pytest.mark.parametrize("target, kind", [(t, k) for t, kinds in INVALID_KINDS.items() for k in kinds])
def test_invalid_programs_carry_the_fault_asked_for(target, kind):
    @settings(QUICK, max_examples=25)
    @given(invalid_programs(target, kind=kind, labelled=True))
    def check(faulty):
        with pytest.raises(ValidationError) as caught:
            validate(faulty.program, target)
        assert type(caught.value).__name__ == kind
        assert caught.value.pc == faulty.pc
    check()


def test_every_validation_error_class_has_a_kind():
    classes = {name for name, obj in vars(validate_module).items()
               if isinstance(obj, type) and issubclass(obj, ValidationError) and obj is not ValidationError}
    covered = set().union(*INVALID_KINDS.values())
    assert classes == covered


# --- packets ---------------------------------------------------------------------------------
def test_load_boundaries():
    program = Program([(0x28, 0, 0, 12), (0x30, 0, 0, isa.SKF_NET_OFF + 9), (0xB1, 0, 0, 14),
                       (0x50, 0, 0, 2), (0x16, 0, 0, 0)])
    ends = set(load_boundaries(program))
    assert {13, 14} <= ends                      # ldh [12]
    assert {9, 10} <= ends                       # ldb [net + 9]: the network header is at 0
    assert {14, 15} <= ends                      # ldxb 4*([14]&0xf)
    assert {2, 3, 22, 23} <= ends                # ldb [x + 2] with X = 0 and X = 20


def test_packets_for_a_program_sit_on_its_boundaries():
    program = Program([(0x20, 0, 0, 40), (0x16, 0, 0, 0)])
    lengths = []

    @settings(QUICK, max_examples=80)
    @given(packets(for_program=program))
    def collect(packet):
        lengths.append(len(packet))
    collect()
    assert lengths.count(43) + lengths.count(44) > len(lengths) // 3


def test_frames_are_real_frames_often_cut_short():
    from scapy.layers.l2 import Ether
    import scapy.layers.inet  # noqa: F401 - binds IP into Ether
    kinds = set()
    lengths = []

    @settings(QUICK, max_examples=80)
    @given(frames())
    def collect(frame):
        lengths.append(len(frame))
        if len(frame) >= 14:
            layer = Ether(frame)
            kinds.update(type(x).__name__ for x in layer.iterpayloads())
    collect()
    assert {"Ether", "IP"} <= kinds and kinds & {"TCP", "UDP", "ICMP"} and kinds & {"ARP", "IPv6", "Dot1Q"}
    assert min(lengths) < 14 < max(lengths)


def test_packets_respect_their_size_range():
    @QUICK
    @given(packets(min_size=10, max_size=40))
    def check(packet):
        assert 10 <= len(packet) <= 40
    check()


def test_contexts_and_seccomp_data():
    @QUICK
    @given(contexts(device=True), seccomp_data(arch=0xC000003E), st.data())
    def check(ctx, data, more):
        assert ctx.has_device and ctx.ifindex >= 1
        assert data.arch == 0xC000003E and len(data.to_bytes()) == 64
    check()
