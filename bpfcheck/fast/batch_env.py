"""The batch environments: packet loads and metadata, one lane per input.

They answer the semantics table's environment calls (``length``,
``load_abs``, ``load_ind``, ``field``, ``has_device``, ``netlink_attr``)
with numpy arrays over :mod:`.packed` inputs, following the concrete
environments in :mod:`bpfcheck.domains.concrete` lane by lane.  A failure
condition no lane meets is returned as ``False``, so the executor spends
nothing on it.

Socket metadata comes from a *context source* (:class:`UniformContext`,
:class:`ContextList`, :class:`FrameContexts`), asked only for the fields a
program actually reads.
"""

from __future__ import annotations

from typing import Callable, List, Optional, Sequence

import numpy as np

from .. import isa
from ..context import Context
from ..domains.concrete import netlink_attr_offset
from ..semantics import RULE_NO_LINK_HEADER, RULE_OUT_OF_BOUNDS
from .packed import PackedPackets, PackedSeccomp

U32 = np.uint32
_NET_OFF = isa.signed32(isa.SKF_NET_OFF)
_LL_OFF = isa.signed32(isa.SKF_LL_OFF)


#: read only the packets that reach a load when at most this share of them
#: do: random gathers cost per packet read, strided column reads much less
SPARSE_GATHER = 0.5
SPARSE_COLUMN = 0.125


class _Lanes:
    """The lanes that reach the instruction being run (``reach``, set by the
    executor): values in other lanes are never read, so loads may skip them."""

    reach = True

    def lanes(self, share: float):
        """Sorted indices of the reaching lanes when they are at most
        ``share`` of all, else None (read everything)."""
        reach = self.reach
        if reach is True:
            return None
        cached = self._counted
        if cached is None or cached[0] is not reach:
            cached = self._counted = (reach, np.count_nonzero(reach), None)
        reach_, count, index = cached
        if count > share * len(reach):
            return None
        if index is None:
            index = np.flatnonzero(reach)
            self._counted = (reach_, count, index)
        return index


def _fails(mask):
    """A failure mask, or False when no lane fails."""
    if isinstance(mask, np.ndarray):
        return mask if mask.any() else False
    return bool(mask)


# --- socket metadata ---------------------------------------------------------------
class ContextSource:
    """Per-lane socket metadata: ``length(packed)``, ``field(name)``,
    ``has_device()``, ``link_header()`` and ``network_header()``, each a
    scalar (the same for every lane) or an array."""


class UniformContext(ContextSource):
    """The same :class:`Context` for every packet: every field a scalar."""

    def __init__(self, ctx: Context):
        self.ctx = ctx

    def length(self, packed: PackedPackets):
        return packed.caplen.astype(U32) if self.ctx.len is None else self.ctx.len

    def field(self, name: str):
        return getattr(self.ctx, name)

    def has_device(self):
        return self.ctx.has_device

    def link_header(self):
        """(has a link header, its offset), scalars or arrays."""
        lh = self.ctx.link_header
        return lh is not None, (lh or 0)

    def network_header(self):
        return self.ctx.network_header

    def per_lane(self, n: int) -> List[Context]:
        return [self.ctx] * n


class ContextList(ContextSource):
    """A :class:`Context` per packet, turned into arrays field by field,
    only for the fields a program reads."""

    def __init__(self, contexts: Sequence[Context]):
        self.contexts = list(contexts)
        self._cache = {}

    def _column(self, name: str, dtype=U32, default=0):
        if name not in self._cache:
            values = [getattr(c, name) for c in self.contexts]
            self._cache[name] = np.array([default if v is None else v for v in values], dtype=dtype)
        return self._cache[name]

    def length(self, packed: PackedPackets):
        given = [c.len for c in self.contexts]
        if all(v is None for v in given):
            return packed.caplen.astype(U32)
        return np.array([len_ if len_ is not None else int(cap)
                         for len_, cap in zip(given, packed.caplen)], dtype=U32)

    def field(self, name: str):
        return self._column(name)

    def has_device(self):
        return self._column("has_device", bool)

    def link_header(self):
        present = np.array([c.link_header is not None for c in self.contexts], dtype=bool)
        return present, self._column("link_header", np.int64)

    def network_header(self):
        return self._column("network_header", np.int64)

    def per_lane(self, n: int) -> List[Context]:
        return self.contexts


class FrameContexts(ContextList):
    """The metadata of captured frames, built per frame by ``make`` (e.g.
    :func:`bpfcheck.capture.context_for_frame`) only when a program reads
    metadata; ``len`` needs no context: it is ``base.len`` or the wire length."""

    def __init__(self, packed: PackedPackets, make: Callable[[bytes, int], Context],
                 base: Context = Context()):
        self.packed = packed
        self.make = make
        self.base = base
        self._contexts: Optional[List[Context]] = None
        self._cache = {}

    @property
    def contexts(self):
        if self._contexts is None:
            wirelen = self.packed.wirelen.tolist()
            self._contexts = [self.make(p, w) for p, w in zip(self.packed.packets, wirelen)]
        return self._contexts

    def length(self, packed: PackedPackets):
        return packed.wirelen.astype(U32) if self.base.len is None else self.base.len


