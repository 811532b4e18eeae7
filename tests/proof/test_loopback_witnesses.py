"""Witnesses that need metadata an AF_UNIX datagram cannot carry, replayed
on a real device: ``lo`` in a private network namespace.

When the program reads ``pkttype``, ``hatype``, the link-layer header and
so on, the witness becomes a frame sent on ``lo`` with the metadata the
kernel gives one of its copies (when that still shows what it must), and
the kernel's verdict on that copy confirms it.  What cannot happen on
``lo`` (an ``ifindex`` other than lo's) stays unconfirmed — never wrong.
"""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bpfcheck import Context, Machine, analyze, prove
from bpfcheck.isa import SKF_AD_HATYPE, SKF_AD_IFINDEX, SKF_AD_OFF, SKF_AD_PKTTYPE, SKF_AD_PROTOCOL
from bpfcheck.oracles.packet import PacketNamespace
from oracle_marks import LINUX

pytestmark = pytest.mark.skipif(not LINUX, reason="the AF_PACKET oracle needs Linux")

LD_W, JEQ, RET = 0x20, 0x15, 0x06
SKF_LL_OFF = 0xFFE00000        # -0x200000: the link-layer header


def _field_is(offset, value):
    """ld [SKF_AD_OFF + offset]; jeq #value -> ret #1, else ret #0."""
    return [(LD_W, 0, 0, SKF_AD_OFF + offset), (JEQ, 0, 1, value), (RET, 0, 0, 1), (RET, 0, 0, 0)]


def _kernel_verdict(program, packet, ctx):
    """The verdict the kernel returns on the copy of ``packet`` on lo whose metadata is ``ctx``."""
    with PacketNamespace() as namespace:
        copies = namespace.run(program, [packet])[0]
    matching = [c.verdict for c in copies if c.frame == packet and c.context.replace(len=ctx.len) == ctx]
    assert matching, (packet.hex(), ctx, [c.context for c in copies])
    return matching[0]


@pytest.mark.parametrize("program, verdict", [
    (_field_is(SKF_AD_PKTTYPE, 4), 1),          # outgoing: the copy lo sends
    (_field_is(SKF_AD_HATYPE, 772), 1),         # ARPHRD_LOOPBACK
    (_field_is(SKF_AD_PROTOCOL, 0x86DD), 1),    # skb->protocol of an IPv6 frame
    ([(0x28, 0, 0, SKF_LL_OFF + 12), (JEQ, 0, 1, 0x800), (RET, 0, 0, 1), (RET, 0, 0, 0)], 1),
])
def test_a_witness_needing_metadata_is_a_frame_on_lo_the_kernel_confirms(program, verdict):
    # (the last one: ldh [SKF_LL_OFF + 12], the EtherType read through the link-layer header)
    outcome = prove(program, f"verdict != {verdict}")
    assert outcome.status == "refuted"
    witness = outcome.witness
    assert witness.kernel is True, witness.describe()
    assert witness.context.has_device and witness.context.ifindex >= 1 and len(witness.packet) >= 14
    assert Machine(program).run(witness.packet, witness.context) == verdict
    assert _kernel_verdict(program, witness.packet, witness.context) == verdict


def test_metadata_lo_never_has_leaves_the_witness_unconfirmed():
    # ld ifidx; jeq #1 -> ret #0, else ret #7: lo is ifindex 1, and without
    # a device the load ends the run with A (0), so 7 needs another device.
    program = [(LD_W, 0, 0, SKF_AD_OFF + SKF_AD_IFINDEX), (JEQ, 0, 1, 1), (RET, 0, 0, 0), (RET, 0, 0, 7)]
    outcome = prove(program, "verdict != 7")
    assert outcome.status == "refuted" and outcome.witness.kernel is None
    assert Machine(program).run(outcome.witness.packet, outcome.witness.context) == 7


def test_analysis_findings_that_need_a_link_header_are_confirmed_too():
    # ldb [SKF_LL_OFF + 0]: without a link-layer header the load fails (verdict 0)
    program = [(0x30, 0, 0, SKF_LL_OFF), (0x15, 0, 1, 0), (RET, 0, 0, 5), (RET, 0, 0, 6)]
    result = analyze(program)
    assert set(result.verdicts) == {0, 5, 6}
    for pc in (2, 3):
        witness = result.witness(pc)
        assert witness.kernel is True, witness.describe()


FIELDS = [(SKF_AD_PKTTYPE, [0, 1, 2, 3, 4]), (SKF_AD_HATYPE, [1, 772]), (SKF_AD_IFINDEX, [1, 2]),
          (SKF_AD_PROTOCOL, [0, 4, 0x800, 0x86DD])]


def _metadata_chain(tests):
    """One ``ld [SKF_AD_OFF + field]; jeq #value`` per test, all of them
    true -> ret #1, any false -> ret #0."""
    program = []
    for i, (offset, value) in enumerate(tests):
        left = len(tests) - i - 1
        program += [(LD_W, 0, 0, SKF_AD_OFF + offset), (JEQ, 0, 2 * left + 1, value)]
    return program + [(RET, 0, 0, 1), (RET, 0, 0, 0)]


def _check_witness(program, expect):
    """The witness refuting ``verdict != expect``, if any, replays, and the
    kernel never disagrees; True when it was confirmed on lo."""
    outcome = prove(program, f"verdict != {expect}")
    if outcome.status != "refuted":
        return False
    witness = outcome.witness
    assert witness.kernel is not False, witness.describe()
    assert Machine(program).run(witness.packet, witness.context) == expect
    if witness.kernel and witness.context.replace(cpu=0) != Context():     # (else: AF_UNIX)
        assert _kernel_verdict(program, witness.packet, witness.context) == expect
        return True
    return False


@settings(max_examples=30, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
@given(st.lists(st.sampled_from(FIELDS).flatmap(
    lambda f: st.tuples(st.just(f[0]), st.sampled_from(f[1]))), min_size=1, max_size=3),
    st.sampled_from([0, 1]))
def test_no_witness_the_kernel_sees_is_wrong(tests, expect):
    _check_witness(_metadata_chain(tests), expect)


def test_what_lo_can_show_it_confirms():
    # Every combination lo's copies have: pkttype 4 (sent) or 0 (received),
    # hatype 772, ifindex 1, the frame's EtherType as protocol.
    for pkttype in (0, 4):
        for protocol in (0x800, 0x86DD):
            chain = [(SKF_AD_PKTTYPE, pkttype), (SKF_AD_HATYPE, 772), (SKF_AD_IFINDEX, 1),
                     (SKF_AD_PROTOCOL, protocol)]
            assert _check_witness(_metadata_chain(chain), 1), (pkttype, hex(protocol))
