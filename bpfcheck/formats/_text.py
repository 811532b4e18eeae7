"""Small helpers every text format shares: error wording and number ranges.

Error messages follow one pattern -- what was expected, then the text that
was found, quoted -- so that a reader can find the spot without a column
number.  Nothing here knows about any particular format.
"""

from __future__ import annotations

import bisect
import re

from ..errors import ParseError
from ..isa import U32

#: how much of the offending text an error message quotes
_QUOTE_LIMIT = 40


def quote(found: str) -> str:
    """``found`` as it appears in an error message: quoted, one line, short."""
    found = found.strip()
    if not found:
        return "end of line"
    first_line = found.splitlines()[0] if found.splitlines() else found
    cut = first_line[:_QUOTE_LIMIT]
    if len(cut) < len(found):
        cut += "..."
    # Control and non-printable characters are shown escaped so that the
    # message itself stays one readable line.
    if not cut.isprintable():
        cut = cut.encode("unicode_escape").decode("ascii")
    return f"'{cut}'"


def line_of(text: str, pos: int) -> int:
    """The 1-based line number of character offset ``pos``."""
    return text.count("\n", 0, pos) + 1


class LineIndex:
    """``line_of`` for many offsets of one text: a binary search each,
    where counting newlines from the start every time would make reading
    a long program quadratic."""

    def __init__(self, text: str):
        self.newlines = [m.start() for m in re.finditer("\n", text)]

    def __call__(self, pos: int) -> int:
        return bisect.bisect_left(self.newlines, pos) + 1


def rest_of_line(text: str, pos: int) -> str:
    """The text from ``pos`` to the end of its line (for quoting)."""
    end = text.find("\n", pos)
    return text[pos:] if end < 0 else text[pos:end]


def decode(data: str | bytes | bytearray | memoryview) -> str:
    """Text as str; bytes are UTF-8 (a bad byte is a ParseError naming its line).

    A leading byte-order mark is dropped: editors on some systems write one.
    """
    if isinstance(data, str):
        text = data
    elif isinstance(data, (bytes, bytearray, memoryview)):
        raw = bytes(data)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = raw.count(b"\n", 0, exc.start) + 1
            raise ParseError(
                f"expected UTF-8 text, found byte 0x{raw[exc.start]:02x} "
                f"that is not valid UTF-8", line=line) from None
    else:
        raise TypeError(f"parse() takes str or bytes, not {type(data).__name__}")
    return text[1:] if text.startswith("\ufeff") else text


#: digits beyond which a number is certainly too big for any field; longer
#: strings are not converted at all (Python refuses ints of >4300 digits,
#: and converting them would be slow anyway)
_MAX_DIGITS = 40          # a 32-bit value has at most 32 binary digits
_HUGE = 1 << 96


def to_int(text: str, base: int = 10) -> int:
    """``int(text, base)`` for an already validated literal, capped at a huge value.

    ``text`` may carry a sign and, for base 16, a ``0x`` prefix.
    """
    sign = -1 if text.startswith("-") else 1
    digits = text.lstrip("+-")
    if base == 16 and digits[:2] in ("0x", "0X"):
        digits = digits[2:]
    digits = digits.lstrip("0") or "0"
    if len(digits) > _MAX_DIGITS:
        return sign * _HUGE
    return sign * int(digits, base)


def show_number(value: int) -> str:
    """A number for an error message (huge ones are not spelled out)."""
    return f"with more than {_MAX_DIGITS} digits" if abs(value) >= _HUGE else str(value)


def as_u32(value: int, what: str, line: int, fmt: str, *, signed_ok: bool = True) -> int:
    """``value`` as an unsigned 32-bit field, or a ParseError naming the line.

    Negative values down to -2**31 are the two's complement, as C's ``%d``
    prints them and as bpf_asm's ``strtol`` reads them.
    """
    low = -(1 << 31) if signed_ok else 0
    if not low <= value <= U32:
        raise ParseError(f"{what} {show_number(value)} does not fit in 32 bits",
                         line=line, fmt=fmt)
    return value & U32


def check_range(value: int, limit: int, what: str, line: int, fmt: str) -> int:
    """``value`` if ``0 <= value <= limit``, else a ParseError naming the line."""
    if not 0 <= value <= limit:
        raise ParseError(f"{what} {show_number(value)} is out of range 0..{limit}",
                         line=line, fmt=fmt)
    return value
