"""The Linux kernel's ``bpf_asm`` language (``tools/bpf/bpf_exp.y``).

    ldh [12]
    jneq #0x800, drop
    ret #-1
    drop: ret #0

What each mnemonic assembles to (checked against a real bpf_asm built from
the 6.1 kernel sources; the pairs are in ``tests/golden/asm``)::

    ld #k  ldi #k  ldi k      0x00        ldx #k  ldxi #k  ldxi k   0x01
    ld #len  ld len           0x80        ldx #len  ldx len         0x81
    ld [k] / ldh [k] / ldb [k]            0x20 / 0x28 / 0x30
    ld #proto  ldh #proto  ldb #proto     0x20 / 0x28 / 0x30, k = SKF_AD_OFF + n
    ld [x + k]  ld [%x + k]  (ldh, ldb)   0x40 / 0x48 / 0x50
    ld M[k]  ldx M[k]  st M[k]  stx M[k]  0x60  0x61  0x02  0x03
    ldxb 4*([k]&0xf)  ldx 4*([k]&0xf)     0xb1 (only 4 and 0xf are allowed)
    add sub mul div mod and or xor lsh rsh  #k -> ALU|op|K,  x or %x -> ALU|op|X
    neg 0x84   tax 0x07   txa 0x87   ret #k 0x06   ret a 0x16   ret x 0x0e
    ja L  jmp L               0x05, k = target - pc - 1 (may go backward)
    jeq/jgt/jge/jset #k|x, Lt         jt = Lt, jf = 0 (the next instruction)
    jeq/jgt/jge/jset #k|x, Lt, Lf     jt = Lt, jf = Lf
    jneq/jne #k|x, Lf                 jeq  with jt = 0, jf = Lf
    jlt #k|x, Lf                      jge  with jt = 0, jf = Lf
    jle #k|x, Lf                      jgt  with jt = 0, jf = Lf

Extension names: proto type poff ifidx nla nlan mark queue hatype rxhash cpu
vlan_tci vlan_avail (alias vlan_pr) vlan_tpid rand, with or without ``#``;
``SKF_AD_ALU_XOR_X`` has no name (write ``ld [0xfffff028]``).  Extensions
exist only as ``ld/ldh/ldb #name``; ``ld [proto]`` is a syntax error.

Reading follows bpf_asm's grammar and lexer exactly (see ``_asm_lexer``
for the lexical surprises), except that it is more lenient in four ways --
``[x+5]`` and ``[x -5]`` are read (bpf_asm's lexer makes ``+5`` one number
and then fails), several labels may stand before one instruction, carriage
returns are whitespace, and empty text is the empty program -- and stricter
in two: numbers must fit in 32 bits (decimal ones may be negative down to
-2**31) where bpf_asm silently truncates, and a duplicate label is an error
where bpf_asm takes the first.  As in bpf_asm, an unknown label is an
error, a conditional jump must land 1 to 256 instructions further on (skip
0..255), and ``ja`` may go anywhere in the program, backward included
(bpf_asm stores the negative skip; the kernel rejects it, libpcap runs
it).  The 4096-instruction limit is left to the validator.

Writing produces text that real bpf_asm assembles back to the same
instructions: one instruction per line after a tab, ``l<pc>:`` before each
jump target; immediates of ``ld``/``ldx``/jumps/``and``/``or``/``xor`` in
hex, of ``ret`` and the other ALU operations in unsigned decimal, offsets
and cells in decimal below 0x10000 and in hex above; a jump with jf = 0 in
the two-operand form, one with jt = 0 as ``jneq``/``jle``/``jlt`` (``jset``
has no inverse: three operands).  It refuses
(FormatError), whatever ``canonical`` says, opcodes bpf_asm has no
mnemonic for and jumps whose target is not an instruction of the program;
it refuses fields the instruction ignores (``k`` on ``tax``, ``ret a``,
``ld #len``, ``neg`` and X-operand forms; ``jt``/``jf`` on anything but a
conditional jump, ``ja`` included) unless ``canonical=True``, which drops
them.
"""

from __future__ import annotations

from .. import isa
from ..errors import FormatError
from ..program import Instruction, Program
from . import _asm_parser

NAME = "asm"

# --- what bpf_asm can say ------------------------------------------------

_LOAD_NAMES = {isa.W: "ld", isa.H: "ldh", isa.B: "ldb"}
_ALU_OPS = {name: op for op, name in isa.ALU_NAMES.items() if op != isa.NEG}
_COND_OPS = {name: op for op, name in isa.JMP_NAMES.items() if op != isa.JA}
_EXT_NAMES = {n: name for n, (_, name) in isa.EXTENSIONS.items() if name}

