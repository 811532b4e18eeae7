"""The bpf_asm language against the real kernel bpf_asm (golden pairs in tests/golden/asm)."""

from __future__ import annotations

import subprocess

import pytest
from hypothesis import given, settings

from bpfcheck import isa
from bpfcheck.errors import FormatError, ParseError
from bpfcheck.formats import asm, format_program, parse
from bpfcheck.program import Instruction, Program

from fmt_support import (ASM_GOLDEN, asm_cases, canonical_programs, find_bpf_asm,
                         first_difference, instructions, programs)

#: cases real bpf_asm rejects that we read on purpose, with what we read
LENIENT = {
    "lenient_empty": "",
    "lenient_x_plus_number": "ld [x + 5]\nldh [x + 14]\nret a\n",
    "lenient_x_minus_number": "ldb [x + -5]\nret a\n",
    "lenient_carriage_returns": "ld #1\nret a\n",
    "lenient_two_labels": "a1: ret #0\n",
}
#: cases real bpf_asm accepts (truncating or guessing) that we refuse
STRICT = {"strict_duplicate_label", "strict_number_over_32_bits",
          "strict_decimal_over_32_bits", "strict_negative_below_int32"}


def _golden(name: str) -> str:
    with open(ASM_GOLDEN / name, newline="") as f:
        return f.read()


@pytest.mark.parametrize("name", ["all_instructions", "extensions", "jumps"])
def test_sources_assemble_like_bpf_asm(name):
    ours = parse(_golden(f"{name}.asm"), "asm")
    theirs_c = parse(_golden(f"{name}.c"), "c")
    theirs_raw = parse(_golden(f"{name}.raw"), "xt_bpf")
    assert theirs_c == theirs_raw
    assert ours == theirs_c, f"{name}.asm: {first_difference(ours, theirs_c)}"


CASES = asm_cases()


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_cases_like_bpf_asm(case):
    name, source = case["name"], case["source"]
    assert name in LENIENT or name in STRICT or not name.startswith(("lenient_", "strict_"))
    if name in LENIENT:
        assert not case["accepted"], f"{name}: bpf_asm now accepts it; update LENIENT"
        assert parse(source, "asm") == parse(LENIENT[name], "asm")
    elif name in STRICT or not case["accepted"]:
        assert name in STRICT or not case["accepted"]
        with pytest.raises(ParseError) as exc:
            parse(source, "asm")
        assert exc.value.line is not None
        assert "expected" in str(exc.value) or "fit in 32 bits" in str(exc.value)
    else:
        ours = parse(source, "asm")
        theirs = parse(case["c"], "c")
        assert parse(case["raw"], "xt_bpf") == theirs
        assert ours == theirs, f"{name}: {first_difference(ours, theirs)}"


def test_what_each_mnemonic_emits():
    """The opcodes the module docstring promises, spelled out."""
    src = """
        ld #len
        ldx #len
        ldxb 4*([14]&0xf)
        ldx 4*([14]&0xf)
        ldb #proto
        ldh #vlan_avail
        ld rand
        jeq #0x800, l1
    l1: jneq #1, l2
    l2: jlt x, l3
    l3: jle #3, l4
    l4: ret x
    """
    assert parse(src, "asm") == Program([
        (0x80, 0, 0, 0), (0x81, 0, 0, 0), (0xB1, 0, 0, 14), (0xB1, 0, 0, 14),
        (0x30, 0, 0, isa.SKF_AD_OFF), (0x28, 0, 0, isa.SKF_AD_OFF + 48),
        (0x20, 0, 0, isa.SKF_AD_OFF + 56),
        (0x15, 0, 0, 0x800), (0x15, 0, 0, 1), (0x3D, 0, 0, 0), (0x25, 0, 0, 3),
        (0x0E, 0, 0, 0)])


@pytest.mark.parametrize("source, line, words", [
    ("ld #1\njeq #1, l2 l3\nl2: ret #0\n", 2, ["mnemonic", "'l3'"]),
    ("ja nowhere\nret #0\n", 1, ["defined label", "'nowhere'"]),
    ("a1: ld #1\na1: ret #0\n", 2, ["a1:", "line 1"]),
    ("l1: jeq #1, l1\nret #0\n", 1, ["skip of -1"]),
    ("jeq #1, far\n" + "ret #1\n" * 256 + "far: ret #2\n", 1, ["skip of 256"]),
    ("ld #4294967296\n", 1, ["32 bits"]),
    ("ld [proto]\n", 1, ["'proto]'"]),
    ("ret\n", 1, ["end of text"]),
    ("ld #1 ; fine\nld $2\n", 2, ["unknown character '$'"]),
    ("ldxb 4*([14]&0x7)\n", 1, ["4*([k]&0xf)"]),
    ("jneq #1, a1, b1\n", 1, ["one target"]),
    ("ld #1\n/* never closed\nret a\n", 2, ["unknown character '/'"]),
])
def test_parse_errors_name_line_and_text(source, line, words):
    with pytest.raises(ParseError) as exc:
        parse(source, "asm")
    assert exc.value.line == line, str(exc.value)
    for word in words:
        assert word in str(exc.value), str(exc.value)


# --- writing -------------------------------------------------------------

@settings(max_examples=300, deadline=None)
@given(p=canonical_programs())
def test_round_trip_canonical_programs(p):
    text = format_program(p, "asm")
    assert parse(text, "asm") == p
    assert parse(text) == p


