"""The code generator: what it writes, and that it stays correct at scale."""

import ast

import pytest

from bpfcheck import Program, isa
from bpfcheck.errors import UsageError, ValidationError
from bpfcheck.fast import compile_program
from bpfcheck.fast.codegen import MAX_DEPTH, generate

from fast_backends import verdict

TCP80 = Program([(0x28, 0, 0, 12), (0x15, 0, 8, 0x800), (0x30, 0, 0, 23), (0x15, 0, 6, 6),
                 (0x28, 0, 0, 20), (0x45, 4, 0, 0x1FFF), (0xB1, 0, 0, 14), (0x48, 0, 0, 16),
                 (0x15, 0, 1, 80), (0x06, 0, 0, 0x40000), (0x06, 0, 0, 0)])


def _nodes(source):
    return [type(n).__name__ for n in ast.walk(ast.parse(source))]


def test_generated_code_has_no_loops_and_only_integer_constants():
    source = compile_program(TCP80).source
    kinds = _nodes(source)
    assert "While" not in kinds and "For" not in kinds
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Constant):
            assert node.value is None or type(node.value) in (int, bool), node.value


def test_constants_fold_away():
    p = [(0x00, 0, 0, 4), (0x04, 0, 0, 1), (0x24, 0, 0, 3), (0x15, 0, 1, 15), (0x06, 0, 0, 7),
         (0x06, 0, 0, 8)]
    source = compile_program(p).source
    assert "return 7" in source and "8" not in source.split("return 7")[1]


def test_bounds_checks_are_not_repeated_on_a_path():
    p = [(0x28, 0, 0, 12), (0x15, 0, 2, 0x800), (0x30, 0, 0, 5), (0x16, 0, 0, 0), (0x06, 0, 0, 0)]
    source = compile_program(p).source
    assert source.count("n < 14") == 1 and "n < 6" not in source


def test_joins_become_regions_with_merged_state():
    # two paths set X differently, then a shared block reads it
    p = [(0x30, 0, 0, 0), (0x15, 0, 2, 1), (0x01, 0, 0, 10), (0x05, 0, 0, 1), (0x01, 0, 0, 20),
         (0x87, 0, 0, 0), (0x04, 0, 0, 1), (0x16, 0, 0, 0)]
    source = compile_program(p).source
    assert "if nxt == 5:" in source and "x = 10; nxt = 5" in source
    assert verdict(p, b"\x01") == 11 and verdict(p, b"\x02") == 21


def test_cache_is_by_bytes_and_target():
    a = compile_program(TCP80)
    assert compile_program(Program(list(TCP80))) is a
    assert compile_program(TCP80, "pcap") is not a


def test_refuses_what_the_target_refuses():
    with pytest.raises(ValidationError):
        compile_program([(0x06, 0, 0, 0), (0x20, 0, 0, 0)])      # last is not a ret
    with pytest.raises(UsageError):
        compile_program(TCP80, "nope")


def test_long_jump_chains_stay_within_pythons_nesting_limits():
    # 2000 tests that each jump forward past the others: every branch
    # nests, so the generator must split into functions.
    n = 2000
    p = [(0x20, 0, 0, 0)]
    for i in range(n):
        p.append((0x15, 0, 1, i))          # jeq #i, next, skip
        p.append((0x04, 0, 0, 1))          # add #1
    p.append((0x16, 0, 0, 0))
    assert len(p) <= isa.MAXINSNS
    compiled = compile_program(p)
    assert compiled.source.count("if nxt ==") > 1
    for value in (0, 5, 1999, 2000, 0xFFFFFFFF):
        verdict(p, value.to_bytes(4, "big"))


def test_deep_diamonds_compile():
    # a chain of 1000 diamonds: 2**1000 paths, linear code
    p = [(0x20, 0, 0, 0)]
    for i in range(1000):
        p += [(0x45, 0, 1, 1 << (i % 32)), (0x04, 0, 0, 3), (0x04, 0, 0, 1)]
    p.append((0x16, 0, 0, 0))
    source = generate(Program(p), "socket")
    depth = max(len(line) - len(line.lstrip(" ")) for line in source.splitlines()) // 4
    assert depth <= MAX_DEPTH + 2
    verdict(p, b"\x12\x34\x56\x78")


def test_seccomp_source_reads_words():
    p = [(0x20, 0, 0, 4), (0x15, 0, 1, 0xC000003E), (0x06, 0, 0, 0x7FFF0000), (0x06, 0, 0, 0)]
    source = compile_program(p, "seccomp").source
    assert "w[1]" in source and "def _entry(w)" in source