#: every opcode bpf_asm can emit -> whether it uses k (jumps handled apart)
_K_USED: dict[int, bool] = {
    isa.LD | isa.IMM: True, isa.LDX | isa.IMM: True,
    isa.LD | isa.W | isa.LEN: False, isa.LDX | isa.W | isa.LEN: False,
    isa.LD | isa.MEM: True, isa.LDX | isa.MEM: True,
    isa.ST: True, isa.STX: True, isa.LDX | isa.MSH | isa.B: True,
    isa.ALU | isa.NEG: False, isa.MISC | isa.TAX: False, isa.MISC | isa.TXA: False,
    isa.RET | isa.RET_K: True, isa.RET | isa.RET_A: False, isa.RET | isa.RET_X: False,
    isa.JMP | isa.JA: True,
}
for _size in _LOAD_NAMES:
    _K_USED[isa.LD | _size | isa.ABS] = True
    _K_USED[isa.LD | _size | isa.IND] = True
for _op in _ALU_OPS.values():
    _K_USED[isa.ALU | _op | isa.K] = True
    _K_USED[isa.ALU | _op | isa.X] = False
for _op in _COND_OPS.values():
    _K_USED[isa.JMP | _op | isa.K] = True
    _K_USED[isa.JMP | _op | isa.X] = False


#: the opcodes bpf_asm has a mnemonic for
OPCODES = frozenset(_K_USED)


def is_conditional(code: int) -> bool:
    """A jeq/jgt/jge/jset opcode bpf_asm knows (the ones that use jt and jf)."""
    return code in _K_USED and isa.bpf_class(code) == isa.JMP and isa.bpf_op(code) != isa.JA


def uses_k(code: int) -> bool:
    """Whether a known opcode reads ``k`` (``ja`` does: it is the skip)."""
    return _K_USED.get(code, False)


def _offset(k: int) -> str:
    """Offsets and cell numbers: decimal while small, hex when they look like addresses."""
    return str(k) if k < 0x10000 else f"0x{k:x}"


def _spell(code: int, k: int) -> str:
    """The mnemonic and operand of a known non-jump opcode, or of a jump's comparison."""
    cls, mode, size = isa.bpf_class(code), isa.bpf_mode(code), isa.bpf_size(code)
    if cls == isa.LD:
        if mode == isa.IMM:
            return f"ld #0x{k:x}"
        if mode == isa.LEN:
            return "ld #len"
        if mode == isa.MEM:
            return f"ld M[{_offset(k)}]"
        name = _LOAD_NAMES[size]
        if mode == isa.IND:
            return f"{name} [x + {_offset(k)}]"
        ext = isa.extension_of(k)
        if ext is not None and ext in _EXT_NAMES:
            return f"{name} #{_EXT_NAMES[ext]}"
        return f"{name} [{_offset(k)}]"
    if cls == isa.LDX:
        if mode == isa.IMM:
            return f"ldx #0x{k:x}"
        if mode == isa.LEN:
            return "ldx #len"
        if mode == isa.MEM:
            return f"ldx M[{_offset(k)}]"
        return f"ldxb 4*([{_offset(k)}]&0xf)"
    if cls in (isa.ST, isa.STX):
        return f"{isa.CLASS_NAMES[cls]} M[{_offset(k)}]"
    if cls == isa.ALU:
        name = isa.ALU_NAMES[isa.bpf_op(code)]
        if name == "neg":
            return "neg"
        if isa.bpf_src(code) == isa.X:
            return f"{name} x"
        return f"{name} #0x{k:x}" if name in ("and", "or", "xor") else f"{name} #{k}"
    if cls == isa.JMP:
        name = isa.JMP_NAMES[isa.bpf_op(code)]
        return f"{name} x" if isa.bpf_src(code) == isa.X else f"{name} #0x{k:x}"
    if cls == isa.RET:
        return {isa.RET_K: f"ret #{k}", isa.RET_A: "ret a", isa.RET_X: "ret x"}[isa.bpf_rval(code)]
    return "tax" if code == isa.MISC | isa.TAX else "txa"


def _ignored(insn: Instruction) -> list[str]:
    """The non-zero fields of a known opcode that the machine ignores."""
    code, jt, jf, k = insn
    out = []
    if (jt or jf) and not is_conditional(code):
        out.append(f"jt={jt} jf={jf}")
    if k and not _K_USED[code]:
        out.append(f"k={k:#x}")
    return out


