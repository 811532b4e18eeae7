"""The Oracle implementations: one protocol, each side's own view of an input,
and the kernel's one-run confirmation of expected verdicts."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bpfcheck import Context, Program, SeccompData, isa
from bpfcheck.differential import (CompiledOracle, Delivered, Input, KernelOracle, LibpcapOracle,
                                   NoVerdict, ReferenceOracle)
from bpfcheck.differential.confirm import can_confirm, confirming_program
from bpfcheck.strategies import packets, programs
from bpfcheck.validate import is_valid

from oracle_marks import needs_kernel, needs_libpcap

QUICK = settings(max_examples=30, derandomize=True, deadline=None, database=None,
                 suppress_health_check=list(HealthCheck))
RET_A = (0x16, 0, 0, 0)


@pytest.fixture
def kernel():
    oracle = KernelOracle("socket", cpu="current")
    yield oracle
    oracle.close()


def test_reference_and_compiled_agree_and_judge_alike():
    program = Program([(0x28, 0, 0, 12), (0x15, 0, 1, 0x800), (0x06, 0, 0, 99), (0x06, 0, 0, 0)])
    inputs = [Input(bytes(12) + b"\x08\x00"), Input(b"\x00" * 13), Input(b"", Context(len=500))]
    for target in ("socket", "pcap"):
        assert ReferenceOracle(target).run(program, inputs) == CompiledOracle(target).run(program, inputs) \
            == [99, 0, 0]
    refused = ReferenceOracle("socket").accepts(Program([(0x60, 0, 0, 1), RET_A]))
    assert not refused.accepted and refused.error == "ScratchReadBeforeWrite" and refused.pc == 0


@needs_libpcap
def test_libpcap_reads_the_wire_length_and_reports_crashes_as_no_verdict():
    lib = LibpcapOracle()
    program = Program([(0x80, 0, 0, 0), RET_A])
    assert lib.run(program, [Input(b"abc"), Input(b"abc", Context(len=77))]) == [3, 77]
    aborts = Program([(0x00, 0, 0, 1), (0x0E, 0, 0, 0), (0x06, 0, 0, 5)])   # ret x: bpf_validate passes it
    assert lib.accepts(aborts).accepted
    [outcome] = lib.run(aborts, [Input(b"x")])
    assert isinstance(outcome, NoVerdict) and outcome.pc == 1


@needs_kernel
def test_the_kernel_sees_an_af_unix_datagram_whatever_the_context(kernel):
    captured = Input(b"x" * 20, Context(has_device=True, ifindex=3, protocol=0x800, link_header=0))
    view = kernel.view(captured)
    assert view.value == captured.value and view.context == Context(cpu=kernel.socket.cpu)
    enomem = Program([(0x30, 0, 0, 0)] * 4094 + [(0x06, 0, 0, 1)])      # past the checker, too big
    assert kernel.accepts(enomem).accepted


@needs_kernel
def test_random_loads_give_delivered_lengths(kernel):
    program = Program([(0x20, 0, 0, isa.SKF_AD_OFF + isa.SKF_AD_RANDOM), (0x54, 0, 0, 7), (0x04, 0, 0, 1),
                       RET_A])
    [outcome] = kernel.run(program, [Input(b"y" * 100, kernel.context)])
    assert isinstance(outcome, Delivered) and 1 <= outcome.length <= 8
    assert not can_confirm(program)


def test_confirming_programs_keep_every_path():
    program = Program([(0x28, 0, 0, 12), (0x15, 0, 1, 0x800), RET_A, (0x06, 0, 0, 7)])
    confirm = confirming_program(program, 0x800)
    assert len(confirm) == len(program) + 3 and is_valid(confirm)
    assert confirm[:2] == program[:2] and confirm[2] == (0x05, 0, 0, 1) and confirm[3] == (0x06, 0, 0, 0)


@needs_kernel
def test_confirmed_verdicts_equal_extracted_ones(kernel):
    @QUICK
    @given(program=programs("socket", max_len=12),
           drawn=st.lists(packets(max_size=80), min_size=1, max_size=6),
           wrong=st.booleans())
    def check(program, drawn, wrong):
        if not can_confirm(program):
            return
        inputs = [Input(p, kernel.context) for p in drawn]
        exact = kernel.run(program, inputs)
        expected = [v + 1 if wrong and isinstance(v, int) else v for v in exact]
        assert kernel.run_expecting(program, inputs, expected) == exact
    check()


@needs_kernel
def test_seccomp_verdicts_confirmed_through_the_socket_path():
    program = Program([(0x20, 0, 0, 0), (0x15, 0, 1, 59), (0x06, 0, 0, isa.SECCOMP_RET_KILL_PROCESS),
                       (0x06, 0, 0, isa.SECCOMP_RET_ALLOW)])
    oracle = KernelOracle("seccomp", cpu="current")
    try:
        inputs = [Input(SeccompData(59, 0xC000003E)), Input(SeccompData(2, 0xC000003E))]
        want = [isa.SECCOMP_RET_KILL_PROCESS, isa.SECCOMP_RET_ALLOW]
        assert oracle.run(program, inputs) == want
        assert oracle.run_expecting(program, inputs, want) == want
        assert oracle.run_expecting(program, inputs, list(reversed(want))) == want
    finally:
        oracle.close()
