"""Run one input on every back end and insist they agree.

The reference VM is the judge; the compiled path, the batch path (the
input alone, and as one lane among filler packets on both sides, so a
lane mix-up cannot pass), and the batch path without numpy (its compiled
fallback) must each give the same verdict, or raise the same kind of
error.  A failure prints every back end's answer.
"""

from __future__ import annotations

from bpfcheck import batch
from bpfcheck.errors import ExecutionError
from bpfcheck.fast import compile_program
from bpfcheck.vm import Machine

FILLERS = (b"", b"\xff" * 70, bytes(range(60)))


def _outcome(fn):
    try:
        return int(fn())
    except ExecutionError as e:
        return ("ExecutionError", e.pc)


def answers(program, packet, ctx=None, target="socket"):
    """{back end: verdict or ("ExecutionError", pc)}."""
    out = {"vm": _outcome(lambda: Machine(program, target).run(packet, ctx)),
           "compiled": _outcome(lambda: compile_program(program, target).run(packet, ctx))}
    contexts = None if ctx is None else [ctx]
    out["batch"] = _outcome(lambda: batch.run_batch(program, [packet], contexts, target)[0])
    if target != "seccomp" and not isinstance(out["vm"], tuple):
        fill = list(FILLERS)
        packets = fill + [packet] + fill
        ctxs = None if ctx is None else [ctx] * len(packets)
        lanes = batch.run_batch(program, packets, ctxs, target)
        out["batch-lane"] = int(lanes[len(fill)])
    saved, batch.np = batch.np, None
    try:
        out["no-numpy"] = _outcome(lambda: batch.run_batch(program, [packet], contexts, target)[0])
    finally:
        batch.np = saved
    return out


def verdict(program, packet=b"", ctx=None, target="socket"):
    """The verdict every back end agrees on (the test fails otherwise)."""
    got = answers(program, packet, ctx, target)
    assert len(set(got.values())) == 1, f"back ends disagree: {got}"
    return got["vm"]
