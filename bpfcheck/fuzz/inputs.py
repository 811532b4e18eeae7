"""Many inputs per program, cheaply, from the few the strategies drew.

Drawing a scapy frame costs milliseconds and a kernel comparison
microseconds, so each case's drawn packets (and a shared pool: the frame
corpus of :mod:`bpfcheck.frames` plus every packet drawn so far) are
varied with a seeded :class:`random.Random` into a few hundred inputs aimed
at the program:

* cut or padded to each of its load boundaries (``ldh [12]``: 13 and 14 bytes);
* the constants its jumps compare with written where its loads read
  (``ldh [12]; jeq #0x86dd`` meets a packet with 0x86dd at 12);
* random bytes flipped, random lengths.

Seccomp inputs get the program's constants in nr, arch and the argument
words.  The same case seed gives the same inputs.
"""

from __future__ import annotations

import random
from typing import List, Sequence, Tuple

from .. import isa
from ..context import SeccompData
from ..program import Program
from ..strategies import load_boundaries

POOL_LIMIT = 4096
#: wire lengths beyond the captured bytes, for libpcap (captures cut short)
WIRE_EXTRA = (1, 14, 100, 1000, 65535)


class PacketPool:
    """Packets shared across cases: the frame corpus, then drawn ones."""

    def __init__(self):
        from ..frames import sample_frames
        # always the same corpus: built once per process (scapy is slow), cached
        self.frames: List[bytes] = list(sample_frames(0, 300))
        self._drawn: List[bytes] = []

    def add(self, packets: Sequence[bytes]) -> None:
        for p in packets:
            if len(self._drawn) < POOL_LIMIT:
                self._drawn.append(p)
            else:
                self._drawn[hash(p) % POOL_LIMIT] = p

    def pick(self, rnd: random.Random) -> bytes:
        if self._drawn and rnd.random() < 0.5:
            return rnd.choice(self._drawn)
        return rnd.choice(self.frames)


def program_facts(program: Program) -> Tuple[Tuple[int, ...], List[Tuple[int, int]], List[int]]:
    """(load boundaries, (offset, size) of absolute packet loads, jump constants)."""
    fields = []
    constants = {0, 1, 0xFF, 0xFFFF, 0xFFFFFFFF}
    for code, _, _, k in program:
        cls, mode = code & 0x07, code & 0xE0
        if cls == isa.LD and mode == isa.ABS and k < 0x10000:
            fields.append((k, isa.SIZE_BYTES.get(code & 0x18, 4)))
        elif cls == isa.LD and mode == isa.ABS and isa.SKF_NET_OFF <= k < isa.SKF_NET_OFF + 0x10000:
            fields.append((k - isa.SKF_NET_OFF, isa.SIZE_BYTES.get(code & 0x18, 4)))
        elif cls == isa.JMP and code & 0xF0 != isa.JA and not code & isa.X:
            constants.add(k)
    return load_boundaries(program), fields, sorted(constants)


def vary_packets(program: Program, drawn: Sequence[bytes], pool: PacketPool, rnd: random.Random,
                 n: int, max_size: int = 9100) -> List[bytes]:
    """``n`` distinct packets: the drawn ones, then variations."""
    boundaries, fields, constants = program_facts(program)
    boundaries = [b for b in boundaries if b <= max_size]
    out = list(dict.fromkeys(drawn))
    seen = set(out)
    random_ = rnd.random
    attempts = 0
    while len(out) < n and attempts < 4 * n:
        attempts += 1
        base = rnd.choice(drawn) if drawn and random_() < 0.4 else pool.pick(rnd)
        packet = bytearray(base[:max_size])
        _mutate(packet, rnd, boundaries, fields, constants)
        if random_() < 0.3:
            _mutate(packet, rnd, boundaries, fields, constants)
        packet = bytes(packet)
        if packet not in seen:
            seen.add(packet)
            out.append(packet)
    return out


def _mutate(packet: bytearray, rnd: random.Random, boundaries, fields, constants) -> None:
    choice = rnd.random()
    if choice < 0.35 and boundaries:
        n = boundaries[int(rnd.random() * len(boundaries))]
        if n <= len(packet):
            del packet[n:]
        else:
            packet.extend(b"\xff" * (n - len(packet)) if choice < 0.1 else bytes(n - len(packet)))
    elif choice < 0.7 and fields:
        offset, size = fields[int(rnd.random() * len(fields))]
        value = constants[int(rnd.random() * len(constants))]
        if choice < 0.4:
            value += 1 if choice < 0.375 else -1
        raw = (value & ((1 << (8 * size)) - 1)).to_bytes(size, "big")
        if offset + size > len(packet):
            packet.extend(bytes(offset + size - len(packet)))
        packet[offset:offset + size] = raw
    elif choice < 0.85 and packet:
        packet[int(rnd.random() * len(packet))] = rnd.getrandbits(8)
    else:
        n = int(rnd.random() * (len(packet) + 8))
        if n <= len(packet):
            del packet[n:]
        else:
            packet.extend(rnd.randbytes(n - len(packet)))


