"""``tcpdump -dd``: C initialisers, one ``struct sock_filter`` per line.

    { 0x28, 0, 0, 0x0000000c },

The writer prints exactly what ``tcpdump -dd`` (libpcap's ``bpf_dump``)
prints: ``{ 0x%x, %d, %d, 0x%08x },`` and a newline per instruction.

The reader also takes what people paste from C sources: a surrounding
array declaration (``static struct sock_filter code[] = { ... };``),
``/* */`` and ``//`` comments, preprocessor lines, a missing or extra
trailing comma, and any C integer literal (hex, octal, decimal, with
``u``/``l`` suffixes) -- so the output of ``bpf_asm -c`` reads too.  The
symbolic ``BPF_STMT``/``BPF_JUMP`` macros are not understood.
"""

from __future__ import annotations

import re

from ..errors import ParseError
from ..program import Instruction, Program
from ._text import LineIndex, check_range, line_of, quote, rest_of_line, to_int

NAME = "c"


def write(program: Program, canonical: bool = False) -> str:
    """The text ``tcpdump -dd`` prints (every field is carried: ``canonical`` changes nothing)."""
    return "".join(f"{{ 0x{code:x}, {jt}, {jf}, 0x{k:08x} }},\n"
                   for code, jt, jf, k in program)


# --- reading -------------------------------------------------------------

# One token at a time; every alternative starts with a distinct character
# class, so matching never backtracks.
_TOKEN = re.compile(r"""
      (?P<space>\s+)
    | (?P<comment>//[^\n]*)
    | (?P<block>/\*)
    | (?P<number>[0-9][0-9a-zA-Z_]*)
    | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
    | (?P<punct>[{}\[\],;=*()|&+\-<>~!])
    """, re.X)
_C_INTEGER = re.compile(r"(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)([uU]?[lL]{0,2}|[lL]{1,2}[uU])")


class _Token:
    __slots__ = ("kind", "text", "pos")

    def __init__(self, kind: str, text: str, pos: int):
        self.kind, self.text, self.pos = kind, text, pos


def _tokens(text: str) -> list[_Token]:
    tokens = []
    pos = 0
    at_line_start = True
    while pos < len(text):
        if at_line_start and text[pos] == "#":
            # A preprocessor line (#include, #define): not part of the array.
            end = text.find("\n", pos)
            pos = len(text) if end < 0 else end
            continue
        m = _TOKEN.match(text, pos)
        if m is None:
            raise ParseError(f"expected a C initialiser such as '{{ 0x28, 0, 0, 0xc }},', "
                             f"found {quote(rest_of_line(text, pos))}",
                             line=line_of(text, pos), fmt=NAME)
        kind = m.lastgroup
        if kind == "block":
            end = text.find("*/", pos + 2)
            if end < 0:
                raise ParseError("expected '*/' to close the comment opened here",
                                 line=line_of(text, pos), fmt=NAME)
            pos = end + 2
            at_line_start = False
            continue
        if kind == "space":
            # Only a line's leading whitespace keeps a following '#' a directive.
            if "\n" in m.group():
                at_line_start = True
        elif kind != "comment":
            tokens.append(_Token(kind, m.group(), pos))
            at_line_start = False
        pos = m.end()
    return tokens


class _Reader:
    """A cursor over the tokens with error messages that quote the source."""

    def __init__(self, text: str):
        self.text = text
        self.tokens = _tokens(text)
        self.lines = LineIndex(text)
        self.i = 0

    def peek(self, ahead: int = 0) -> _Token | None:
        j = self.i + ahead
        return self.tokens[j] if j < len(self.tokens) else None

    def fail(self, expected: str) -> ParseError:
        tok = self.peek()
        if tok is None:
            # Blame the line of the last token, not the blank lines after it.
            last = self.tokens[-1].pos if self.tokens else len(self.text)
            return ParseError(f"expected {expected}, found end of text",
                              line=self.lines(last), fmt=NAME)
        return ParseError(f"expected {expected}, found {quote(rest_of_line(self.text, tok.pos))}",
                          line=self.lines(tok.pos), fmt=NAME)

    def take(self, punct: str, expected: str) -> _Token:
        tok = self.peek()
        if tok is None or tok.text != punct:
            raise self.fail(expected)
        self.i += 1
        return tok

    def accept(self, punct: str) -> bool:
        tok = self.peek()
        if tok is not None and tok.text == punct:
            self.i += 1
            return True
        return False

    def number(self, what: str, limit: int) -> int:
        tok = self.peek()
        m = _C_INTEGER.fullmatch(tok.text) if tok is not None and tok.kind == "number" else None
        if m is None:
            hint = ("" if tok is None or tok.kind != "word" else
                    " (symbolic BPF_STMT/BPF_JUMP macros are not supported)")
            raise self.fail(f"a number for {what}{hint}")
        digits = m.group(1)
        base = 16 if digits[:2] in ("0x", "0X") else 8 if digits.startswith("0") else 10
        value = to_int(digits, base)
        self.i += 1
        return check_range(value, limit, what, self.lines(tok.pos), NAME)


def _instruction(r: _Reader) -> Instruction:
    r.take("{", "'{' to open an instruction")
    code = r.number("code", 0xFFFF)
    r.take(",", "',' after the code")
    jt = r.number("jt", 0xFF)
    r.take(",", "',' after jt")
    jf = r.number("jf", 0xFF)
    r.take(",", "',' after jf")
    k = r.number("k", 0xFFFFFFFF)
    r.accept(",")
    r.take("}", "'}' to close the instruction")
    return Instruction(code, jt, jf, k)


def _skip_declaration(r: _Reader) -> bool:
    """Step over ``... name[] = {`` when the text starts with a declaration."""
    first = r.peek()
    if first is None or first.kind != "word":
        return False
    while True:
        tok = r.peek()
        if tok is None or tok.text == "=":
            break
        if tok.kind == "word" or tok.text in "[]*" or tok.kind == "number":
            r.i += 1
            continue
        raise r.fail("an array declaration such as 'struct sock_filter code[] = {'")
    r.take("=", "'=' in the array declaration")
    r.take("{", "'{' to open the array")
    return True


def parse(text: str) -> Program:
    """Read ``tcpdump -dd`` lines, optionally inside a C array declaration."""
    r = _Reader(text)
    braced = _skip_declaration(r)
    if not braced and r.peek() is not None and r.peek().text == "{":
        nxt = r.peek(1)
        # '{ {' or '{ }' opens an array; '{ 0x28' opens an instruction.
        if nxt is None or nxt.text in "{}":
            r.i += 1
            braced = True
    insns = []
    while r.peek() is not None and r.peek().text == "{":
        insns.append(_instruction(r))
        if not r.accept(","):
            break
    if braced:
        r.take("}", "',' or '}' to close the array")
        r.accept(";")
    nxt = r.peek()
    if nxt is not None:
        if nxt.text == "{":
            raise r.fail("',' between instructions")
        raise r.fail("end of text after the array" if braced else "'{' to open an instruction")
    return Program(insns)
