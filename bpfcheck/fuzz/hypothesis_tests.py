"""The campaign's checks as ordinary Hypothesis tests.

Each test draws programs and inputs with :mod:`bpfcheck.strategies` and
asserts that bpfcheck and a real implementation agree.  Only what these
tests need to run at all is fixed here (no deadline: a kernel round trip
or a first compilation takes longer than Hypothesis' 200 ms; the
too-slow health checks off); how many examples, which database, which
seed is whoever runs them to decide, so the same tests serve a quick CI
run, a long ``pytest-xdist`` campaign over many cores sharing one example
database, and HypoFuzz::

    pytest -n 2 --pyargs bpfcheck.fuzz.hypothesis_tests                 # your default profile
    pytest -n 2 --pyargs bpfcheck.fuzz.hypothesis_tests --hypothesis-profile=NAME
    BPFCHECK_FUZZ_PROFILE=campaign pytest -n 2 tests/fuzz/test_campaign.py
    hypothesis fuzz -- tests/fuzz/test_campaign.py                      # HypoFuzz

The module's tests take the settings of the profile loaded when it is
imported (``--hypothesis-profile`` loads it before); :func:`build_tests`
builds fresh copies of every test under settings of your own (the repo's
``tests/fuzz/test_campaign.py`` does, with a CI and a campaign profile).

A failure shows the program and both answers; Hypothesis shrinks it and
saves it in its database, so the next run starts from it.  Kernel tests
open their own socket per example (pinned to the CPU the example runs on,
for ``SKF_AD_CPU``), so they are safe under any number of workers.
"""

from __future__ import annotations

import contextlib
import types
from typing import Callable, Dict, Tuple

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ..context import Context
from ..differential.compare import compare
from ..differential.oracles import CompiledOracle, KernelOracle, LibpcapOracle, ReferenceOracle
from ..differential.values import Input
from ..strategies import invalid_programs, packets, programs, seccomp_data

MAX_LEN = 24


@contextlib.contextmanager
def _kernel(target: str = "socket"):
    oracle = KernelOracle(target, cpu="current")
    try:
        yield oracle
    finally:
        oracle.close()


def _report(title: str, comparison, ours: str = "bpfcheck") -> str:
    lines = [f"{title}: {len(comparison.differences)} difference(s)", str(comparison.program),
             "raw: " + repr(comparison.program)]
    for d in comparison.differences[:5]:
        lines.append("  " + d.describe(ours, comparison.theirs))
    return "\n".join(lines)


@st.composite
def program_and_packets(draw, target: str = "socket", count: int = 8):
    """A program and packets aimed at its loads (lengths at its boundaries)."""
    program = draw(programs(target, max_len=MAX_LEN))
    drawn = draw(st.lists(packets(for_program=program, max_size=256), min_size=1, max_size=count))
    return program, drawn


#: test name -> (body, the strategies @given draws its arguments from)
_CHECKS: Dict[str, Tuple[Callable, dict]] = {}


def _check(strategies: dict):
    """Register a test body with its strategies; the module's public tests
    (same names) are built from it at the end of the module."""
    def register(body):
        _CHECKS[body.__name__] = (body, strategies)
        return body
    return register


# --- verdicts -------------------------------------------------------------------------
@_check(dict(case=program_and_packets("socket")))
def test_socket_verdicts_match_the_kernel(case):
    program, drawn = case
    with _kernel() as kernel:
        inputs = [Input(p, kernel.context) for p in drawn]
        c = compare(program, inputs, ReferenceOracle("socket"), kernel, explain=False)
    assert not c.differences, _report("socket program: reference VM vs the kernel", c)


@_check(dict(program=programs("seccomp", max_len=MAX_LEN),
             syscalls=st.lists(seccomp_data(), min_size=1, max_size=6)))
def test_seccomp_verdicts_match_the_kernel(program, syscalls):
    with _kernel("seccomp") as kernel:
        c = compare(program, [Input(s) for s in syscalls], ReferenceOracle("seccomp"), kernel, explain=False)
    assert not c.differences, _report("seccomp program: reference VM vs the kernel", c)


@_check(dict(case=program_and_packets("pcap"),
             extra=st.lists(st.integers(0, 2000), min_size=8, max_size=8)))
def test_pcap_verdicts_match_libpcap(case, extra):
    program, drawn = case
    inputs = [Input(p, Context(len=len(p) + e) if e else None) for p, e in zip(drawn, extra)]
    c = compare(program, inputs, ReferenceOracle("pcap"), LibpcapOracle(), explain=False)
    assert not c.differences, _report("pcap program: reference VM vs libpcap", c)


