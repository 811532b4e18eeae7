"""The bpf_asm language against the real kernel bpf_asm (golden pairs in tests/golden/asm)."""

from __future__ import annotations

import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bpfcheck import isa
from bpfcheck.errors import FormatError, ParseError
from bpfcheck.formats import _asm_lexer as asm_lexer
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
    ("ld #1\njeq #1, l2 l3\nl2: ret #0\n", 2, ["',' before another jump target", "'l3'"]),
    ("ld #1\njeq #1, l2\nl3 l2: ret #0\n", 3, ["',' before another jump target", "'l3 l2:"]),
    ("ld #1\nfoo\n", 2, ["mnemonic", "'foo'"]),
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


@pytest.mark.skipif(BPF_ASM is None, reason="no bpf_asm binary (make test builds one with tools/build_bpf_asm.py; or set BPF_ASM=/path/to/bpf_asm)")
@settings(max_examples=60, deadline=None)
@given(p=canonical_programs(max_size=20))
def test_live_bpf_asm_assembles_our_output(p):
    text = format_program(p, "asm")
    done = subprocess.run([BPF_ASM, "-c"], input=text, capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, f"bpf_asm rejected:\n{text}\n{done.stdout}{done.stderr}"
    theirs = parse(done.stdout, "c")
    assert theirs == p, first_difference(p, theirs)


# --- generated sources: every spelling, checked against the encoding -------

_ALU = {"add": 0x00, "sub": 0x10, "mul": 0x20, "div": 0x30, "or": 0x40, "and": 0x50,
        "lsh": 0x60, "rsh": 0x70, "mod": 0x90, "xor": 0xA0}
_EXTS = sorted(asm_lexer.EXTENSION_NUMBERS.items())


@st.composite
def _number(draw):
    """A u32 and one of the ways bpf_asm's lexer lets you write it."""
    value = draw(st.one_of(st.integers(0, 0xFFFFFFFF), st.integers(0, 300)))
    style = draw(st.sampled_from(("dec", "hex", "HEX", "oct", "bin", "neg", "plus")))
    if style == "hex":
        return value, f"0x{value:x}"
    if style == "HEX":
        return value, f"0X{value:X}"
    if style == "oct" and value:
        return value, f"0{value:o}"
    if style == "bin" and value:
        return value, f"0b{value:b}"
    if style == "neg" and value >= 0x80000000:
        return value, str(value - (1 << 32))
    if style == "plus" and value:
        return value, f"+{value}"
    return value, str(value)


def _case(draw, word):
    return "".join(c.upper() if draw(st.booleans()) else c for c in word)


@st.composite
def _statement(draw, pc, n):
    """(source text, (code, jt, jf, k), label targets) for one random statement."""
    kw = lambda word: _case(draw, word)  # noqa: E731 -- keywords are caseless
    num, text = draw(_number())
    x = draw(st.sampled_from(("x", "X", "%x", "% x")))
    kind = draw(st.sampled_from(("ld", "ldx", "st", "alu", "misc", "ret", "ja", "cond")))
    if kind == "ld":
        size, name = draw(st.sampled_from(((0x00, "ld"), (0x08, "ldh"), (0x10, "ldb"))))
        forms = ("abs", "ind", "ext") + (("imm", "len", "mem") if name == "ld" else ())
        form = draw(st.sampled_from(forms))
        if form == "abs":
            return f"{kw(name)} [{text}]", (0x20 | size, 0, 0, num), []
        if form == "ind":
            return f"{kw(name)} [{x} + {text}]", (0x40 | size, 0, 0, num), []
        if form == "ext":
            ext, n_ = draw(st.sampled_from(_EXTS))
            hash_ = draw(st.sampled_from(("#", "")))
            return f"{kw(name)} {hash_}{kw(ext)}", (0x20 | size, 0, 0, isa.SKF_AD_OFF + n_), []
        if form == "imm":
            spelled = draw(st.sampled_from((f"{kw('ld')} #{text}", f"{kw('ldi')} #{text}",
                                            f"{kw('ldi')} {text}")))
            return spelled, (0x00, 0, 0, num), []
        if form == "len":
            return f"{kw('ld')} {draw(st.sampled_from(('#', '')))}{kw('len')}", (0x80, 0, 0, 0), []
        return f"{kw('ld')} {draw(st.sampled_from(('M', 'm')))}[{text}]", (0x60, 0, 0, num), []
    if kind == "ldx":
        form = draw(st.sampled_from(("imm", "immi", "len", "mem", "msh", "mshb")))
        if form == "imm":
            return f"{kw('ldx')} #{text}", (0x01, 0, 0, num), []
        if form == "immi":
            return f"{kw('ldxi')} {draw(st.sampled_from(('#', '')))}{text}", (0x01, 0, 0, num), []
        if form == "len":
            return f"{kw('ldx')} {draw(st.sampled_from(('#', '')))}{kw('len')}", (0x81, 0, 0, 0), []
        if form == "mem":
            return f"{kw('ldx')} M[{text}]", (0x61, 0, 0, num), []
        name = "ldx" if form == "msh" else "ldxb"
        four = draw(st.sampled_from(("4", "0x4", "04", "0b100")))
        mask = draw(st.sampled_from(("0xf", "0xF", "15", "017", "0b1111")))
        return f"{kw(name)} {four}*([{text}]&{mask})", (0xB1, 0, 0, num), []
    if kind == "st":
        name, code = draw(st.sampled_from((("st", 0x02), ("stx", 0x03))))
        return f"{kw(name)} M[{text}]", (code, 0, 0, num), []
    if kind == "alu":
        name, op = draw(st.sampled_from(sorted(_ALU.items())))
        if draw(st.booleans()):
            return f"{kw(name)} #{text}", (0x04 | op, 0, 0, num), []
        return f"{kw(name)} {x}", (0x0C | op, 0, 0, 0), []
    if kind == "misc":
        name, code = draw(st.sampled_from((("neg", 0x84), ("tax", 0x07), ("txa", 0x87))))
        return kw(name), (code, 0, 0, 0), []
    if kind == "ret" or pc == n - 1:
        form = draw(st.sampled_from(("k", "a", "x")))
        if form == "k":
            return f"{kw('ret')} #{text}", (0x06, 0, 0, num), []
        reg = draw(st.sampled_from(("", "%"))) + kw(form)
        return f"{kw('ret')} {reg}", (0x16 if form == "a" else 0x0E, 0, 0, 0), []
    if kind == "ja":
        target = draw(st.integers(0, n - 1))
        return (f"{kw(draw(st.sampled_from(('ja', 'jmp'))))} L{target}",
                (0x05, 0, 0, (target - pc - 1) & isa.U32), [target])
    jt, jf = (draw(st.integers(0, min(n - pc - 2, 255))) for _ in range(2))
    name = draw(st.sampled_from(("jeq", "jgt", "jge", "jset", "jneq", "jne", "jlt", "jle")))
    op = {"jeq": 0x10, "jgt": 0x20, "jge": 0x30, "jset": 0x40, "jneq": 0x10, "jne": 0x10,
          "jlt": 0x30, "jle": 0x20}[name]
    src, k = ((f"#{text}", num) if draw(st.booleans()) else (x, 0))
    code = 0x05 | op | (0 if src.startswith("#") else 0x08)
    if name in ("jneq", "jne", "jlt", "jle"):
        return f"{kw(name)} {src}, L{pc + 1 + jf}", (code, 0, jf, k), [pc + 1 + jf]
    if draw(st.booleans()):
        return f"{kw(name)} {src}, L{pc + 1 + jt}", (code, jt, 0, k), [pc + 1 + jt]
    return (f"{kw(name)} {src}, L{pc + 1 + jt}, L{pc + 1 + jf}", (code, jt, jf, k),
            [pc + 1 + jt, pc + 1 + jf])


_SEPARATORS = ("\n", " ", "\t", " ; comment\n", " /* c */ ", "\n# hash comment\n", "\n\n")


@st.composite
def generated_sources(draw):
    """bpf_asm source using random spellings, and the program it must assemble to."""
    n = draw(st.integers(1, 12))
    statements = [draw(_statement(pc, n)) for pc in range(n)]
    labelled = {t for _, _, targets in statements for t in targets}
    parts = []
    for pc, (text, _, _) in enumerate(statements):
        label = f"L{pc}:{draw(st.sampled_from(('', ' ', chr(10))))}" if pc in labelled else ""
        parts.append(label + text + draw(st.sampled_from(_SEPARATORS)))
    return "".join(parts), Program(insn for _, insn, _ in statements)


@settings(max_examples=300, deadline=None)
@given(case=generated_sources())
def test_generated_sources_assemble_as_specified(case):
    source, expected = case
    ours = parse(source, "asm")
    assert ours == expected, f"{first_difference(ours, expected)}\n{source}"


@pytest.mark.skipif(BPF_ASM is None, reason="no bpf_asm binary (make test builds one with tools/build_bpf_asm.py; or set BPF_ASM=/path/to/bpf_asm)")
@settings(max_examples=100, deadline=None)
@given(case=generated_sources())
def test_live_bpf_asm_agrees_on_generated_sources(case):
    source, expected = case
    done = subprocess.run([BPF_ASM, "-c"], input=source, capture_output=True, text=True,
                          timeout=30)
    assert done.returncode == 0, f"bpf_asm rejected:\n{source}\n{done.stdout}{done.stderr}"
    theirs = parse(done.stdout, "c")
    assert theirs == expected, f"{first_difference(theirs, expected)}\n{source}"
