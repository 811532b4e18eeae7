"""Verdict sets too big to list (``ret a`` after arithmetic) against every
input there is.

Each program reads only the first two bytes of the packet, so the 65,536
two-byte packets and the two shorter ones (a load falls off: 0) are all
its inputs; libpcap's own ``bpf_filter`` runs each of them (these
programs use nothing on which libpcap and the kernel differ).  The
analysis must name exactly that set — or, when it cannot, contain it and
say why.  Programs that read one or two bytes whole are run by
:mod:`bpfcheck.proof.exhaustive` on the inputs that matter; the ones here
that compare byte 0 only with constants let it try three values of that
byte instead of 256, and libpcap checks all 256.
"""

import random
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bpfcheck import Program, analyze
from bpfcheck.oracles import libpcap
from bpfcheck.proof.exhaustive import compared_only, exact_verdicts
from bpfcheck.proof import verdicts as verdicts_module
from bpfcheck.proof.verdicts import VerdictSet

pytestmark = pytest.mark.skipif(not libpcap.available(), reason="libpcap (libpcap0.8) is not installed")

ALU_K = {"add": 0x04, "sub": 0x14, "mul": 0x24, "or": 0x44, "and": 0x54, "lsh": 0x64, "rsh": 0x74,
         "xor": 0xA4}
RET_A = (0x16, 0, 0, 0)
COMPARE = {"jeq": 0x15, "jgt": 0x25, "jge": 0x35}


@st.composite
def alu_ops(draw, most=4):
    ops = []
    for _ in range(draw(st.integers(1, most))):
        name = draw(st.sampled_from(sorted(ALU_K)))
        if name in ("lsh", "rsh"):
            k = draw(st.integers(0, 20))
        else:
            k = draw(st.one_of(st.integers(0, 0xFF), st.integers(0, 0xFFFF), st.integers(0, 0xFFFFFFFF)))
        ops.append((ALU_K[name], 0, 0, k))
    return ops


@st.composite
def arithmetic_on_a_half_word(draw):
    """``ldh [0]``, arithmetic, maybe a ``jgt`` on the result choosing
    between two more runs of arithmetic, ``ret a``: two bytes read whole."""
    head = [(0x28, 0, 0, 0)] + draw(alu_ops())
    if not draw(st.booleans()):
        return Program(head + [RET_A])
    left, right = draw(alu_ops(3)), draw(alu_ops(3))
    jump = (0x25, 0, len(left) + 1, draw(st.integers(0, 0x1FFFF)))
    return Program(head + [jump] + left + [RET_A] + right + [RET_A])


@st.composite
def one_to_one_ops(draw):
    """Arithmetic that keeps 256 byte values 256 distinct verdicts (more
    than the solver lists one by one)."""
    ops = []
    for _ in range(draw(st.integers(1, 3))):
        name = draw(st.sampled_from(["add", "sub", "xor", "lsh", "mul"]))
        k = draw(st.integers(0, 20)) if name == "lsh" else \
            draw(st.integers(0, 0x7FFFFFFF)) * 2 + 1 if name == "mul" else draw(st.integers(0, 0xFFFFFFFF))
        ops.append((ALU_K[name], 0, 0, k))
    return ops


@st.composite
def a_compared_byte_then_arithmetic(draw):
    """``ldb [0]`` compared with constants only, then on each side
    ``ldb [1]`` and arithmetic (or a constant return): byte 0 matters only
    through the comparisons."""
    op = COMPARE[draw(st.sampled_from(sorted(COMPARE)))]
    c = draw(st.one_of(st.integers(0, 0xFF), st.sampled_from([0x100, 0xFFFFFFFF])))
    left = [(0x30, 0, 0, 1)] + draw(one_to_one_ops()) + [RET_A]
    if draw(st.booleans()):
        right = [(0x30, 0, 0, 1)] + draw(one_to_one_ops()) + [RET_A]
    else:
        right = [(0x06, 0, 0, draw(st.integers(0, 0xFFFF)))]
    return Program([(0x30, 0, 0, 0), (op, 0, len(left), c)] + left + right)


def _every_verdict(program):
    packets = [b"", b"\x00"] + [bytes((hi, lo)) for hi in range(256) for lo in range(256)]
    return set(libpcap.bpf_filter_many(program, packets))


