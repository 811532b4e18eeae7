"""One interpreter for properties, over two domains.

The same walk evaluates a property on one concrete run (to replay a
witness) and builds its z3 formula over every run (to prove it): only the
arithmetic (:class:`ConcreteOps` / :class:`Z3Ops`) and the leaves (a
*view* of the run) differ.  Values are unsigned 64-bit; ``x / 0`` and
``x % 0`` are 0; a packet byte at or past the length reads as 0.
"""

from __future__ import annotations

from typing import Optional

import z3

from ..errors import UsageError
from . import ast

M64 = (1 << 64) - 1


class ConcreteOps:
    @staticmethod
    def num(v):
        return v & M64

    @staticmethod
    def binary(op, a, b):
        if op == "+":
            return (a + b) & M64
        if op == "-":
            return (a - b) & M64
        if op == "*":
            return (a * b) & M64
        if op == "/":
            return a // b if b else 0
        if op == "%":
            return a % b if b else 0
        if op == "&":
            return a & b
        if op == "|":
            return a | b
        if op == "^":
            return a ^ b
        if op == "<<":
            return (a << b) & M64 if b < 64 else 0
        if op == ">>":
            return a >> b if b < 64 else 0
        raise AssertionError(op)

    @staticmethod
    def invert(a):
        return ~a & M64

    @staticmethod
    def compare(op, a, b):
        return {"==": a == b, "!=": a != b, "<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]

    not_ = staticmethod(lambda c: not c)
    and_ = staticmethod(lambda a, b: a and b)
    or_ = staticmethod(lambda a, b: a or b)
    implies = staticmethod(lambda a, b: (not a) or b)
    ite = staticmethod(lambda c, a, b: a if c else b)
    bool_ = staticmethod(lambda v: bool(v))


class Z3Ops:
    @staticmethod
    def num(v):
        return z3.BitVecVal(v & M64, 64)

    @staticmethod
    def binary(op, a, b):
        if op == "+":
            return a + b
        if op == "-":
            return a - b
        if op == "*":
            return a * b
        if op == "/":
            return z3.If(b == 0, z3.BitVecVal(0, 64), z3.UDiv(a, b))
        if op == "%":
            return z3.If(b == 0, z3.BitVecVal(0, 64), z3.URem(a, b))
        if op == "&":
            return a & b
        if op == "|":
            return a | b
        if op == "^":
            return a ^ b
        if op == "<<":
            return a << b
        if op == ">>":
            return z3.LShR(a, b)
        raise AssertionError(op)

    @staticmethod
    def invert(a):
        return ~a

    @staticmethod
    def compare(op, a, b):
        if op == "==":
            return a == b
        if op == "!=":
            return a != b
        return {"<": z3.ULT, "<=": z3.ULE, ">": z3.UGT, ">=": z3.UGE}[op](a, b)

    not_ = staticmethod(z3.Not)
    and_ = staticmethod(lambda a, b: z3.And(a, b))
    or_ = staticmethod(lambda a, b: z3.Or(a, b))
    implies = staticmethod(z3.Implies)
    ite = staticmethod(z3.If)
    bool_ = staticmethod(z3.BoolVal)


def evaluate(node: ast.Node, ops, view):
    """Evaluate ``node`` with arithmetic ``ops`` over the run ``view``."""
    ev = lambda n: evaluate(n, ops, view)   # noqa: E731 - tiny local recursion helper
    if isinstance(node, ast.Num):
        return ops.num(node.value)
    if isinstance(node, ast.Bool):
        return ops.bool_(node.value)
    if isinstance(node, ast.Name):
        name = node.name
        if name == "accepted":
            return ops.compare("!=", view.verdict(), ops.num(0))
        if name == "action":
            return ops.binary("&", view.verdict(), ops.num(0xFFFF0000))
        if name == "data":
            return ops.binary("&", view.verdict(), ops.num(0xFFFF))
        return getattr(view, name)()
    if isinstance(node, ast.CtxField):
        return view.ctx(node.field)
    if isinstance(node, ast.Packet):
        return view.packet(ev(node.offset), node.size)
    if isinstance(node, ast.Arg):
        return view.arg(node.index)
    if isinstance(node, ast.Other):
        value = view.other_verdict()
        return ops.compare("!=", value, ops.num(0)) if node.field == "accepted" else value
    if isinstance(node, ast.Reaches):
        return view.reaches(node.pc)
    if isinstance(node, ast.Matches):
        return view.matches(node.expr)
    if isinstance(node, ast.Unary):
        return ops.invert(ev(node.operand))
    if isinstance(node, ast.Binary):
        return ops.binary(node.op, ev(node.left), ev(node.right))
    if isinstance(node, ast.Compare):
        return ops.compare(node.op, ev(node.left), ev(node.right))
    if isinstance(node, ast.InSet):
        value = ev(node.value)
        result = None
        for member in node.members:
            test = ops.compare("==", value, ev(member))
            result = test if result is None else ops.or_(result, test)
        return result
    if isinstance(node, ast.InRange):
        value = ev(node.value)
        return ops.and_(ops.compare(">=", value, ev(node.lo)), ops.compare("<=", value, ev(node.hi)))
    if isinstance(node, ast.Not):
        return ops.not_(ev(node.operand))
    if isinstance(node, ast.And):
        return ops.and_(ev(node.left), ev(node.right))
    if isinstance(node, ast.Or):
        return ops.or_(ev(node.left), ev(node.right))
    if isinstance(node, ast.Implies):
        return ops.implies(ev(node.left), ev(node.right))
    raise AssertionError(f"unknown property node {node!r}")


def check_applicable(node: ast.Node, target: str, program_length: int, has_other: bool) -> None:
    """Reject names that make no sense for this program before solving."""
    for sub in node.walk():
        if isinstance(sub, ast.Name) and sub.name in ast.SECCOMP_NAMES and target != "seccomp":
            raise UsageError(f"property: '{sub.name}' only applies to seccomp programs")
        if isinstance(sub, (ast.Packet, ast.CtxField)) and target == "seccomp":
            raise UsageError("property: seccomp programs read struct seccomp_data, not packets "
                             "(use nr, arch, ip, args[I])")
        if isinstance(sub, ast.Name) and sub.name == "len" and target == "seccomp":
            raise UsageError("property: 'len' is a packet length; seccomp programs have none")
        if isinstance(sub, ast.Arg) and target != "seccomp":
            raise UsageError("property: 'args[I]' only applies to seccomp programs")
        if isinstance(sub, ast.CtxField) and target == "pcap":
            raise UsageError("property: libpcap programs see no socket metadata (ctx.*)")
        if isinstance(sub, ast.Reaches) and not 0 <= sub.pc < program_length:
            raise UsageError(f"property: reaches({sub.pc}) is outside the program "
                             f"(instructions 0..{program_length - 1})")
        if isinstance(sub, ast.Other) and not has_other:
            raise UsageError("property: 'other.*' needs a second program (--other)")
        if isinstance(sub, ast.Matches) and target == "seccomp":
            raise UsageError("property: matches(...) compares packets; seccomp has none")


class ConcreteView:
    """One concrete run, for replaying a witness against a property."""

    def __init__(self, target, verdict: int, path, packet=None, context=None, seccomp=None,
                 other_verdict: Optional[int] = None, matcher=None):
        self.target = target
        self._verdict = verdict
        self._path = set(path)
        self._packet = packet
        self._context = context
        self._seccomp = seccomp
        self._other = other_verdict
        self._matcher = matcher

    def verdict(self):
        return self._verdict

    def len(self):
        if self._context is not None and self._context.len is not None:
            return self._context.len
        return len(self._packet)

    def packet(self, offset, size):
        value = 0
        for i in range(size):
            pos = offset + i
            byte = self._packet[pos] if pos < len(self._packet) else 0
            value = value << 8 | byte
        return value

    def ctx(self, field):
        value = getattr(self._context, field)
        if field == "link_header":
            return 0 if value is None else value
        return value

    def nr(self):
        return self._seccomp.nr

    def arch(self):
        return self._seccomp.arch

    def ip(self):
        return self._seccomp.instruction_pointer

    def arg(self, index):
        return self._seccomp.args[index]

    def reaches(self, pc):
        return pc in self._path

    def matches(self, expr):
        return self._matcher(expr, self._packet, self._context)

    def other_verdict(self):
        return self._other
