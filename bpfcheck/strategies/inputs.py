"""Hypothesis strategies for what programs read besides packet bytes:
socket metadata and ``struct seccomp_data``."""

from __future__ import annotations

from typing import Optional

from hypothesis import strategies as st

from .. import isa
from ..context import FIELD_RANGES, Context, SeccompData
from ._validation import check_int_range, check_optional_bool, drawn_by, given_arguments
from .programs import NASTY_U32


def contexts(device: Optional[bool] = None) -> st.SearchStrategy[Context]:
    """Socket metadata within the kernel's ranges; ``device`` forces a
    device to be present (True), absent (False) or either (None)."""
    check_optional_bool("device", device)
    return _contexts(**given_arguments(device=(device, None)))


@drawn_by("contexts")
def _contexts(draw, *, device=None) -> Context:
    has_device = draw(st.booleans()) if device is None else device
    fields = {}
    for name, (lo, hi) in FIELD_RANGES.items():
        if name == "ifindex" and has_device:
            lo = 1
        nasty = [v for v in NASTY_U32 if lo <= v <= hi]
        fields[name] = draw(st.one_of(st.just(lo), st.sampled_from(nasty), st.integers(lo, hi)))
    link = draw(st.one_of(st.none(), st.just(0), st.integers(0, 64)))
    network = draw(st.one_of(st.just(0), st.just(14), st.integers(0, 64)))
    return Context(has_device=has_device, link_header=link, network_header=network, **fields)


#: the AUDIT_ARCH values most policies test
COMMON_ARCHES = (0xC000003E, 0x40000003, 0xC00000B7, 0x40000028, 0xC00000F3)
_U64S = st.one_of(st.sampled_from((0, 1, 0xFFFFFFFF, 0x100000000, 0xFFFFFFFFFFFFFFFF, 0x7FFFFFFF,
                                   0x80000000, 0xFFFFFFFF80000000)),
                  st.integers(0, (1 << 64) - 1))
_NRS = st.one_of(st.integers(0, 450), st.integers(0x40000000, 0x400001FF),
                 st.sampled_from((0xFFFFFFFF, 0x7FFFFFFF, 0x80000000)), st.integers(0, isa.U32))
_ARCHES = st.one_of(st.sampled_from(COMMON_ARCHES), st.integers(0, isa.U32))


def seccomp_data(arch: Optional[int] = None) -> st.SearchStrategy[SeccompData]:
    """``struct seccomp_data``: small syscall numbers, x32 bits, nasty
    args; ``arch`` pins the AUDIT_ARCH value (any, else)."""
    if arch is not None:
        check_int_range("arch", arch, 0, isa.U32)
    return _seccomp_data(**given_arguments(arch=(arch, None)))


@drawn_by("seccomp_data")
def _seccomp_data(draw, *, arch=None) -> SeccompData:
    nr = draw(_NRS)
    chosen_arch = arch if arch is not None else draw(_ARCHES)
    args = tuple(draw(st.lists(_U64S, min_size=6, max_size=6)))
    ip = draw(st.one_of(st.just(0), _U64S))
    return SeccompData(nr, chosen_arch, ip, args)
