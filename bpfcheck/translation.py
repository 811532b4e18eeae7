"""How many eBPF instructions the kernel emits for each cBPF instruction.

``bpf_convert_filter`` (net/core/filter.c) rewrites a socket or seccomp
filter into eBPF before running it, and fails with EINVAL when a jump's
eBPF offset no longer fits in 16 bits.  Only the sizes matter for that
check, so this module counts; it does not translate.  Counts are for
x86-64 (efficient unaligned access, little-endian bitfields).
"""

from __future__ import annotations

from typing import List, Sequence

from . import isa
from .isa import ABS, B, IND, JA, JMP, LD, LDX, MSH, RET, RET_K

_S16_MAX = 32767

#: eBPF instructions emitted for each extension load (convert_bpf_extensions)
_EXTENSION_SIZES = {
    isa.SKF_AD_PROTOCOL: 2,           # load + byte swap
    isa.SKF_AD_PKTTYPE: 2,            # load byte + mask
    isa.SKF_AD_IFINDEX: 4,            # load dev, test, exit, load field
    isa.SKF_AD_HATYPE: 4,
    isa.SKF_AD_MARK: 1,
    isa.SKF_AD_RXHASH: 1,
    isa.SKF_AD_QUEUE: 1,
    isa.SKF_AD_VLAN_TAG: 1,
    isa.SKF_AD_VLAN_TAG_PRESENT: 3,   # load vlan_all, test, set 1 (kernels >= 6.1)
    isa.SKF_AD_VLAN_TPID: 2,
    isa.SKF_AD_PAY_OFFSET: 4,         # three argument moves + call
    isa.SKF_AD_NLATTR: 4,
    isa.SKF_AD_NLATTR_NEST: 4,
    isa.SKF_AD_CPU: 4,
    isa.SKF_AD_RANDOM: 4,
    isa.SKF_AD_ALU_XOR_X: 1,
}


def _packet_load_size(code: int, k: int) -> int:
    """convert_bpf_ld_abs: an optional inline fast path, then the helper call."""
    indirect = code & 0xE0 == IND
    size = 3 + 1 + 1 + 3          # arg moves, arg4, call, sign test + clear + exit
    if indirect and k:
        size += 1                 # arg4 += k
    if not indirect and isa.signed32(k) >= 0:
        size += 1 + (1 if k else 0) + 1   # tmp = headlen, tmp -= k, bounds test
        size += 1 if k <= 0x7FFF else 3    # direct load (or pointer arithmetic)
        size += 1 if code & 0x18 != B else 0   # byte swap
        size += 1                 # jump over the slow path
    return size


def ebpf_size(insn: Sequence[int]) -> int:
    code, jt, jf, k = insn
    cls = code & 0x07
    if cls == LD and code & 0xE0 == ABS:
        ext = isa.extension_of(k)
        if ext is not None:
            return _EXTENSION_SIZES[ext]
        return _packet_load_size(code, k)
    if cls == LD and code & 0xE0 == IND:
        return _packet_load_size(code, k)
    if code == LDX | B | MSH:
        return 1 + _packet_load_size(LD | B | ABS, k) + 5
    if cls == isa.ALU and code & 0xF0 in (isa.DIV, isa.MOD) and code & isa.X:
        return 5                  # zero-extend X, test, clear A, exit, op
    if cls == JMP and code & 0xF0 != JA:
        size = 1 if code & isa.X == 0 and k & 0x80000000 else 0   # move a "negative" imm
        if jf == 0:
            return size + 1
        if jt == 0 and code & 0xF0 in (isa.JEQ, isa.JGT, isa.JGE):
            return size + 1       # inverted condition
        return size + 2           # jump + ja
    if code == RET | RET_K:
        return 2
    return 1


def ebpf_positions(program: Sequence) -> List[int]:
    """Start of each instruction in the eBPF translation, plus the end."""
    positions = [0]
    for insn in program:
        positions.append(positions[-1] + ebpf_size(insn))
    return positions
