"""The formats that carry every field: c (``-dd``), ddd (``-ddd``) and xt_bpf."""

from __future__ import annotations

import pytest
from hypothesis import given, settings

from bpfcheck.errors import ParseError
from bpfcheck.formats import format_program, parse
from bpfcheck.program import Program

from fmt_support import programs

P = Program([(0x28, 0, 0, 12), (0x15, 0, 1, 0x800), (0x06, 0, 0, 0xFFFF), (0x06, 0, 0, 0)])


@settings(max_examples=200, deadline=None)
@given(p=programs(max_size=20))
def test_round_trip_everything(p):
    for fmt in ("c", "ddd", "xt_bpf"):
        text = format_program(p, fmt)
        assert format_program(p, fmt, canonical=True) == text
        assert parse(text, fmt) == p, fmt


def test_exact_text():
    assert format_program(P, "c") == ("{ 0x28, 0, 0, 0x0000000c },\n{ 0x15, 0, 1, 0x00000800 },\n"
                                      "{ 0x6, 0, 0, 0x0000ffff },\n{ 0x6, 0, 0, 0x00000000 },\n")
    assert format_program(P, "ddd") == "4\n40 0 0 12\n21 0 1 2048\n6 0 0 65535\n6 0 0 0\n"
    assert format_program(P, "xt_bpf") == "4,40 0 0 12,21 0 1 2048,6 0 0 65535,6 0 0 0\n"
    assert format_program(Program(), "xt_bpf") == "0,\n"
    assert format_program(Program(), "ddd") == "0\n"
    assert format_program(Program(), "c") == ""


# --- c -------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "struct sock_filter code[] = {\n{ 0x28, 0, 0, 0x0000000c },\n{ 0x15, 0, 1, 0x00000800 },\n"
    "{ 0x6, 0, 0, 0x0000ffff },\n{ 0x6, 0, 0, 0x00000000 },\n};\n",
    "#include <linux/filter.h>\n/* tcpdump -dd ip */\nstatic const struct sock_filter f[4] = {\n"
    "  { 0x28, 0, 0, 12 }, // ldh [12]\n  { 0x15,  0,  1, 0x800, },\n"
    "  { 6, 0, 0, 65535U }, { 06, 0, 0, 0000000000 }\n};",
    # bpf_asm -c pads jt/jf and prints zero as 0000000000
    "{ 0x28,  0,  0, 0x0000000c },\n{ 0x15,  0,  1, 0x00000800 },\n"
    "{ 0x06,  0,  0, 0x0000ffff },\n{ 0x06,  0,  0, 0000000000 },\n",
    "{ {0x28,0,0,0xc}, {0x15,0,1,0x800}, {0x6,0,0,0xffff}, {0x6,0,0,0x0} }",
    "{ 0x28, 0, 0, 0x0000000c },\r\n{ 0x15, 0, 1, 0x00000800 },\r\n"
    "{ 0x6, 0, 0, 0x0000ffff },\r\n{ 0x6, 0, 0, 0x00000000 }\r\n",
])
def test_c_reads_what_people_paste(text):
    assert parse(text, "c") == P
    assert parse(text) == P


@pytest.mark.parametrize("text, line, words", [
    ("{ 0x28, 0, 0, 0xc },\n{ 0x15, 0, 1 },\n", 2, ["',' after jf", "'},'"]),
    ("{ 0x28, 0, 0, 0xc }\n{ 0x15, 0, 1, 2 },\n", 2, ["',' between instructions"]),
    ("{ 0x10000, 0, 0, 0 },\n", 1, ["code", "65536"]),
    ("{ 0x28, 256, 0, 0 },\n", 1, ["jt", "256"]),
    ("{ 0x28, 0, 0, 0x100000000 },\n", 1, ["k"]),
    ("{ 0x28, 0, 0, 08 },\n", 1, ["number for k", "'08"]),
    ("/* open\n{ 0x28, 0, 0, 0 },\n", 1, ["'*/'"]),
    ("{ BPF_STMT(BPF_LD|BPF_H|BPF_ABS, 12) },\n", 1, ["BPF_STMT", "not supported"]),
    ("struct sock_filter f[] = {\n{ 6, 0, 0, 0 },\n", 2, ["close the array"]),
    ("struct sock_filter f[] = {\n{ 6, 0, 0, 0 },\n};\nint x;\n", 4, ["end of text"]),
    ("{ 6, 0, 0, 0 }, @\n", 1, ["'@'"]),
])
def test_c_errors(text, line, words):
    with pytest.raises(ParseError) as exc:
        parse(text, "c")
    assert exc.value.line == line, str(exc.value)
    for word in words:
        assert word in str(exc.value), str(exc.value)


# --- ddd -----------------------------------------------------------------

def test_ddd_reads_any_spacing():
    assert parse("\n 4 \n40   0 0 12\n\n21 0 1 2048\r\n6 0 0 65535\n6\t0 0 0", "ddd") == P


@pytest.mark.parametrize("text, line, words", [
    ("5\n40 0 0 12\n", 1, ["count says 5", "1 follow"]),
    ("1\n40 0 0 12\n6 0 0 0\n", 3, ["end of text", "line 1"]),
    ("2\n40 0 0\n", 2, ["four decimal numbers", "'40 0 0'"]),
    ("1\n40 0 0 0x1\n", 2, ["decimal number for k", "'0x1'"]),
    ("1\n40 0 0 4294967296\n", 2, ["k 4294967296"]),
    ("1 2\n", 1, ["count alone"]),
    ("", 1, ["count"]),
    ("x\n", 1, ["'x'"]),
])
def test_ddd_errors(text, line, words):
    with pytest.raises(ParseError) as exc:
        parse(text, "ddd")
    assert exc.value.line == line, str(exc.value)
    for word in words:
        assert word in str(exc.value), str(exc.value)


# --- xt_bpf --------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "4,40 0 0 12,21 0 1 2048,6 0 0 65535,6 0 0 0",
    "4,40 0 0 12,21 0 1 2048,6 0 0 65535,6 0 0 0,",          # bpf_asm's trailing comma
    "  '4,40 0 0 12,21 0 1 2048,6 0 0 65535,6 0 0 0'\n",
    '"4, 40 0 0 12, 21 0 1 2048, 6 0 0 65535, 6 0 0 0"',
])
def test_xt_bpf_reads_quoted_and_spaced(text):
    assert parse(text, "xt_bpf") == P
    assert parse(text) == P


@pytest.mark.parametrize("text, words", [
    ("3,40 0 0 12,6 0 0 0", ["count says 3", "2 follow"]),
    ("2,40 0 0 12,,6 0 0 0", ["four decimal numbers", "nothing"]),
    ("1,40 0 12", ["four decimal numbers", "'40 0 12'"]),
    ("1,40 0 0 -1", ["decimal number for k", "'-1'"]),
    ("1,40 0 256 0", ["jf 256"]),
    ("40 0 0 12", ["count,code jt jf k"]),
    ("x,", ["instruction count", "'x'"]),
])
def test_xt_bpf_errors(text, words):
    with pytest.raises(ParseError) as exc:
        parse(text, "xt_bpf")
    assert exc.value.line == 1
    for word in words:
        assert word in str(exc.value), str(exc.value)
