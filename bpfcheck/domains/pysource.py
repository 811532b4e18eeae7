"""A value domain that writes Python source: the compiled path's half of the table.

Driven by :mod:`bpfcheck.fast.codegen`, every handler of the semantics
table returns, instead of a value, the Python *expression* that computes
it; the code generator pastes those expressions into straight-line code.
So the compiled path knows no more about instructions than the VM does:
it only knows how to spell integers, operators and packet reads.

Values are Python ints when known at compile time (then the concrete
domain folds them, so ``ld #4; add #1`` costs nothing at run time) and
:class:`Expr` strings otherwise; conditions are Python bools or
:class:`Expr` strings whose *truth value* is the condition (``jset`` is
``(a & 8191)``, no ``!= 0``).

The source is built only from integers and fixed templates: no text from
a program or a user reaches it.

Names the generated code relies on (bound by the code generator):

``p``   the packet (``bytes``)            ``n``   its captured length
``wl``  what ``ld #len`` returns           ``ctx`` the :class:`Context` (socket)
``w``   the 16 words of ``seccomp_data``   ``_u16``/``_u32`` big-endian unpackers
``_nla`` :func:`netlink_attr_offset`       ``_addr`` :func:`socket_area`
"""

from __future__ import annotations

from typing import List, Optional

from .. import isa
from ..context import Context
from ..semantics import RULE_NO_LINK_HEADER, RULE_OUT_OF_BOUNDS
from .concrete import CONCRETE, socket_address

_NET_OFF = isa.signed32(isa.SKF_NET_OFF)
_LL_OFF = isa.signed32(isa.SKF_LL_OFF)
#: shifting a u32 by this much or more gives 0 in every domain
_SHIFT_LIMIT = 32


class Expr(str):
    """Source text of a value or condition.

    ``bound`` is an upper bound of the value when one is known (``x & 31``
    is at most 31, so shifting by it needs no ``< 32`` test); ``need`` marks
    a condition ``n < need`` (the load bounds check), which the code
    generator drops once the path has already checked a larger length.
    """

    bound: Optional[int] = None
    need: Optional[int] = None


def _expr(text: str, bound: Optional[int] = None) -> Expr:
    e = Expr(text)
    e.bound = bound
    return e


def length_below(need: int) -> Expr:
    """The condition "the captured length is below ``need``"."""
    e = Expr(f"n < {need}")
    e.need = need
    return e


def _known(*values) -> bool:
    return all(isinstance(v, int) for v in values)


def _binary(concrete_op, template: str, bound=None):
    def op(a, b):
        if _known(a, b):
            return concrete_op(a, b)
        return _expr(template.format(a=a, b=b), bound(a, b) if bound else None)
    return staticmethod(op)


def _and_bound(a, b):
    bounds = [v for v in (a, b) if isinstance(v, int)]
    bounds += [v.bound for v in (a, b) if isinstance(v, Expr) and v.bound is not None]
    return min(bounds) if bounds else None


def _shift(concrete_op, symbol: str):
    def op(a, b):
        if _known(a, b):
            return concrete_op(a, b)
        if isinstance(b, int):
            if b >= _SHIFT_LIMIT:
                return 0
            if symbol == ">>" or (a.bound is not None and a.bound << b <= 0xFFFFFFFF):
                # Nothing can leave the low 32 bits: no mask needed.
                bound = a.bound if symbol == ">>" or a.bound is None else a.bound << b
                return _expr(f"({a} {symbol} {b})", bound)
            return _expr(f"(({a} {symbol} {b}) & 0xFFFFFFFF)")
        if b.bound is not None and b.bound < _SHIFT_LIMIT:
            return _expr(f"(({a} {symbol} {b}) & 0xFFFFFFFF)")
        # Shifts by 32 or more give 0, as in every domain; Python would
        # otherwise build a huge integer for a shift by 2**32 - 1.
        return _expr(f"((({a} {symbol} {b}) & 0xFFFFFFFF) if {b} < 32 else 0)")
    return staticmethod(op)


