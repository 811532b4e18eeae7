"""Format detection, the public entry points, and robustness on hostile text."""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bpfcheck.errors import FormatError, ParseError, UsageError
from bpfcheck.formats import FORMATS, detect, format_program, parse
from bpfcheck.program import Program

from fmt_support import canonical_programs, programs

P = Program([(0x28, 0, 0, 12), (0x15, 0, 1, 0x800), (0x06, 0, 0, 0xFFFF), (0x06, 0, 0, 0)])


def test_formats_tuple():
    assert FORMATS == ("tcpdump", "c", "ddd", "asm", "xt_bpf")


@settings(max_examples=150, deadline=None)
@given(p=programs(max_size=10))
def test_detection_of_every_writer(p):
    for fmt in FORMATS:
        for canonical in (False, True):
            try:
                text = format_program(p, fmt, canonical=canonical)
            except FormatError:
                continue
            if p:
                assert detect(text) == fmt
            assert parse(text) == parse(text, fmt)
            if not canonical:
                assert parse(text) == p


@settings(max_examples=100, deadline=None)
@given(p=canonical_programs())
def test_detection_of_canonical_programs(p):
    for fmt in FORMATS:
        text = p.format(fmt)
        assert detect(text) == fmt
        assert parse(text) == p
        assert parse(text.encode()) == p


@pytest.mark.parametrize("text, fmt", [
    ("(000) ret      #0\n", "tcpdump"),
    ("\n\n   (000) ret #0", "tcpdump"),
    ("{ 0x6, 0, 0, 0x00000000 },", "c"),
    ("/* filter */\nstruct sock_filter code[] = {\n{ 6, 0, 0, 0 }\n};", "c"),
    ("static struct sock_filter code[] =\n{ { 6, 0, 0, 0 } };", "c"),
    ("// x\n{ 6, 0, 0, 0 }", "c"),
    ("1\n6 0 0 0\n", "ddd"),
    ("1,6 0 0 0", "xt_bpf"),
    ("'1,6 0 0 0'", "xt_bpf"),
    ("ret #0", "asm"),
    ("; comment { with a brace\nRET #0", "asm"),
    ("ld [12] ; { brace after\nret a", "asm"),
    ("/* c */ ldh [12]\nret a", "asm"),
    ("# hash comment\nstart: ret #0", "asm"),
    ("start:\n ret #0", "asm"),
    ("", "asm"),
    ("  \n\n", "asm"),
])
def test_detect_examples(text, fmt):
    assert detect(text) == fmt


@pytest.mark.parametrize("text", ["hello world", "@@@", "-5", "foo bar: baz"])
def test_detect_names_the_formats_tried(text):
    with pytest.raises(ParseError) as exc:
        parse(text)
    for fmt in FORMATS:
        assert fmt in str(exc.value)
    assert exc.value.line == 1


def test_bytes_and_bad_utf8():
    assert parse(b"ret #0\n") == Program([(6, 0, 0, 0)])
    assert parse("\ufeffret #0\n".encode()) == Program([(6, 0, 0, 0)])
    with pytest.raises(ParseError) as exc:
        parse(b"ld #1\nret #0 ; \xff\n")
    assert exc.value.line == 2 and "0xff" in str(exc.value)


def test_unknown_format_name():
    with pytest.raises(UsageError):
        parse("ret #0", "pcap")
    with pytest.raises(UsageError):
        format_program(P, "json")


def test_program_format_method_and_tuples():
    assert P.format("xt_bpf") == format_program(list(P), "xt_bpf")


# --- hostile text ----------------------------------------------------------

_PIECES = ["(000)", "(001)", "{", "}", ",", "0x", "0x28", "12", "-1", "#", "#len",
           "#proto", "[", "]", "x", "+", "M", "ld", "ldh", "jeq", "ja", "jt", "jf",
           "l1", "l1:", ":", ";", "/*", "*/", "//", "\n", " ", "\t", "\r", "'", "\"",
           "4*([14]&0xf)", "ret", "a", "%", "unimp", "255", "256", "4294967296", "\x00", "é"]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.one_of(st.text(max_size=200),
                      st.lists(st.sampled_from(_PIECES), max_size=40).map("".join)),
       fmt=st.sampled_from((None,) + FORMATS))
def test_random_text_only_raises_parse_error(text, fmt):
    try:
        parse(text, fmt)
    except ParseError as exc:
        assert exc.line is None or exc.line >= 1
        assert str(exc)


@st.composite
def _mutated(draw):
    p = draw(canonical_programs(max_size=6))
    fmt = draw(st.sampled_from(FORMATS))
    text = p.format(fmt)
    for _ in range(draw(st.integers(1, 4))):
        pos = draw(st.integers(0, len(text)))
        action = draw(st.sampled_from(("insert", "delete", "replace")))
        piece = draw(st.sampled_from(_PIECES))
        if action == "insert":
            text = text[:pos] + piece + text[pos:]
        elif action == "delete":
            text = text[:pos] + text[pos + draw(st.integers(1, 5)):]
        else:
            text = text[:pos] + piece + text[pos + len(piece):]
    return text, draw(st.sampled_from((None, fmt)))


@settings(max_examples=400, deadline=None)
@given(case=_mutated())
def test_mutated_text_only_raises_parse_error(case):
    text, fmt = case
    try:
        parse(text, fmt)
        parse(text.encode("utf-8", "surrogatepass"), fmt)
    except ParseError:
        pass


@pytest.mark.parametrize("text", [
    "/*" + "*" * 50000,
    "/*" + "*a" * 50000,
    "(000)" + " " * 100000 + "ld",
    "(000) ld " + "jt " * 30000,
    "{" * 50000,
    "{ 0x28, " + "0" * 100000,
    "ld [" * 20000,
    "l1: " * 20000,
    "#" * 100000,
    ";" * 100000,
    "1," + "0 " * 50000,
    "1\n" + "0 " * 50000,
    "ld #" + "9" * 20000,
    "/**/" * 50000,
    "/*\n" * 50000,
    "(000) ld [x" + "+" * 100000 + "]",
])
def test_no_pathological_slowness(text):
    start = time.perf_counter()
    for fmt in (None,) + FORMATS:
        try:
            parse(text, fmt)
        except ParseError:
            pass
    assert time.perf_counter() - start < 5
