"""The iptables ``-m bpf --bytecode`` string: the count, then ``code jt jf k`` per instruction.

    4,40 0 0 12,21 0 1 2048,6 0 0 65535,6 0 0 0

Everything is decimal and comma-separated, as ``nfbpf_compile`` prints it
(``bpf_asm`` without ``-c`` prints the same with a trailing comma).  The
writer prints the ``nfbpf_compile`` form and a newline; an empty program is
``0,``.  The reader accepts a trailing comma, spaces around the fields, and
one pair of quotes around the whole string (as it is often copied from a
shell command line).  iptables itself takes at most 64 instructions; that
limit is the validator's business, not the reader's.
"""

from __future__ import annotations

from ..errors import ParseError
from ..program import Instruction, Program
from ._text import LineIndex, check_range, quote, to_int

NAME = "xt_bpf"

_FIELDS = (("code", 0xFFFF), ("jt", 0xFF), ("jf", 0xFF), ("k", 0xFFFFFFFF))


def write(program: Program, canonical: bool = False) -> str:
    """The ``--bytecode`` argument (every field is carried)."""
    text = ",".join([str(len(program))] + [f"{c} {jt} {jf} {k}" for c, jt, jf, k in program])
    # The count is always followed by a comma: that is what iptables reads first.
    return (text if program else text + ",") + "\n"


def _unquote(text: str) -> tuple[int, int]:
    """The span of ``text`` inside surrounding whitespace and one pair of quotes."""
    start, end = 0, len(text)
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end - start >= 2 and text[start] == text[end - 1] and text[start] in "'\"":
        start, end = start + 1, end - 1
    return start, end


def _decimal(word: str, what: str, limit: int, line: int) -> int:
    if not (word.isascii() and word.isdigit()):
        raise ParseError(f"expected a decimal number for {what}, found {quote(word)}",
                         line=line, fmt=NAME)
    return check_range(to_int(word), limit, what, line, NAME)


def parse(text: str) -> Program:
    """Read an xt_bpf ``--bytecode`` string."""
    start, end = _unquote(text)
    pieces, pos = [], start
    for piece in text[start:end].split(","):
        pieces.append((pos, piece))
        pos += len(piece) + 1
    count_pos, count_text = pieces[0]
    line_of = LineIndex(text)
    line = line_of(count_pos)
    if "," not in text[start:end]:
        raise ParseError(f"expected 'count,code jt jf k,...', found {quote(text[start:end])}",
                         line=line, fmt=NAME)
    count = _decimal(count_text.strip(), "the instruction count", 1 << 32, line)
    body = pieces[1:]
    if body and not body[-1][1].strip():
        body.pop()          # a trailing comma, as bpf_asm prints
    insns = []
    for pos, piece in body:
        line = line_of(pos)
        words = piece.split()
        if len(words) != 4:
            raise ParseError(f"expected 'code jt jf k' (four decimal numbers) between "
                             f"commas, found {quote(piece) if piece.strip() else 'nothing'}",
                             line=line, fmt=NAME)
        insns.append(Instruction(*(_decimal(w, what, limit, line)
                                   for w, (what, limit) in zip(words, _FIELDS))))
    if len(insns) != count:
        raise ParseError(f"the count says {count} instructions but {len(insns)} follow",
                         line=line_of(count_pos), fmt=NAME)
    return Program(insns)