def _check(program, target):
    result = analyze(program, target, timeout=30)
    every = _every_verdict(program)
    claimed = result.verdicts
    if claimed.exact:
        assert claimed == VerdictSet([(v, v) for v in every]), (program, claimed)
    else:
        assert claimed.reason
        assert all(any(lo <= v <= hi for lo, hi in claimed.ranges) for v in every), (program, claimed)
    return claimed


SETTINGS = settings(max_examples=25, deadline=None, derandomize=True, database=None)


@SETTINGS
@given(arithmetic_on_a_half_word(), st.sampled_from(["socket", "pcap"]))
def test_ranges_after_arithmetic_are_exactly_what_some_input_returns(program, target):
    assert _check(program, target).exact      # two whole bytes: within reach of exhaustion


@SETTINGS
@given(a_compared_byte_then_arithmetic(), st.sampled_from(["socket", "pcap"]))
def test_a_byte_compared_only_with_constants_needs_only_its_class_representatives(program, target):
    assert 0 in compared_only(program, target) and exact_verdicts(program, target) is not None
    assert _check(program, target).exact


def test_a_realistic_snap_length_is_exact():
    # ethertype IPv4 -> return the IP total length plus the Ethernet header
    program = Program([(0x28, 0, 0, 12), (0x15, 0, 3, 0x800), (0x28, 0, 0, 16), (0x04, 0, 0, 14),
                       RET_A, (0x06, 0, 0, 0)])
    result = analyze(program)
    assert result.verdicts.exact and result.verdicts.ranges == ((0, 0), (14, 0xFFFF + 14))


def test_programs_reading_a_computed_offset_or_the_length_are_left_to_the_solver():
    assert exact_verdicts(Program([(0x50, 0, 0, 0), RET_A]), "socket") is None      # ldb [x + 0]
    assert exact_verdicts(Program([(0x80, 0, 0, 0), RET_A]), "socket") is None      # ld len
    assert exact_verdicts(Program([(0x20, 0, 0, 0xFFFFF000), RET_A]), "socket") is None   # ld proto
    assert exact_verdicts(Program([(0x20, 0, 0, 0), RET_A]), "seccomp") is None
    assert exact_verdicts(Program([(0x20, 0, 0, 0), RET_A]), "socket") is None      # four whole bytes


# ld [3]; ld [x + 1]; tax; tax; mul x; tax; mul x; div x; add #65088; ret a —
# the shape of a program a random campaign left running for 13 minutes:
# the largest verdict of a range, over x*x*x / x, is nonlinear arithmetic
# the solver may never finish.
NONLINEAR = Program([(0x20, 0, 0, 3), (0x40, 0, 0, 1), (0x07, 0, 0, 0), (0x07, 0, 0, 0), (0x2C, 0, 0, 0),
                     (0x07, 0, 0, 0), (0x2C, 0, 0, 0), (0x3C, 0, 0, 0), (0x04, 0, 0, 65088), RET_A])


def _analyze_within(seconds, program, target):
    """analyze() on a worker thread: a test of a limit must fail, not hang,
    when the limit is not kept."""
    answer = []
    worker = threading.Thread(target=lambda: answer.append(analyze(program, target)), daemon=True)
    worker.start()
    worker.join(seconds)
    assert answer, f"the analysis took more than {seconds} s"
    return answer[0]


def _contains_what_libpcap_returns(claimed, program):
    rng = random.Random(3)
    packets = [bytes(rng.randrange(256) for _ in range(rng.randrange(12))) for _ in range(3000)]
    for verdict in libpcap.bpf_filter_many(program, packets):
        assert any(lo <= verdict <= hi for lo, hi in claimed.ranges), (verdict, claimed)


def test_ranges_that_need_nonlinear_arithmetic_end_inexact_within_their_limits(monkeypatch):
    monkeypatch.setattr(verdicts_module, "RANGE_QUESTION_SECONDS", 1.0)
    claimed = _analyze_within(120, NONLINEAR, "pcap").verdicts
    assert not claimed.exact and "ran out of time (1 s)" in claimed.reason
    _contains_what_libpcap_returns(claimed, NONLINEAR)


def test_the_range_phase_as_a_whole_has_a_limit(monkeypatch):
    monkeypatch.setattr(verdicts_module, "RANGES_SECONDS", 0.0)
    program = Program([(0x07, 0, 0, 0), (0x48, 0, 0, 0), RET_A])       # tax; ldh [x + 0]; ret a
    claimed = _analyze_within(120, program, "pcap").verdicts
    assert not claimed.exact and "the verdict ranges took their 0 s" in claimed.reason
    _contains_what_libpcap_returns(claimed, program)
