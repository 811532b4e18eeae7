"""``tcpdump -ddd``: the instruction count, then ``code jt jf k`` in decimal.

    4
    40 0 0 12
    21 0 1 2048
    6 0 0 65535
    6 0 0 0

The writer prints exactly what ``tcpdump -ddd`` prints.  The reader takes
any spacing and blank lines; the count must match the instructions that
follow it.
"""

from __future__ import annotations

from ..errors import ParseError
from ..program import Instruction, Program
from ._text import check_range, quote, to_int

NAME = "ddd"

_FIELDS = (("code", 0xFFFF), ("jt", 0xFF), ("jf", 0xFF), ("k", 0xFFFFFFFF))


def write(program: Program, canonical: bool = False) -> str:
    """The text ``tcpdump -ddd`` prints (every field is carried)."""
    return f"{len(program)}\n" + "".join(
        f"{code} {jt} {jf} {k}\n" for code, jt, jf, k in program)


def _decimal(word: str, what: str, limit: int, line: int) -> int:
    if not (word.isascii() and word.isdigit()):
        raise ParseError(f"expected a decimal number for {what}, found {quote(word)}",
                         line=line, fmt=NAME)
    return check_range(to_int(word), limit, what, line, NAME)


def parse(text: str) -> Program:
    """Read ``tcpdump -ddd`` output."""
    count = count_line = None
    insns = []
    for line, raw in enumerate(text.split("\n"), start=1):
        words = raw.split()
        if not words:
            continue
        if count is None:
            if len(words) != 1:
                raise ParseError(f"expected the instruction count alone on the first line, "
                                 f"found {quote(raw)}", line=line, fmt=NAME)
            count = _decimal(words[0], "the instruction count", 1 << 32, line)
            count_line = line
            continue
        if len(words) != 4:
            raise ParseError(f"expected 'code jt jf k' (four decimal numbers), "
                             f"found {quote(raw)}", line=line, fmt=NAME)
        if len(insns) == count:
            raise ParseError(f"expected end of text after the {count} instructions the "
                             f"count on line {count_line} announces, found {quote(raw)}",
                             line=line, fmt=NAME)
        insns.append(Instruction(*(_decimal(w, what, limit, line)
                                   for w, (what, limit) in zip(words, _FIELDS))))
    if count is None:
        raise ParseError("expected the instruction count, found end of text",
                         line=1, fmt=NAME)
    if len(insns) != count:
        raise ParseError(f"the count says {count} instructions but {len(insns)} follow",
                         line=count_line, fmt=NAME)
    return Program(insns)
