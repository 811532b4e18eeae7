"""The ``tcpdump -d`` listing: libpcap's ``bpf_image`` text, one line per instruction.

    (000) ldh      [12]
    (001) jeq      #0x800           jt 2	jf 5

:func:`image` reproduces libpcap 1.10.3's ``bpf_image`` byte for byte for
every 16-bit opcode (the tests compare it with the real function through
ctypes).  Its quirks, all kept:

* immediates of ``ld``/``ldx``/``and``/``or``/``xor`` and of jumps print as
  ``#0x%x``; those of ``ret`` and the other ALU operations, and every offset,
  as a *signed* ``%d`` (``ret #-1``, ``M[-16]``, ``[x + -16]``);
* absolute loads of a known ``SKF_AD_*`` offset print its libpcap name
  (``ldb [vlanp]``) whatever the size bits;
* ``ja`` prints its absolute target ``pc+1+k`` as a signed number, which can
  point backwards (libpcap's ``ip6 protochain`` code does);
* conditional jumps print absolute targets, ``jt N<TAB>jf M``;
* an opcode libpcap does not know prints ``unimp 0xCODE`` -- and still gets
  ``jt``/``jf`` when its class is JMP and its operation is not JA;
* ``ret a``, ``neg``, ``tax`` and ``txa`` keep the padding of an empty operand.

The listing does not show fields an instruction ignores (``k`` on ``tax``,
``ret a``, ``ld #pktlen``, X-operand forms and ``unimp``; ``jt``/``jf`` on
everything but conditional jumps): :func:`write` refuses such instructions
with a FormatError unless ``canonical=True``, which writes them with those
fields cleared.

:func:`parse` reads everything ``bpf_image`` prints, with any spacing,
numbers in decimal or hex and negative where C's ``%d`` makes them so.
The ``(NNN)`` numbers must count 0, 1, 2, ... in order.
"""

from __future__ import annotations

import re

from .. import isa
from ..errors import FormatError, ParseError
from ..program import Instruction, Program
from ._text import as_u32, check_range, quote, show_number, to_int

NAME = "tcpdump"

# Operand styles: how bpf_image prints the operand of an opcode it knows.
_HEX = "hex"          # #0x%x of k
_DEC = "dec"          # #%d of k (signed)
_MEM = "mem"          # M[%d]
_ABS = "abs"          # [%d], or [name] for a known extension offset
_IND = "ind"          # [x + %d]
_MSH = "msh"          # 4*([%d]&0xf)
_JA = "ja"            # %d of the absolute target pc+1+k
_PKTLEN = "pktlen"    # #pktlen (k ignored)
_X = "x"              # x (k ignored)
_NONE = "none"        # nothing (k ignored)

#: styles whose text carries k
_SHOWS_K = frozenset({_HEX, _DEC, _MEM, _ABS, _IND, _MSH, _JA})


def _build_listing() -> dict[int, tuple[str, str]]:
    """Every opcode libpcap 1.10.3's bpf_image knows: code -> (mnemonic, style)."""
    table = {
        isa.LD | isa.IMM: ("ld", _HEX),
        isa.LDX | isa.IMM: ("ldx", _HEX),
        isa.ST: ("st", _MEM),
        isa.STX: ("stx", _MEM),
        isa.LD | isa.MEM: ("ld", _MEM),
        isa.LDX | isa.MEM: ("ldx", _MEM),
        isa.LD | isa.W | isa.ABS: ("ld", _ABS),
        isa.LD | isa.H | isa.ABS: ("ldh", _ABS),
        isa.LD | isa.B | isa.ABS: ("ldb", _ABS),
        isa.LD | isa.W | isa.IND: ("ld", _IND),
        isa.LD | isa.H | isa.IND: ("ldh", _IND),
        isa.LD | isa.B | isa.IND: ("ldb", _IND),
        isa.LD | isa.W | isa.LEN: ("ld", _PKTLEN),
        isa.LDX | isa.MSH | isa.B: ("ldxb", _MSH),
        isa.JMP | isa.JA: ("ja", _JA),
        isa.RET | isa.RET_K: ("ret", _DEC),
        isa.RET | isa.RET_A: ("ret", _NONE),
        isa.ALU | isa.NEG: ("neg", _NONE),
        isa.MISC | isa.TAX: ("tax", _NONE),
        isa.MISC | isa.TXA: ("txa", _NONE),
    }
    for op, name in isa.JMP_NAMES.items():
        if op != isa.JA:
            table[isa.JMP | op | isa.K] = (name, _HEX)
            table[isa.JMP | op | isa.X] = (name, _X)
    for op, name in isa.ALU_NAMES.items():
        if op != isa.NEG:
            # bpf_image's choice: bit operations in hex, arithmetic signed.
            style = _HEX if op in (isa.AND, isa.OR, isa.XOR) else _DEC
            table[isa.ALU | op | isa.K] = (name, style)
            table[isa.ALU | op | isa.X] = (name, _X)
    return table


_LISTING = _build_listing()
#: the opcodes bpf_image has a mnemonic for (the rest print as ``unimp``)
OPCODES = frozenset(_LISTING)

