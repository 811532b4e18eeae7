"""The grammar of ``bpf_asm`` (``tools/bpf/bpf_exp.y``): tokens in, a Program out.

A recursive-descent reading of the yacc grammar, rule for rule; the few
places where it is deliberately more lenient or stricter than bpf_asm are
listed in :mod:`.asm`.  Labels are resolved after the whole text is read,
as bpf_asm's second stage does.
"""

from __future__ import annotations

from .. import isa
from ..errors import ParseError
from ..program import Instruction, Program
from ._asm_lexer import Token, tokenize
from ._text import LineIndex, as_u32, quote, rest_of_line

NAME = "asm"

_SIZE_OF = {"ld": isa.W, "ldh": isa.H, "ldb": isa.B}
_ALU_OPS = {name: op for op, name in isa.ALU_NAMES.items() if op != isa.NEG}
_COND_OPS = {name: op for op, name in isa.JMP_NAMES.items() if op != isa.JA}
#: the one-target mnemonics and the operation they assemble to; their label sets jf
_INVERTED = {"jneq": isa.JEQ, "jne": isa.JEQ, "jlt": isa.JGE, "jle": isa.JGT}


class _Parser:
    """Recursive descent over bpf_asm's grammar, one method per shape."""

    def __init__(self, text: str):
        self.text = text
        self.tokens = tokenize(text)
        self.lines = LineIndex(text)
        self.i = 0
        self.insns: list[list[int]] = []
        #: (instruction index, field, label token)
        self.refs: list[tuple[int, str, Token]] = []
        self.labels: dict[str, tuple[int, Token]] = {}

    # cursor ---------------------------------------------------------------
    def peek(self, ahead: int = 0) -> Token:
        return self.tokens[min(self.i + ahead, len(self.tokens) - 1)]

    def line(self, tok: Token) -> int:
        return self.lines(tok.pos)

    def fail(self, expected: str) -> ParseError:
        tok = self.peek()
        if tok.kind == "eof":
            # Blame the line of the last token read, not the empty line after it.
            last = self.tokens[self.i - 1] if self.i else tok
            return ParseError(f"expected {expected}, found end of text",
                              line=self.line(last), fmt=NAME)
        return ParseError(f"expected {expected}, found {quote(rest_of_line(self.text, tok.pos))}",
                          line=self.line(tok), fmt=NAME)

    def take(self, kind: str, expected: str) -> Token:
        tok = self.peek()
        if tok.kind != kind:
            raise self.fail(expected)
        self.i += 1
        return tok

    def accept(self, kind: str) -> bool:
        if self.peek().kind == kind:
            self.i += 1
            return True
        return False

    def number(self, expected: str) -> int:
        tok = self.take("num", expected)
        return as_u32(tok.value, "number", self.line(tok), NAME)

    def emit(self, code: int, k: int = 0) -> None:
        self.insns.append([code, 0, 0, k])

    # operands -------------------------------------------------------------
    def index_operand(self, what: str) -> int:
        """``M[k]`` after the 'M'."""
        self.take("[", f"'[' after 'M' in {what}")
        k = self.number(f"a cell number in {what} M[k]")
        self.take("]", f"']' to close M[k] in {what}")
        return k

    def bracket_load(self, name: str) -> tuple[int, int]:
        """``[k]``, ``[x + k]`` or ``[%x + k]`` after the '[': (mode, k)."""
        has_x = self.peek().kind == "x" or (self.peek().kind == "%" and self.peek(1).kind == "x")
        if not has_x:
            k = self.number(f"an offset or 'x + k' after '{name} ['")
            self.take("]", f"']' after '{name} [k'")
            return isa.ABS, k
        self.i += 2 if self.peek().kind == "%" else 1
        if not self.accept("+"):
            tok = self.peek()
            # Lenient: '[x+5]' (one signed number to bpf_asm's lexer).
            if not (tok.kind == "num" and tok.text[0] in "+-"):
                raise self.fail(f"'+' after '{name} [x'")
        k = self.number(f"an offset after '{name} [x +'")
        self.take("]", f"']' after '{name} [x + k'")
        return isa.IND, k

    def msh_operand(self, name: str) -> int:
        """``4*([k]&0xf)``: the only form bpf_asm's ldxb supports."""
        tok = self.peek()
        four = self.number(f"'4*([k]&0xf)' after '{name}'")
        self.take("*", f"'*' in '{name} 4*([k]&0xf)'")
        self.take("(", f"'(' in '{name} 4*([k]&0xf)'")
        self.take("[", f"'[' in '{name} 4*([k]&0xf)'")
        k = self.number(f"an offset in '{name} 4*([k]&0xf)'")
        self.take("]", f"']' in '{name} 4*([k]&0xf)'")
        self.take("&", f"'&' in '{name} 4*([k]&0xf)'")
        mask = self.number(f"'0xf' in '{name} 4*([k]&0xf)'")
        self.take(")", f"')' to close '{name} 4*([k]&0xf)'")
        if four != 4 or mask != 0xF:
            raise ParseError(f"expected '4*([k]&0xf)' (bpf_asm supports no other factor "
                             f"or mask), found {quote(rest_of_line(self.text, tok.pos))}",
                             line=self.line(tok), fmt=NAME)
        return k

    def k_or_x(self, name: str) -> tuple[int, int]:
        """``#k``, ``x`` or ``%x``: (source bit, k)."""
        if self.accept("#"):
            return isa.K, self.number(f"a number after '{name} #'")
        if self.accept("%"):
            self.take("x", f"'x' after '{name} %'")
            return isa.X, 0
        if self.accept("x"):
            return isa.X, 0
        raise self.fail(f"'#k', 'x' or '%x' after '{name}'")

    def label_ref(self, field: str, name: str) -> None:
        tok = self.peek()
        if tok.kind != "label":
            hint = " (bpf_asm jumps name labels, not offsets)" if tok.kind == "num" else ""
            raise self.fail(f"a label as the target of '{name}'{hint}")
        self.i += 1
        self.refs.append((len(self.insns), field, tok))

    # instructions ---------------------------------------------------------
    def load(self, name: str) -> None:
        size = _SIZE_OF[name]
        tok = self.peek()
        if tok.kind == "ext":
            self.i += 1
            return self.emit(isa.LD | size | isa.ABS, isa.SKF_AD_OFF + tok.value)
        if tok.kind == "[":
            self.i += 1
            mode, k = self.bracket_load(name)
            return self.emit(isa.LD | size | mode, k)
        if name == "ld":
            if self.accept("#"):
                return self.emit(isa.LD | isa.IMM, self.number("a number after 'ld #'"))
            if self.accept("len"):
                return self.emit(isa.LD | isa.W | isa.LEN)
            if self.accept("M"):
                return self.emit(isa.LD | isa.MEM, self.index_operand("ld"))
            raise self.fail("'#k', '#len', an extension, 'M[k]', '[k]' or '[x + k]' after 'ld'")
        raise self.fail(f"'[k]', '[x + k]' or an extension such as #proto after '{name}'")

    def load_x(self, name: str) -> None:
        if name == "ldxb":
            return self.emit(isa.LDX | isa.MSH | isa.B, self.msh_operand(name))
        if name == "ldxi":
            self.accept("#")          # 'ldxi #k' and 'ldxi k' both exist
            return self.emit(isa.LDX | isa.IMM, self.number("a number after 'ldxi'"))
        if self.accept("#"):
            return self.emit(isa.LDX | isa.IMM, self.number("a number after 'ldx #'"))
        if self.accept("len"):
            return self.emit(isa.LDX | isa.W | isa.LEN)
        if self.accept("M"):
            return self.emit(isa.LDX | isa.MEM, self.index_operand(name))
        if self.peek().kind == "num":
            return self.emit(isa.LDX | isa.MSH | isa.B, self.msh_operand(name))
        raise self.fail("'#k', '#len', 'M[k]' or '4*([k]&0xf)' after 'ldx'")

    def instruction(self, name: str) -> None:
        if name in _SIZE_OF:
            return self.load(name)
        if name == "ldi":
            self.accept("#")
            return self.emit(isa.LD | isa.IMM, self.number("a number after 'ldi'"))
        if name in ("ldx", "ldxi", "ldxb"):
            return self.load_x(name)
        if name in ("st", "stx"):
            self.take("M", f"'M[k]' after '{name}'")
            return self.emit(isa.ST if name == "st" else isa.STX, self.index_operand(name))
        if name in _ALU_OPS:
            src, k = self.k_or_x(name)
            return self.emit(isa.ALU | _ALU_OPS[name] | src, k)
        if name in ("neg", "tax", "txa"):
            return self.emit({"neg": isa.ALU | isa.NEG, "tax": isa.MISC | isa.TAX,
                              "txa": isa.MISC | isa.TXA}[name])
        if name == "ret":
            return self.ret()
        if name in ("ja", "jmp"):
            self.label_ref("k", name)
            return self.emit(isa.JMP | isa.JA)
        return self.conditional(name)

    def ret(self) -> None:
        if self.accept("#"):
            return self.emit(isa.RET | isa.RET_K, self.number("a number after 'ret #'"))
        self.accept("%")
        if self.accept("a"):
            return self.emit(isa.RET | isa.RET_A)
        if self.accept("x"):
            return self.emit(isa.RET | isa.RET_X)
        raise self.fail("'#k', 'a' or 'x' after 'ret'")

    def conditional(self, name: str) -> None:
        inverted = name in _INVERTED
        op = _INVERTED[name] if inverted else _COND_OPS[name]
        src, k = self.k_or_x(name)
        self.take(",", f"',' and a label after the operand of '{name}'")
        if inverted:
            self.label_ref("jf", name)
            if self.peek().kind == ",":
                raise self.fail(f"one target after '{name}' (bpf_asm has no "
                                f"three-operand '{name}')")
        else:
            self.label_ref("jt", name)
            if self.accept(","):
                self.label_ref("jf", name)
        self.emit(isa.JMP | op | src, k)

    # the whole text ---------------------------------------------------------
    def program(self) -> Program:
        pending: list[Token] = []
        while self.peek().kind != "eof":
            tok = self.peek()
            if tok.kind == "label" and self.peek(1).kind == ":":
                self.define(tok)
                pending.append(tok)
                self.i += 2
                continue
            if tok.kind != "op":
                after_target = self.i > 0 and self.tokens[self.i - 1].kind == "label"
                if after_target and tok.kind == "label":
                    raise self.fail("',' before another jump target, or a new instruction")
                raise self.fail("a mnemonic (ld, jeq, ret, ...) or 'label:'")
            self.i += 1
            self.instruction(tok.value)
            pending = []
        if pending:
            raise self.fail(f"an instruction after the label '{pending[-1].value}:'")
        return Program(self.resolve())

    def define(self, tok: Token) -> None:
        if tok.value in self.labels:
            first = self.labels[tok.value][1]
            raise ParseError(f"expected a new label name, found '{tok.value}:' already "
                             f"defined on line {self.line(first)}",
                             line=self.line(tok), fmt=NAME)
        self.labels[tok.value] = (len(self.insns), tok)

    def resolve(self) -> list[Instruction]:
        for index, field, tok in self.refs:
            if tok.value not in self.labels:
                raise ParseError(f"expected a defined label, found '{tok.value}'",
                                 line=self.line(tok), fmt=NAME)
            target = self.labels[tok.value][0]
            skip = target - index - 1
            if field == "k":
                # bpf_asm stores any distance, backward ones as negative skips.
                self.insns[index][3] = skip & isa.U32
                continue
            if not 0 <= skip <= 255:
                raise ParseError(
                    f"expected a label 1 to 256 instructions further on (jt/jf only "
                    f"skip forward, 0..255), found '{tok.value}' at instruction {target}, "
                    f"a skip of {skip} from instruction {index}", line=self.line(tok), fmt=NAME)
            self.insns[index][1 if field == "jt" else 2] = skip
        return [Instruction(*fields) for fields in self.insns]


def parse(text: str) -> Program:
    """Assemble bpf_asm source into a Program."""
    return _Parser(text).program()
