"""Each documented dialect difference is classified as such, and named;
a difference the model does not predict is a disagreement.

Every case runs on the real implementation (the kernel's AF_UNIX socket
pair or libpcap): the classification is only worth something if the
difference it explains is real.
"""

from __future__ import annotations

import pytest

from bpfcheck import Context, Program, isa
from bpfcheck.differential import (DIALECT, DISAGREEMENT, Input, KernelOracle, LibpcapOracle,
                                   ReferenceOracle, compare)
from bpfcheck.semantics import TABLES
from bpfcheck.vm import Machine

from oracle_marks import needs_kernel, needs_libpcap

AD, NET, LL = isa.SKF_AD_OFF, isa.SKF_NET_OFF, isa.SKF_LL_OFF
RET_A = (0x16, 0, 0, 0)
PACKET = bytes(range(1, 65))


@pytest.fixture
def kernel():
    oracle = KernelOracle("socket", cpu="current")
    yield oracle
    oracle.close()


def only(comparison, kind):
    assert comparison.differences, "expected a difference"
    assert {d.kind for d in comparison.differences} == {kind}, [
        (d.kind, d.describe("bpfcheck", comparison.theirs), d.reasons) for d in comparison.differences]
    return comparison.differences[0]


# --- socket rules against libpcap ---------------------------------------------------------
LIBPCAP_DIALECT = {
    "extension": (Program([(0x00, 0, 0, 7), (0x20, 0, 0, AD + isa.SKF_AD_CPU), (0x04, 0, 0, 5), RET_A]),
                  "libpcap has no extensions"),
    "shift by X >= 32": (Program([(0x01, 0, 0, 33), (0x00, 0, 0, 1), (0x6C, 0, 0, 0), RET_A]),
                         "shifts by X = 33"),
    "wrapped indirect offset": (Program([(0x01, 0, 0, 0xFFFFFFFF), (0x50, 0, 0, 10), RET_A]),
                                "wraps around 2^32"),
    "negative offset": (Program([(0x30, 0, 0, NET + 3), (0x04, 0, 0, 1), RET_A]),
                        "negative offset"),
}


@needs_libpcap
@pytest.mark.parametrize("name", list(LIBPCAP_DIALECT))
def test_socket_rules_against_libpcap_are_dialect(name):
    program, words = LIBPCAP_DIALECT[name]
    c = compare(program, [Input(PACKET)], ReferenceOracle("socket"), LibpcapOracle())
    d = only(c, DIALECT)
    assert any(words in r for r in d.reasons), d.reasons


@needs_libpcap
def test_scratch_read_before_write_is_a_validation_dialect():
    # the kernel refuses it; libpcap runs it (on M[] garbage, zeroed by the oracle)
    program = Program([(0x60, 0, 0, 3), RET_A])
    c = compare(program, [Input(PACKET)], ReferenceOracle("socket"), LibpcapOracle())
    d = only(c, DIALECT)
    assert d.index is None and not d.ours.accepted and d.theirs.accepted
    assert any("ScratchReadBeforeWrite" in r for r in d.reasons)


# --- a capture's context against the kernel's AF_UNIX socket ----------------------------------
@needs_kernel
@pytest.mark.parametrize("program, words", [
    (Program([(0x00, 0, 0, 9), (0x20, 0, 0, AD + isa.SKF_AD_IFINDEX), (0x06, 0, 0, 77)]), "no device"),
    (Program([(0x30, 0, 0, LL + 0), (0x04, 0, 0, 1), RET_A]), "link-layer header"),
    (Program([(0x28, 0, 0, AD + isa.SKF_AD_PROTOCOL), (0x04, 0, 0, 1), RET_A]), "reads protocol"),
    (Program([(0x80, 0, 0, 0), RET_A]), "reads len"),
])
def test_capture_context_against_af_unix_is_dialect(kernel, program, words):
    captured = Context(has_device=True, ifindex=2, hatype=1, protocol=0x800, link_header=0,
                       network_header=14, len=200)
    c = compare(program, [Input(PACKET, captured)], ReferenceOracle("socket"), kernel)
    d = only(c, DIALECT)
    assert any(words in r for r in d.reasons), d.reasons


# --- what is not dialect ----------------------------------------------------------------------
def broken_machine(program, target):
    machine = Machine(program, target)
    machine._handlers = [TABLES["pcap"][0x6C] if insn[0] == 0x6C else h
                         for insn, h in zip(machine.program, machine._handlers)]
    return machine


@needs_kernel
def test_a_wrong_verdict_is_a_disagreement(kernel):
    program = LIBPCAP_DIALECT["shift by X >= 32"][0]
    c = compare(program, [Input(PACKET, kernel.context)], ReferenceOracle("socket", broken_machine), kernel)
    d = only(c, DISAGREEMENT)
    assert (d.ours, d.theirs) == (0, 2)


@needs_libpcap
def test_same_rules_never_give_dialect():
    c = compare(LIBPCAP_DIALECT["extension"][0], [Input(PACKET)], ReferenceOracle("pcap"), LibpcapOracle())
    assert not c.differences


@needs_kernel
def test_random_extension_compares_delivered_lengths(kernel):
    # SKF_AD_RANDOM: no exact kernel verdict; inputs whose run reads it are
    # skipped, the others compared by delivered length
    program = Program([(0x20, 0, 0, 20), (0x15, 0, 1, 0x01020304), (0x20, 0, 0, AD + isa.SKF_AD_RANDOM),
                       (0x06, 0, 0, 3)])
    hit = bytes(20) + bytes([1, 2, 3, 4])
    c = compare(program, [Input(PACKET, kernel.context), Input(hit, kernel.context)],
                ReferenceOracle("socket"), kernel)
    assert (c.compared, c.skipped, c.differences) == (1, 1, [])


@needs_kernel
def test_seccomp_against_the_kernel():
    from bpfcheck import SeccompData
    program = Program([(0x20, 0, 0, 0), (0x15, 0, 1, 59), (0x06, 0, 0, isa.SECCOMP_RET_ERRNO | 1),
                       (0x06, 0, 0, isa.SECCOMP_RET_ALLOW)])
    kernel = KernelOracle("seccomp", cpu="current")
    try:
        c = compare(program, [Input(SeccompData(59, 0xC000003E)), Input(SeccompData(1, 0xC000003E))],
                    ReferenceOracle("seccomp"), kernel)
        assert c.compared == 2 and not c.differences
        refused = compare(Program([(0x30, 0, 0, 0), RET_A]), [], ReferenceOracle("seccomp"), kernel)
        assert refused.both_refuse
    finally:
        kernel.close()
