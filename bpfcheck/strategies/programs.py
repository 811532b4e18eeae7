"""Hypothesis strategies for instructions and programs.

``programs(target)`` builds programs the target accepts *by construction*:
it walks forward exactly like the kernel's checker, so it knows at each pc
which scratch cells are written on every path and only reads those; jumps
only go forward and land inside the program; the last instruction is a
``ret``.  Within those rules it reaches for the corners: extension and
network/link-relative loads, indirect loads, division, modulo and shifts by
an X that may be 0 or >= 32, and nasty constants.
"""

from __future__ import annotations

from hypothesis import strategies as st

from .. import isa
from ..isa import (ABS, ALU, B, H, IMM, IND, JA, JEQ, JGE, JGT, JMP, JSET, LD, LDX, LEN, MEM,
                   MISC, MSH, RET, RET_A, RET_K, ST, STX, W, X)
from ..program import Instruction, Program
from ._validation import check_choice, check_int_range

#: constants that break careless implementations
NASTY_U32 = (0, 1, 2, 3, 4, 7, 8, 12, 13, 14, 15, 16, 20, 23, 31, 32, 33, 63, 64, 0x7F, 0x80, 0xFF,
             0x100, 0x800, 0x86DD, 0xFFFF, 0x10000, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFE, 0xFFFFFFFF)
SECCOMP_RETURNS = (isa.SECCOMP_RET_ALLOW, isa.SECCOMP_RET_KILL_PROCESS, isa.SECCOMP_RET_KILL_THREAD,
                   isa.SECCOMP_RET_TRAP, isa.SECCOMP_RET_ERRNO | 1, isa.SECCOMP_RET_ERRNO | 4095,
                   isa.SECCOMP_RET_TRACE, isa.SECCOMP_RET_LOG, isa.SECCOMP_RET_USER_NOTIF)
TARGETS = ("socket", "seccomp", "pcap")


def u32s() -> st.SearchStrategy[int]:
    """Any u32, with the nasty ones drawn often."""
    return st.one_of(st.sampled_from(NASTY_U32), st.integers(0, isa.U32))


def instructions() -> st.SearchStrategy[Instruction]:
    """Any ``struct sock_filter`` at all: every code, jt, jf and k."""
    return st.builds(Instruction, st.one_of(st.sampled_from(sorted(_ALL_KNOWN)), st.integers(0, 0xFFFF)),
                     st.integers(0, 255), st.integers(0, 255), u32s())


_ALL_KNOWN = None  # filled below from the semantics table


def _offsets(target: str):
    small = st.integers(0, 80)
    if target == "socket":
        return st.one_of(
            small, small, st.sampled_from(NASTY_U32),
            st.builds(lambda n: (isa.SKF_NET_OFF + n) & isa.U32, st.integers(0, 64)),
            st.builds(lambda n: (isa.SKF_LL_OFF + n) & isa.U32, st.integers(0, 64)),
            st.builds(lambda n: (isa.SKF_AD_OFF - n) & isa.U32, st.integers(1, 4)))
    return st.one_of(small, small, st.sampled_from(NASTY_U32))


class _Builder:
    """Mirrors the kernel's ``check_load_and_stores`` while generating."""

    def __init__(self, length: int):
        self.length = length
        self.masks = [0xFFFF] * length
        self.written = 0


@st.composite
def programs(draw, target: str = "socket", max_len: int = 24, min_len: int = 1) -> Program:
    """A program ``target`` accepts, of ``min_len``..``max_len`` instructions."""
    check_choice("target", target, TARGETS)
    check_int_range("max_len", max_len, 1, isa.MAXINSNS)
    check_int_range("min_len", min_len, 1, max_len)
    n = draw(st.integers(min_len, max_len))
    b = _Builder(n)
    insns = []
    previous = None
    for pc in range(n - 1):
        b.written &= b.masks[pc]
        insn = draw(_instruction_at(target, pc, n, b.written, previous))
        previous = insn
        code, jt, jf, k = insn
        cls = code & 7
        if cls in (ST, STX):
            b.written |= 1 << k
        elif code == JMP | JA:
            b.masks[pc + 1 + k] &= b.written
            b.written = 0xFFFF
        elif cls == JMP:
            b.masks[pc + 1 + jt] &= b.written
            b.masks[pc + 1 + jf] &= b.written
            b.written = 0xFFFF
        insns.append(insn)
    insns.append(draw(_ret(target)))
    return Program(insns)


def _ret(target):
    values = st.sampled_from(SECCOMP_RETURNS) if target == "seccomp" else st.one_of(
        st.sampled_from((0, 1, 13, 14, 15, 64, 0xFFFF, 0x40000, isa.U32)), u32s())
    return st.one_of(st.builds(lambda k: Instruction(RET | RET_K, 0, 0, k), values),
                     st.just(Instruction(RET | RET_A, 0, 0, 0)))


