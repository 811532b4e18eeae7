"""Judge a program exactly as its target would, one error class per reason.

``socket`` follows the kernel's ``bpf_check_classic`` (in its order: the
first failing instruction wins), then ``check_load_and_stores`` and the
cBPF→eBPF translation's jump-range check; ``seccomp`` adds
``seccomp_check_filter``; ``pcap`` is libpcap 1.10's ``bpf_validate`` with
its holes (it checks classes and modes, not opcodes).
"""

from __future__ import annotations

from typing import Sequence

from . import isa
from .errors import UsageError, ValidationError
from .isa import (ABS, ALU, DIV, IMM, IND, JA, JMP, LD, LDX, LEN, LSH, MEM,
                  MOD, MSH, RET, RET_A, RET_K, RSH, ST, STX, W)
from .program import Program
from .semantics import KERNEL_OPCODES

TARGETS = ("socket", "seccomp", "pcap")


# --- one class per reason -------------------------------------------------
class BadLength(ValidationError):
    """Empty, or longer than BPF_MAXINSNS (4096)."""


class UnknownOpcode(ValidationError):
    """An opcode outside the target's instruction set."""


class DivisionByZero(ValidationError):
    """``div #0`` or ``mod #0``."""


class ShiftTooLarge(ValidationError):
    """``lsh #k`` / ``rsh #k`` with k >= 32."""


class BadScratchIndex(ValidationError):
    """``M[k]`` with k >= 16."""


class JumpOutOfRange(ValidationError):
    """A jump whose target lies beyond the last instruction."""


class UnknownExtension(ValidationError):
    """``ld [k]`` with k >= SKF_AD_OFF that names no extension."""


class MissingReturn(ValidationError):
    """The last instruction is not ``ret #k`` / ``ret a``."""


class ScratchReadBeforeWrite(ValidationError):
    """``M[k]`` may be read on a path that never wrote it."""


class TranslationJumpTooFar(ValidationError):
    """After the kernel expands cBPF into eBPF, a jump lands or reaches
    beyond what 16-bit eBPF offsets encode and ``bpf_convert_filter`` fails."""


class SeccompForbidden(ValidationError):
    """An instruction seccomp does not allow (byte/half/indirect loads,
    extensions, ``mod``, ``ld [k]`` outside ``struct seccomp_data``…)."""


def validate(program: Sequence, target: str = "socket") -> None:
    """Return None when ``target`` accepts ``program``; raise the
    :class:`ValidationError` subclass that names the reason otherwise."""
    program = Program(program)
    if target == "socket":
        _check_classic(program, target)
        _check_translation(program, target)
    elif target == "seccomp":
        # The kernel's order: the classic checker, seccomp's own rules (which
        # rewrite loads), then the translation to eBPF.
        _check_classic(program, target)
        _check_seccomp(program)
        _check_translation(program, target)
    elif target == "pcap":
        _check_pcap(program)
    else:
        raise UsageError(f"unknown target {target!r} (expected one of {', '.join(TARGETS)})")


def is_valid(program: Sequence, target: str = "socket") -> bool:
    try:
        validate(program, target)
    except ValidationError:
        return False
    return True


# --- the kernel's classic checker ----------------------------------------------
def _check_classic(p: Program, target: str) -> None:
    n = len(p)
    if n == 0 or n > isa.MAXINSNS:
        raise BadLength(f"program has {n} instructions; the kernel takes 1..{isa.MAXINSNS}",
                        None, target)
    for pc, (code, jt, jf, k) in enumerate(p):
        if code not in KERNEL_OPCODES:
            raise UnknownOpcode(f"opcode {code:#06x} is not one of the kernel's 49", pc, target)
        cls, op, mode = code & 0x07, code & 0xF0, code & 0xE0
        if cls == ALU and op in (DIV, MOD) and code & isa.X == 0 and k == 0:
            raise DivisionByZero(f"constant {'division' if op == DIV else 'modulo'} by 0", pc, target)
        if cls == ALU and op in (LSH, RSH) and code & isa.X == 0 and k >= 32:
            raise ShiftTooLarge(f"constant shift by {k} (the kernel takes 0..31)", pc, target)
        if (cls in (LD, LDX) and mode == MEM) or cls in (ST, STX):
            if k >= isa.MEMWORDS:
                raise BadScratchIndex(f"scratch cell M[{k}] does not exist (M[0]..M[15])", pc, target)
        if code == JMP | JA:
            if k >= n - pc - 1:
                raise JumpOutOfRange(f"ja {k} lands beyond the last instruction", pc, target)
        elif cls == JMP:
            if pc + jt + 1 >= n or pc + jf + 1 >= n:
                raise JumpOutOfRange(f"jump (jt {jt}, jf {jf}) lands beyond the last instruction",
                                     pc, target)
        if cls == LD and mode == ABS and k >= isa.SKF_AD_OFF and isa.extension_of(k) is None:
            raise UnknownExtension(f"ld [{k:#x}] is in the extension area but names no extension "
                                   f"(SKF_AD_OFF + {k - isa.SKF_AD_OFF})", pc, target)
    if p[-1].code not in (RET | RET_K, RET | RET_A):
        raise MissingReturn("the last instruction must be 'ret #k' or 'ret a' (even when unreachable)",
                            n - 1, target)
    _check_load_and_stores(p, target)


