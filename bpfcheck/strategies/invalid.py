"""Programs a target refuses, by kind of fault.

One kind per :class:`~bpfcheck.errors.ValidationError` subclass of
:mod:`bpfcheck.validate`.  Each program is a valid one (from
:func:`~bpfcheck.strategies.programs`) with one fault put in where it is
the *first* fault in the order the target checks, so the fault is known by
construction, not by asking the validator under test: the kernel walks
instructions in order (opcode, constant divisor, constant shift, scratch
index, jump range, extension offset), then demands a final ``ret``, then
runs the scratch data flow, then the eBPF translation; seccomp adds its own
rules after the classic ones; libpcap's ``bpf_validate`` checks classes,
modes, jump ranges and the final ``ret``.

Faults go in at the front (every jump is relative and forward, so nothing
else moves) or over a *quiet* instruction (not a store, whose cell a later
read may need, not a jump, whose landing pads the data flow uses, not the
last).

Which kinds each target has: ``TranslationJumpTooFar`` only for sockets
(no seccomp instruction grows enough in translation for a 4096-instruction
program to overflow a 16-bit eBPF jump), ``SeccompForbidden`` only for
seccomp, and libpcap has no length limit (only the empty program), no
constant-shift, extension or scratch data-flow checks.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Optional, Union

from hypothesis import strategies as st

from .. import isa
from ..program import Instruction, Program
from ..semantics import KERNEL_OPCODES
from ._validation import check_bool, check_choice, check_int_range, drawn_by, given_arguments
from .programs import NASTY_U32, TARGETS, _programs

KINDS = {
    "socket": ("BadLength", "UnknownOpcode", "DivisionByZero", "ShiftTooLarge", "BadScratchIndex",
               "JumpOutOfRange", "UnknownExtension", "MissingReturn", "ScratchReadBeforeWrite",
               "TranslationJumpTooFar"),
    "seccomp": ("BadLength", "UnknownOpcode", "DivisionByZero", "ShiftTooLarge", "BadScratchIndex",
                "JumpOutOfRange", "UnknownExtension", "MissingReturn", "ScratchReadBeforeWrite",
                "SeccompForbidden"),
    "pcap": ("BadLength", "UnknownOpcode", "DivisionByZero", "BadScratchIndex", "JumpOutOfRange",
             "MissingReturn"),
}
# the package's ``validate`` attribute is the function: fetch the module itself
_VALIDATE = importlib.import_module("bpfcheck.validate")
assert all(hasattr(_VALIDATE, k) for kinds in KINDS.values() for k in kinds)


@dataclass(frozen=True)
class InvalidProgram:
    """A drawn program with the fault it carries: ``validate(program,
    target)`` raises the class named ``kind`` with ``.pc == pc``."""

    program: Program
    kind: str
    pc: Optional[int]


def invalid_programs(target: str = "socket", kind: Union[None, str, type] = None, max_len: int = 24,
                     labelled: bool = False):
    """Programs ``target`` refuses, with one fault of ``kind`` (a
    :mod:`bpfcheck.validate` error class or its name; None: any kind the
    target has, see :data:`KINDS`).  ``labelled`` draws
    :class:`InvalidProgram` (program, kind, pc) instead of bare programs."""
    check_choice("target", target, TARGETS)
    if isinstance(kind, type):
        kind = kind.__name__
    if kind is not None:
        check_choice("kind", kind, KINDS[target])
    check_int_range("max_len", max_len, 1, 4000)
    check_bool("labelled", labelled)
    return _invalid_programs(**given_arguments(target=(target, "socket"), kind=(kind, None),
                                               max_len=(max_len, 24), labelled=(labelled, False)))


@drawn_by("invalid_programs")
def _invalid_programs(draw, *, target="socket", kind=None, max_len=24, labelled=False):
    kind = kind or draw(st.sampled_from(KINDS[target]))
    base = draw(_programs(target=target, max_len=max_len))
    program, pc = _FAULTS[kind](draw, target, base)
    found = InvalidProgram(Program(program), kind, pc)
    return found if labelled else found.program


# --- where a fault may go ------------------------------------------------------------
def _quiet(program) -> list:
    return [pc for pc, (code, _, _, _) in enumerate(program[:-1])
            if code & 0x07 not in (isa.ST, isa.STX, isa.JMP)]


def _place(draw, base, insn):
    """Put ``insn`` at the front or over a quiet instruction; ``(program, pc)``."""
    spots = [None] + _quiet(base)
    spot = draw(st.sampled_from(spots))
    if spot is None:
        return [insn] + list(base), 0
    out = list(base)
    out[spot] = insn
    return out, spot


_ANY_K = st.one_of(st.sampled_from(NASTY_U32), st.integers(0, isa.U32))


def _k(draw):
    return draw(_ANY_K)


# --- one builder per kind -----------------------------------------------------------
def _bad_length(draw, target, base):
    if target == "pcap" or draw(st.booleans()):
        return [], None
    total = draw(st.integers(isa.MAXINSNS + 1, isa.MAXINSNS + 4))
    return [Instruction(isa.ALU | isa.ADD, 0, 0, 1)] * (total - len(base)) + list(base), None


_NON_KERNEL = tuple(c for c in range(0x100) if c not in KERNEL_OPCODES)
# libpcap checks class, mode and operation: these are the codes whose
# mode (ld/ldx), ALU operation or jump operation it does not know.
_PCAP_UNKNOWN = tuple(
    [cls | size | mode for cls in (isa.LD, isa.LDX) for mode in (0xC0, 0xE0) for size in (0, 8, 16, 24)]
    + [isa.ALU | op | src for op in (0xB0, 0xC0, 0xD0, 0xE0, 0xF0) for src in (0, 8)]
    + [isa.JMP | op | src for op in (0x50, 0x60, 0x70, 0x80, 0x90, 0xA0, 0xB0, 0xC0, 0xD0, 0xE0, 0xF0)
       for src in (0, 8)])


def _unknown_opcode(draw, target, base):
    if target == "pcap":
        code = draw(st.sampled_from(_PCAP_UNKNOWN))
    else:
        code = draw(st.one_of(st.sampled_from(_NON_KERNEL), st.sampled_from((0x0E, 0x08, 0x8C)),
                              st.integers(0x100, 0xFFFF)))
    insn = Instruction(code, draw(st.integers(0, 255)), draw(st.integers(0, 255)), _k(draw))
    return _place(draw, base, insn)


def _division_by_zero(draw, target, base):
    return _place(draw, base, Instruction(draw(st.sampled_from((0x34, 0x94))), 0, 0, 0))


def _shift_too_large(draw, target, base):
    k = draw(st.one_of(st.sampled_from((32, 33, 63, 64, isa.U32)), st.integers(32, isa.U32)))
    return _place(draw, base, Instruction(draw(st.sampled_from((0x64, 0x74))), 0, 0, k))


def _bad_scratch_index(draw, target, base):
    k = draw(st.one_of(st.sampled_from((16, 17, isa.U32)), st.integers(16, isa.U32)))
    return _place(draw, base, Instruction(draw(st.sampled_from((0x60, 0x61, 0x02, 0x03))), 0, 0, k))


def _jump_out_of_range(draw, target, base):
    spots = [None] + _quiet(base)
    spot = draw(st.sampled_from(spots))
    n = len(base) + (1 if spot is None else 0)
    pc = 0 if spot is None else spot
    room = n - pc - 1                     # a skip of this lands one past the end
    if draw(st.booleans()):
        if target == "pcap":
            # u_int arithmetic: a k that wraps back into the program passes
            k = draw(st.integers(room, isa.U32 - pc - 1))
        else:
            k = draw(st.one_of(st.just(room), st.integers(room, isa.U32)))
        insn = Instruction(isa.JMP | isa.JA, 0, 0, k)
    elif room <= 255:
        over = draw(st.integers(room, 255))
        short = draw(st.integers(0, room - 1))
        jt, jf = (over, short) if draw(st.booleans()) else (short, over)
        code = draw(st.sampled_from((0x15, 0x25, 0x35, 0x45, 0x1D, 0x2D, 0x3D, 0x4D)))
        insn = Instruction(code, jt, jf, _k(draw))
    else:
        insn = Instruction(isa.JMP | isa.JA, 0, 0, room)
    if spot is None:
        return [insn] + list(base), 0
    out = list(base)
    out[spot] = insn
    return out, spot


def _unknown_extension(draw, target, base):
    unnamed = st.integers(0, 0xFFF).filter(lambda n: n not in isa.EXTENSIONS)
    insn = Instruction(draw(st.sampled_from((0x20, 0x28, 0x30))), 0, 0, isa.SKF_AD_OFF + draw(unnamed))
    return _place(draw, base, insn)


def _missing_return(draw, target, base):
    last = draw(st.sampled_from((Instruction(0x00, 0, 0, 1), Instruction(0x04, 0, 0, 1),
                                 Instruction(0x87, 0, 0, 0), Instruction(0x07, 0, 0, 0),
                                 Instruction(0x01, 0, 0, 7))))
    return list(base[:-1]) + [last], len(base) - 1


def _scratch_read_before_write(draw, target, base):
    insn = Instruction(draw(st.sampled_from((0x60, 0x61))), 0, 0, draw(st.integers(0, isa.MEMWORDS - 1)))
    return [insn] + list(base), 0


# Measured on kernel 6.18 (tests/conformance/test_conformance_regressions.py):
# ``ja n`` over n fillers fails once n fillers outgrow 16-bit eBPF offsets, and
# any jump placed after 2521 ``ld [0]`` sits beyond eBPF instruction 32767.
_JA_FILLERS = ((Instruction(0x20, 0, 0, 12), 2341), (Instruction(0x20, 0, 0, 0x8000), 2048),
               (Instruction(0xB1, 0, 0, 0x8000), 1561))
_LATE_JUMPS = (Instruction(0x05, 0, 0, 0), Instruction(0x15, 0, 0, 0), Instruction(0x15, 1, 1, 7))


def _translation_jump_too_far(draw, target, base):
    ret = Instruction(isa.RET | isa.RET_K, 0, 0, 1)
    if draw(st.booleans()):
        filler, least = draw(st.sampled_from(_JA_FILLERS))
        n = draw(st.integers(least, least + 200))
        return [Instruction(isa.JMP | isa.JA, 0, 0, n)] + [filler] * n + [ret], 0
    loads = draw(st.integers(2521, 2600))
    return [Instruction(0x20, 0, 0, 0)] * loads + [draw(st.sampled_from(_LATE_JUMPS)), ret, ret], loads


#: kernel opcodes seccomp_check_filter refuses: byte/half and indirect
#: loads, ldx 4*([k]&0xf), mod (SEMANTICS.md 21)
SECCOMP_REFUSED = (0x28, 0x30, 0x40, 0x48, 0x50, 0xB1, 0x94, 0x9C)


def _seccomp_forbidden(draw, target, base):
    if draw(st.booleans()):
        code = draw(st.sampled_from(SECCOMP_REFUSED))
        insn = Instruction(code, 0, 0, draw(st.integers(1, 60)))   # mod #0 would be a DivisionByZero
    else:
        # ld [k] outside struct seccomp_data or not word-aligned
        k = draw(st.one_of(st.integers(64, 4096), st.sampled_from((1, 2, 3, 61, 63)),
                           st.sampled_from([isa.SKF_AD_OFF + n for n in sorted(isa.EXTENSIONS)])))
        insn = Instruction(0x20, 0, 0, k)
    return _place(draw, base, insn)


_FAULTS = {
    "BadLength": _bad_length, "UnknownOpcode": _unknown_opcode, "DivisionByZero": _division_by_zero,
    "ShiftTooLarge": _shift_too_large, "BadScratchIndex": _bad_scratch_index,
    "JumpOutOfRange": _jump_out_of_range, "UnknownExtension": _unknown_extension,
    "MissingReturn": _missing_return, "ScratchReadBeforeWrite": _scratch_read_before_write,
    "TranslationJumpTooFar": _translation_jump_too_far, "SeccompForbidden": _seccomp_forbidden,
}