class PySourceDomain:
    """u32 arithmetic as Python source, folding what is known."""

    const = staticmethod(lambda k: k)
    true = staticmethod(lambda: True)
    add = _binary(CONCRETE.add, "(({a} + {b}) & 0xFFFFFFFF)")
    sub = _binary(CONCRETE.sub, "(({a} - {b}) & 0xFFFFFFFF)")
    mul = _binary(CONCRETE.mul, "(({a} * {b}) & 0xFFFFFFFF)")
    # The table guards a zero divisor before the quotient is used, and the
    # code generator emits guards before assignments.
    udiv = _binary(CONCRETE.udiv, "({a} // {b})")
    urem = _binary(CONCRETE.urem, "({a} % {b})")
    and_ = _binary(CONCRETE.and_, "({a} & {b})", _and_bound)
    or_ = _binary(CONCRETE.or_, "({a} | {b})")
    xor = _binary(CONCRETE.xor, "({a} ^ {b})")
    shl = _shift(CONCRETE.shl, "<<")
    lshr = _shift(CONCRETE.lshr, ">>")
    eq = _binary(CONCRETE.eq, "({a} == {b})")
    ugt = _binary(CONCRETE.ugt, "({a} > {b})")
    uge = _binary(CONCRETE.uge, "({a} >= {b})")
    test = _binary(CONCRETE.test, "({a} & {b})")

    @staticmethod
    def neg(a):
        return CONCRETE.neg(a) if isinstance(a, int) else _expr(f"(-{a} & 0xFFFFFFFF)")

    @staticmethod
    def not_(c):
        return (not c) if isinstance(c, bool) else _expr(f"(not {c})")

    @staticmethod
    def ite(c, a, b):
        if isinstance(c, bool):
            return a if c else b
        return _expr(f"({a} if {c} else {b})")


PYSOURCE = PySourceDomain()


# --- reading packet bytes ---------------------------------------------------------
def read_bytes(position, nbytes: int) -> Expr:
    """Big-endian ``nbytes`` at ``position``: an int, or an expression
    (evaluated where the read is, after the guards that make it safe)."""
    if nbytes == 1:
        return _expr(f"p[{position}]", 0xFF)
    if nbytes == 2:
        if isinstance(position, int):
            return _expr(f"(p[{position}] << 8 | p[{position + 1}])", 0xFFFF)
        return _expr(f"_u16(p, {position})[0]", 0xFFFF)
    return _expr(f"_u32(p, {position})[0]")


def socket_area(offset: int, ctx: Context) -> int:
    """For generated code: the buffer position of a *negative* signed load
    offset (network- or link-relative), -1 when there is no link-layer
    header, -2 when the offset is below every area.  The mapping itself is
    :func:`~bpfcheck.domains.concrete.socket_address`."""
    pos, why = socket_address(isa.signed32(offset), ctx)
    if why == "link":
        return -1
    if pos is None:
        return -2
    return pos


class _SourceEnv:
    """What every source environment shares: temporaries and usage flags.

    ``statements`` are lines a load needs before its guards (the position
    of an indirect load); the code generator takes them after each handler.
    ``uses`` records the inputs the program reads, so that the generated
    prologue computes only those.
    """

    def __init__(self):
        self.statements: List[str] = []
        self.uses = set()
        self._temps = 0

    def take_statements(self) -> List[str]:
        lines, self.statements = self.statements, []
        return lines

    def temp(self, text: str) -> Expr:
        self._temps += 1
        name = f"t{self._temps}"
        self.statements.append(f"{name} = {text}")
        return _expr(name)


