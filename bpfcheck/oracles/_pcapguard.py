"""Making libpcap 1.10.3's ``bpf_filter`` safe to call on any program.

What the installed interpreter does with programs its ``bpf_validate`` would
not stop (all *measured* with ctypes in forked children):

* it handles exactly the 49 opcodes in :data:`HANDLED_OPCODES`; any other
  ``code`` (also any with bits above 0xff) reaches ``abort()`` — SIGABRT;
* ``div #0`` / ``mod #0`` divide by zero — SIGFPE (``bpf_validate`` refuses
  these; ``div x``/``mod x`` with X = 0 return 0);
* ``ld``/``ldx M[k]``, ``st``/``stx M[k]`` with k >= 16 are not checked:
  they read or write outside the 16-cell stack array (garbage, or SIGSEGV);
* ``ja`` adds ``(int32)k``: a target outside the program reads or runs
  whatever lies there; ``ja -1`` (0xffffffff) jumps to itself forever and
  passes ``bpf_validate``; other backward jumps may or may not terminate
  (``ip6 protochain`` uses them, and does);
* a conditional jump past the end, or a last instruction that is not a
  ``ret``, runs off the end of the array;
* M[] is **not** zeroed: an unwritten M[k] holds whatever the stack held
  (a previous call's values, measured).

So each prepared program is laid out for a guarded run:

* a prefix of sixteen ``stx M[i]`` (X is still 0) zeroes M[] when the
  program reads it, giving the deterministic answer later libpcap releases
  (and golang/net) give;
* every instruction that would crash or jump outside the program is
  replaced by a *sentinel* ``ret``, and 256 sentinel ``ret``\\ s follow the
  program, so running off the end returns one too;
* it is run twice with two different sentinel sets only when the first run
  returned a sentinel value: the runs are identical up to the first sentinel
  reached, so a real verdict comes out the same both times and a sentinel
  comes out as its own slot, naming the pc and the reason.

Programs with a backward ``ja`` that may loop are run in a forked child with
a timeout by the caller; everything else is a direct call.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import List, Optional, Tuple

from .. import isa
from ..errors import ExecutionError, UsageError
from ..program import Program

#: opcodes libpcap 1.10.3's bpf_filter switch handles (measured: every other
#: value of the 16-bit code aborts).
HANDLED_OPCODES = frozenset({
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x0C, 0x14, 0x15, 0x16,
    0x1C, 0x1D, 0x20, 0x24, 0x25, 0x28, 0x2C, 0x2D, 0x30, 0x34, 0x35, 0x3C,
    0x3D, 0x40, 0x44, 0x45, 0x48, 0x4C, 0x4D, 0x50, 0x54, 0x5C, 0x60, 0x61,
    0x64, 0x6C, 0x74, 0x7C, 0x80, 0x81, 0x84, 0x87, 0x94, 0x9C, 0xA4, 0xAC,
    0xB1,
})
_MEM_OPS = {0x60: "ld M[k]", 0x61: "ldx M[k]", 0x02: "st M[k]", 0x03: "stx M[k]"}
_CONST_DIV = {0x34: "div", 0x94: "mod"}
JA = 0x05
RET_K = 0x06
PAD = 256                     # a conditional jump reaches at most pc + 256
_INSN = struct.Struct("<HBBI")
_T1 = 0xB0F10000              # sentinel bases; the slot number is added
_T2 = 0xB0E20000
MAX_SLOTS = 0x10000


@dataclass(frozen=True)
class Hazard:
    """What running into instruction ``pc`` does in libpcap 1.10.3
    (``pc`` None: past the end of the program)."""

    pc: Optional[int]
    reason: str


def static_hazards(program: Program) -> List[Hazard]:
    """Instructions that crash, corrupt memory or jump outside the program
    when reached (whether they are reached depends on the packet)."""
    out = []
    n = len(program)
    for pc, (code, _jt, _jf, k) in enumerate(program):
        if code not in HANDLED_OPCODES:
            out.append(Hazard(pc, f"opcode {code:#04x} makes libpcap 1.10.3 abort()"))
        elif code in _CONST_DIV and k == 0:
            out.append(Hazard(pc, f"{_CONST_DIV[code]} #0 kills libpcap 1.10.3 with SIGFPE"))
        elif code in _MEM_OPS and k >= isa.MEMWORDS:
            out.append(Hazard(pc, f"{_MEM_OPS[code].replace('k', str(k))} is outside the 16 "
                                  "scratch cells; libpcap 1.10.3 does not check it"))
        elif code == JA:
            target = pc + 1 + isa.signed32(k)
            if target == pc:
                out.append(Hazard(pc, "libpcap loops forever: ja -1 jumps to itself"))
            elif target < 0 or target >= n + PAD:
                out.append(Hazard(pc, f"ja jumps outside the program (to {target}); "
                                      "libpcap 1.10.3 does not check it"))
    return out


def backward_jumps(program: Program) -> List[int]:
    """pcs of ``ja`` with a negative offset that lands inside the program
    other than on itself: these may loop forever."""
    return [pc for pc, (code, _, _, k) in enumerate(program)
            if code == JA and 0 <= pc + 1 + isa.signed32(k) < pc]


def reads_scratch(program: Program) -> bool:
    return any(code in (0x60, 0x61) for code, _, _, _ in program)


class GuardedProgram:
    """A program laid out once for guarded libpcap runs (see the module doc).

    ``body1``/``body2`` are the two sentinel variants as raw ``bpf_insn``
    arrays; ``length`` their instruction count; ``may_loop`` whether a run
    must be bounded by a timeout in a child.
    """

    def __init__(self, program: Program):
        program = Program(program)
        self.program = program
        hazards = {h.pc: h for h in static_hazards(program)}
        n = len(program)
        self.prefix = isa.MEMWORDS if reads_scratch(program) else 0
        self.may_loop = bool(backward_jumps(program))
        # The two variants differ only in the sentinel values.
        self.slots: List[Hazard] = []
        body1 = [_INSN.pack(0x03, 0, 0, i) for i in range(self.prefix)]   # stx M[i]
        body2 = list(body1)
        for pc, insn in enumerate(program):
            if pc in hazards:
                self._sentinel(hazards[pc], body1, body2)
            else:
                body1.append(_INSN.pack(*insn))
                body2.append(body1[-1])
        for j in range(PAD):
            self._sentinel(Hazard(None, f"runs past the end of the program (to instruction "
                                        f"{n + j}); libpcap 1.10.3 reads beyond its array"),
                           body1, body2)
        self.body1 = b"".join(body1)
        self.body2 = b"".join(body2)
        self.length = len(body1)
        self._hi1 = _T1 + len(self.slots)

    def _sentinel(self, hazard: Hazard, body1: list, body2: list) -> None:
        slot = len(self.slots)
        if slot >= MAX_SLOTS:
            raise UsageError(f"the program has more than {MAX_SLOTS - PAD} instructions libpcap "
                             "would crash on; it cannot be run")
        self.slots.append(hazard)
        body1.append(_INSN.pack(RET_K, 0, 0, _T1 + slot))
        body2.append(_INSN.pack(RET_K, 0, 0, _T2 + slot))

    # --- running ------------------------------------------------------------
    def run_raw(self, call, packet: bytes, wirelen: int) -> Tuple[int, int]:
        """``(verdict, -1)``, or ``(0, slot)`` when the run reaches hazard
        ``slot``.  ``call(insns, packet, wirelen, buflen)`` is libpcap's
        ``bpf_filter``."""
        verdict = call(self.body1, packet, wirelen, len(packet))
        if _T1 <= verdict < self._hi1:
            slot = verdict - _T1
            if call(self.body2, packet, wirelen, len(packet)) == _T2 + slot:
                return 0, slot
        return verdict, -1

    def error(self, slot: int) -> ExecutionError:
        hazard = self.slots[slot]
        return ExecutionError(hazard.reason, pc=hazard.pc)