# --- environments --------------------------------------------------------------------
class SocketBatchEnv(_Lanes):
    def __init__(self, packed: PackedPackets, contexts):
        self.packed = packed
        self.ctx = contexts
        self._loads = {}     # the same load twice in one program is read once
        self._counted = None

    def length(self):
        return self.ctx.length(self.packed)

    def _load_at(self, offset: int, nbytes: int):
        """A load at a signed offset, the same for every lane."""
        packed = self.packed
        if offset >= 0:
            return self._column(offset, nbytes)
        if offset >= _NET_OFF:
            base = self.ctx.network_header()
            return self._relative(base, offset - _NET_OFF, nbytes, ())
        if offset >= _LL_OFF:
            present, base = self.ctx.link_header()
            no_link = _fails(np.logical_not(present)) if isinstance(present, np.ndarray) else not present
            if no_link is True:
                return 0, ((True, RULE_NO_LINK_HEADER),)
            return self._relative(base, offset - _LL_OFF, nbytes, ((no_link, RULE_NO_LINK_HEADER),))
        return 0, ((True, RULE_OUT_OF_BOUNDS),)

    def _column(self, k: int, nbytes: int):
        key = (k, nbytes)
        if key not in self._loads:
            lanes = self.lanes(SPARSE_COLUMN)
            fail = _fails(self.packed.short(k + nbytes))
            if lanes is not None:
                return self.packed.column(k, nbytes, lanes), ((fail, RULE_OUT_OF_BOUNDS),)
            self._loads[key] = (self.packed.column(k, nbytes), fail)
        value, fail = self._loads[key]
        return value, ((fail, RULE_OUT_OF_BOUNDS),)

    def _gather(self, pos, nbytes: int):
        lanes = self.lanes(SPARSE_GATHER)
        if lanes is None:
            return self.packed.gather(pos, nbytes)
        return self.packed.gather(pos[lanes], nbytes, lanes)

    def _relative(self, base, delta: int, nbytes: int, first):
        if isinstance(base, int):
            value, fails = self._load_at(base + delta, nbytes)
            return value, first + fails
        pos = base + delta
        value = self._gather(pos, nbytes)
        return value, first + ((_fails(self.packed.short(pos + nbytes)), RULE_OUT_OF_BOUNDS),)

    def load_abs(self, k: int, nbytes: int):
        return self._load_at(isa.signed32(k), nbytes)

    def load_ind(self, x, k: int, nbytes: int):
        if isinstance(x, int):
            return self._load_at(isa.signed32(x + k), nbytes)
        # (X + k) mod 2**32, taken as signed, per lane.
        offset = np.add(x, U32(k & isa.U32), dtype=U32).view(np.int32).astype(np.int64)
        packed = self.packed
        if offset.min() >= 0:
            value = self._gather(offset, nbytes)
            return value, ((_fails(packed.short(offset + nbytes)), RULE_OUT_OF_BOUNDS),)
        # Some lanes read relative to the headers, or below every area.
        net = offset >= _NET_OFF
        ll = (offset >= _LL_OFF) & ~net
        present, link = self.ctx.link_header()
        pos = np.where(offset >= 0, offset,
                       np.where(net, self.ctx.network_header() + (offset - _NET_OFF),
                                link + (offset - _LL_OFF)))
        no_link = ll & np.logical_not(present)
        out = (offset < _LL_OFF) | no_link | packed.short(pos + nbytes)
        value = self._gather(pos, nbytes)
        return value, ((_fails(no_link), RULE_NO_LINK_HEADER), (_fails(out), RULE_OUT_OF_BOUNDS))

    def field(self, name: str):
        return self.ctx.field(name)

    def has_device(self):
        return self.ctx.has_device()

    def netlink_attr(self, a, x, nested: bool):
        # A walk over each packet's attributes: per lane, in Python (rare).
        n = self.packed.n
        a_list = [a] * n if isinstance(a, int) else a.tolist()
        x_list = [x] * n if isinstance(x, int) else x.tolist()
        return np.array([netlink_attr_offset(p, ai, xi, nested, c.is_linear(len(p)))
                         for p, ai, xi, c in zip(self.packed.packets, a_list, x_list,
                                                 self.ctx.per_lane(n))], dtype=U32)


class PcapBatchEnv(_Lanes):
    """libpcap: loads bounded by the captured length, offsets unsigned and
    never wrapped, ``len`` the wire length."""

    _column = SocketBatchEnv._column
    _gather = SocketBatchEnv._gather

    def __init__(self, packed: PackedPackets, wirelen):
        self.packed = packed
        self.wirelen = wirelen
        self._loads = {}
        self._counted = None

    def length(self):
        return self.wirelen

    def load_abs(self, k: int, nbytes: int):
        return self._column(k, nbytes)

    def load_ind(self, x, k: int, nbytes: int):
        if isinstance(x, int):
            return self.load_abs(x + k, nbytes)
        pos = x.astype(np.int64) + k
        return self._gather(pos, nbytes), ((_fails(self.packed.short(pos + nbytes)),
                                            RULE_OUT_OF_BOUNDS),)

    def field(self, name):   # pragma: no cover - pcap has no extensions
        raise AssertionError("libpcap has no metadata loads")

    has_device = netlink_attr = field


class SeccompBatchEnv:
    def __init__(self, packed: PackedSeccomp):
        self.packed = packed

    def length(self):
        return isa.SECCOMP_DATA_SIZE

    def load_abs(self, k: int, nbytes: int):
        return self.packed.word(k), ()

    def load_ind(self, x, k, nbytes):   # pragma: no cover - rejected by the checker
        raise AssertionError("seccomp has no indirect loads")

    field = has_device = netlink_attr = load_ind
