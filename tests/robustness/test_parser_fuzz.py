"""Every parser fuzzed: only the documented errors escape, and text errors
name their line.

Inputs are drawn three ways: from each format's own vocabulary (so that
the fuzzer gets deep into the grammar), as arbitrary text or bytes, and as
mutations of valid files.  Runs are derandomised, so CI sees the same
examples every time; the examples that found bugs are pinned as
``@example``.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bpfcheck.capture_run import run_capture
from bpfcheck.cli import main
from bpfcheck.corpus.case import CaseError, parse_case
from bpfcheck.errors import BpfcheckError, ParseError
from bpfcheck.formats import FORMATS, parse
from bpfcheck.loading import program_from_bytes
from bpfcheck.pcapio import CaptureError
from bpfcheck.program import Program
from bpfcheck.properties import PropertyError, parse_property
from bpfcheck.properties.evaluate import check_applicable
from bpfcheck.seccomp.oci import ProfileError, compile_profile, load_profile, rules_of
from bpfcheck.syscalls import resolve_property_name

FUZZ = settings(max_examples=250, deadline=None, derandomize=True, database=None,
                suppress_health_check=list(HealthCheck))

# --- program text -----------------------------------------------------------------------
VOCABULARY = {
    "tcpdump": ["(000)", "(001)", "(002)", "ld", "ldh", "ldb", "ldx", "ldxb", "jeq", "jgt", "jset", "ja",
                "ret", "unimp", "tax", "txa", "st", "M[", "[", "]", "x", "+", "#", "0x", "pktlen", "proto",
                "4*([14]&0xf)", "jt", "jf", "\t", " ", "\n", "-", "1", "2", "12", "4294967295", "4294967296"],
    "c": ["{", "}", ",", "0x", "6", "28", "ffffffff", "100000000", "0", "1", "255", "256", ";", "/*", "*/",
          "//", "\n", " ", "#include <x>", "static", "struct", "sock_filter", "code[]", "=", "u", "L", "07"],
    "ddd": ["1", "2", "4", "6", "21", "40", "0", "255", "256", "65536", "4294967296", " ", "\n", "\t", "-"],
    "asm": ["ld", "ldh", "ldb", "ldx", "ldxb", "ldi", "st", "stx", "jeq", "jneq", "jlt", "jset", "ja", "jmp",
            "add", "div", "mod", "neg", "tax", "txa", "ret", "#", "#len", "#proto", "len", "M[", "[", "]",
            "x", "%x", "a", "+", "-", "*", "&", "(", ")", "4", "0xf", "0x", "0b", "07", "08", "12", ":", ",",
            "l1", "l2", "l1:", "l2:", ";", "/*", "*/", "\n", " ", "4294967296", "-2147483649"],
    "xt_bpf": ["1", "2", "4", "6", "21", "40", "0", "255", "256", "4294967296", " ", ",", "\"", "'", "\n"],
}
ODD = ["\0", "\r", "\x0c", "\u2028", "\ufeff", "\u0663", "\u202e", "\x1b", "é", "💥", "9" * 50]


def texts(fmt):
    words = VOCABULARY.get(fmt) or sorted({w for v in VOCABULARY.values() for w in v})
    return st.one_of(
        st.lists(st.sampled_from(words + ODD), max_size=50).map("".join),
        st.text(max_size=200),
    )


def _valid_program_text(fmt):
    programs = st.lists(st.tuples(st.sampled_from([0x00, 0x06, 0x15, 0x16, 0x20, 0x28, 0x30, 0x45, 0x87,
                                                   0x05, 0x04, 0x61, 0xB1]),
                                  st.integers(0, 3), st.integers(0, 3), st.integers(0, 2 ** 32 - 1)),
                        min_size=1, max_size=8)

    def render(insns):
        p = Program(insns)
        try:
            return p.format(fmt, canonical=True)
        except BpfcheckError:
            return p.format("c")
    return programs.map(render)


@st.composite
def mutated(draw, fmt):
    """A valid file in ``fmt`` with a few characters deleted, duplicated or replaced."""
    text = draw(_valid_program_text(fmt))
    for _ in range(draw(st.integers(1, 4))):
        if not text:
            break
        i = draw(st.integers(0, len(text) - 1))
        how = draw(st.sampled_from(["delete", "insert", "replace"]))
        piece = draw(st.sampled_from(VOCABULARY[fmt] + ODD))
        text = (text[:i] + text[i + 1:] if how == "delete" else
                text[:i] + piece + text[i:] if how == "insert" else text[:i] + piece + text[i + 1:])
    return text


def _check_parse(text, fmt):
    try:
        program = parse(text, fmt)
    except ParseError as e:
        assert isinstance(e.line, int), (text, e)
        assert 1 <= e.line <= text.count("\n") + 1, (text, e.line, e)
        assert "\n" not in str(e), e
        return
    assert isinstance(program, Program)
    for other in FORMATS:                           # whatever was read can be written, or says why not
        try:
            program.format(other)
        except BpfcheckError:
            pass


@pytest.mark.parametrize("fmt", FORMATS + (None,))
@FUZZ
@given(data=st.data())
def test_text_formats_raise_only_parse_errors_naming_the_line(fmt, data):
    source = fmt or "asm"
    text = data.draw(st.one_of(texts(fmt), mutated(source)))
    _check_parse(text, fmt)


@FUZZ
@given(st.binary(max_size=120))
@example(b"ret #0\n\0\n")
@example(b"\x06\0\0\0\0\0\0")
def test_raw_bytes_raise_only_parse_errors(data):
    for fmt in (None, "raw"):
        try:
            program_from_bytes(data, fmt)
        except ParseError as e:
            assert "\n" not in str(e)
    if len(data) % 8 == 0:
        assert Program.from_bytes(data).to_bytes() == data


# --- the property language ---------------------------------------------------------------
PROPERTY_WORDS = ["verdict", "accepted", "len", "pkt", "ctx", ".", "mark", "ifindex", "has_device", "nr", "arch",
                  "ip", "args", "action", "data", "reaches", "matches", "other", "verdict", "execve",
                  "KILL_PROCESS", "ALLOW", "AUDIT_ARCH_X86_64", "and", "or", "not", "in", "->", "(", ")", "[",
                  "]", "{", "}", ",", ":", "~", "+", "-", "*", "/", "%", "&", "|", "^", "<<", ">>", "==", "!=",
                  "<", "<=", ">", ">=", "0", "1", "2", "4", "010", "0x", "ff", "0b", "0o", "18446744073709551616",
                  '"tcp"', '"', "\\", " ", "true", "false"]


@FUZZ
@given(st.one_of(st.lists(st.sampled_from(PROPERTY_WORDS + ODD), max_size=40).map(" ".join),
                 st.lists(st.sampled_from(PROPERTY_WORDS), max_size=40).map("".join),
                 st.text(max_size=100)),
       st.sampled_from(["socket", "seccomp", "pcap"]))
@example("verdict == 010", "socket")
@example("verdict == " + " + ".join(["1"] * 2000), "socket")
@example("args[" + "9" * 5000 + "] == 0", "seccomp")
def test_properties_raise_only_property_errors(text, target):
    try:
        tree = parse_property(text, lambda name: resolve_property_name(name, "x86_64"))
        check_applicable(tree, target, 4, False)
    except PropertyError as e:
        assert e.line == 1 and "\n" not in str(e)
    except BpfcheckError as e:                       # check_applicable's complaints (UsageError)
        assert "\n" not in str(e)


# --- corpus case files ------------------------------------------------------------------------
def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return "nan" if isinstance(v, float) and math.isnan(v) else repr(v) if not isinstance(v, float) or \
            math.isfinite(v) else ("inf" if v > 0 else "-inf")
    if isinstance(v, str):
        return json.dumps(v)                        # a TOML basic string is a JSON string (for these)
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    return "{" + ", ".join(f"{json.dumps(k)} = {_toml_value(x)}" for k, x in v.items()) + "}"


SCALARS = st.one_of(st.integers(-2 ** 70, 2 ** 70), st.booleans(), st.floats(), st.text(max_size=20),
                    st.sampled_from(["socket", "seccomp", "pcap", "bpfcheck-case/1", "ret #0", "tcp",
                                     "../../etc/passwd", "/etc/passwd", "proved", "refuted", "00ff", "x86_64",
                                     "execve", "accepted", "verdict == 010"]))
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                       st.dictionaries(st.sampled_from(
                                                           ["hex", "verdict", "text", "expr", "file", "nr",
                                                            "arch", "args", "context", "ifindex", "x"]),
                                                           inner, max_size=3)), max_leaves=8)
KEYS = ["format", "name", "target", "description", "valid", "program", "packets", "pcap", "syscalls",
        "properties", "equivalent", "provenance", "bogus"]


@st.composite
def case_documents(draw) -> str:
    doc = {"format": "bpfcheck-case/1"} if draw(st.booleans()) else {}
    for key in draw(st.lists(st.sampled_from(KEYS), max_size=6, unique=True)):
        doc[key] = draw(VALUES)
    if draw(st.booleans()):
        doc["program"] = {"text": draw(st.sampled_from(["ret #0", "ret #4294967296", "", "{"])),
                          **draw(st.dictionaries(st.sampled_from(["format", "expr", "file", "linktype", "optimize"]),
                                                 SCALARS, max_size=2))}
    lines = [f"{json.dumps(k)} = {_toml_value(v)}" for k, v in doc.items()]
    text = "\n".join(lines) + "\n"
    if draw(st.integers(0, 9)) == 0:                # sometimes not TOML at all
        i = draw(st.integers(0, len(text)))
        text = text[:i] + draw(st.sampled_from(["[", "]]", "=", '"', "\\", "\0", "\n[program\n"])) + text[i:]
    return text


@FUZZ
@given(case_documents())
def test_case_files_raise_only_case_errors(text):
    try:
        case = parse_case(text, "fuzz.toml")
    except CaseError as e:
        assert str(e).startswith("fuzz.toml"), e
        assert "\n" not in str(e), e
        return
    assert case.program is not None


# --- OCI profiles -------------------------------------------------------------------------------
OCI_KEYS = ["defaultAction", "defaultErrnoRet", "architectures", "archMap", "syscalls", "names", "name",
            "action", "errnoRet", "args", "index", "op", "value", "valueTwo", "includes", "excludes", "arches",
            "caps", "architecture", "subArchitectures"]
OCI_SCALARS = st.one_of(st.integers(-1, 2 ** 65), st.booleans(), st.none(), st.floats(allow_nan=False),
                        st.sampled_from(["SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_TRACE",
                                         "SCMP_CMP_EQ", "SCMP_CMP_MASKED_EQ", "SCMP_ARCH_X86_64", "SCMP_ARCH_X86",
                                         "amd64", "execve", "read", "nosuch", "x86_64"]))
OCI_VALUES = st.recursive(OCI_SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(OCI_KEYS), inner, max_size=4)), max_leaves=12)


@FUZZ
@given(st.one_of(OCI_VALUES, st.dictionaries(st.sampled_from(OCI_KEYS), OCI_VALUES, max_size=5)))
@example({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["execve"], "action": "SCMP_ACT_ERRNO",
                                                            "includes": [1]}]})
@example({"defaultAction": "SCMP_ACT_ALLOW", "archMap": [1]})
def test_oci_profiles_raise_only_profile_errors(profile):
    try:
        rules_of(profile)
        compile_profile(profile)
    except ProfileError as e:
        assert "\n" not in str(e)


@FUZZ
@given(st.binary(max_size=64).map(lambda b: b"[" * 3000 + b + b"]" * 3000) | st.text(max_size=64).map(str.encode))
def test_oci_json_raises_only_profile_errors(data):
    try:
        load_profile(data)
    except ProfileError:
        pass


# --- captures, run end to end -----------------------------------------------------------------------
PCAP_HEADER = bytes.fromhex("d4c3b2a1020004000000000000000000ffff000001000000")
PCAPNG_HEADER = bytes.fromhex("0a0d0d0a1c0000004d3c2b1a01000000ffffffffffffffff1c000000"
                              "01000000140000000100000000000400"[:-8] + "14000000")


@FUZZ
@given(st.sampled_from([PCAP_HEADER, PCAPNG_HEADER, b""]), st.binary(max_size=200))
def test_captures_run_end_to_end_raise_only_capture_errors(header, tail):
    program = Program([(0x28, 0, 0, 12), (0x15, 0, 1, 0x800), (0x06, 0, 0, 0xFFFF), (0x06, 0, 0, 0)])
    try:
        run_capture(program, io.BytesIO(header + tail))
    except CaptureError as e:
        assert "\n" not in str(e)


# --- the command line, in process ----------------------------------------------------------------------
def _cli(argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


@settings(max_examples=120, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
@given(st.one_of(*(mutated(f) for f in FORMATS), texts(None)),
       st.sampled_from(["validate", "fmt", "analyze"]))
def test_cli_turns_every_bad_file_into_one_line_and_exit_2(tmp_path_factory, text, command):
    path = os.path.join(tmp_path_factory.getbasetemp(), "fuzzed.txt")
    with open(path, "w", encoding="utf-8", errors="surrogatepass") as f:
        f.write(text)
    argv = {"validate": ["validate", path], "fmt": ["fmt", path, "--to", "xt_bpf"],
            "analyze": ["analyze", path, "--timeout", "2"]}[command]
    code, out, err = _cli(argv)
    assert code in (0, 1, 2, 3), (code, err)
    assert "internal error" not in err and "Traceback" not in err, err
    if code == 2:
        assert len(err.splitlines()) == 1 and err.startswith("bpfcheck: error: "), err