#: mnemonic -> [(code, style)], for reading a line back
_BY_MNEMONIC: dict[str, list[tuple[int, str]]] = {}
for _code, (_name, _style) in sorted(_LISTING.items()):
    _BY_MNEMONIC.setdefault(_name, []).append((_code, _style))

#: libpcap's names for extension offsets, plus bpf_asm's where they differ
_EXT_NAMES = {pcap: n for n, (pcap, _) in isa.EXTENSIONS.items()}
_EXT_NAMES.update({asm: n for n, (_, asm) in isa.EXTENSIONS.items() if asm})
_EXT_NAMES["vlan_pr"] = isa.SKF_AD_VLAN_TAG_PRESENT


def shows_jumps(code: int) -> bool:
    """Whether bpf_image prints ``jt``/``jf`` for this opcode (known or not)."""
    return isa.bpf_class(code) == isa.JMP and isa.bpf_op(code) != isa.JA


def shows_k(code: int) -> bool:
    """Whether the listing carries ``k`` for this opcode."""
    entry = _LISTING.get(code)
    return entry is not None and entry[1] in _SHOWS_K


# --- writing -------------------------------------------------------------

def _operand(insn: Instruction, pc: int) -> tuple[str, str]:
    code, _, _, k = insn
    entry = _LISTING.get(code)
    if entry is None:
        return "unimp", f"0x{code:x}"
    name, style = entry
    sk = isa.signed32(k)
    if style == _HEX:
        text = f"#0x{k:x}"
    elif style == _DEC:
        text = f"#{sk}"
    elif style == _MEM:
        text = f"M[{sk}]"
    elif style == _ABS:
        ext = isa.extension_of(k)
        text = f"[{isa.EXTENSIONS[ext][0]}]" if ext is not None else f"[{sk}]"
    elif style == _IND:
        text = f"[x + {sk}]"
    elif style == _MSH:
        text = f"4*([{sk}]&0xf)"
    elif style == _JA:
        text = str(isa.signed32(pc + 1 + k))
    elif style == _PKTLEN:
        text = "#pktlen"
    elif style == _X:
        text = "x"
    else:
        text = ""
    return name, text


def image(insn: Instruction, pc: int) -> str:
    """One listing line, exactly as libpcap 1.10.3's ``bpf_image(insn, pc)``."""
    name, operand = _operand(insn, pc)
    if shows_jumps(insn[0]):
        return (f"({pc:03d}) {name:<8} {operand:<16} "
                f"jt {pc + 1 + insn[1]}\tjf {pc + 1 + insn[2]}")
    return f"({pc:03d}) {name:<8} {operand}"


def _lost_fields(insn: Instruction) -> list[str]:
    code, jt, jf, k = insn
    lost = []
    if k and not shows_k(code):
        lost.append(f"k={k:#x}")
    if (jt or jf) and not shows_jumps(code):
        lost.append(f"jt={jt} jf={jf}")
    return lost


def write(program: Program, canonical: bool = False) -> str:
    """The listing ``tcpdump -d`` prints: one line per instruction, each ending in a newline."""
    lines = []
    for pc, insn in enumerate(program):
        lost = _lost_fields(insn)
        if lost:
            if not canonical:
                name, _ = _operand(insn, pc)
                raise FormatError(
                    f"the tcpdump listing cannot show {' '.join(lost)} on "
                    f"'{name}' (opcode {insn[0]:#04x}); canonical=True drops it",
                    pc=pc, fmt=NAME)
            code, jt, jf, k = insn
            insn = Instruction(code,
                               jt if shows_jumps(code) else 0,
                               jf if shows_jumps(code) else 0,
                               k if shows_k(code) else 0)
        lines.append(image(insn, pc) + "\n")
    return "".join(lines)


# --- reading -------------------------------------------------------------

_NUMBER = r"[-+]?(?:0[xX][0-9a-fA-F]+|[0-9]+)"
_OPERAND_PATTERNS = {
    _HEX: re.compile(rf"#({_NUMBER})"),
    _DEC: re.compile(rf"#({_NUMBER})"),
    _MEM: re.compile(rf"M\[({_NUMBER})\]", re.I),
    _ABS: re.compile(rf"\[({_NUMBER}|[a-z_]+)\]", re.I),
    _IND: re.compile(rf"\[x\+({_NUMBER})\]", re.I),
    _MSH: re.compile(rf"4\*\(\[({_NUMBER})\]&0xf\)", re.I),
    _JA: re.compile(rf"({_NUMBER})"),
    _PKTLEN: re.compile(r"#pktlen", re.I),
    _X: re.compile(r"x", re.I),
    _NONE: re.compile(r""),
}
_STYLE_HINT = {
    _HEX: "#0xK", _DEC: "#K", _MEM: "M[K]", _ABS: "[K] or [extension]",
    _IND: "[x + K]", _MSH: "4*([K]&0xf)", _JA: "a target number",
    _PKTLEN: "#pktlen", _X: "x", _NONE: "nothing",
}
_NUMBER_ONLY = re.compile(_NUMBER)
_LINE_NUMBER = re.compile(r"\s*\(\s*([0-9]+)\s*\)")
_MNEMONIC = re.compile(r"\s*([A-Za-z]+)(?=\s|$)")


