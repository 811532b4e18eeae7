"""Every input a program can see, as free z3 variables within the kernel's ranges.

The packet is an array of bytes with a 32-bit length and no bound; bytes
at or past the length exist in the array but no load can read them (every
load is guarded by the length).  Metadata fields are free variables
constrained to the ranges the kernel guarantees (:data:`FIELD_RANGES`);
any of them can be pinned to a value with ``fixed``.  Seccomp programs see
``struct seccomp_data`` instead.
"""

from __future__ import annotations

import itertools
from typing import Dict, Optional

import z3

from .. import isa
from ..context import AF_UNIX_LINEAR_MAX, FIELD_RANGES, Context
from ..domains.z3dom import bv
from ..semantics import RULE_NO_LINK_HEADER, RULE_OUT_OF_BOUNDS
from . import netlink

_NET_OFF = isa.signed32(isa.SKF_NET_OFF)
_LL_OFF = isa.signed32(isa.SKF_LL_OFF)
_ids = itertools.count()

#: Context fields that are free variables in a proof (besides the headers)
FREE_FIELDS = tuple(FIELD_RANGES)


class SymbolicInputs:
    """The shared inputs of one query: one or several programs read them."""

    def __init__(self, target: str = "socket", fixed: Optional[Dict[str, object]] = None,
                 name: Optional[str] = None):
        self.target = target
        self.fixed = dict(fixed or {})
        tag = name or f"in{next(_ids)}"
        self.tag = tag
        self.constraints = []
        #: terms already named by a variable (term id -> (term, variable,
        #: definition)), shared by every program encoded over these inputs:
        #: where two programs compute the same thing they get the same
        #: variable, so the solver sees the common part once (see encode)
        self.named = {}
        if target == "seccomp":
            self.nr = z3.BitVec(f"{tag}_nr", 32)
            self.arch = z3.BitVec(f"{tag}_arch", 32)
            self.ip = z3.BitVec(f"{tag}_ip", 64)
            self.args = [z3.BitVec(f"{tag}_arg{i}", 64) for i in range(6)]
            for name_, var in (("nr", self.nr), ("arch", self.arch), ("ip", self.ip)):
                self._pin(name_, var)
            for i, var in enumerate(self.args):
                self._pin(f"args[{i}]", var)
            return
        self.packet = z3.Array(f"{tag}_pkt", z3.BitVecSort(32), z3.BitVecSort(8))
        self.length = z3.BitVec(f"{tag}_len", 32)
        self._pin("caplen", self.length)
        if target == "pcap":
            # libpcap: loads are bounded by the captured length, `len` is the
            # wire length, which is never shorter.
            self.wirelen = z3.BitVec(f"{tag}_wirelen", 32)
            self.constraints.append(z3.UGE(self.wirelen, self.length))
            self._pin("len", self.wirelen)
        else:
            self.wirelen = self.length
            self._pin("len", self.length)
        self.fields = {}
        for field_name, (lo, hi) in FIELD_RANGES.items():
            var = z3.BitVec(f"{tag}_{field_name}", 32)
            self.fields[field_name] = var
            if field_name in self.fixed:
                self.constraints.append(var == bv(int(self.fixed[field_name])))
            else:
                self.constraints.append(z3.ULE(var, hi))
                if lo:
                    self.constraints.append(z3.UGE(var, lo))
        self.has_device = self._bool("has_device", tag)
        self.linear = self._bool("linear", tag)
        self.has_link_header = self._bool("has_link_header", tag)
        self.link_header = z3.BitVec(f"{tag}_link_header", 32)
        self.network_header = z3.BitVec(f"{tag}_network_header", 32)
        for name_, var in (("link_header", self.link_header), ("network_header", self.network_header)):
            if name_ in self.fixed and self.fixed[name_] is not None:
                self.constraints.append(var == int(self.fixed[name_]))
            else:
                self.constraints.append(z3.ULE(var, 0xFFFF))
        if "link_header" in self.fixed:
            self.constraints.append(self.has_link_header == (self.fixed["link_header"] is not None))
        # A device's ifindex is positive.
        self.constraints.append(z3.Implies(self.has_device, z3.UGE(self.fields["ifindex"], 1)))

    def _pin(self, name, var):
        if name in self.fixed:
            self.constraints.append(var == bv(int(self.fixed[name]), var.size()))

    def _bool(self, name, tag):
        var = z3.Bool(f"{tag}_{name}")
        if name in self.fixed:
            self.constraints.append(var == bool(self.fixed[name]))
        return var

    # --- the environment interface the semantics table reads ----------------
    def env(self, dialect_name: str):
        if self.target == "seccomp":
            return _SeccompEnv(self)
        if dialect_name == "pcap":
            return _PcapEnv(self)
        return _SocketEnv(self)

    # --- reading bytes ----------------------------------------------------------
    def byte(self, position):
        return z3.Select(self.packet, bv(position))

    def bytes_be(self, position, count: int):
        if count == 1:
            return z3.ZeroExt(24, self.byte(position))
        parts = [self.byte(_add(position, i)) for i in range(count)]
        value = z3.Concat(*parts)
        return z3.ZeroExt(32 - 8 * count, value) if count < 4 else value

    def fits(self, position, count: int):
        """position + count <= caplen, without wrap-around."""
        if isinstance(position, int):
            end = position + count
            return False if end > isa.U32 else z3.ULE(end, self.length)
        wide = z3.ZeroExt(32, position) + count
        return z3.ULE(wide, z3.ZeroExt(32, self.length))

    def seccomp_word(self, k: int):
        if k == 0:
            return self.nr
        if k == 4:
            return self.arch
        if k in (8, 12):
            source = self.ip
        else:
            source = self.args[(k - 16) // 8]
        low = (k % 8) == 0
        return z3.Extract(31, 0, source) if low else z3.Extract(63, 32, source)

    def all_constraints(self):
        return list(self.constraints)


def _add(position, i):
    if isinstance(position, int):
        return (position + i) & isa.U32
    return position + i if i else position


class _SocketEnv:
    def __init__(self, inputs: SymbolicInputs):
        self.i = inputs

    def length(self):
        return self.i.length

    def _load(self, offset, nbytes):
        """``offset`` is the signed 32-bit load offset (int or term)."""
        i = self.i
        if isinstance(offset, int):
            if offset >= 0:
                return i.bytes_be(offset, nbytes), ((_negate(i.fits(offset, nbytes)), RULE_OUT_OF_BOUNDS),)
            if offset >= _NET_OFF:
                pos = i.network_header + (offset - _NET_OFF)
                return i.bytes_be(pos, nbytes), ((z3.Not(i.fits(pos, nbytes)), RULE_OUT_OF_BOUNDS),)
            if offset >= _LL_OFF:
                pos = i.link_header + (offset - _LL_OFF)
                return i.bytes_be(pos, nbytes), ((z3.Not(i.has_link_header), RULE_NO_LINK_HEADER),
                                                 (z3.Not(i.fits(pos, nbytes)), RULE_OUT_OF_BOUNDS))
            return 0, ((True, RULE_OUT_OF_BOUNDS),)
        # A symbolic offset: pick the area by its signed value.
        net = offset >= _NET_OFF
        ll = offset >= _LL_OFF
        direct = offset >= 0
        pos = z3.If(direct, offset,
                    z3.If(net, i.network_header + (offset - bv(_NET_OFF)),
                          i.link_header + (offset - bv(_LL_OFF))))
        no_link = z3.And(z3.Not(net), ll, z3.Not(i.has_link_header))
        out = z3.Or(z3.Not(ll), z3.Not(i.fits(pos, nbytes)))
        return i.bytes_be(pos, nbytes), ((no_link, RULE_NO_LINK_HEADER), (out, RULE_OUT_OF_BOUNDS))

    def load_abs(self, k, nbytes):
        return self._load(isa.signed32(k), nbytes)

    def load_ind(self, x, k, nbytes):
        if isinstance(x, int):
            return self._load(isa.signed32(x + k), nbytes)
        return self._load(x + bv(k), nbytes)

    def field(self, name):
        return self.i.fields[name]

    def has_device(self):
        return self.i.has_device

    def netlink_attr(self, a, x, nested):
        # The netlink attribute walk is a loop over the packet; model it as
        # an uninterpreted function, and let witness replay confirm.
        f = _netlink_function(nested)
        found = f(self.i.packet, self.i.length, bv(a), bv(x))
        found = z3.If(netlink.plausible(found, self.i.packet, self.i.length, bv(a), bv(x), nested),
                      found, z3.BitVecVal(0, 32))
        return z3.If(self.i.linear, found, z3.BitVecVal(0, 32))


_NLA_FUNCTIONS = {}


def _netlink_function(nested: bool):
    if nested not in _NLA_FUNCTIONS:
        _NLA_FUNCTIONS[nested] = z3.Function(
            "netlink_attr_nested" if nested else "netlink_attr",
            z3.ArraySort(z3.BitVecSort(32), z3.BitVecSort(8)), z3.BitVecSort(32),
            z3.BitVecSort(32), z3.BitVecSort(32), z3.BitVecSort(32))
    return _NLA_FUNCTIONS[nested]


class _PcapEnv:
    def __init__(self, inputs: SymbolicInputs):
        self.i = inputs

    def length(self):
        return self.i.wirelen

    def load_abs(self, k, nbytes):
        fits = self.i.fits(k, nbytes)
        return self.i.bytes_be(k, nbytes), ((_negate(fits), RULE_OUT_OF_BOUNDS),)

    def load_ind(self, x, k, nbytes):
        if isinstance(x, int):
            return self.load_abs(x + k, nbytes) if x + k <= isa.U32 else (0, ((True, RULE_OUT_OF_BOUNDS),))
        # libpcap checks X + k without wrap-around.
        wide = z3.ZeroExt(32, x) + k + nbytes
        fits = z3.ULE(wide, z3.ZeroExt(32, self.i.length))
        return self.i.bytes_be(x + bv(k), nbytes), ((z3.Not(fits), RULE_OUT_OF_BOUNDS),)


def _negate(c):
    return (not c) if isinstance(c, bool) else z3.Not(c)


class _SeccompEnv:
    def __init__(self, inputs: SymbolicInputs):
        self.i = inputs

    def length(self):
        return isa.SECCOMP_DATA_SIZE

    def load_abs(self, k, nbytes):
        return self.i.seccomp_word(k), ()


def context_from_model(inputs: SymbolicInputs, model) -> Context:
    """The concrete Context a model describes."""
    def value(var):
        return model.eval(var, model_completion=True).as_long()

    fields = {name: value(var) for name, var in inputs.fields.items()}
    has_device = z3.is_true(model.eval(inputs.has_device, model_completion=True))
    has_ll = z3.is_true(model.eval(inputs.has_link_header, model_completion=True))
    if not has_device:
        fields["ifindex"] = fields["ifindex"] if fields["ifindex"] else 0
    length = value(inputs.length)
    wire = value(inputs.wirelen)
    linear = z3.is_true(model.eval(inputs.linear, model_completion=True))
    return Context(len=None if wire == length else wire, has_device=has_device,
                   linear=None if linear == (length <= AF_UNIX_LINEAR_MAX) else linear,
                   link_header=value(inputs.link_header) if has_ll else None,
                   network_header=value(inputs.network_header), **fields)


def context_constraints(inputs: SymbolicInputs, ctx: Context, length: int) -> list:
    """Constraints pinning the metadata to ``ctx`` for a packet of
    ``length`` bytes (the inverse of :func:`context_from_model`)."""
    out = [inputs.length == length, inputs.has_device == bool(ctx.has_device),
           inputs.wirelen == (length if ctx.len is None else ctx.len),
           inputs.linear == ctx.is_linear(length),
           inputs.has_link_header == (ctx.link_header is not None),
           inputs.network_header == ctx.network_header]
    if ctx.link_header is not None:
        out.append(inputs.link_header == ctx.link_header)
    out += [var == int(getattr(ctx, name)) for name, var in inputs.fields.items()]
    return out
