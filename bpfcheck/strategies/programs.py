"""Hypothesis strategies for instructions and programs.

``programs(target)`` builds programs the target accepts *by construction*:
it walks forward exactly like the kernel's checker, so it knows at each pc
which scratch cells are written on every path and only reads those; jumps
only go forward and land inside the program; the last instruction is a
``ret``.  Within those rules it reaches for the corners: extension and
network/link-relative loads, indirect loads, division, modulo and shifts by
an X that may be 0 or >= 32, and nasty constants.

Speed matters here (a fuzz campaign draws thousands of programs a minute),
so every sub-strategy is built once and cached by what it depends on (the
target, the room left for a jump, the set of written cells): Hypothesis
then validates each only once.
"""

from __future__ import annotations

import functools

from hypothesis import strategies as st

from .. import isa
from ..isa import (ABS, ALU, B, H, IMM, IND, JA, JEQ, JGE, JGT, JMP, JSET, LD, LDX, LEN, MEM,
                   MISC, MSH, RET, RET_A, RET_K, ST, STX, W, X)
from ..program import Instruction, Program
from ._validation import check_choice, check_int_range, drawn_by, given_arguments

#: constants that break careless implementations
NASTY_U32 = (0, 1, 2, 3, 4, 7, 8, 12, 13, 14, 15, 16, 20, 23, 31, 32, 33, 63, 64, 0x7F, 0x80, 0xFF,
             0x100, 0x800, 0x86DD, 0xFFFF, 0x10000, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFE, 0xFFFFFFFF)
SECCOMP_RETURNS = (isa.SECCOMP_RET_ALLOW, isa.SECCOMP_RET_KILL_PROCESS, isa.SECCOMP_RET_KILL_THREAD,
                   isa.SECCOMP_RET_TRAP, isa.SECCOMP_RET_ERRNO | 1, isa.SECCOMP_RET_ERRNO | 4095,
                   isa.SECCOMP_RET_TRACE, isa.SECCOMP_RET_LOG, isa.SECCOMP_RET_USER_NOTIF)
TARGETS = ("socket", "seccomp", "pcap")
DEFAULT_MAX_LEN = 24

_U32S = st.one_of(st.sampled_from(NASTY_U32), st.integers(0, isa.U32))


def u32s() -> st.SearchStrategy[int]:
    """Any u32, with the nasty ones (:data:`NASTY_U32`) drawn often."""
    return _public_u32s()


@drawn_by("u32s")
def _public_u32s(draw) -> int:
    return draw(_U32S)


def instructions() -> st.SearchStrategy[Instruction]:
    """Any ``struct sock_filter`` at all: every code, jt, jf and k (the
    kernel's 49 opcodes drawn often, so that jt/jf/k corners matter)."""
    return _public_instructions()


@drawn_by("instructions")
def _public_instructions(draw) -> Instruction:
    return draw(_INSTRUCTIONS)


def programs(target: str = "socket", max_len: int = DEFAULT_MAX_LEN, min_len: int = 1
             ) -> st.SearchStrategy[Program]:
    """A program ``target`` accepts, of ``min_len``..``max_len`` instructions.

    ``validate(p, target)`` passes for every program drawn (the kernel's
    checker, seccomp's rules, or libpcap's ``bpf_validate``)."""
    check_choice("target", target, TARGETS)
    check_int_range("max_len", max_len, 1, isa.MAXINSNS)
    check_int_range("min_len", min_len, 1, max_len)
    return _programs(**given_arguments(target=(target, "socket"), max_len=(max_len, DEFAULT_MAX_LEN),
                                       min_len=(min_len, 1)))