def _instruction_at(target: str, pc: int, n: int, written: int, previous=None):
    room = n - pc - 2            # furthest forward skip that stays inside
    # Real filters come in idioms — a load then a test, a header length
    # then an indirect load — and the corners live inside them.
    if previous is not None and previous[0] == LDX | B | MSH and target != "seccomp":
        return st.one_of(_indirect_loads(), _instruction_at(target, pc, n, written))
    if previous is not None and previous[0] & 0x07 == LD and room >= 0:
        return st.one_of(_jumps(target, room), _instruction_at(target, pc, n, written))
    options = [_alu(target), _alu(target), _loads(target), _loads(target), _misc()]
    readable = [i for i in range(isa.MEMWORDS) if written >> i & 1]
    options.append(_stores())
    if readable:
        options.append(_scratch_loads(readable))
    if room >= 0:
        options.append(_jumps(target, room))
        options.append(_jumps(target, room))
        options.append(_ret(target))
    return st.one_of(options)


_ALU_OPS = (isa.ADD, isa.SUB, isa.MUL, isa.DIV, isa.OR, isa.AND, isa.LSH, isa.RSH, isa.MOD, isa.XOR)


@st.composite
def _alu(draw, target):
    ops = [op for op in _ALU_OPS if not (target == "seccomp" and op == isa.MOD)]
    op = draw(st.sampled_from(ops))
    if draw(st.booleans()):
        return Instruction(ALU | op | X, 0, 0, 0)
    if op in (isa.DIV, isa.MOD):
        k = draw(u32s().filter(bool))
    elif op in (isa.LSH, isa.RSH):
        k = draw(st.integers(0, 31))
    else:
        k = draw(u32s())
    if draw(st.integers(0, 9)) == 0:
        return Instruction(ALU | isa.NEG, 0, 0, 0)
    return Instruction(ALU | op | isa.K, 0, 0, k)


@st.composite
def _loads(draw, target):
    if target == "seccomp":
        kind = draw(st.sampled_from(("word", "word", "word", "imm", "ximm", "len", "xlen")))
        if kind == "word":
            return Instruction(LD | W | ABS, 0, 0, draw(st.sampled_from(range(0, 64, 4))))
        return _simple_load(draw, kind)
    kinds = ["abs", "abs", "abs", "ind", "ind", "msh", "msh", "imm", "ximm", "len", "xlen"]
    if target == "socket":
        kinds += ["ext", "ext"]
    kind = draw(st.sampled_from(kinds))
    size = draw(st.sampled_from((W, H, B)))
    if kind == "abs":
        k = draw(_offsets(target))
        if target == "socket" and k >= isa.SKF_AD_OFF:
            k = isa.SKF_AD_OFF - 1   # the kernel refuses unnamed extension offsets
        return Instruction(LD | size | ABS, 0, 0, k)
    if kind == "ind":
        return Instruction(LD | size | IND, 0, 0, draw(_offsets(target)))
    if kind == "msh":
        return Instruction(LDX | B | MSH, 0, 0, draw(_offsets(target)))
    if kind == "ext":
        ext = draw(st.sampled_from(sorted(isa.EXTENSIONS)))
        return Instruction(LD | size | ABS, 0, 0, isa.SKF_AD_OFF + ext)
    return _simple_load(draw, kind)


def _indirect_loads():
    return st.builds(lambda size, k: Instruction(LD | size | IND, 0, 0, k), st.sampled_from((W, H, B)),
                     st.one_of(st.integers(0, 40), st.sampled_from(NASTY_U32)))


def _simple_load(draw, kind):
    if kind == "imm":
        return Instruction(LD | IMM, 0, 0, draw(u32s()))
    if kind == "ximm":
        return Instruction(LDX | IMM, 0, 0, draw(u32s()))
    if kind == "len":
        return Instruction(LD | W | LEN, 0, 0, 0)
    return Instruction(LDX | W | LEN, 0, 0, 0)


def _stores():
    return st.builds(lambda cls, k: Instruction(cls, 0, 0, k), st.sampled_from((ST, STX)),
                     st.integers(0, isa.MEMWORDS - 1))


def _scratch_loads(readable):
    return st.builds(lambda cls, k: Instruction(cls | MEM, 0, 0, k), st.sampled_from((LD, LDX)),
                     st.sampled_from(readable))


def _misc():
    return st.sampled_from((Instruction(MISC | isa.TAX, 0, 0, 0), Instruction(MISC | isa.TXA, 0, 0, 0)))


@st.composite
def _jumps(draw, target, room):
    skip = st.integers(0, min(room, 255))
    if draw(st.integers(0, 5)) == 0:
        return Instruction(JMP | JA, 0, 0, draw(st.integers(0, room)))
    op = draw(st.sampled_from((JEQ, JGT, JGE, JSET)))
    if draw(st.booleans()):
        return Instruction(JMP | op | X, draw(skip), draw(skip), 0)
    # Small constants are what loaded bytes and halfwords actually equal.
    k = draw(st.one_of(st.integers(0, 0xFF), st.integers(0, 0xFFFF), u32s()))
    return Instruction(JMP | op | isa.K, draw(skip), draw(skip), k)


def _known_codes():
    from ..semantics import KERNEL_OPCODES
    return KERNEL_OPCODES


_ALL_KNOWN = _known_codes()
