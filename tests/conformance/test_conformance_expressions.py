"""tcpdump expressions (tests/data/expressions.txt) compiled by libpcap for
Ethernet, run on the frame corpus:

* ``target="pcap"`` against libpcap's ``bpf_filter``, on every frame of
  ``frames.labelled_frames(0, 300)`` whole and cut short (``wirelen`` >
  captured length, as a capture with a small snaplen records it) — the
  optimized program for every expression, the unoptimized one for every
  fourth;
* ``target="socket"`` against the kernel's AF_PACKET taps on ``lo``, on
  60 frames per expression (a window that moves through the corpus, so the
  expressions between them see all of it), comparing each copy's exact
  verdict with the Observation's bytes and Context;
* ``validate`` against the kernel's checker and ``bpf_validate`` on every
  compiled program (``ip6 protochain`` jumps backwards: the kernel refuses
  it, libpcap runs it).
"""

from __future__ import annotations

import errno

import pytest

from bpfcheck import Context, Machine
from bpfcheck.errors import ExecutionError
from bpfcheck.frames import labelled_frames
from bpfcheck.oracles.kernel import kernel_accepts

from conformance_support import (Mismatch, bpfcheck_verdict, compile_expression, describe_errno,
                                 describe_validation, load_expressions, report, show_program)

EXPRESSIONS = load_expressions()
CORPUS = labelled_frames(0, 300)
CUTS = (14, 18, 34, 38, 42, 54, 58, 62)


def _pcap_inputs():
    out = [(label, frame, len(frame)) for label, frame in CORPUS]
    for i, (label, frame) in enumerate(CORPUS):
        if len(frame) > 14:
            cut = min(CUTS[i % len(CUTS)], len(frame) - 1)
            out.append((f"{label} captured [:{cut}] of {len(frame)}", frame[:cut], len(frame)))
    return out


PCAP_INPUTS = _pcap_inputs()
TAP_CORPUS = [(label, frame) for label, frame in CORPUS if 14 <= len(frame) <= 65550]
TAP_FRAMES_PER_EXPRESSION = 60
TAP_EXPRESSIONS = EXPRESSIONS[::2]                 # every other one: > 100 of them


def test_there_are_enough_expressions():
    assert len(EXPRESSIONS) >= 100, f"only {len(EXPRESSIONS)} expressions in tests/data/expressions.txt"
    assert len(TAP_EXPRESSIONS) >= 100


def _pcap_check(pcap, expr: str, optimize: bool) -> None:
    program = compile_expression(expr, optimize)
    what = f"{expr!r} ({'optimized' if optimize else 'unoptimized'})"
    theirs_valid = pcap.bpf_validate(program)
    ours_valid = bpfcheck_verdict(program, "pcap")
    assert theirs_valid == (ours_valid is None), (
        f"{what}: bpf_validate {'accepts' if theirs_valid else 'rejects'}, bpfcheck "
        f"{describe_validation(ours_valid)}\n" + show_program(program))
    ok, err = kernel_accepts(program)
    ours_socket = bpfcheck_verdict(program, "socket")
    assert (ok or err == errno.ENOMEM) == (ours_socket is None), (
        f"{what}: the kernel says {describe_errno(ok, err)}, bpfcheck {describe_validation(ours_socket)}\n"
        + show_program(program))

    theirs = pcap.bpf_filter_many(program, [f for _, f, _ in PCAP_INPUTS],
                                  [w for _, _, w in PCAP_INPUTS], errors="return")
    machine = Machine(program, "pcap")
    mismatches = []
    for (label, frame, wirelen), verdict in zip(PCAP_INPUTS, theirs):
        try:
            ours = machine.run(frame, Context(len=wirelen))
        except ExecutionError as exc:
            ours = exc
        if ours != verdict and not (isinstance(ours, ExecutionError) and isinstance(verdict, ExecutionError)):
            mismatches.append(Mismatch(label, frame, Context(len=wirelen), ours, verdict))
    assert not mismatches, report(f"tcpdump {what}: reference VM vs libpcap", program, mismatches,
                                  theirs="libpcap")


@pytest.mark.libpcap
@pytest.mark.parametrize("expr", EXPRESSIONS)
def test_expression_vs_libpcap(pcap, expr):
    _pcap_check(pcap, expr, optimize=True)


@pytest.mark.libpcap
@pytest.mark.parametrize("expr", EXPRESSIONS[::4])
def test_unoptimized_expression_vs_libpcap(pcap, expr):
    _pcap_check(pcap, expr, optimize=False)


@pytest.mark.kernel
@pytest.mark.netns
@pytest.mark.libpcap
@pytest.mark.parametrize("index", range(len(TAP_EXPRESSIONS)),
                         ids=[e for e in TAP_EXPRESSIONS])
def test_expression_vs_packet_taps(netns, pcap, index):
    expr = TAP_EXPRESSIONS[index]
    program = compile_expression(expr)
    if bpfcheck_verdict(program, "socket") is not None:
        # ip6 protochain jumps backwards: the kernel must refuse it too
        assert kernel_accepts(program) == (False, errno.EINVAL), show_program(program)
        return
    start = index * TAP_FRAMES_PER_EXPRESSION % len(TAP_CORPUS)
    window = (TAP_CORPUS + TAP_CORPUS)[start:start + TAP_FRAMES_PER_EXPRESSION]
    results = netns.run(program, [frame for _, frame in window])
    machine = Machine(program, "socket")
    mismatches, compared = [], 0
    for (label, _), copies in zip(window, results):
        for obs in copies:
            ours = machine.run(obs.frame, obs.context)
            compared += 1
            if ours != obs.verdict:
                where = "outgoing" if obs.outgoing else "incoming"
                mismatches.append(Mismatch(f"{label} ({where} copy)", obs.frame, obs.context, ours,
                                           obs.verdict))
    assert not mismatches, report(f"tcpdump {expr!r}: reference VM vs kernel (AF_PACKET)", program,
                                  mismatches)
    assert compared >= TAP_FRAMES_PER_EXPRESSION
