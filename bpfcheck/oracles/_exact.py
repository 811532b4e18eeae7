"""Recovering a socket filter's exact verdict from delivered lengths.

A socket only tells us ``min(len, verdict)`` (or that the packet was
dropped), so a verdict at or above the packet length is hidden.  We recover
it by running rewritten copies of the program, each of which returns one
*chunk* of the verdict's bits instead of the verdict:

* ``ret #k``  becomes ``ret #((k >> shift) & mask)``, computed here;
* ``ret a``   becomes ``ja tail``, and the appended tail is
  ``rsh #shift; and #mask; ret a``;
* on a socket without a device (``AF_UNIX``), ``ld [ifidx]`` and
  ``ld [hatype]`` (any size: extension loads ignore it) end the program
  returning A, bypassing every ``ret``, so they become ``ja tail`` too.

Nothing else changes: same instructions at the same indices, so the run
takes the same path with the same A, X and M[] up to its return, and the
kernel's own early exits (a failed load, a division by zero) still return
0, whose chunks are all 0.  With ``mask = 2**width - 1 <= len``, a chunk
``c`` is delivered as exactly ``c`` bytes (0 = dropped); an empty packet
still tells dropped (chunk 0) from delivered (chunk 1), so ``width`` is at
least 1.

Soundness needs a deterministic program: every copy must take the same
path.  ``SKF_AD_RANDOM`` differs on every run, so programs that load it are
refused; ``SKF_AD_CPU`` is the same on every run of a pinned sender.
"""

from __future__ import annotations

from typing import Iterable, List, Optional, Tuple

from .. import isa
from ..program import Instruction, Program

RET_K = isa.RET | isa.RET_K          # 0x06
RET_A = isa.RET | isa.RET_A          # 0x16
JA = isa.JMP | isa.JA                # 0x05
_DEVICE_EXITS = (isa.SKF_AD_OFF + isa.SKF_AD_IFINDEX, isa.SKF_AD_OFF + isa.SKF_AD_HATYPE)


def chunk_width(length: int) -> int:
    """Bits a single run can report for a packet of ``length`` bytes:
    the delivered length takes any value in ``0..length``."""
    return max(1, (length + 1).bit_length() - 1)


def chunk_shifts(width: int) -> List[int]:
    return list(range(0, 32, width))


def is_device_exit(insn: Instruction) -> bool:
    """An absolute load of ``SKF_AD_IFINDEX`` / ``SKF_AD_HATYPE``, which ends
    the program returning A when the packet has no device."""
    code, _, _, k = insn
    return isa.bpf_class(code) == isa.LD and isa.bpf_mode(code) == isa.ABS and k in _DEVICE_EXITS


def reads_random(program: Program) -> bool:
    rand = isa.SKF_AD_OFF + isa.SKF_AD_RANDOM
    return any(isa.bpf_class(c) == isa.LD and isa.bpf_mode(c) == isa.ABS and k == rand
               for c, _, _, k in program)


def chunk_program(program: Program, shift: int, width: int, has_device: bool) -> Program:
    """The rewritten program that returns ``(verdict >> shift) & mask``."""
    mask = (1 << width) - 1
    tail = len(program)
    out = list(program)
    for pc, insn in enumerate(program):
        code = insn[0]
        if code == RET_K:
            out[pc] = Instruction(RET_K, 0, 0, (insn[3] >> shift) & mask)
        elif code == RET_A or (not has_device and is_device_exit(insn)):
            out[pc] = Instruction(JA, 0, 0, tail - pc - 1)
    if shift:
        out.append(Instruction(isa.ALU | isa.RSH | isa.K, 0, 0, shift))
    out.append(Instruction(isa.ALU | isa.AND | isa.K, 0, 0, mask))
    out.append(Instruction(RET_A, 0, 0, 0))
    return Program(out)


def chunk_programs(program: Program, width: int, has_device: bool) -> List[Tuple[int, Program]]:
    """``(shift, program)`` for every chunk of a 32-bit verdict."""
    if reads_random(program):
        raise ValueError("the program loads SKF_AD_RANDOM, which differs on every run: "
                         "its verdict cannot be assembled from several runs")
    return [(s, chunk_program(program, s, width, has_device)) for s in chunk_shifts(width)]


def chunk_of(delivered: Optional[int], length: int) -> int:
    """The chunk a run reported: dropped is 0; an empty packet that was
    delivered can only mean chunk 1."""
    if delivered is None:
        return 0
    return delivered if length else 1


def assemble(chunks: Iterable[Tuple[int, int]]) -> int:
    """The verdict from ``(shift, chunk)`` pairs."""
    verdict = 0
    for shift, value in chunks:
        verdict |= value << shift
    return verdict & isa.U32


def needs_chunks(delivered: Optional[int], length: int) -> bool:
    """Whether a plain run left the verdict unknown: only a packet delivered
    whole (or an empty one delivered at all) hides it."""
    return delivered is not None and delivered >= length


def plain_verdict(delivered: Optional[int]) -> int:
    """The verdict when :func:`needs_chunks` is False."""
    return 0 if delivered is None else delivered