def wire_lengths(packets: Sequence[bytes], rnd: random.Random) -> List[int]:
    """libpcap's wire length per packet: mostly the packet's own, a
    quarter of them longer (a capture cut short at its snapshot length)."""
    return [len(p) + (rnd.choice(WIRE_EXTRA) if rnd.random() < 0.25 else 0) for p in packets]


def vary_syscalls(program: Program, drawn: Sequence[SeccompData], rnd: random.Random,
                  n: int) -> List[SeccompData]:
    """``n`` seccomp inputs: the drawn ones, then copies with the
    program's constants in nr, arch, instruction_pointer and arguments."""
    _, _, constants = program_facts(program)
    words = sorted({k for code, _, _, k in program if code == isa.LD | isa.W | isa.ABS and k < 64})
    # Varied as raw bytes (a SeccompData is built only for the distinct
    # ones: building and hashing one per attempt cost more than the rest)
    bases = [d.to_bytes() for d in drawn] or [bytes(64)]
    seen = set()
    out_raw = []
    for raw in bases:
        if raw not in seen:
            seen.add(raw)
            out_raw.append(raw)
    attempts = 0
    choice, random_, getrandbits, randrange = rnd.choice, rnd.random, rnd.getrandbits, rnd.randrange
    while len(out_raw) < n and attempts < 4 * n:
        attempts += 1
        raw = bytearray(choice(bases))
        for _ in range(rnd.randint(1, 3)):
            offset = choice(words) if words and random_() < 0.8 else randrange(0, 64, 4)
            value = choice(constants) if random_() < 0.8 else getrandbits(32)
            raw[offset:offset + 4] = (value & isa.U32).to_bytes(4, "little")
        data = bytes(raw)
        if data not in seen:
            seen.add(data)
            out_raw.append(data)
    return [SeccompData.from_bytes(raw) for raw in out_raw]


# --- mutants: damaged copies of a program, for the validators -----------------------
_JUMPS = (0x15, 0x25, 0x35, 0x45, 0x1D, 0x2D, 0x3D, 0x4D)
_NASTY = (0, 1, 15, 16, 31, 32, 33, 63, 64, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF)


def mutant(program: Program, rnd: random.Random) -> Program:
    """Any damage at all: flipped opcode bits, any opcode, broken jumps,
    no final ret, scratch reads, shifts and divisors, extension offsets."""
    insns = [list(i) for i in program]
    n = len(insns)
    pc = rnd.randrange(n)
    kind = rnd.randrange(10)
    if kind == 0:
        insns[pc][0] ^= 1 << rnd.randrange(8)
    elif kind == 1:
        insns[pc][0] = rnd.randrange(0x100)
    elif kind == 2:
        insns[pc] = [rnd.choice(_JUMPS), rnd.choice((0, n - pc - 2, n - pc - 1, rnd.randrange(256))),
                     rnd.choice((0, n - pc - 2, n - pc - 1, rnd.randrange(256))), rnd.choice(_NASTY)]
    elif kind == 3:
        insns[pc] = [0x05, 0, 0, rnd.choice((n - pc - 2, n - pc - 1, 0xFFFFFFFF, rnd.getrandbits(32)))]
    elif kind == 4:
        insns[-1] = [rnd.choice((0x0E, 0x00, 0x04, 0x87, 0x26, 0x1E)), 0, 0, rnd.choice(_NASTY)]
    elif kind == 5:
        insns[pc] = [rnd.choice((0x60, 0x61, 0x02, 0x03)), 0, 0, rnd.choice((0, 3, 15, 16, 0xFFFFFFFF))]
    elif kind == 6:
        insns[pc] = [rnd.choice((0x64, 0x74, 0x34, 0x94, 0x3C, 0x9C)), 0, 0, rnd.choice(_NASTY)]
    elif kind == 7:
        insns[pc] = [rnd.choice((0x20, 0x28, 0x30, 0x40, 0xB1)), 0, 0,
                     isa.SKF_AD_OFF + rnd.choice(tuple(range(0, 68, 4)) + (1, 2, 0xFFF))]
    elif kind == 8:
        insns[pc] = [rnd.choice((0x8C, 0x08, 0x0E, 0x8D, 0x0F, 0x97)), 0, 0, 0]
    else:
        insns.insert(pc, [rnd.choice((0x00, 0x60, 0x07, 0x05, 0x15)), rnd.randrange(3), rnd.randrange(3),
                          rnd.choice(_NASTY)])
    return Program([(c & 0xFFFF, jt & 0xFF, jf & 0xFF, k & isa.U32) for c, jt, jf, k in insns])
