"""THE instruction semantics of classic BPF, written once.

Each opcode maps to a handler that says what the instruction does in terms
of an abstract *value domain* (``dom``: arithmetic and comparisons) and an
*input environment* (``env``: packet loads, length, metadata).  A handler
never decides control flow itself; it returns an :class:`Effect`:

* ``guards`` — ``(cond, value, rule)`` triples, checked in order before the
  effect: when ``cond`` holds the program ends returning ``value``, and
  ``rule`` names why ("load out of bounds", "division by zero", …);
* the new ``a`` / ``x`` / ``store`` (``None`` = unchanged);
* ``flow`` — ``None`` to fall through, ``("jump", cond, jt, jf)`` for a
  conditional jump (relative skips), ``("goto", k)`` for ``ja`` (k as the
  target defines it), or ``("ret", value)``.

The drivers own control flow: the reference VM (:mod:`bpfcheck.vm`) takes
branches with concrete ints, the symbolic executor keeps both sides with z3
terms and merges them, the code generator emits ``if`` statements.  Because
they all read this one table, they cannot drift apart.

Dialects differ only where the real implementations differ; each
difference is a named field of :class:`Dialect`, with its source.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Dict, NamedTuple, Optional, Tuple

from . import isa
from .isa import (ABS, ADD, ALU, AND, B, DIV, H, IMM, IND, JA, JEQ, JGE,
                  JGT, JMP, JSET, LD, LDX, LEN, LSH, MEM, MISC, MOD, MSH, MUL,
                  NEG, OR, RET, RET_A, RET_K, RSH, ST, STX, SUB, TAX, TXA, W,
                  X, XOR)

# --- why a program can end early: the names witnesses report -------------
RULE_OUT_OF_BOUNDS = "load out of bounds"
RULE_NO_LINK_HEADER = "link-relative load without a link-layer header"
RULE_DIV_BY_ZERO = "division by zero (X == 0)"
RULE_MOD_BY_ZERO = "modulo by zero (X == 0)"
RULE_NO_DEVICE = "device metadata load without a device ends the program, returning A"


class Guard(NamedTuple):
    cond: Any
    value: Any
    rule: str


class Effect(NamedTuple):
    guards: Tuple[Guard, ...] = ()
    a: Any = None
    x: Any = None
    store: Optional[Tuple[int, Any]] = None
    flow: Optional[tuple] = None

    def applied(self, a, x, mem: tuple):
        """The registers and scratch memory (a tuple) after this effect,
        for the executors that keep each state as values, not in place."""
        if self.a is not None:
            a = self.a
        if self.x is not None:
            x = self.x
        if self.store is not None:
            cell, value = self.store
            mem = mem[:cell] + (value,) + mem[cell + 1:]
        return a, x, mem


@dataclass(frozen=True)
class Dialect:
    """How one target's implementation reads the same bytes.

    shift_x_mask
        ``lsh x``/``rsh x``: the kernel shifts by ``X & 31`` (measured:
        ``1 << 33 == 2``); libpcap gives 0 when X >= 32.
    shift_k_mask
        ``lsh #k``/``rsh #k`` with k >= 32: the kernel's checker rejects
        them; libpcap 1.10.3 runs ``A <<= k`` in C, which x86-64 masks to
        ``k & 31`` (measured).
    extensions
        ``ld [SKF_AD_OFF + n]`` reads metadata (Linux) or is an ordinary,
        always out-of-bounds load (libpcap).
    signed_ja
        libpcap sign-extends ``ja``'s k in userland (``ip6 protochain``
        emits backward jumps); the kernel treats it as unsigned.
    """

    name: str
    shift_x_mask: bool
    shift_k_mask: bool
    extensions: bool
    signed_ja: bool


SOCKET = Dialect("socket", shift_x_mask=True, shift_k_mask=True, extensions=True, signed_ja=False)
SECCOMP = Dialect("seccomp", shift_x_mask=True, shift_k_mask=True, extensions=True, signed_ja=False)
PCAP = Dialect("pcap", shift_x_mask=False, shift_k_mask=True, extensions=False, signed_ja=True)
DIALECTS = {d.name: d for d in (SOCKET, SECCOMP, PCAP)}

Handler = Callable[[tuple, Any, Any, Any, Any, Any], Effect]
# handler(insn, a, x, mem, dom, env) -> Effect; ``mem`` is indexable by cell.

_NOTHING = Effect()


# --- ALU --------------------------------------------------------------------
_ALU_OPS = {
    ADD: lambda d, a, b: d.add(a, b),
    SUB: lambda d, a, b: d.sub(a, b),
    MUL: lambda d, a, b: d.mul(a, b),
    DIV: lambda d, a, b: d.udiv(a, b),
    MOD: lambda d, a, b: d.urem(a, b),
    AND: lambda d, a, b: d.and_(a, b),
    OR: lambda d, a, b: d.or_(a, b),
    XOR: lambda d, a, b: d.xor(a, b),
    LSH: lambda d, a, b: d.shl(a, b),
    RSH: lambda d, a, b: d.lshr(a, b),
}


def _alu_handler(op: int, src: int, dialect: Dialect) -> Handler:
    apply = _ALU_OPS[op]
    is_shift = op in (LSH, RSH)
    by_zero_rule = {DIV: RULE_DIV_BY_ZERO, MOD: RULE_MOD_BY_ZERO}.get(op)

    if src == X:
        mask_shift = is_shift and dialect.shift_x_mask

        def alu_x(insn, a, x, mem, d, env):
            if by_zero_rule:
                guard = Guard(d.eq(x, d.const(0)), d.const(0), by_zero_rule)
                return Effect(guards=(guard,), a=apply(d, a, x))
            amount = d.and_(x, d.const(31)) if mask_shift else x
            return Effect(a=apply(d, a, amount))
        return alu_x

    mask_shift = is_shift and dialect.shift_k_mask

    def alu_k(insn, a, x, mem, d, env):
        k = insn[3]
        if mask_shift:
            k &= 31
        if by_zero_rule and k == 0:
            # Only reachable for libpcap-validated programs' unreachable
            # paths: every checker rejects a constant divisor of 0.
            return Effect(guards=(Guard(d.true(), d.const(0), by_zero_rule),))
        return Effect(a=apply(d, a, d.const(k)))
    return alu_k


def _neg(insn, a, x, mem, d, env):
    return Effect(a=d.neg(a))


# --- jumps --------------------------------------------------------------------
_JMP_TESTS = {
    JEQ: lambda d, a, b: d.eq(a, b),
    JGT: lambda d, a, b: d.ugt(a, b),
    JGE: lambda d, a, b: d.uge(a, b),
    JSET: lambda d, a, b: d.test(a, b),
}


def _jump_handler(op: int, src: int) -> Handler:
    test = _JMP_TESTS[op]
    if src == X:
        def jump_x(insn, a, x, mem, d, env):
            return Effect(flow=("jump", test(d, a, x), insn[1], insn[2]))
        return jump_x

    def jump_k(insn, a, x, mem, d, env):
        return Effect(flow=("jump", test(d, a, d.const(insn[3])), insn[1], insn[2]))
    return jump_k


def _ja_handler(dialect: Dialect) -> Handler:
    if dialect.signed_ja:
        def ja(insn, a, x, mem, d, env):
            return Effect(flow=("goto", isa.signed32(insn[3])))
    else:
        def ja(insn, a, x, mem, d, env):
            return Effect(flow=("goto", insn[3]))
    return ja


# --- returns ------------------------------------------------------------------
def _ret_k(insn, a, x, mem, d, env):
    return Effect(flow=("ret", d.const(insn[3])))


def _ret_a(insn, a, x, mem, d, env):
    return Effect(flow=("ret", a))


# --- loads ----------------------------------------------------------------------
def _fail_guards(d, fails) -> Tuple[Guard, ...]:
    return tuple(Guard(cond, d.const(0), rule) for cond, rule in fails)


def _ld_abs_handler(size: int, dialect: Dialect) -> Handler:
    nbytes = isa.SIZE_BYTES[size]

    def ld_abs(insn, a, x, mem, d, env):
        k = insn[3]
        if dialect.extensions:
            ext = isa.extension_of(k)
            if ext is not None:
                # Extension loads ignore the size bits: ``ldb [proto]``
                # returns the whole 16-bit protocol.
                return _EXTENSIONS[ext](a, x, d, env)
        value, fails = env.load_abs(k, nbytes)
        return Effect(guards=_fail_guards(d, fails), a=value)
    return ld_abs


def _ld_ind_handler(size: int) -> Handler:
    nbytes = isa.SIZE_BYTES[size]

    def ld_ind(insn, a, x, mem, d, env):
        value, fails = env.load_ind(x, insn[3], nbytes)
        return Effect(guards=_fail_guards(d, fails), a=value)
    return ld_ind


def _ldx_msh(insn, a, x, mem, d, env):
    byte, fails = env.load_abs(insn[3], 1)
    # X = (P[k] & 0xf) << 2; A is untouched.
    nibble = d.shl(d.and_(byte, d.const(0xF)), d.const(2))
    return Effect(guards=_fail_guards(d, fails), x=nibble)


def _ld_imm(insn, a, x, mem, d, env):
    return Effect(a=d.const(insn[3]))


def _ldx_imm(insn, a, x, mem, d, env):
    return Effect(x=d.const(insn[3]))


def _ld_len(insn, a, x, mem, d, env):
    return Effect(a=env.length())


def _ldx_len(insn, a, x, mem, d, env):
    return Effect(x=env.length())


def _ld_mem(insn, a, x, mem, d, env):
    return Effect(a=mem[insn[3]])


def _ldx_mem(insn, a, x, mem, d, env):
    return Effect(x=mem[insn[3]])


def _st(insn, a, x, mem, d, env):
    return Effect(store=(insn[3], a))


def _stx(insn, a, x, mem, d, env):
    return Effect(store=(insn[3], x))


def _tax(insn, a, x, mem, d, env):
    return Effect(x=a)


def _txa(insn, a, x, mem, d, env):
    return Effect(a=x)


# --- extensions: ld [SKF_AD_OFF + n] -------------------------------------------
def _field(name: str):
    def load_field(a, x, d, env):
        return Effect(a=env.field(name))
    return load_field


def _device_field(name: str):
    def load_device_field(a, x, d, env):
        # No device (an AF_UNIX datagram): the kernel's translation exits
        # here with the current A as the verdict (measured).
        guard = Guard(d.not_(env.has_device()), a, RULE_NO_DEVICE)
        return Effect(guards=(guard,), a=env.field(name))
    return load_device_field


def _xor_x(a, x, d, env):
    return Effect(a=d.xor(a, x))


def _nla(a, x, d, env):
    return Effect(a=env.netlink_attr(a, x, nested=False))


def _nlan(a, x, d, env):
    return Effect(a=env.netlink_attr(a, x, nested=True))


_EXTENSIONS = {
    isa.SKF_AD_PROTOCOL: _field("protocol"),
    isa.SKF_AD_PKTTYPE: _field("pkttype"),
    isa.SKF_AD_IFINDEX: _device_field("ifindex"),
    isa.SKF_AD_NLATTR: _nla,
    isa.SKF_AD_NLATTR_NEST: _nlan,
    isa.SKF_AD_MARK: _field("mark"),
    isa.SKF_AD_QUEUE: _field("queue_mapping"),
    isa.SKF_AD_HATYPE: _device_field("hatype"),
    isa.SKF_AD_RXHASH: _field("rxhash"),
    isa.SKF_AD_CPU: _field("cpu"),
    isa.SKF_AD_ALU_XOR_X: _xor_x,
    isa.SKF_AD_VLAN_TAG: _field("vlan_tci"),
    isa.SKF_AD_VLAN_TAG_PRESENT: _field("vlan_present"),
    isa.SKF_AD_PAY_OFFSET: _field("payload_offset"),
    isa.SKF_AD_RANDOM: _field("random"),
    isa.SKF_AD_VLAN_TPID: _field("vlan_tpid"),
}
assert set(_EXTENSIONS) == set(isa.EXTENSIONS)


# --- the table ------------------------------------------------------------------
def _build_table(dialect: Dialect) -> Dict[int, Handler]:
    table: Dict[int, Handler] = {}
    for op in _ALU_OPS:
        table[ALU | op | isa.K] = _alu_handler(op, isa.K, dialect)
        table[ALU | op | X] = _alu_handler(op, X, dialect)
    table[ALU | NEG] = _neg
    for op in _JMP_TESTS:
        table[JMP | op | isa.K] = _jump_handler(op, isa.K)
        table[JMP | op | X] = _jump_handler(op, X)
    table[JMP | JA] = _ja_handler(dialect)
    table[RET | RET_K] = _ret_k
    table[RET | RET_A] = _ret_a
    for size in (W, H, B):
        table[LD | size | ABS] = _ld_abs_handler(size, dialect)
        table[LD | size | IND] = _ld_ind_handler(size)
    table[LDX | B | MSH] = _ldx_msh
    table[LD | IMM] = _ld_imm
    table[LDX | IMM] = _ldx_imm
    table[LD | W | LEN] = _ld_len
    table[LDX | W | LEN] = _ldx_len
    table[LD | MEM] = _ld_mem
    table[LDX | MEM] = _ldx_mem
    table[ST] = _st
    table[STX] = _stx
    table[MISC | TAX] = _tax
    table[MISC | TXA] = _txa
    return table


TABLES: Dict[str, Dict[int, Handler]] = {name: _build_table(d) for name, d in DIALECTS.items()}

#: the 49 opcodes the kernel's classic checker accepts (``chk_code_allowed``)
KERNEL_OPCODES = frozenset(TABLES["socket"])
assert len(KERNEL_OPCODES) == 49


def handler_for(target: str, code: int) -> Optional[Handler]:
    return TABLES[target].get(code)