class SocketSource(_SourceEnv):
    """A socket buffer: ``p``, ``n``, ``wl`` and the :class:`Context` ``ctx``."""

    def length(self):
        self.uses.add("wl")
        return _expr("wl")

    def _load_at(self, offset: int, nbytes: int):
        """A load at a signed offset known at compile time."""
        if offset >= 0:
            return read_bytes(offset, nbytes), ((length_below(offset + nbytes), RULE_OUT_OF_BOUNDS),)
        self.uses.add("ctx")
        if offset >= _NET_OFF:
            pos = self.temp(f"ctx.network_header + {offset - _NET_OFF}")
            return read_bytes(pos, nbytes), ((_expr(f"{pos} + {nbytes} > n"), RULE_OUT_OF_BOUNDS),)
        if offset >= _LL_OFF:
            # The position is computed after the guard that a header exists.
            pos = _expr(f"(ctx.link_header + {offset - _LL_OFF})")
            return read_bytes(pos, nbytes), (
                (_expr("ctx.link_header is None"), RULE_NO_LINK_HEADER),
                (_expr(f"{pos} + {nbytes} > n"), RULE_OUT_OF_BOUNDS))
        return 0, ((True, RULE_OUT_OF_BOUNDS),)

    def load_abs(self, k: int, nbytes: int):
        return self._load_at(isa.signed32(k), nbytes)

    def load_ind(self, x, k: int, nbytes: int):
        if isinstance(x, int):
            # (X + k) mod 2**32, taken as signed: fold it when X is known.
            return self._load_at(isa.signed32(x + k), nbytes)
        if x.bound is not None and x.bound + k < 0x80000000:
            # X is small (``ldx 4*([k]&0xf)``): the offset cannot wrap or go negative.
            pos = self.temp(f"{x} + {k}")
            return read_bytes(pos, nbytes), ((_expr(f"{pos} + {nbytes} > n"), RULE_OUT_OF_BOUNDS),)
        self.uses.add("ctx")
        pos = self.temp(f"({x} + {k}) & 0xFFFFFFFF")
        self.statements.append(f"if {pos} & 0x80000000: {pos} = _addr({pos}, ctx)")
        return read_bytes(pos, nbytes), (
            (_expr(f"{pos} == -1"), RULE_NO_LINK_HEADER),
            (_expr(f"{pos} < 0 or {pos} + {nbytes} > n"), RULE_OUT_OF_BOUNDS))

    def field(self, name: str):
        if name not in Context.__dataclass_fields__:   # never user text: table names only
            raise AssertionError(f"unknown context field {name!r}")
        self.uses.add("ctx")
        return _expr(f"ctx.{name}")

    def has_device(self):
        self.uses.add("ctx")
        return _expr("ctx.has_device")

    def netlink_attr(self, a, x, nested: bool):
        self.uses.add("ctx")
        return _expr(f"_nla(p, {a}, {x}, {bool(nested)}, ctx.is_linear(n))")


class PcapSource(_SourceEnv):
    """libpcap: ``p`` and ``n`` (captured), ``wl`` the wire length; offsets
    are unsigned and never wrap."""

    def length(self):
        self.uses.add("wl")
        return _expr("wl")

    def load_abs(self, k: int, nbytes: int):
        return read_bytes(k, nbytes), ((length_below(k + nbytes), RULE_OUT_OF_BOUNDS),)

    def load_ind(self, x, k: int, nbytes: int):
        if isinstance(x, int):
            return self.load_abs(x + k, nbytes)
        pos = self.temp(f"{x} + {k}")
        return read_bytes(pos, nbytes), ((_expr(f"{pos} + {nbytes} > n"), RULE_OUT_OF_BOUNDS),)

    def field(self, name):   # pragma: no cover - pcap has no extensions
        raise AssertionError("libpcap has no metadata loads")

    has_device = netlink_attr = field


class SeccompSource(_SourceEnv):
    """``struct seccomp_data`` as ``w``, its 16 host-endian words."""

    def length(self):
        return isa.SECCOMP_DATA_SIZE

    def load_abs(self, k: int, nbytes: int):
        # The seccomp checker admits only aligned word loads below 64.
        return _expr(f"w[{k // 4}]"), ()

    def load_ind(self, x, k, nbytes):   # pragma: no cover - rejected by the checker
        raise AssertionError("seccomp has no indirect loads")

    field = has_device = netlink_attr = load_ind


SOURCE_ENVS = {"socket": SocketSource, "pcap": PcapSource, "seccomp": SeccompSource}