@_check(dict(case=program_and_packets("socket")))
def test_socket_programs_under_libpcap_rules_match_libpcap(case):
    # extensions, negative offsets and shifts by X >= 32 under libpcap's rules
    program, drawn = case
    c = compare(program, [Input(p) for p in drawn], ReferenceOracle("pcap"), LibpcapOracle(), explain=False)
    assert not c.differences, _report("socket program under pcap rules: reference VM vs libpcap", c)


# --- validators --------------------------------------------------------------------------
_ANY_SOCKET_PROGRAM = st.one_of(programs("socket", max_len=MAX_LEN), invalid_programs("socket"))


@_check(dict(program=_ANY_SOCKET_PROGRAM))
def test_validation_matches_the_kernel(program):
    with _kernel() as kernel:
        c = compare(program, [], ReferenceOracle("socket"), kernel, explain=False)
    assert not c.differences, _report("validate(target='socket') vs SO_ATTACH_FILTER", c)


@_check(dict(program=st.one_of(programs("seccomp", max_len=MAX_LEN), invalid_programs("seccomp"))))
def test_seccomp_validation_matches_the_kernel(program):
    with _kernel("seccomp") as kernel:
        c = compare(program, [], ReferenceOracle("seccomp"), kernel, explain=False)
    assert not c.differences, _report("validate(target='seccomp') vs seccomp()", c)


@_check(dict(program=st.one_of(programs("pcap", max_len=MAX_LEN), invalid_programs("pcap"),
                               _ANY_SOCKET_PROGRAM)))
def test_validation_matches_libpcap(program):
    c = compare(program, [], ReferenceOracle("pcap"), LibpcapOracle(), explain=False)
    assert not c.differences, _report("validate(target='pcap') vs bpf_validate", c)


# --- bpfcheck's own paths ------------------------------------------------------------------
@_check(dict(target=st.sampled_from(("socket", "pcap", "seccomp")), data=st.data()))
def test_fast_paths_match_the_reference_vm(target, data):
    program = data.draw(programs(target, max_len=MAX_LEN), label="program")
    if target == "seccomp":
        inputs = [Input(s) for s in data.draw(st.lists(seccomp_data(), min_size=1, max_size=6))]
    else:
        inputs = [Input(p) for p in data.draw(st.lists(packets(for_program=program), min_size=1, max_size=6))]
    c = compare(program, inputs, CompiledOracle(target), ReferenceOracle(target), explain=False)
    assert not c.differences, _report(f"{target}: compiled path vs reference VM", c, ours="compiled")
    from .. import batch
    if batch.available():
        values = [i.value for i in inputs]
        got = batch.run_batch(program, values, None, target=target).tolist()
        want = ReferenceOracle(target).run(program, inputs)
        assert got == want, f"{target}: batch path {got} vs reference VM {want}\n{program}"


# --- the tests, built ------------------------------------------------------------------
#: health checks that only say a test is slow: these tests run a kernel or libpcap
SLOW_IS_FINE = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much,
                HealthCheck.large_base_example]


def build_tests(chosen: settings) -> Dict[str, Callable]:
    """A fresh copy of every test (``{name: test}``), each ``@given`` its
    strategies under ``chosen``: Hypothesis allows one settings object per
    test function, so each copy is a new function with the same code."""
    out = {}
    for name, (body, strategies) in _CHECKS.items():
        fresh = types.FunctionType(body.__code__, body.__globals__, name, body.__defaults__, body.__closure__)
        fresh.__doc__, fresh.__qualname__ = body.__doc__, name
        out[name] = chosen(given(**strategies)(fresh))
    return out


_DEFAULT = build_tests(settings(deadline=None, suppress_health_check=SLOW_IS_FINE))
test_socket_verdicts_match_the_kernel = _DEFAULT['test_socket_verdicts_match_the_kernel']
test_seccomp_verdicts_match_the_kernel = _DEFAULT['test_seccomp_verdicts_match_the_kernel']
test_pcap_verdicts_match_libpcap = _DEFAULT['test_pcap_verdicts_match_libpcap']
test_socket_programs_under_libpcap_rules_match_libpcap = _DEFAULT[
    'test_socket_programs_under_libpcap_rules_match_libpcap']
test_validation_matches_the_kernel = _DEFAULT['test_validation_matches_the_kernel']
test_seccomp_validation_matches_the_kernel = _DEFAULT['test_seccomp_validation_matches_the_kernel']
test_validation_matches_libpcap = _DEFAULT['test_validation_matches_libpcap']
test_fast_paths_match_the_reference_vm = _DEFAULT['test_fast_paths_match_the_reference_vm']
