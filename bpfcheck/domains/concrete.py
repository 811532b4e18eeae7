"""Concrete u32 arithmetic over Python ints, and the concrete inputs."""

from __future__ import annotations

from .. import isa
from ..context import Context, SeccompData

U32 = isa.U32


class ConcreteDomain:
    """u32 values are ints in 0..2**32-1; conditions are bools."""

    @staticmethod
    def const(k):
        return k

    @staticmethod
    def true():
        return True

    @staticmethod
    def add(a, b):
        return (a + b) & U32

    @staticmethod
    def sub(a, b):
        return (a - b) & U32

    @staticmethod
    def mul(a, b):
        return (a * b) & U32

    @staticmethod
    def udiv(a, b):
        # The table guards b == 0 before the result is used.
        return a // b if b else 0

    @staticmethod
    def urem(a, b):
        return a % b if b else 0

    @staticmethod
    def and_(a, b):
        return a & b

    @staticmethod
    def or_(a, b):
        return a | b

    @staticmethod
    def xor(a, b):
        return a ^ b

    @staticmethod
    def shl(a, b):
        # Shifts by 32 or more give 0 (as z3's bvshl): callers mask first
        # where the target masks.
        return (a << b) & U32 if b < 32 else 0

    @staticmethod
    def lshr(a, b):
        return a >> b if b < 32 else 0

    @staticmethod
    def neg(a):
        return -a & U32

    @staticmethod
    def eq(a, b):
        return a == b

    @staticmethod
    def ugt(a, b):
        return a > b

    @staticmethod
    def uge(a, b):
        return a >= b

    @staticmethod
    def test(a, b):
        return (a & b) != 0

    @staticmethod
    def not_(c):
        return not c

    @staticmethod
    def ite(c, a, b):
        return a if c else b


CONCRETE = ConcreteDomain()


def folding(concrete_op, otherwise):
    """A domain's binary operation: ``concrete_op`` when both operands are
    known integers (so constants fold, in every domain), else
    ``otherwise(a, b)``."""
    def op(a, b):
        if isinstance(a, int) and isinstance(b, int):
            return concrete_op(a, b)
        return otherwise(a, b)
    return staticmethod(op)

_NET_OFF = isa.signed32(isa.SKF_NET_OFF)
_LL_OFF = isa.signed32(isa.SKF_LL_OFF)
_NOT_LOADED = 0   # the value of a failed load; never observed (a guard ends the run)


def socket_address(offset: int, ctx: Context):
    """Map a signed 32-bit load offset to a byte position in the buffer.

    Non-negative offsets are absolute.  ``SKF_NET_OFF + n`` is relative to
    the network header and ``SKF_LL_OFF + n`` to the link-layer header
    (which an AF_UNIX datagram lacks); anything lower fails.  Returns
    ``(position, rule)`` with ``rule`` set when the load cannot happen.
    """
    if offset >= 0:
        return offset, None
    if offset >= _NET_OFF:
        return ctx.network_header + offset - _NET_OFF, None
    if offset >= _LL_OFF:
        if ctx.link_header is None:
            return None, "link"
        return ctx.link_header + offset - _LL_OFF, None
    return None, "range"


class SocketInput:
    """A packet plus its socket-buffer metadata, as the kernel sees them."""

    __slots__ = ("packet", "ctx", "_length")

    def __init__(self, packet: bytes, ctx: Context):
        self.packet = packet
        self.ctx = ctx
        self._length = len(packet) if ctx.len is None else ctx.len

    def length(self):
        return self._length

    def _load(self, offset: int, nbytes: int):
        from ..semantics import RULE_NO_LINK_HEADER, RULE_OUT_OF_BOUNDS
        pos, why = socket_address(offset, self.ctx)
        if why == "link":
            return _NOT_LOADED, ((True, RULE_NO_LINK_HEADER),)
        if pos is None or pos + nbytes > len(self.packet):
            return _NOT_LOADED, ((True, RULE_OUT_OF_BOUNDS),)
        return int.from_bytes(self.packet[pos:pos + nbytes], "big"), ()

    def load_abs(self, k: int, nbytes: int):
        return self._load(isa.signed32(k), nbytes)

    def load_ind(self, x: int, k: int, nbytes: int):
        # (X + k) mod 2**32, taken as a signed int (measured: X = 0xffffffff,
        # k = 10 reads byte 9).
        return self._load(isa.signed32(x + k), nbytes)

    def field(self, name: str):
        return getattr(self.ctx, name)

    def has_device(self):
        return self.ctx.has_device

    def netlink_attr(self, a: int, x: int, nested: bool):
        return netlink_attr_offset(self.packet, a, x, nested, self.ctx.is_linear(len(self.packet)))


class PcapInput:
    """libpcap's view: loads bounded by the captured bytes, ``len`` the
    wire length; offsets are unsigned and checked without wrap-around."""

    __slots__ = ("packet", "wirelen")

    def __init__(self, packet: bytes, wirelen: int):
        self.packet = packet
        self.wirelen = wirelen

    def length(self):
        return self.wirelen

    def _load(self, pos: int, nbytes: int):
        if pos + nbytes > len(self.packet):
            from ..semantics import RULE_OUT_OF_BOUNDS
            return _NOT_LOADED, ((True, RULE_OUT_OF_BOUNDS),)
        return int.from_bytes(self.packet[pos:pos + nbytes], "big"), ()

    def load_abs(self, k: int, nbytes: int):
        return self._load(k, nbytes)

    def load_ind(self, x: int, k: int, nbytes: int):
        return self._load(x + k, nbytes)

    def field(self, name: str):   # pragma: no cover - pcap has no extensions
        raise AssertionError("libpcap has no metadata loads")

    has_device = netlink_attr = field


class SeccompInput:
    """``struct seccomp_data``: ``ld [k]`` reads a host-endian word."""

    __slots__ = ("data",)

    def __init__(self, data: SeccompData):
        self.data = data

    def length(self):
        return isa.SECCOMP_DATA_SIZE

    def load_abs(self, k: int, nbytes: int):
        # The seccomp checker admits only aligned word loads below 64.
        return self.data.word(k), ()

    def load_ind(self, x, k, nbytes):   # pragma: no cover - rejected by the checker
        raise AssertionError("seccomp has no indirect loads")

    field = has_device = netlink_attr = load_ind


def netlink_attr_offset(packet: bytes, a: int, x: int, nested: bool, linear: bool = True) -> int:
    """``SKF_AD_NLATTR`` / ``SKF_AD_NLATTR_NEST``: the offset of the first
    netlink attribute of type X, searched from offset A (0 when absent, and
    always 0 when the socket buffer is not linear).

    Follows ``bpf_skb_get_nlattr{,_nest}`` and ``nla_find``: attributes are
    ``{u16 nla_len; u16 nla_type}`` in host (little-endian) order, aligned
    to 4 bytes; the type is compared without its flag bits.
    """
    n = len(packet)
    if not linear or n < 4 or a > n - 4:
        return 0
    start, end = a, n
    if nested:
        outer_len = int.from_bytes(packet[a:a + 2], "little")
        if outer_len > n - a:
            return 0
        start, end = a + 4, a + outer_len   # nla_find_nested: payload of the attribute at A
    pos = start
    while pos + 4 <= end:
        nla_len = int.from_bytes(packet[pos:pos + 2], "little")
        nla_type = int.from_bytes(packet[pos + 2:pos + 4], "little") & 0x3FFF
        if nla_len < 4 or nla_len > end - pos:
            break
        if nla_type == x:
            return pos
        pos += (nla_len + 3) & ~3
    return 0