def describe(insn: Instruction) -> str:
    """One instruction in bpf_asm syntax, jumps as relative skips; never raises.

    ``jeq #0x800, +0, +3`` skips 0 or 3 instructions; ``ja +2``; ignored
    non-zero fields follow a ``;``; opcodes bpf_asm does not know come out
    as ``unknown opcode 0x08 (jt 0, jf 0, k 0x0)``.
    """
    try:
        return _describe(Instruction(*insn))
    except Exception:  # noqa: BLE001 -- describe() is used in error messages
        return f"not an instruction: {insn!r}"


def _describe(insn: Instruction) -> str:
    code, jt, jf, k = insn
    if code not in _K_USED:
        return f"unknown opcode {code:#04x} (jt {jt}, jf {jf}, k {k:#x})"
    if code == isa.JMP | isa.JA:
        skip = isa.signed32(k)
        text = f"ja {skip:+d}"
    elif is_conditional(code):
        text = f"{_spell(code, k)}, +{jt}, +{jf}"
    else:
        text = _spell(code, k)
    ignored = _ignored(insn)
    return f"{text} ; ignored {' '.join(ignored)}" if ignored else text


# --- writing -------------------------------------------------------------

def _check(insn: Instruction, pc: int, length: int, canonical: bool) -> Instruction:
    """The instruction as bpf_asm will write it, or a FormatError."""
    code, jt, jf, k = insn
    if code not in _K_USED:
        raise FormatError(f"opcode {code:#04x} has no bpf_asm mnemonic; the c, ddd and "
                          f"xt_bpf formats carry it", pc=pc, fmt=NAME)
    ignored = _ignored(insn)
    if ignored:
        if not canonical:
            raise FormatError(f"bpf_asm cannot write {' '.join(ignored)} on "
                              f"'{_spell(code, k)}' (ignored by the machine); "
                              f"canonical=True drops it", pc=pc, fmt=NAME)
        insn = Instruction(code,
                           jt if is_conditional(code) else 0,
                           jf if is_conditional(code) else 0,
                           k if _K_USED[code] else 0)
    for which, target in _targets(insn, pc):
        if target >= length:
            raise FormatError(f"{which} of '{describe(insn)}' lands on instruction "
                              f"{target}, outside the {length}-instruction program; "
                              f"bpf_asm labels must name an instruction", pc=pc, fmt=NAME)
    return insn


def _targets(insn: Instruction, pc: int) -> list[tuple[str, int]]:
    code, jt, jf, k = insn
    if code == isa.JMP | isa.JA:
        return [("the target", (pc + 1 + k) & isa.U32)]
    if is_conditional(code):
        return [("jt", pc + 1 + jt), ("jf", pc + 1 + jf)]
    return []


def _jump_text(insn: Instruction, pc: int) -> tuple[str, list[int]]:
    """A jump's text and the targets it names (labels are only made for those)."""
    code, jt, jf, k = insn
    if code == isa.JMP | isa.JA:
        target = (pc + 1 + k) & isa.U32
        return f"ja l{target}", [target]
    head = _spell(code, k)
    if jf == 0:
        targets = [pc + 1 + jt]
    elif jt == 0 and isa.bpf_op(code) != isa.JSET:
        # The one-target spellings read better: 'jneq #0x800, drop'.
        name = isa.JMP_NAMES[isa.bpf_op(code)]
        inverse = {"jeq": "jneq", "jgt": "jle", "jge": "jlt"}[name]
        head = inverse + head[len(name):]
        targets = [pc + 1 + jf]
    else:
        targets = [pc + 1 + jt, pc + 1 + jf]
    return head + "".join(f", l{t}" for t in targets), targets


def write(program: Program, canonical: bool = False) -> str:
    """bpf_asm source that assembles to exactly ``program`` (or its canonical form)."""
    insns = [_check(insn, pc, len(program), canonical) for pc, insn in enumerate(program)]
    texts = [_jump_text(insn, pc) if _targets(insn, pc) else (_spell(insn[0], insn[3]), [])
             for pc, insn in enumerate(insns)]
    labelled = {t for _, targets in texts for t in targets}
    return "".join(f"{f'l{pc}:' if pc in labelled else ''}\t{text}\n"
                   for pc, (text, _) in enumerate(texts))


# --- reading -------------------------------------------------------------

def parse(text: str) -> Program:
    """Assemble bpf_asm source into a Program (see the module docstring)."""
    return _asm_parser.parse(text)


__all__ = ["parse", "write", "describe", "is_conditional", "uses_k", "OPCODES"]
