"""The ``tcpdump -d`` listing against libpcap's own ``bpf_image``."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bpfcheck import isa
from bpfcheck.errors import FormatError, ParseError
from bpfcheck.formats import format_program, parse, tcpdump
from bpfcheck.program import Instruction, Program

from fmt_support import instructions, load_bpf_image, programs

bpf_image, _why = load_bpf_image()
needs_libpcap = pytest.mark.skipif(bpf_image is None, reason=str(_why))

#: (jt, jf, k, pc) variants tried for every opcode
_VARIANTS = ((0, 0, 0, 0), (1, 2, 0xFFFFFFF0, 7), (255, 3, 0x7FFFFFFF, 1000),
             (0, 0, isa.SKF_AD_OFF + isa.SKF_AD_VLAN_TAG_PRESENT, 3),
             (4, 0, 0x80000000, 12))


@pytest.mark.libpcap
@needs_libpcap
def test_image_is_bpf_image_for_every_opcode():
    mismatches = []
    for code in range(0x10000):
        for jt, jf, k, pc in _VARIANTS:
            ours = tcpdump.image(Instruction(code, jt, jf, k), pc)
            theirs = bpf_image((code, jt, jf, k), pc)
            if ours != theirs:
                mismatches.append(f"code {code:#06x} pc {pc}: ours {ours!r}, libpcap {theirs!r}")
    assert not mismatches, "\n".join(mismatches[:20])


@pytest.mark.libpcap
@needs_libpcap
@settings(max_examples=300, deadline=None)
@given(insn=instructions(), pc=st.one_of(st.integers(0, 1100), st.integers(0, 2**31 - 300)))
def test_image_is_bpf_image_hypothesis(insn, pc):
    assert tcpdump.image(insn, pc) == bpf_image(insn, pc)


def _canonical(insn: Instruction) -> Instruction:
    code, jt, jf, k = insn
    jumps = tcpdump.shows_jumps(code)
    return Instruction(code, jt if jumps else 0, jf if jumps else 0,
                       k if tcpdump.shows_k(code) else 0)


def test_every_printed_line_reads_back():
    """parse(bpf_image text) gives the instruction minus the fields the text omits."""
    for code in range(0x10000):
        for jt, jf, k in ((1, 2, 0xFFFFFFF0), (255, 0, isa.SKF_AD_OFF + 4)):
            insn = _canonical(Instruction(code, jt, jf, k))
            text = tcpdump.image(insn, 0) + "\n"
            got = parse(text, "tcpdump")
            assert got == Program([insn]), f"code {code:#06x}: {text!r} read as {got!r}"


@settings(max_examples=200, deadline=None)
@given(p=programs(max_size=20))
def test_round_trip_canonical(p):
    text = format_program(p, "tcpdump", canonical=True)
    q = parse(text, "tcpdump")
    assert q == Program(_canonical(i) for i in p)
    assert format_program(q, "tcpdump") == text
    try:
        exact = format_program(p, "tcpdump")
    except FormatError as exc:
        assert exc.pc is not None and p[exc.pc] != _canonical(p[exc.pc])
    else:
        assert exact == text and q == p


def test_backward_and_negative_ja_targets():
    p = Program([(0x05, 0, 0, 0xFFFFFFFE), (0x05, 0, 0, 0x7FFFFFFF), (0x06, 0, 0, 0)])
    text = format_program(p, "tcpdump")
    assert text.splitlines()[:2] == ["(000) ja       -1", "(001) ja       -2147483647"]
    assert parse(text, "tcpdump") == p


@pytest.mark.parametrize("insn, shown", [
    ((0x07, 0, 0, 5), "k=0x5"),            # tax
    ((0x16, 0, 0, 1), "k=0x1"),            # ret a
    ((0x80, 0, 0, 9), "k=0x9"),            # ld #pktlen
    ((0x0C, 0, 0, 9), "k=0x9"),            # add x
    ((0x05, 1, 0, 0), "jt=1 jf=0"),        # ja
    ((0x28, 0, 3, 12), "jt=0 jf=3"),       # ldh
    ((0x0E, 0, 0, 7), "k=0x7"),            # unimp
    ((0x105, 1, 1, 0), "jt=1 jf=1"),       # unimp, JMP class but op JA
])
def test_write_refuses_what_the_listing_cannot_show(insn, shown):
    p = Program([(0x06, 0, 0, 0), insn])
    with pytest.raises(FormatError) as exc:
        format_program(p, "tcpdump")
    assert exc.value.pc == 1 and shown in str(exc.value) and "canonical" in str(exc.value)
    written = format_program(p, "tcpdump", canonical=True)
    assert parse(written, "tcpdump")[1] == _canonical(Instruction(*insn))


def test_unimp_of_jump_class_keeps_jt_jf():
    p = Program([(0x55, 1, 2, 0)])
    assert format_program(p, "tcpdump") == "(000) unimp    0x55             jt 2\tjf 3\n"
    assert parse(format_program(p, "tcpdump"), "tcpdump") == p


def test_reader_takes_any_spacing_and_number_style():
    text = ("  ( 0 )  LDH [12]\r\n"
            "\n"
            "(001) jeq #2048 jt 2 jf 3\n"
            "(002) ld [x+0x10]\n"
            "(003) ret #0xffffffff\n"
            "(004) ldb [vlan_avail]\n"
            "(005) st M[-1]\n")
    assert parse(text, "tcpdump") == Program([
        (0x28, 0, 0, 12), (0x15, 0, 1, 2048), (0x40, 0, 0, 16), (0x06, 0, 0, 0xFFFFFFFF),
        (0x30, 0, 0, isa.SKF_AD_OFF + isa.SKF_AD_VLAN_TAG_PRESENT), (0x02, 0, 0, 0xFFFFFFFF)])


@pytest.mark.parametrize("text, line, words", [
    ("(000) ldh [12]\n(002) ret #0\n", 2, ["(001)", "(002)"]),
    ("(000) ldh [12]\nret #0\n", 2, ["(001)", "ret #0"]),
    ("(000) ldq [12]\n", 1, ["mnemonic", "ldq"]),
    ("(000) ldh 12\n", 1, ["[K]", "'12'"]),
    ("(000) ldh [bogus]\n", 1, ["extension", "[bogus]"]),
    ("(000) jeq #1 jt 1\n", 1, ["jt N jf M"]),
    ("(000) jeq #1 jt 300 jf 1\n", 1, ["jt", "255"]),
    ("(000) jeq #1 jt 1 jf 0\n", 1, ["jf", "-1"]),
    ("(000) ld #1 jt 1 jf 2\n", 1, ["no 'jt/jf'"]),
    ("(000) ld #0x100000000\n", 1, ["32 bits"]),
    ("(000) unimp 0x10000\n", 1, ["opcode", "65536"]),
    ("(000) unimp zz\n", 1, ["opcode", "'zz'"]),
    ("(000)\n", 1, ["mnemonic"]),
])
def test_parse_errors_name_line_and_text(text, line, words):
    with pytest.raises(ParseError) as exc:
        parse(text, "tcpdump")
    assert exc.value.line == line
    for word in words:
        assert word in str(exc.value), str(exc.value)