@drawn_by("programs")
def _programs(draw, *, target="socket", max_len=DEFAULT_MAX_LEN, min_len=1) -> Program:
    n = draw(_lengths(min_len, max_len))
    # masks[pc]: the cells written on every path that jumps to pc (the
    # kernel's check_load_and_stores, run while generating)
    masks = [0xFFFF] * n
    written = 0
    insns = []
    previous = None
    for pc in range(n - 1):
        written &= masks[pc]
        if pc == 0 and n > 1 and draw(_COIN):
            insn = draw(_a_loads(target))     # real filters begin by loading A
        else:
            insn = _instruction_at(draw, target, n - pc - 2, written, previous)
        previous = insn
        code, jt, jf, k = insn
        cls = code & 7
        if cls in (ST, STX):
            written |= 1 << k
        elif code == JMP | JA:
            masks[pc + 1 + k] &= written
            written = 0xFFFF
        elif cls == JMP:
            masks[pc + 1 + jt] &= written
            masks[pc + 1 + jf] &= written
            written = 0xFFFF
        insns.append(insn)
    insns.append(draw(_last(target)))
    return Program(insns)


@functools.lru_cache(maxsize=None)
def _lengths(lo: int, hi: int):
    # Half the programs short: in a long random program most of what is
    # computed is overwritten before it reaches the verdict.
    return st.one_of(st.integers(lo, min(hi, max(lo, 8))), st.integers(lo, hi))


@functools.lru_cache(maxsize=None)
def _index(n: int):
    return st.integers(0, n - 1)


_COIN = st.booleans()
_RET_A = Instruction(RET | RET_A, 0, 0, 0)


def _instruction_at(draw, target: str, room: int, written: int, previous) -> Instruction:
    """One instruction at a pc with ``room`` (the furthest forward skip
    that stays inside; -1 for the last-but-none) and ``written`` cells."""
    # Real filters come in idioms — a load then a test, a header length
    # then an indirect load — and the corners live inside them.
    if previous is not None and target != "seccomp" and previous[0] == LDX | B | MSH and draw(_COIN):
        return draw(_INDIRECT_LOADS)
    if previous is not None and previous[0] in _SETS_X and draw(_COIN):
        return draw(_alu_by_x(target, corners=True))
    if previous is not None and room >= 0 and previous[0] & 0x07 == ALU and draw(_index(4)) == 0:
        return _RET_A      # let an ALU corner decide the verdict
    if previous is not None and room >= 0 and previous[0] & 0x07 == LD and draw(_COIN):
        return draw(_jumps(target, room))
    kinds = _KINDS[(room >= 0, written != 0)]
    kind = kinds[draw(_index(len(kinds)))]
    if kind == "scratch":
        return draw(_scratch_loads(written))
    if kind == "jump":
        return draw(_jumps(target, room))
    return draw(_simple(target, kind))


# Duplicates weight the draw; the first entry is what shrinking heads for.
_KINDS = {}
for _jumpable in (False, True):
    for _readable in (False, True):
        _KINDS[(_jumpable, _readable)] = tuple(
            ["alu", "alu", "load", "load", "misc", "store", "xset"]
            + (["scratch"] if _readable else [])
            + (["jump", "jump", "ret"] if _jumpable else []))


@functools.lru_cache(maxsize=None)
def _simple(target: str, kind: str):
    return {"alu": _alu, "load": _loads, "misc": lambda t: _MISC, "store": lambda t: _STORES,
            "ret": _ret, "xset": lambda t: _X_SETTERS}[kind](target)


@functools.lru_cache(maxsize=None)
def _last(target: str):
    # The final ret returns A two times in three: what the program computed
    # is then the verdict, so a wrong computation cannot hide.
    return st.one_of(_ret(target), st.just(_RET_A), st.just(_RET_A))


@functools.lru_cache(maxsize=None)
def _ret(target: str):
    values = st.sampled_from(SECCOMP_RETURNS) if target == "seccomp" else st.one_of(
        st.sampled_from((0, 1, 13, 14, 15, 64, 0xFFFF, 0x40000, isa.U32)), _U32S)
    return st.one_of(st.builds(lambda k: Instruction(RET | RET_K, 0, 0, k), values),
                     st.just(Instruction(RET | RET_A, 0, 0, 0)))


