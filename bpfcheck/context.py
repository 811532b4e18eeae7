"""The inputs a program sees besides the packet bytes.

:class:`Context` is the socket buffer's metadata read by ``SKF_AD_*``
loads; :class:`SeccompData` is the ``struct seccomp_data`` a seccomp filter
reads.  Both are plain immutable values: the VM reads them, the symbolic
executor replaces each field with a free variable of the same range, and a
witness fills them back in.
"""

from __future__ import annotations

import dataclasses
import struct
from dataclasses import dataclass, field
from typing import Optional, Tuple

from .isa import U32

#: ranges the kernel itself guarantees for each field (inclusive), used to
#: validate a Context and to bound the free variables of a proof.
FIELD_RANGES = {
    "protocol": (0, 0xFFFF),
    "pkttype": (0, 7),
    "ifindex": (0, 0x7FFFFFFF),       # a real device's index is positive (proofs assume it)
    "mark": (0, U32),
    "queue_mapping": (0, 0xFFFF),
    "hatype": (0, 0xFFFF),
    "rxhash": (0, U32),
    "cpu": (0, 0xFFFF),               # nr_cpu_ids is far below this
    "vlan_tci": (0, 0xFFFF),
    "vlan_present": (0, 1),
    "vlan_tpid": (0, 0xFFFF),
    "random": (0, U32),
    "payload_offset": (0, 0xFFFF),
}


#: an AF_UNIX datagram larger than this (SKB_MAX_ALLOC with 4 KiB pages,
#: measured) is split into pages: its socket buffer is not linear
AF_UNIX_LINEAR_MAX = 16064


@dataclass(frozen=True)
class Context:
    """Socket-buffer metadata.  ``Context()`` is an ``AF_UNIX`` datagram:
    no device (``SKF_AD_IFINDEX``/``SKF_AD_HATYPE`` loads end the program
    returning A), no link-layer header, network header at offset 0, every
    other field 0.

    ``len`` is the wire length ``ld #len`` returns (``None``: the packet's
    length).  ``link_header``/``network_header`` are byte offsets into the
    packet of the headers ``SKF_LL_OFF``/``SKF_NET_OFF`` loads are relative
    to (``None`` link header: such loads fail).  ``payload_offset`` is what
    the kernel's flow dissector reports for ``SKF_AD_PAY_OFFSET``.
    """

    len: Optional[int] = None
    protocol: int = 0
    pkttype: int = 0
    ifindex: int = 0
    mark: int = 0
    queue_mapping: int = 0
    hatype: int = 0
    rxhash: int = 0
    cpu: int = 0
    vlan_tci: int = 0
    vlan_present: int = 0
    vlan_tpid: int = 0
    random: int = 0
    payload_offset: int = 0
    has_device: bool = False
    link_header: Optional[int] = None
    network_header: int = 0
    linear: Optional[bool] = None

    def __post_init__(self):
        for name, (lo, hi) in FIELD_RANGES.items():
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
                raise ValueError(f"Context {name}={value!r} is outside {lo}..{hi:#x}")
        if self.len is not None and not (isinstance(self.len, int) and 0 <= self.len <= U32):
            raise ValueError(f"Context len={self.len!r} is not a u32")
        for name in ("link_header", "network_header"):
            value = getattr(self, name)
            if value is not None and not (isinstance(value, int) and 0 <= value <= 0xFFFF):
                raise ValueError(f"Context {name}={value!r} is not an offset 0..0xffff")

    def is_linear(self, packet_len: int) -> bool:
        if self.linear is None:
            return packet_len <= AF_UNIX_LINEAR_MAX
        return self.linear

    def replace(self, **changes) -> "Context":
        return dataclasses.replace(self, **changes)

    def non_default(self) -> dict:
        """The fields that differ from ``Context()``: what a witness must say."""
        default = Context()
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)
                if getattr(self, f.name) != getattr(default, f.name)}


_SECCOMP_LAYOUT = struct.Struct("<iIQ6Q")


@dataclass(frozen=True)
class SeccompData:
    """``struct seccomp_data``: what a seccomp filter reads.

    ``nr`` and ``arch`` are u32 (a negative ``nr`` is taken as its two's
    complement, as the kernel's ``int nr`` is); ``instruction_pointer`` and
    the six ``args`` are u64, missing args are 0.
    """

    nr: int
    arch: int
    instruction_pointer: int = 0
    args: Tuple[int, ...] = field(default=())

    def __post_init__(self):
        nr = self.nr
        if not isinstance(nr, int) or not -(1 << 31) <= nr <= U32:
            raise ValueError(f"SeccompData nr={nr!r} is not a 32-bit value")
        object.__setattr__(self, "nr", nr & U32)
        if not isinstance(self.arch, int) or not 0 <= self.arch <= U32:
            raise ValueError(f"SeccompData arch={self.arch!r} is not a u32")
        ip = self.instruction_pointer
        if not isinstance(ip, int) or not 0 <= ip < 1 << 64:
            raise ValueError(f"SeccompData instruction_pointer={ip!r} is not a u64")
        args = tuple(self.args)
        if len(args) > 6:
            raise ValueError(f"SeccompData takes at most 6 args, got {len(args)}")
        for i, a in enumerate(args):
            if not isinstance(a, int) or not -(1 << 63) <= a < 1 << 64:
                raise ValueError(f"SeccompData args[{i}]={a!r} is not a 64-bit value")
        object.__setattr__(self, "args", tuple(a & ((1 << 64) - 1) for a in args) + (0,) * (6 - len(args)))

    def to_bytes(self) -> bytes:
        """The kernel's 64-byte layout on a little-endian host."""
        nr = self.nr - (1 << 32) if self.nr & 0x80000000 else self.nr
        return _SECCOMP_LAYOUT.pack(nr, self.arch, self.instruction_pointer, *self.args)

    @classmethod
    def from_bytes(cls, data: bytes) -> "SeccompData":
        if len(data) != 64:
            raise ValueError(f"struct seccomp_data is 64 bytes, got {len(data)}")
        nr, arch, ip, *args = _SECCOMP_LAYOUT.unpack(data)
        return cls(nr, arch, ip, tuple(args))

    def word(self, offset: int) -> int:
        """The host-endian 32-bit word at byte ``offset`` (a multiple of 4)."""
        return int.from_bytes(self.to_bytes()[offset:offset + 4], "little")

    def to_socket_packet(self) -> bytes:
        """The same words stored big-endian, so that a socket filter's
        ``ld [k]`` reads what a seccomp filter's ``ld [k]`` reads."""
        raw = self.to_bytes()
        return b"".join(raw[i:i + 4][::-1] for i in range(0, 64, 4))
