"""Shared pieces of the text-format tests: strategies, oracles and golden data.

Named ``fmt_support`` (not ``conftest``/``helpers``) so that it cannot
collide with another test directory's module of the same name.
"""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import sys
from pathlib import Path

from hypothesis import strategies as st

from bpfcheck import isa
from bpfcheck.formats import asm as asm_format
from bpfcheck.formats import tcpdump as tcpdump_format
from bpfcheck.program import Instruction, Program

TESTS = Path(__file__).resolve().parent.parent
GOLDEN = TESTS / "golden"
TCPDUMP_GOLDEN = GOLDEN / "tcpdump"
ASM_GOLDEN = GOLDEN / "asm"

# --- strategies ----------------------------------------------------------

#: u32 values that break careless code: signs, widths, extension offsets
NASTY_K = [0, 1, 2, 15, 16, 31, 32, 255, 256, 0xFFFF, 0x10000, 0x7FFFFFFF,
           0x80000000, 0xFFFFFFFE, 0xFFFFFFFF, isa.SKF_AD_OFF - 1, isa.SKF_NET_OFF,
           isa.SKF_LL_OFF] + [isa.SKF_AD_OFF + n for n in range(0, 68, 4)]

#: every opcode that some tool has a name for
KNOWN_CODES = sorted(tcpdump_format.OPCODES | asm_format.OPCODES)

codes = st.one_of(st.sampled_from(KNOWN_CODES), st.integers(0, 0xFFFF),
                  st.integers(0, 0xFF))
ks = st.one_of(st.sampled_from(NASTY_K), st.integers(0, 0xFFFFFFFF), st.integers(0, 64))
skips = st.one_of(st.integers(0, 3), st.integers(0, 255))


@st.composite
def instructions(draw, code=codes):
    """Any ``struct sock_filter``: all 16-bit codes, all jt/jf/k."""
    return Instruction(draw(code), draw(skips), draw(skips), draw(ks))


def programs(max_size: int = 12):
    """Programs of arbitrary instructions (jump targets may leave the program)."""
    return st.lists(instructions(), max_size=max_size).map(Program)


@st.composite
def canonical_programs(draw, max_size: int = 12):
    """Programs bpf_asm can write exactly: known opcodes, ignored fields zero,
    every jump landing on an instruction (``ja`` possibly backward)."""
    n = draw(st.integers(1, max_size))
    insns = []
    for pc in range(n):
        code = draw(st.sampled_from(sorted(asm_format.OPCODES)))
        room = n - pc - 2          # the largest skip that stays inside
        if code == isa.JMP | isa.JA:
            target = draw(st.integers(0, n - 1))
            insns.append(Instruction(code, 0, 0, (target - pc - 1) & isa.U32))
            continue
        k = draw(ks) if asm_format.uses_k(code) else 0
        if asm_format.is_conditional(code):
            if room < 0:
                code = isa.RET | isa.RET_K
            else:
                limit = min(room, 255)
                insns.append(Instruction(code, draw(st.integers(0, limit)),
                                         draw(st.integers(0, limit)), k))
                continue
        insns.append(Instruction(code, 0, 0, k))
    return Program(insns)


# --- libpcap's bpf_image through ctypes ------------------------------------

class _BpfInsn(ctypes.Structure):
    _fields_ = [("code", ctypes.c_ushort), ("jt", ctypes.c_ubyte),
                ("jf", ctypes.c_ubyte), ("k", ctypes.c_uint)]


def load_bpf_image():
    """``bpf_image(insn, pc) -> str`` from libpcap 1.10, or a reason it is unusable."""
    for name in ("libpcap.so.0.8", "libpcap.so.1", "libpcap.so"):
        try:
            lib = ctypes.CDLL(name)
            break
        except OSError:
            continue
    else:
        return None, "libpcap is not installed (libpcap0.8)"
    lib.pcap_lib_version.restype = ctypes.c_char_p
    version = lib.pcap_lib_version().decode()
    if "version 1.10." not in version:
        return None, f"golden bpf_image output is from libpcap 1.10.3, this is {version}"
    lib.bpf_image.restype = ctypes.c_char_p
    lib.bpf_image.argtypes = [ctypes.POINTER(_BpfInsn), ctypes.c_int]

    def bpf_image(insn, pc: int) -> str:
        raw = _BpfInsn(*insn)
        return lib.bpf_image(ctypes.byref(raw), pc).decode("latin-1")

    return bpf_image, version


# --- golden data ---------------------------------------------------------

def tcpdump_goldens() -> list[tuple[str, str]]:
    """(id, expression) of every golden tcpdump listing."""
    out = []
    for line in (TCPDUMP_GOLDEN / "index.tsv").read_text().splitlines():
        if line and not line.startswith("#"):
            ident, expr = line.split("\t", 1)
            out.append((ident, expr))
    return out


def golden_text(ident: str, suffix: str) -> str:
    """A golden file, byte for byte (newlines untranslated)."""
    with open(TCPDUMP_GOLDEN / f"{ident}.{suffix}", newline="") as f:
        return f.read()


def asm_cases() -> list[dict]:
    return json.loads((ASM_GOLDEN / "cases.json").read_text())


def find_bpf_asm() -> str | None:
    """A real bpf_asm binary, from ``$BPF_ASM``, the PATH, or the one
    ``make test`` builds next to the virtualenv's python
    (tools/build_bpf_asm.py)."""
    built = os.path.join(sys.prefix, "bin", "bpf_asm")
    path = os.environ.get("BPF_ASM") or shutil.which("bpf_asm") or built
    return path if path and os.access(path, os.X_OK) else None


def first_difference(ours: Program, theirs: Program) -> str:
    """Where two programs part, for failure messages that name the instruction."""
    for pc, (a, b) in enumerate(zip(ours, theirs)):
        if a != b:
            return f"instruction {pc}: ours {a!r}, theirs {b!r}"
    return f"lengths differ: ours {len(ours)}, theirs {len(theirs)}"