_ALU_OPS = (isa.ADD, isa.SUB, isa.MUL, isa.DIV, isa.OR, isa.AND, isa.LSH, isa.RSH, isa.MOD, isa.XOR)
_NONZERO_U32S = st.one_of(st.sampled_from(NASTY_U32[1:]), st.integers(1, isa.U32))
_SHIFTS = st.integers(0, 31)


#: instructions after which X has just been set: the next one often uses it
_SETS_X = frozenset((LDX | IMM, LDX | W | LEN, LDX | MEM, MISC | isa.TAX, LDX | B | MSH))


def _allowed_ops(target: str):
    return [op for op in _ALU_OPS if not (target == "seccomp" and op == isa.MOD)]


@functools.lru_cache(maxsize=None)
def _alu_by_x(target: str, corners: bool = False):
    # Right after X is set, shifts, division and modulo by X (where X == 0
    # and X >= 32 matter) come three times as often as the other operations.
    ops = _allowed_ops(target)
    if corners:
        ops = ops + [op for op in ops if op in (isa.LSH, isa.RSH, isa.DIV, isa.MOD)] * 2
    return st.builds(lambda op: Instruction(ALU | op | X, 0, 0, 0), st.sampled_from(ops))


@functools.lru_cache(maxsize=None)
def _alu(target: str):
    ops = st.sampled_from(_allowed_ops(target))
    by_x = _alu_by_x(target)

    def by_k(op, k_plain, k_nonzero, k_shift):
        k = k_nonzero if op in (isa.DIV, isa.MOD) else k_shift if op in (isa.LSH, isa.RSH) else k_plain
        return Instruction(ALU | op | isa.K, 0, 0, k)
    by_constant = st.builds(by_k, ops, _U32S, _NONZERO_U32S, _SHIFTS)
    neg = st.just(Instruction(ALU | isa.NEG, 0, 0, 0))
    # X operands half the time: that is where 0 divisors and shifts >= 32 hide
    return st.one_of([by_x] * 5 + [by_constant] * 4 + [neg])


def _offsets(target: str):
    small = st.integers(0, 80)
    if target == "socket":
        return st.one_of(
            small, small, st.sampled_from(NASTY_U32),
            st.builds(lambda n: (isa.SKF_NET_OFF + n) & isa.U32, st.integers(0, 64)),
            st.builds(lambda n: (isa.SKF_LL_OFF + n) & isa.U32, st.integers(0, 64)),
            st.builds(lambda n: (isa.SKF_AD_OFF - n) & isa.U32, st.integers(1, 4)))
    return st.one_of(small, small, st.sampled_from(NASTY_U32))


def _absolute(size, k, target):
    if target == "socket" and k >= isa.SKF_AD_OFF:
        k = isa.SKF_AD_OFF - 1        # the kernel refuses unnamed extension offsets
    return Instruction(LD | size | ABS, 0, 0, k)


_SIZES = st.sampled_from((W, H, B))


@functools.lru_cache(maxsize=None)
def _loads(target: str):
    imm = st.builds(lambda k: Instruction(LD | IMM, 0, 0, k), _U32S)
    ximm = st.builds(lambda k: Instruction(LDX | IMM, 0, 0, k), _U32S)
    length = st.just(Instruction(LD | W | LEN, 0, 0, 0))
    xlength = st.just(Instruction(LDX | W | LEN, 0, 0, 0))
    if target == "seccomp":
        word = st.builds(lambda k: Instruction(LD | W | ABS, 0, 0, k), st.sampled_from(range(0, 64, 4)))
        return st.one_of(word, word, word, imm, ximm, length, xlength)
    offsets = _offsets(target)
    absolute = st.builds(_absolute, _SIZES, offsets, st.just(target))
    indirect = st.builds(lambda size, k: Instruction(LD | size | IND, 0, 0, k), _SIZES, offsets)
    msh = st.builds(lambda k: Instruction(LDX | B | MSH, 0, 0, k), offsets)
    kinds = [absolute, absolute, absolute, indirect, indirect, msh, msh, imm, ximm, length, xlength]
    if target == "socket":
        extension = st.builds(lambda size, n: Instruction(LD | size | ABS, 0, 0, isa.SKF_AD_OFF + n),
                              _SIZES, st.sampled_from(sorted(isa.EXTENSIONS)))
        kinds += [extension, extension]
    return st.one_of(kinds)


