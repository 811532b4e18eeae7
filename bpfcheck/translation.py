"""Where the kernel's cBPF→eBPF translation puts each instruction.

``bpf_convert_filter`` (net/core/filter.c) rewrites a socket or seccomp
filter into eBPF before running it.  Two of its jump checks can fail with
EINVAL on programs the classic checker accepted, so the validator needs
the translation's *layout* — how many eBPF instructions each cBPF
instruction becomes — but not the translation itself:

* its first pass computes every forward jump against a target address that
  is still 0, so a jump emitted beyond eBPF position 32767 is rejected;
* its second pass rejects a jump whose real eBPF offset exceeds 32767.

Sizes were read from the source and measured on kernel 6.18 (x86-64:
efficient unaligned access, little-endian bitfields) by binary-searching
the EINVAL boundary (tests/conformance/test_conformance_translation.py).
"""

from __future__ import annotations

from typing import List, Sequence, Tuple

from . import isa
from .isa import ABS, B, IND, JA, JMP, LD, LDX, LEN, MSH, RET, RET_K, W

S16_MAX = 32767

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
    isa.SKF_AD_VLAN_TAG_PRESENT: 3,   # load vlan_all, test, set 1 (measured)
    isa.SKF_AD_VLAN_TPID: 2,
    isa.SKF_AD_PAY_OFFSET: 4,         # three argument moves + call
    isa.SKF_AD_NLATTR: 4,
    isa.SKF_AD_NLATTR_NEST: 4,
    isa.SKF_AD_CPU: 4,
    isa.SKF_AD_RANDOM: 4,
    isa.SKF_AD_ALU_XOR_X: 1,
}

#: A and X cleared, the context saved; four more when packet data is read
_PROLOGUE = 3
_PROLOGUE_PACKET = 4


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


def _reads_packet(insn, target: str) -> bool:
    code, _, _, k = insn
    if target == "seccomp":
        return False              # seccomp_check_filter rewrote ld [k] before translation
    if code == LDX | B | MSH:
        return True
    return code & 0x07 == LD and (code & 0xE0 == IND or
                                   (code & 0xE0 == ABS and isa.extension_of(k) is None))


def ebpf_size(insn: Sequence[int], target: str = "socket") -> int:
    code, jt, jf, k = insn
    cls = code & 0x07
    if target == "seccomp" and code in (LD | W | ABS, LD | W | LEN, LDX | W | LEN):
        return 1                  # a context load, or the constant 64
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
        return _jump_prefix(insn) + len(jump_emissions(insn, 0))
    if code == RET | RET_K:
        return 2
    return 1


def _jump_prefix(insn) -> int:
    code, _, _, k = insn
    # A "negative" immediate is first moved into a register (zero-extended).
    return 1 if code & isa.X == 0 and k & 0x80000000 else 0


def jump_emissions(insn: Sequence[int], pc: int) -> List[Tuple[int, int]]:
    """``(index within the expansion, target pc)`` of each eBPF jump a cBPF
    jump becomes (empty for other instructions)."""
    code, jt, jf, k = insn
    if code & 0x07 != JMP:
        return []
    if code & 0xF0 == JA:
        return [(0, pc + 1 + k)]
    first = _jump_prefix(insn)
    if jf == 0:
        return [(first, pc + 1 + jt)]
    if jt == 0 and code & 0xF0 in (isa.JEQ, isa.JGT, isa.JGE):
        return [(first, pc + 1 + jf)]          # the condition inverted
    return [(first, pc + 1 + jt), (first + 1, pc + 1 + jf)]


def ebpf_positions(program: Sequence, target: str = "socket") -> List[int]:
    """eBPF address of each instruction (prologue included), plus the end."""
    prologue = _PROLOGUE
    if any(_reads_packet(insn, target) for insn in program):
        prologue += _PROLOGUE_PACKET
    positions = [prologue]
    for insn in program:
        positions.append(positions[-1] + ebpf_size(insn, target))
    return positions


def first_jump_too_far(program: Sequence, target: str = "socket"):
    """``(pc, reason)`` of the first jump the translation rejects, or None."""
    start = ebpf_positions(program, target)
    if start[-1] <= S16_MAX:
        return None               # nothing can be out of range
    jumps = [(pc, index, target_pc) for pc, insn in enumerate(program)
             for index, target_pc in jump_emissions(insn, pc)]
    for pc, index, _ in jumps:    # the first pass, over the whole program
        where = start[pc] + index
        if where > S16_MAX:
            return pc, (f"the translation places this jump at eBPF instruction {where}, beyond "
                        f"{S16_MAX} (the kernel's first pass measures it from address 0)")
    for pc, index, target_pc in jumps:   # then the pass with real addresses
        span = start[target_pc] - (start[pc] + index) - 1
        if span > S16_MAX:
            return pc, f"this jump spans {span} eBPF instructions after translation (at most {S16_MAX})"
    return None
