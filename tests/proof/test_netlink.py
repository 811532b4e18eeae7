"""Netlink attribute searches (``ld [nla]``, ``ld [nlan]``): proofs and
witnesses.

The formula keeps the search an unknown function of the packet, limited to
results a real walk can give (0, or an aligned attribute of the type
sought); a witness comes from a model whose searches walk a few attributes
exactly, so it replays — on the reference VM and on the kernel.  Claims are
checked against runs over packets built as chains of attributes, where the
searches find something, and over random bytes.
"""

import platform
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from bpfcheck import Context, Machine, Program, prove
from bpfcheck.properties import parse_property
from bpfcheck.properties.evaluate import ConcreteOps, ConcreteView, evaluate
from bpfcheck.proof.prove import resolver_for

NLA, NLAN = 0xFFFFF00C, 0xFFFFF010


def _attributes(rng, types):
    """A packet of netlink attributes (little-endian length and type),
    some nested, most of the types searched for."""
    out = bytearray()
    for _ in range(rng.randint(0, 5)):
        payload = bytes(rng.randrange(256) for _ in range(rng.choice([0, 0, 4, 8, 3])))
        if rng.random() < 0.3:
            inner = _attributes(rng, types)
            payload = bytes(inner)
        size = 4 + len(payload)
        kind = rng.choice(types + [rng.randrange(0x10000)])
        out += size.to_bytes(2, "little") + kind.to_bytes(2, "little") + payload
        out += bytes(-len(out) % 4)
    return out


def _universe(program, seed):
    rng = random.Random(seed)
    types = sorted({k & 0x3FFF for code, _, _, k in program if code in (0x01, 0x15)})
    packets = [bytes(n) for n in range(12)]
    packets += [bytes(_attributes(rng, types)) for _ in range(400)]
    packets += [bytes(rng.randrange(256) for _ in range(rng.randrange(32))) for _ in range(100)]
    return packets


@st.composite
def netlink_programs(draw):
    kind = draw(st.integers(0, 6))
    search = draw(st.sampled_from([NLA, NLAN]))
    head = [(0x01, 0, 0, kind)]                                    # ldx #type
    if draw(st.booleans()):
        head.append((0x00, 0, 0, draw(st.sampled_from([0, 4, 8]))))  # ld #start
    head.append((0x20, 0, 0, search))
    if draw(st.booleans()):
        return Program(head + [(0x16, 0, 0, 0)])                    # ret a: the offset found
    c = draw(st.sampled_from([0, 4, 8, 12]))
    return Program(head + [(0x15, 0, 1, c), (0x06, 0, 0, 1), (0x06, 0, 0, 0xFFFF)])


@settings(max_examples=30, deadline=None, derandomize=True, database=None)
@given(netlink_programs(), st.sampled_from(["verdict <= 0", "verdict != 1", "verdict < 8", "verdict != 4",
                                            "verdict != 0xffff", "verdict in {0, 1}"]),
       st.integers(0, 2**32))
def test_netlink_claims_hold_and_witnesses_replay(program, prop, seed):
    outcome = prove(program, prop)
    machine = Machine(program, "socket")
    tree = parse_property(prop, resolver_for("socket", None))

    def holds(packet, ctx):
        trace = machine.trace(packet, ctx)
        return evaluate(tree, ConcreteOps, ConcreteView("socket", trace.verdict, trace.path,
                                                        packet=packet, context=ctx))
    assert outcome.status in ("proved", "refuted") or "netlink" in (outcome.reason or ""), outcome
    if outcome.status == "refuted":
        w = outcome.witness
        assert w.verdicts["program"] == machine.run(w.packet, w.context)
        assert not holds(w.packet, w.context), (program, prop, w.describe())
        assert w.kernel in (True, None)
    elif outcome.status == "proved":
        for packet in _universe(program, seed):
            assert holds(packet, Context()), (program, prop, packet.hex())


def test_an_offset_is_never_odd_and_a_witness_shows_a_found_attribute():
    program = Program([(0x01, 0, 0, 2), (0x20, 0, 0, NLA), (0x16, 0, 0, 0)])
    assert prove(program, "verdict != 1").status == "proved"
    outcome = prove(program, "verdict == 0")
    assert outcome.status == "refuted"
    found = outcome.witness.verdicts["program"]
    packet = outcome.witness.packet
    assert found and int.from_bytes(packet[found + 2:found + 4], "little") & 0x3FFF == 2
    assert outcome.witness.kernel is (True if platform.system() == "Linux" else None)