@functools.lru_cache(maxsize=None)
def _a_loads(target: str):
    imm = st.builds(lambda k: Instruction(LD | IMM, 0, 0, k), _U32S)
    length = st.just(Instruction(LD | W | LEN, 0, 0, 0))
    if target == "seccomp":
        return st.one_of(st.builds(lambda k: Instruction(LD | W | ABS, 0, 0, k), st.sampled_from(range(0, 64, 4))),
                         imm, length)
    absolute = st.builds(_absolute, _SIZES, _offsets(target), st.just(target))
    return st.one_of(absolute, absolute, imm, length)


# X as the corners want it: 0, just under or at 32, huge; a length; A itself
_X_SETTERS = st.one_of(
    st.builds(lambda k: Instruction(LDX | IMM, 0, 0, k),
              st.one_of(st.sampled_from((0, 1, 31, 32, 33, 63, 64, 0x80000000, isa.U32)), _U32S)),
    st.just(Instruction(LDX | W | LEN, 0, 0, 0)), st.just(Instruction(MISC | isa.TAX, 0, 0, 0)))

_INDIRECT_LOADS = st.builds(lambda size, k: Instruction(LD | size | IND, 0, 0, k), _SIZES,
                            st.one_of(st.integers(0, 40), st.sampled_from(NASTY_U32)))
_STORES = st.builds(lambda cls, k: Instruction(cls, 0, 0, k), st.sampled_from((ST, STX)),
                    st.integers(0, isa.MEMWORDS - 1))
_MISC = st.sampled_from((Instruction(MISC | isa.TAX, 0, 0, 0), Instruction(MISC | isa.TXA, 0, 0, 0)))


@functools.lru_cache(maxsize=4096)
def _scratch_loads(written: int):
    readable = [i for i in range(isa.MEMWORDS) if written >> i & 1]
    return st.builds(lambda cls, k: Instruction(cls | MEM, 0, 0, k), st.sampled_from((LD, LDX)),
                     st.sampled_from(readable))


# Small constants are what loaded bytes and halfwords actually equal.
_JUMP_CONSTANTS = st.one_of(st.integers(0, 0xFF), st.integers(0, 0xFFFF), _U32S)
_JUMP_OPS = st.sampled_from((JEQ, JGT, JGE, JSET))


@functools.lru_cache(maxsize=None)
def _jumps(target: str, room: int):
    skip = st.integers(0, min(room, 255))
    ja = st.builds(lambda k: Instruction(JMP | JA, 0, 0, k), st.integers(0, room))
    by_x = st.builds(lambda op, jt, jf: Instruction(JMP | op | X, jt, jf, 0), _JUMP_OPS, skip, skip)
    by_k = st.builds(lambda op, jt, jf, k: Instruction(JMP | op | isa.K, jt, jf, k),
                     _JUMP_OPS, skip, skip, _JUMP_CONSTANTS)
    # one ja in six; constants a little more often than X
    return st.one_of(ja, by_x, by_k, by_x, by_k, by_k)


def _known_codes():
    from ..semantics import KERNEL_OPCODES
    return KERNEL_OPCODES


_INSTRUCTIONS = st.builds(Instruction, st.one_of(st.sampled_from(sorted(_known_codes())),
                                                  st.integers(0, 0xFFFF)),
                          st.integers(0, 255), st.integers(0, 255), _U32S)
