"""Tokens of the kernel's ``bpf_asm`` language, split exactly as its flex lexer splits them.

``tools/bpf/bpf_exp.l`` is a flex scanner: at every position the rule with
the *longest* match wins, and among equally long matches the one listed
first.  That makes a few surprises that this module keeps on purpose,
because they decide what real bpf_asm accepts:

* keywords, extension names and ``len`` are case-insensitive (``LDH``,
  ``#PROTO``); labels are case-sensitive and at least two characters long,
  so ``x``, ``a`` and ``M`` are always operands, never labels;
* a word that merely starts with a keyword is a label (``ldhx``), but a
  ``#`` glued to an extension name takes only the name (``#lentax`` is
  ``#len`` then ``tax``);
* ``+5`` and ``-5`` are single numbers, so ``[x+5]`` is ``[``, ``x``, the
  number ``+5``, ``]`` -- a syntax error in bpf_asm (the parser here
  accepts it, see :mod:`.asm`), while ``[x + 5]`` and ``[x+0x5]`` are fine;
* numbers: ``0x..`` hex, ``0b..`` binary, ``0..`` octal, and decimal with
  an optional sign; ``-0``, ``-0x1`` and ``08`` are not numbers;
* comments: ``; ...`` to the end of the line, ``/* ... */`` (bpf_asm's
  pattern, under which ``/* a **/`` is *not* closed), and a line whose
  very first character is ``#`` followed by anything -- except that
  ``#len`` or ``#proto`` alone at the start of a line is an operand;
* whitespace is space, tab and newline.  bpf_asm rejects carriage
  returns; this lexer takes them as whitespace, so CRLF files read.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from .. import isa
from ..errors import ParseError
from ._text import line_of, quote, rest_of_line, to_int

KEYWORDS = frozenset({
    "ldb", "ldh", "ld", "ldi", "ldx", "ldxi", "ldxb", "st", "stx", "jmp", "ja",
    "jeq", "jneq", "jne", "jlt", "jle", "jgt", "jge", "jset", "add", "sub", "mul",
    "div", "mod", "neg", "and", "xor", "or", "lsh", "rsh", "ret", "tax", "txa",
})

#: bpf_asm's extension names -> SKF_AD_* number (``vlan_pr`` is an old alias)
EXTENSION_NUMBERS = {asm: n for n, (_, asm) in isa.EXTENSIONS.items() if asm}
EXTENSION_NUMBERS["vlan_pr"] = isa.SKF_AD_VLAN_TAG_PRESENT

#: the words that may follow '#' inside one token
_HASH_WORDS = sorted(["len", *EXTENSION_NUMBERS], key=len, reverse=True)

_SINGLE = {":": ":", ",": ",", "%": "%", "[": "[", "]": "]", "(": "(", ")": ")",
           "+": "+", "*": "*", "&": "&"}
_OPERAND_LETTERS = {"x": "x", "a": "a", "m": "M"}

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Number rules in bpf_exp.l order (the order breaks ties between equal lengths).
_NUMBER_RULES = (
    (re.compile(r"0[xX][0-9a-fA-F]+"), lambda t: to_int(t, 16)),
    (re.compile(r"0[bB][01]+"), lambda t: to_int(t[2:], 2)),
    (re.compile(r"0|[-+]?[1-9][0-9]*"), lambda t: to_int(t, 10)),
    (re.compile(r"0[0-7]+"), lambda t: to_int(t[1:], 8)),
)
# bpf_asm's block comment.  Each repetition starts with a different
# character class, so this cannot backtrack catastrophically.
_BLOCK_COMMENT = re.compile(r"/\*(?:[^*]|\*[^/])*\*/")
_WHITESPACE = " \t\n\r"


class Token(NamedTuple):
    """One token: ``kind`` is a mnemonic (``"op"``), ``"len"``, ``"ext"``,
    ``"num"``, ``"label"``, a punctuation character, ``"x"``, ``"a"``,
    ``"M"`` or ``"eof"``; ``value`` its meaning; ``pos`` its offset."""

    kind: str
    value: object
    pos: int
    text: str


def _hash_token(text: str, pos: int) -> tuple[int, str, object]:
    """Length, kind and value of the token at a '#'."""
    name_len = 0
    for word in _HASH_WORDS:
        if text[pos + 1:pos + 1 + len(word)].lower() == word:
            name_len = len(word)
            break
    at_line_start = pos == 0 or text[pos - 1] == "\n"
    comment_len = len(rest_of_line(text, pos)) if at_line_start else 0
    # Longest match wins; on a tie the earlier flex rule does: names, then
    # the bare '#', then the start-of-line comment.
    if name_len and 1 + name_len >= comment_len:
        word = text[pos + 1:pos + 1 + name_len].lower()
        if word == "len":
            return 1 + name_len, "len", None
        return 1 + name_len, "ext", EXTENSION_NUMBERS[word]
    if comment_len > 1:
        return comment_len, "comment", None
    return 1, "#", None


def _number_token(text: str, pos: int) -> tuple[int, int] | None:
    """Length and value of the longest number at ``pos``, or None."""
    best = None
    for pattern, value_of in _NUMBER_RULES:
        m = pattern.match(text, pos)
        if m and (best is None or len(m.group()) > best[0]):
            best = (len(m.group()), value_of(m.group()))
    return best


def _word_token(word: str) -> tuple[str, object] | None:
    low = word.lower()
    if low in KEYWORDS:
        return "op", low
    if low == "len":
        return "len", None
    if low in EXTENSION_NUMBERS:
        return "ext", EXTENSION_NUMBERS[low]
    if len(word) >= 2:
        return "label", word
    if low in _OPERAND_LETTERS:
        return _OPERAND_LETTERS[low], None
    return None


def tokenize(text: str) -> list[Token]:
    """Every token of ``text``, ending with an ``eof`` token."""
    tokens = []
    pos, end = 0, len(text)
    while pos < end:
        ch = text[pos]
        if ch in _WHITESPACE:
            pos += 1
            continue
        kind = None
        if ch == "#":
            length, kind, value = _hash_token(text, pos)
        elif ch == ";":
            length, kind, value = len(rest_of_line(text, pos)), "comment", None
        elif ch == "/":
            m = _BLOCK_COMMENT.match(text, pos)
            if m:
                length, kind, value = len(m.group()), "comment", None
        elif ch.isascii() and (ch.isdigit() or ch in "+-"):
            number = _number_token(text, pos)
            if number:
                length, value = number
                kind = "num"
            elif ch == "+":
                length, kind, value = 1, "+", None
        elif ch in _SINGLE:
            length, kind, value = 1, _SINGLE[ch], None
        elif ch.isascii() and (ch.isalpha() or ch == "_"):
            word = _WORD.match(text, pos).group()
            found = _word_token(word)
            if found:
                length = len(word)
                kind, value = found
        if kind is None:
            raise ParseError(f"expected bpf_asm text, found unknown character "
                             f"{quote(ch)} in {quote(rest_of_line(text, pos))}",
                             line=line_of(text, pos), fmt="asm")
        if kind != "comment":
            tokens.append(Token(kind, value, pos, text[pos:pos + length]))
        pos += length
    tokens.append(Token("eof", None, end, ""))
    return tokens
