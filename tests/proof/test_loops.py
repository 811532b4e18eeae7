"""Analyses of programs that loop (libpcap backward jumps) against brute force.

The solver unrolls loops a bounded number of times; runs that go on longer
are covered by the abstract run (loop heads start from anything).  Every
claim must hold on every tested input — verdicts seen are in the set, no
instruction a run visits is called dead — and a set called exact must be
exact: each value in it is refuted as impossible by a replayed witness.
libpcap's own ``bpf_filter`` gives the verdicts, and the reference VM the
paths.
"""

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bpfcheck import Context, Machine, analyze, compile, prove
from bpfcheck.oracles import libpcap
from bpfcheck.proof.settler import Settler
from looping_programs import looping_programs

pytestmark = pytest.mark.skipif(not libpcap.available(), reason="libpcap (libpcap0.8) is not installed")

SETTINGS = settings(max_examples=60, deadline=None, derandomize=True, database=None,
                    suppress_health_check=list(HealthCheck))
ALPHABET = (0x00, 0x01, 0x06, 0x11, 0x2B, 0x80, 0xFF)


def _packets(seed):
    rng = random.Random(seed)
    packets = [bytes(n) for n in range(40)]
    for _ in range(400):
        n = rng.choice([rng.randrange(40), rng.randrange(160)])
        packets.append(bytes(rng.choice(ALPHABET + (rng.getrandbits(8),)) for _ in range(n)))
    return packets


@SETTINGS
@given(looping_programs(), st.integers(0, 2**32))
def test_analyses_of_loops_hold_on_every_tested_input(program, seed):
    result = analyze(program, "pcap")
    packets = _packets(seed)
    verdicts = libpcap.bpf_filter_many(program, packets)
    machine = Machine(program, "pcap")
    visited = set()
    for packet, verdict in zip(packets, verdicts):
        trace = machine.trace(packet, Context(len=len(packet)))
        assert trace.verdict == verdict, (program, packet.hex())
        visited |= set(trace.path)
    assert all(v in result.verdicts for v in verdicts), (program, result.verdicts, set(verdicts))
    assert not visited & set(result.dead), (program, result.dead, visited)
    assert all("loops" in why for _, why in result.unknown), result.unknown
    if result.verdicts.exact and len(result.verdicts) <= 8:
        for v in result.verdicts:
            outcome = prove(program, f"verdict != {v}", "pcap")
            assert outcome.status == "refuted", (program, v, outcome)
            witness = outcome.witness
            assert libpcap.bpf_filter_many(program, [witness.packet], [witness.context.len])[0] == v


@pytest.mark.parametrize("expr", ["ip6 protochain 6", "ip protochain 17", "ip6 protochain 58 or arp"])
def test_protochain_verdicts_are_exact(expr):
    program = compile(expr)
    result = analyze(program, "pcap")
    assert result.verdicts.exact, result.verdicts.reason
    assert set(result.verdicts) == {0, 0x40000}


# ldx #0; head: txa; jeq #40 -> ret #5; ldb [x + 0]; txa; add #1; tax; ja head;
# ret #0 (dead); ret #5.  ret #5 needs 40 laps, beyond the solver's unrolling.
FORTY_LAPS = [(0x01, 0, 0, 0), (0x87, 0, 0, 0), (0x15, 6, 0, 40), (0x50, 0, 0, 0), (0x87, 0, 0, 0),
              (0x04, 0, 0, 1), (0x07, 0, 0, 0), (0x05, 0, 0, 0xFFFFFFF9), (0x06, 0, 0, 0), (0x06, 0, 0, 5)]


def test_a_run_shows_what_lies_beyond_the_unrolling():
    assert libpcap.bpf_filter_many(FORTY_LAPS, [bytes(40), bytes(39)]) == [5, 0]
    result = analyze(FORTY_LAPS, "pcap")
    assert result.verdicts.exact and set(result.verdicts) == {0, 5}
    assert result.dead == [8] and not result.unknown       # 8: nothing jumps to it
    witness = result.witness(9)
    assert witness.packet == bytes(40)                      # the shortest: one byte per lap
    assert libpcap.bpf_filter_many(FORTY_LAPS, [witness.packet])[0] == 5


def test_a_verdict_no_run_shows_is_still_in_the_set(monkeypatch):
    # Without the concrete runs, only the abstract run sees past the unrolling.
    monkeypatch.setattr(Settler, "seed", lambda self, conds: None)
    monkeypatch.setattr(Settler, "flip_towards", lambda self, conds, inputs: None)
    result = analyze(FORTY_LAPS, "pcap")
    assert 5 in result.verdicts and 0 in result.verdicts
    assert not result.verdicts.exact and "loops" in result.verdicts.reason
    assert result.dead == [8] and [pc for pc, _ in result.unknown] == [9]
