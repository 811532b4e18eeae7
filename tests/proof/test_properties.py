"""The property language: grammar, types, precedence, errors — and the CLI."""

import json
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bpfcheck import Program, prove
from bpfcheck.properties import PropertyError, parse_property
from bpfcheck.properties import ast
from bpfcheck.properties.evaluate import ConcreteOps, ConcreteView, evaluate

ACCEPT_IPV4 = Program([(0x28, 0, 0, 12), (0x15, 0, 1, 0x800), (0x06, 0, 0, 0xFFFF), (0x06, 0, 0, 0)])


def value_of(text, **run):
    view = ConcreteView("socket", run.get("verdict", 0), run.get("path", ()), packet=run.get("packet", b""))
    return evaluate(parse_property(text), ConcreteOps, view)


@pytest.mark.parametrize("text,expected", [
    ("1 + 2 * 3 == 7", True),
    ("(1 + 2) * 3 == 9", True),
    ("1 << 2 + 1 == 8", True),            # + binds tighter than <<
    ("6 & 3 == 2", True),                 # & binds tighter than comparisons
    ("1 | 2 ^ 3 == 1", True),             # ^ before |
    ("~0 == 0xffffffffffffffff", True),   # 64-bit values
    ("0 - 1 > 0", True),                  # unsigned
    ("7 / 0 == 0 and 7 % 0 == 0", True),  # defined, not an error
    ("1 << 64 == 0", True),
    ("5 in {1, 5, 9}", True),
    ("5 in [6, 9]", False),
    ("5 in [5, 5]", True),
    ("false -> false -> false", True),    # right associative: false -> (false -> false)
    ("not true or true", True),
    ("true or true and false", True),     # and before or
    ("0b101 == 5 and 0o17 == 15 and 0x10 == 16", True),
])
def test_arithmetic_and_precedence(text, expected):
    assert value_of(text) is expected


def test_packet_reads_are_big_endian_and_zero_past_the_end():
    assert value_of("pkt[0:2] == 0x0102", packet=b"\x01\x02\x03") is True
    assert value_of("pkt[2:4] == 0x03000000", packet=b"\x01\x02\x03") is True
    assert value_of("pkt[1] == 2", packet=b"\x01\x02\x03") is True
    assert value_of("pkt[1 + 1] == 3", packet=b"\x01\x02\x03") is True
    assert value_of("len == 3", packet=b"\x01\x02\x03") is True


@pytest.mark.parametrize("text,column,words", [
    ("verdict and 3", 1, "joins conditions"),
    ("pkt[12:3] == 1", 8, "SIZE 1, 2 or 4"),
    ("verdict ==", 11, "expected a value"),
    ("(verdict == 1", 14, "')'"),
    ("verdict == 1 )", 14, "after a complete property"),
    ("foo == 1", 1, "unknown name 'foo'"),
    ("verdict == 1 $", 14, "unexpected character"),
    ("verdict", 1, "true or false"),
    ("ctx.nope == 1", 5, "ctx.FIELD"),
    ("reaches(x)", 9, "instruction number"),
    ("matches(tcp)", 9, "quoted"),
    ("verdict in 3", 12, "after 'in'"),
    ("1 == 2 == 3", 8, "after a complete property"),
    ("99999999999999999999999 == 1", 1, "64 bits"),
])
def test_errors_name_the_column_and_what_was_expected(text, column, words):
    with pytest.raises(PropertyError) as e:
        parse_property(text)
    assert e.value.column == column
    assert words in str(e.value)


def test_nesting_is_bounded():
    with pytest.raises(PropertyError, match="nested"):
        parse_property("(" * 500 + "true" + ")" * 500)
    with pytest.raises(PropertyError, match="nested"):
        parse_property("not " * 500 + "true")
    parse_property("(" * 40 + "true" + ")" * 40)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_only_property_errors_escape(text):
    try:
        parse_property(text)
    except PropertyError:
        pass


def test_names_resolve_for_seccomp():
    tree = parse_property("nr == execve -> action == KILL_PROCESS",
                          __import__("bpfcheck.proof.prove", fromlist=["x"]).resolver_for("seccomp", "x86_64"))
    assert isinstance(tree, ast.Implies)
    assert tree.left.right.value == 59 and tree.left.right.name == "execve"
    assert tree.right.right.value == 0x80000000


def test_applicability_is_checked_before_solving():
    from bpfcheck.errors import UsageError
    with pytest.raises(UsageError, match="seccomp"):
        prove(ACCEPT_IPV4, "nr == 1")
    with pytest.raises(UsageError, match="outside the program"):
        prove(ACCEPT_IPV4, "reaches(4)")
    with pytest.raises(UsageError, match="other"):
        prove(ACCEPT_IPV4, "other.accepted")


def test_other_program_and_matches():
    assert prove(ACCEPT_IPV4, "accepted -> other.accepted", other=ACCEPT_IPV4).status == "proved"
    assert prove(ACCEPT_IPV4, "accepted == matches(\"ip\")").status == "proved"
    outcome = prove(ACCEPT_IPV4, "accepted -> matches(\"tcp\")")
    assert outcome.status == "refuted" and outcome.witness.verdicts["program"] != 0
    assert prove(ACCEPT_IPV4, "matches(\"ip and tcp\") -> accepted").status == "proved"
    assert prove(ACCEPT_IPV4, "matches(\"tcp\") -> accepted").status == "refuted"   # IPv6 TCP


def bpfcheck(*args, stdin=None):
    return subprocess.run([sys.executable, "-m", "bpfcheck", *args], capture_output=True, text=True,
                          input=stdin, timeout=120)


def test_cli_prove_exit_codes_and_json(tmp_path):
    src = tmp_path / "p.txt"
    src.write_text(ACCEPT_IPV4.format("c"))
    r = bpfcheck("prove", str(src), "accepted -> pkt[12:2] == 0x800")
    assert r.returncode == 0 and r.stdout.startswith("proved")
    r = bpfcheck("prove", str(src), "accepted -> len >= 15", "--json")
    assert r.returncode == 1
    obj = json.loads(r.stdout)
    assert obj["status"] == "refuted" and obj["witness"]["packet"] == "0000000000000000000000000800"
    r = bpfcheck("prove", str(src), "verdict ==")
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "column" in r.stderr
    r = bpfcheck("prove", str(src), "accepted -> len >= 15", "--witness", str(tmp_path / "w.pcap"))
    assert r.returncode == 1 and (tmp_path / "w.pcap").stat().st_size == 24 + 16 + 14


def test_cli_equiv_and_analyze(tmp_path):
    r = bpfcheck("equiv", "--optimized-vs-unoptimized", "udp", "--json")
    assert r.returncode == 0 and json.loads(r.stdout)["status"] == "proved"
    r = bpfcheck("equiv", "--expr-a", "tcp port 80", "--expr-b", "tcp dst port 80")
    assert r.returncode == 1 and "witness" in r.stdout
    r = bpfcheck("analyze", "--expr", "ip", "--json")
    obj = json.loads(r.stdout)
    assert r.returncode == 0 and obj["verdicts"]["ranges"] == [[0, 0], [262144, 262144]]
    assert obj["dead"] == [] and obj["findings"][0]["kind"] == "out-of-bounds"