def _check_load_and_stores(p: Program, target: str) -> None:
    """The kernel's scratch-memory data flow, quirks included.

    It walks instructions in pc order carrying the set of written cells.
    A jump intersects that set into each target's mask and restarts from
    "everything written"; nothing else resets it, so the set *falls
    through a ``ret``* into the next instruction (a reachable-only-by-jump
    block inherits the dead fall-through path's set), and code after a
    ``ja`` that nothing jumps to counts as fully initialised.
    """
    everything = (1 << isa.MEMWORDS) - 1
    masks = [everything] * len(p)
    written = 0
    for pc, (code, jt, jf, k) in enumerate(p):
        written &= masks[pc]
        cls = code & 0x07
        if cls in (ST, STX):
            written |= 1 << k
        elif cls in (LD, LDX) and code & 0xE0 == MEM:
            if not written >> k & 1:
                raise ScratchReadBeforeWrite(
                    f"M[{k}] may be read before it is written", pc, target)
        elif code == JMP | JA:
            masks[pc + 1 + k] &= written
            written = everything
        elif cls == JMP:
            masks[pc + 1 + jt] &= written
            masks[pc + 1 + jf] &= written
            written = everything


def _check_translation(p: Program, target: str) -> None:
    """``bpf_convert_filter`` fails on jumps it cannot encode in 16 bits."""
    from .translation import first_jump_too_far
    found = first_jump_too_far(p, target)
    if found is not None:
        raise TranslationJumpTooFar(found[1], found[0], target)


# --- seccomp ----------------------------------------------------------------------
_SECCOMP_ALLOWED = frozenset(
    [RET | RET_K, RET | RET_A, LD | IMM, LDX | IMM, isa.MISC | isa.TAX, isa.MISC | isa.TXA,
     LD | MEM, LDX | MEM, ST, STX, JMP | JA, LD | W | ABS, LD | W | LEN, LDX | W | LEN, ALU | isa.NEG]
    + [ALU | op | src for op in (isa.ADD, isa.SUB, isa.MUL, DIV, isa.AND, isa.OR, isa.XOR, LSH, RSH)
       for src in (isa.K, isa.X)]
    + [JMP | op | src for op in (isa.JEQ, isa.JGE, isa.JGT, isa.JSET) for src in (isa.K, isa.X)])


def _check_seccomp(p: Program) -> None:
    for pc, (code, jt, jf, k) in enumerate(p):
        if code not in _SECCOMP_ALLOWED:
            raise SeccompForbidden(f"opcode {code:#06x} is not allowed in seccomp filters", pc, "seccomp")
        if code == LD | W | ABS and (k >= isa.SECCOMP_DATA_SIZE or k & 3):
            raise SeccompForbidden(
                f"ld [{k}] is outside struct seccomp_data or not word-aligned "
                f"(k must be 0, 4, ..., 60)", pc, "seccomp")


# --- libpcap's bpf_validate ----------------------------------------------------------
_PCAP_LD_MODES = (IMM, ABS, IND, MEM, LEN, MSH)
_PCAP_ALU_OPS = (isa.ADD, isa.SUB, isa.MUL, isa.OR, isa.AND, isa.XOR, LSH, RSH, isa.NEG, DIV, MOD)


def _check_pcap(p: Program) -> None:
    n = len(p)
    if n < 1:
        raise BadLength("program is empty", None, "pcap")
    for pc, (code, jt, jf, k) in enumerate(p):
        cls, mode, op = code & 0x07, code & 0xE0, code & 0xF0
        if cls in (LD, LDX):
            if mode not in _PCAP_LD_MODES:
                raise UnknownOpcode(f"load mode {mode:#04x} of opcode {code:#06x} is unknown", pc, "pcap")
            if mode == MEM and k >= isa.MEMWORDS:
                raise BadScratchIndex(f"scratch cell M[{k}] does not exist", pc, "pcap")
        elif cls in (ST, STX):
            if k >= isa.MEMWORDS:
                raise BadScratchIndex(f"scratch cell M[{k}] does not exist", pc, "pcap")
        elif cls == ALU:
            if op not in _PCAP_ALU_OPS:
                raise UnknownOpcode(f"ALU operation {op:#04x} of opcode {code:#06x} is unknown", pc, "pcap")
            if op in (DIV, MOD) and code & isa.X == 0 and k == 0:
                raise DivisionByZero("constant division or modulo by 0", pc, "pcap")
        elif cls == JMP:
            if op == JA:
                # u_int arithmetic: a huge k wraps around and passes.
                if (pc + 1 + k) & isa.U32 >= n:
                    raise JumpOutOfRange(f"ja {k} lands beyond the last instruction", pc, "pcap")
            elif op in (isa.JEQ, isa.JGT, isa.JGE, isa.JSET):
                if pc + 1 + jt >= n or pc + 1 + jf >= n:
                    raise JumpOutOfRange(f"jump (jt {jt}, jf {jf}) lands beyond the last instruction",
                                         pc, "pcap")
            else:
                raise UnknownOpcode(f"jump operation {op:#04x} of opcode {code:#06x} is unknown", pc, "pcap")
    if p[-1].code & 0x07 != RET:
        raise MissingReturn("the last instruction must be of class ret", n - 1, "pcap")
