"""Confirming a kernel verdict in one run instead of extracting it in six.

A socket reports ``min(len, verdict)``, so a verdict at or above the
packet's length is hidden; :mod:`bpfcheck.oracles._exact` recovers it
with about six more runs (six bits at a time).  A differential run already
knows the verdict bpfcheck expects, V, and only needs to know whether the
kernel's is V too.  One run of a rewritten program answers that:

* ``ret #k`` becomes ``ret #1`` when k == V, else ``ret #0``;
* ``ret a`` — and, on a socket without a device, ``ld [ifidx]`` /
  ``ld [hatype]``, which end the program returning A — become ``ja`` to an
  appended tail ``jeq #V, yes, no; yes: ret #1; no: ret #0``.

Nothing else changes (same instructions at the same indices), so the run
takes the kernel's own path up to its return, and the kernel's early exits
(failed loads, division by zero) still return 0, which is never V here
(only packets delivered whole are confirmed, so V > 0).  Delivered means
the kernel's verdict is V; dropped means it is not, and the caller then
extracts it exactly.  Programs reading ``SKF_AD_RANDOM`` are never
confirmed: a second run would see another value.
"""

from __future__ import annotations

from .. import isa
from ..program import Instruction, Program

RET_K = isa.RET | isa.RET_K
RET_A = isa.RET | isa.RET_A
JA = isa.JMP | isa.JA
_DEVICE_EXITS = (isa.SKF_AD_OFF + isa.SKF_AD_IFINDEX, isa.SKF_AD_OFF + isa.SKF_AD_HATYPE)
#: the tail appended to every confirming program
TAIL = 3


def _ends_returning_a(insn, has_device: bool) -> bool:
    code, _, _, k = insn
    if code == RET_A:
        return True
    return (not has_device and code & 0x07 == isa.LD and code & 0xE0 == isa.ABS and k in _DEVICE_EXITS)


def confirming_program(program: Program, expected: int, has_device: bool = False) -> Program:
    """``program`` rewritten to return 1 when its verdict is ``expected``, else 0."""
    tail = len(program)
    out = []
    for pc, insn in enumerate(program):
        if insn[0] == RET_K:
            out.append(Instruction(RET_K, 0, 0, 1 if insn[3] == expected else 0))
        elif _ends_returning_a(insn, has_device):
            out.append(Instruction(JA, 0, 0, tail - pc - 1))
        else:
            out.append(insn)
    out += [Instruction(isa.JMP | isa.JEQ | isa.K, 0, 1, expected), Instruction(RET_K, 0, 0, 1),
            Instruction(RET_K, 0, 0, 0)]
    return Program(out)


def can_confirm(program: Program) -> bool:
    """Short enough to grow by the tail, and deterministic."""
    rand = isa.SKF_AD_OFF + isa.SKF_AD_RANDOM
    return len(program) + TAIL <= isa.MAXINSNS and not any(
        code & 0xE7 == isa.LD | isa.ABS and k == rand for code, _, _, k in program)