def _number(text: str) -> int:
    """A decimal or 0x-hex literal (leading zeros mean decimal, not octal)."""
    return to_int(text, 16 if "0x" in text.lower() else 10)


def _decode_operand(name: str, operand: str, shown: str, line: int) -> tuple[int, int]:
    """(code, k) for a mnemonic and its whitespace-free operand (``shown`` as written)."""
    if name == "unimp":
        if not _NUMBER_ONLY.fullmatch(operand):
            raise ParseError(f"expected an opcode such as 0x8 after 'unimp', "
                             f"found {quote(shown)}", line=line, fmt=NAME)
        return check_range(_number(operand), 0xFFFF, "opcode", line, NAME), 0
    candidates = _BY_MNEMONIC.get(name)
    if candidates is None:
        raise ParseError(f"expected a bpf_image mnemonic (ld, ldh, jeq, ret, ...), "
                         f"found {quote(name)}", line=line, fmt=NAME)
    for code, style in candidates:
        m = _OPERAND_PATTERNS[style].fullmatch(operand)
        if m is None:
            continue
        if style == _ABS and not _NUMBER_ONLY.fullmatch(m.group(1)):
            ext = _EXT_NAMES.get(m.group(1).lower())
            if ext is None:
                raise ParseError(f"expected an extension name such as [proto], "
                                 f"found {quote(m.group(0))}", line=line, fmt=NAME)
            return code, isa.SKF_AD_OFF + ext
        if m.groups():
            return code, as_u32(_number(m.group(1)), "operand", line, NAME)
        return code, 0
    forms = " or ".join(_STYLE_HINT[style] for _, style in candidates)
    raise ParseError(f"expected {forms} after '{name}', found {quote(shown)}",
                     line=line, fmt=NAME)


def _jump_offset(target: str, pc: int, which: str, line: int) -> int:
    if not re.fullmatch(r"[-+]?[0-9]+", target):
        raise ParseError(f"expected a target instruction number after '{which}', "
                         f"found {quote(target)}", line=line, fmt=NAME)
    absolute = to_int(target)
    skip = absolute - pc - 1
    if not 0 <= skip <= 255:
        raise ParseError(f"{which} target {show_number(absolute)} from instruction {pc} "
                         f"is a skip of {show_number(skip)}; jt/jf hold 0..255",
                         line=line, fmt=NAME)
    return skip


def _parse_line(text: str, pc: int, line: int) -> Instruction:
    m = _LINE_NUMBER.match(text)
    if m is None:
        raise ParseError(f"expected '({pc:03d})' at the start of the line, "
                         f"found {quote(text)}", line=line, fmt=NAME)
    if to_int(m.group(1)) != pc:
        raise ParseError(f"expected instruction number ({pc:03d}), "
                         f"found {quote(m.group(0))}", line=line, fmt=NAME)
    rest = text[m.end():]
    mn = _MNEMONIC.match(rest)
    if mn is None:
        raise ParseError(f"expected a mnemonic after '({pc:03d})', found {quote(rest)}",
                         line=line, fmt=NAME)
    name = mn.group(1).lower()
    words = rest[mn.end():].split()
    jumps = None
    if len(words) >= 4 and words[-4].lower() == "jt" and words[-2].lower() == "jf":
        jumps, words = words[-4:], words[:-4]
    elif any(w.lower() in ("jt", "jf") for w in words):
        raise ParseError(f"expected 'jt N jf M' at the end of the line, found "
                         f"{quote(' '.join(words))}", line=line, fmt=NAME)
    # Spaces inside an operand carry nothing ('[x + 4]' is '[x+4]').
    code, k = _decode_operand(name, "".join(words), " ".join(words), line)
    if shows_jumps(code):
        if jumps is None:
            raise ParseError(f"expected 'jt N jf M' after the operand of '{name}', "
                             f"found {quote(rest[mn.end():])}", line=line, fmt=NAME)
        jt = _jump_offset(jumps[1], pc, "jt", line)
        jf = _jump_offset(jumps[3], pc, "jf", line)
        return Instruction(code, jt, jf, k)
    if jumps is not None:
        raise ParseError(f"expected no 'jt/jf' after '{name}' (opcode {code:#04x}), "
                         f"found {quote(' '.join(jumps))}", line=line, fmt=NAME)
    if name == "ja":
        # The listing shows the absolute target; k is the skip, modulo 2**32.
        k = (isa.signed32(k) - pc - 1) & isa.U32
    return Instruction(code, 0, 0, k)


def parse(text: str) -> Program:
    """Read a ``tcpdump -d`` listing; blank lines are skipped."""
    insns = []
    # Split on newlines only, so that line numbers agree with every editor.
    for line, raw in enumerate(text.split("\n"), start=1):
        if raw.strip():
            insns.append(_parse_line(raw, len(insns), line))
    return Program(insns)
