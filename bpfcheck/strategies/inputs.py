"""Hypothesis strategies for what programs read: packets, metadata, seccomp data."""

from __future__ import annotations

from hypothesis import strategies as st

from .. import isa
from ..context import FIELD_RANGES, Context, SeccompData
from ._validation import check_choice, check_int_range
from .programs import NASTY_U32

#: lengths around the offsets real filters load from (Ethernet, IPv4, IPv6, ports)
INTERESTING_LENGTHS = (0, 1, 2, 3, 4, 5, 11, 12, 13, 14, 15, 16, 17, 19, 20, 21, 22, 23, 24, 25, 26,
                       27, 33, 34, 35, 36, 37, 38, 39, 53, 54, 55, 56, 57, 60, 64, 65, 128)


@st.composite
def packets(draw, min_size: int = 0, max_size: int = 128, structured: bool = True) -> bytes:
    """Packets: random bytes of lengths around every common load offset,
    and (``structured``) real frames from :mod:`bpfcheck.frames`, whole or
    truncated."""
    check_int_range("min_size", min_size, 0, 65535)
    check_int_range("max_size", max_size, min_size, 65535)
    choices = [_raw(min_size, max_size)]
    if structured:
        choices.append(_frame(min_size, max_size))
    return draw(st.one_of(choices))


def _raw(min_size, max_size):
    lengths = [n for n in INTERESTING_LENGTHS if min_size <= n <= max_size]
    size = st.one_of(st.sampled_from(lengths), st.integers(min_size, max_size)) if lengths else \
        st.integers(min_size, max_size)
    return size.flatmap(lambda n: st.one_of(
        st.binary(min_size=n, max_size=n),
        st.sampled_from((b"\0", b"\xff", b"\x08", b"\x45")).map(lambda b: b * n)))


def _frame(min_size, max_size):
    def pick(index_and_cut):
        from ..frames import sample_frames
        frames = sample_frames(seed=0, count=300)
        index, cut = index_and_cut
        frame = frames[index % len(frames)]
        frame = frame[:cut] if cut is not None else frame
        if len(frame) < min_size:
            frame = frame + bytes(min_size - len(frame))
        return frame[:max_size]
    return st.tuples(st.integers(0, 299), st.one_of(st.none(), st.integers(0, 80))).map(pick)


@st.composite
def contexts(draw, device: bool | None = None) -> Context:
    """Socket metadata within the kernel's ranges; ``device`` forces a
    device to be present (True), absent (False) or either (None)."""
    if device not in (None, True, False):
        from hypothesis.errors import InvalidArgument
        raise InvalidArgument(f"device={device!r} must be True, False or None")
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


@st.composite
def seccomp_data(draw, arch: int | None = None) -> SeccompData:
    """``struct seccomp_data``: small syscall numbers, x32 bits, nasty args."""
    if arch is not None:
        check_int_range("arch", arch, 0, isa.U32)
    nr = draw(st.one_of(st.integers(0, 450), st.integers(0x40000000, 0x400001FF),
                        st.sampled_from((0xFFFFFFFF, 0x7FFFFFFF, 0x80000000)), st.integers(0, isa.U32)))
    chosen_arch = arch if arch is not None else draw(st.one_of(st.sampled_from(COMMON_ARCHES),
                                                               st.integers(0, isa.U32)))
    u64 = st.one_of(st.sampled_from((0, 1, 0xFFFFFFFF, 0x100000000, 0xFFFFFFFFFFFFFFFF,
                                     0x7FFFFFFF, 0x80000000, 0xFFFFFFFF80000000)),
                    st.integers(0, (1 << 64) - 1))
    args = tuple(draw(st.lists(u64, min_size=6, max_size=6)))
    ip = draw(st.one_of(st.just(0), u64))
    return SeccompData(nr, chosen_arch, ip, args)