@settings(max_examples=300, deadline=None)
@given(p=programs())
def test_round_trip_or_refuse(p):
    try:
        text = format_program(p, "asm")
    except FormatError as exc:
        assert exc.pc is not None and 0 <= exc.pc < len(p)
        return
    assert parse(text, "asm") == p


def test_writer_uses_labels_and_derived_jumps():
    p = Program([(0x28, 0, 0, 12), (0x15, 0, 2, 0x800), (0x45, 0, 1, 0x1FFF),
                 (0x35, 0, 0, 5), (0x06, 0, 0, 0xFFFF), (0x05, 0, 0, 0xFFFFFFFA)])
    text = format_program(p, "asm")
    assert text == ("l0:\tldh [12]\n"
                    "\tjneq #0x800, l4\n"
                    "\tjset #0x1fff, l3, l4\n"
                    "l3:\tjge #0x5, l4\n"
                    "l4:\tret #65535\n"
                    "\tja l0\n")
    assert parse(text, "asm") == p


@pytest.mark.parametrize("insn, canonical_insn", [
    ((0x07, 0, 0, 5), (0x07, 0, 0, 0)),          # k on tax
    ((0x05, 1, 2, 0), (0x05, 0, 0, 0)),          # jt/jf on ja
    ((0x80, 0, 0, 1), (0x80, 0, 0, 0)),          # k on ld #len
    ((0x1D, 0, 0, 7), (0x1D, 0, 0, 0)),          # k on jeq x
    ((0x16, 1, 0, 0), (0x16, 0, 0, 0)),          # jt on ret a
])
def test_ignored_fields_need_canonical(insn, canonical_insn):
    p = Program([(0x06, 0, 0, 0), insn, (0x06, 0, 0, 0)])
    with pytest.raises(FormatError) as exc:
        format_program(p, "asm")
    assert exc.value.pc == 1 and "canonical=True" in str(exc.value)
    assert parse(format_program(p, "asm", canonical=True), "asm")[1] == canonical_insn


@pytest.mark.parametrize("program, words", [
    ([(0x08, 0, 0, 0), (0x06, 0, 0, 0)], ["0x08", "no bpf_asm mnemonic"]),
    ([(0x15, 5, 0, 0), (0x06, 0, 0, 0)], ["jt", "outside"]),
    ([(0x05, 0, 0, 7), (0x06, 0, 0, 0)], ["outside"]),
])
def test_unwritable_even_canonical(program, words):
    for canonical in (False, True):
        with pytest.raises(FormatError) as exc:
            format_program(Program(program), "asm", canonical=canonical)
        assert exc.value.pc == 0
        for word in words:
            assert word in str(exc.value)


# --- describe ------------------------------------------------------------

def test_describe_never_raises_and_is_one_line():
    for code in range(0x10000):
        for fields in ((0, 0, 0), (255, 1, 0xFFFFFFFF)):
            text = asm.describe(Instruction(code, *fields))
            assert text and "\n" not in text
    assert asm.describe(("junk",)).startswith("not an instruction")
    assert asm.describe((1, 2, 3, 4, 5)).startswith("not an instruction")
    assert asm.describe((0x10000, 0, 0, 0)).startswith("not an instruction")


@pytest.mark.parametrize("insn, text", [
    ((0x28, 0, 0, 12), "ldh [12]"),
    ((0x15, 0, 3, 0x800), "jeq #0x800, +0, +3"),
    ((0x05, 0, 0, 2), "ja +2"),
    ((0x05, 0, 0, 0xFFFFFFFF), "ja -1"),
    ((0x07, 0, 0, 5), "tax ; ignored k=0x5"),
    ((0x30, 0, 0, isa.SKF_AD_OFF + 48), "ldb #vlan_avail"),
    ((0x20, 0, 0, isa.SKF_AD_OFF + 40), "ld [0xfffff028]"),
    ((0x08, 0, 0, 0), "unknown opcode 0x08 (jt 0, jf 0, k 0x0)"),
    ((0x0E, 0, 0, 0), "ret x"),
    ((0x81, 0, 0, 0), "ldx #len"),
    ((0x94, 0, 0, 7), "mod #7"),
    ((0xA4, 0, 0, 7), "xor #0x7"),
])
def test_describe(insn, text):
    assert asm.describe(Instruction(*insn)) == text
    assert str(Instruction(*insn)) == text


@settings(max_examples=200, deadline=None)
@given(insn=instructions())
def test_describe_reads_back_when_it_can(insn):
    """describe() of a non-jump known instruction is valid bpf_asm for it."""
    text = asm.describe(insn)
    if text.startswith(("unknown", "j")) or ";" in text:
        return
    assert parse(text, "asm") == Program([insn])


# --- the real bpf_asm, when one is at hand --------------------------------

BPF_ASM = find_bpf_asm()


@pytest.mark.skipif(BPF_ASM is None, reason="no bpf_asm binary (set BPF_ASM=/path/to/bpf_asm)")
@settings(max_examples=60, deadline=None)
@given(p=canonical_programs(max_size=20))
def test_live_bpf_asm_assembles_our_output(p):
    text = format_program(p, "asm")
    done = subprocess.run([BPF_ASM, "-c"], input=text, capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, f"bpf_asm rejected:\n{text}\n{done.stdout}{done.stderr}"
    theirs = parse(done.stdout, "c")
    assert theirs == p, first_difference(p, theirs)
