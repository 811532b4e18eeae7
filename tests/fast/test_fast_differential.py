"""The fast paths against the reference VM on generated programs and inputs.

Hypothesis draws programs each target accepts, packets (random bytes and
real frames, whole and cut), socket contexts and seccomp data; the
compiled path must give the VM's verdict for each input, and the batch
path the VM's verdict for every lane of a batch.  libpcap-compiled
filters run over the frame corpus the same way.
"""

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from bpfcheck import Context, ExecutionError
from bpfcheck.batch import run_batch
from bpfcheck.fast import compile_program
from bpfcheck.frames import sample_frames
from bpfcheck.strategies import contexts, packets, programs, seccomp_data
from bpfcheck.validate import is_valid
from bpfcheck.vm import Machine

TARGETS = ("socket", "pcap", "seccomp")
FAST = settings(max_examples=40, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _vm(machine, inp, ctx):
    try:
        return machine.run(inp, ctx)
    except ExecutionError:
        return "abort"


def _inputs(target):
    return seccomp_data() if target == "seccomp" else packets(max_size=160)


def _contexts(target, count):
    if target == "socket":
        return st.lists(contexts(), min_size=count, max_size=count)
    if target == "pcap":   # the wire length may exceed what was captured
        return st.one_of(st.none(), st.lists(st.builds(Context, len=st.integers(0, 2**32 - 1)),
                                             min_size=count, max_size=count))
    return st.none()


@pytest.mark.parametrize("target", TARGETS)
@FAST
@given(data=st.data())
def test_compiled_matches_vm(target, data):
    program = data.draw(programs(target, max_len=28))
    assume(is_valid(program, target))
    inputs = data.draw(st.lists(_inputs(target), min_size=1, max_size=4))
    ctxs = data.draw(_contexts(target, len(inputs))) or [None] * len(inputs)
    machine, compiled = Machine(program, target), compile_program(program, target)
    for inp, ctx in zip(inputs, ctxs):
        want = _vm(machine, inp, ctx)
        try:
            got = compiled.run(inp, ctx)
        except ExecutionError:
            got = "abort"
        assert got == want, f"{program!r} on {inp!r} {ctx!r}\n{compiled.source}"


@pytest.mark.parametrize("target", TARGETS)
@FAST
@given(data=st.data())
def test_batch_matches_vm_on_every_lane(target, data):
    program = data.draw(programs(target, max_len=28))
    assume(is_valid(program, target))
    inputs = data.draw(st.lists(_inputs(target), min_size=1, max_size=12))
    ctxs = data.draw(_contexts(target, len(inputs)))
    machine = Machine(program, target)
    want = [_vm(machine, inp, ctx) for inp, ctx in zip(inputs, ctxs or [None] * len(inputs))]
    try:
        got = list(run_batch(program, inputs, ctxs, target))
    except ExecutionError:
        assert "abort" in want
        return
    assert got == want, program


@pytest.mark.parametrize("target", ["socket", "pcap"])
@settings(FAST, max_examples=20)
@given(data=st.data())
def test_batch_with_one_context_for_all(target, data):
    program = data.draw(programs(target, max_len=24))
    assume(is_valid(program, target))
    inputs = data.draw(st.lists(packets(max_size=120), min_size=1, max_size=8))
    ctx = data.draw(contexts()) if target == "socket" else None
    machine = Machine(program, target)
    want = [_vm(machine, p, ctx) for p in inputs]
    assume("abort" not in want)
    assert list(run_batch(program, inputs, ctx, target)) == want


EXPRESSIONS = ["tcp port 80 or udp port 53", "arp", "ip6 and tcp", "vlan and ip", "icmp or icmp6",
               "ip[6:2] & 0x1fff != 0", "tcp[tcpflags] & tcp-syn != 0", "ether broadcast",
               "greater 100", "udp and ip[2:2] > 60", "mpls", "ip proto 47", "ip6 protochain 6"]


@pytest.fixture(scope="module")
def frames():
    return sample_frames(seed=0, count=300)


@pytest.mark.parametrize("expr", EXPRESSIONS)
def test_libpcap_filters_over_the_frame_corpus(expr, frames):
    pytest.importorskip("numpy")
    from bpfcheck.oracles import libpcap
    if not libpcap.available():
        pytest.skip("libpcap.so.0.8 is not installed (package libpcap0.8)")
    program = libpcap.compile(expr)
    for target in ("socket", "pcap"):
        if not is_valid(program, target):
            continue
        machine, compiled = Machine(program, target), compile_program(program, target)
        ctxs = [Context(has_device=True, ifindex=1, link_header=0, network_header=14)] * len(frames)
        want = [machine.run(f, c) for f, c in zip(frames, ctxs)]
        assert [compiled.run(f, c) for f, c in zip(frames, ctxs)] == want
        assert list(run_batch(program, frames, ctxs, target)) == want
