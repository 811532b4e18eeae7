"""Text formats of classic BPF programs: read with :func:`parse`, write with :func:`format_program`.

========  ==========================================================
tcpdump   ``tcpdump -d`` / libpcap ``bpf_image``: ``(000) ldh      [12]``
c         ``tcpdump -dd``: ``{ 0x28, 0, 0, 0x0000000c },``
ddd       ``tcpdump -ddd``: a count line, then ``code jt jf k`` in decimal
asm       the kernel's ``bpf_asm`` language: labels, ``jeq #0x800, l1, l2``
xt_bpf    iptables ``-m bpf --bytecode``: ``4,40 0 0 12,21 0 1 2048,...``
========  ==========================================================

c, ddd and xt_bpf carry every field of every instruction.  The tcpdump and
asm listings do not show fields an instruction ignores (``k`` on ``tax``,
``jt``/``jf`` on ``ja``...), and asm has no words for unknown opcodes:
writing such a program raises FormatError, unless ``canonical=True`` asks
for the ignored fields to be dropped.  ``parse(format_program(p, f), f) == p``
whenever the write succeeds without ``canonical``.

**Detection** (``fmt=None``) looks at the first significant line -- the
first that is not blank and not only a comment (``;``, ``//``, ``#`` or
``/* */``), with surrounding quotes removed:

* ``(NNN)`` at its start: tcpdump;
* a number followed by a comma: xt_bpf;
* a number alone: ddd;
* a bpf_asm mnemonic or a ``label:`` at its start: asm;
* a ``{``, or a C declaration starting ``struct``/``static``/``const``: c.

Anything else is a ParseError naming the formats tried.  Text with no
significant line at all is the empty program, read as asm.  The writers
are built so that their output is always detected as their own format.
"""

from __future__ import annotations

import re

from ..errors import ParseError, UsageError
from ..program import Program
from . import asm, c, ddd, tcpdump, xt_bpf
from ._asm_lexer import KEYWORDS
from ._text import decode, quote

FORMATS = ("tcpdump", "c", "ddd", "asm", "xt_bpf")

_MODULES = {"tcpdump": tcpdump, "c": c, "ddd": ddd, "asm": asm, "xt_bpf": xt_bpf}

_TRIED = ("tried tcpdump (lines start with '(000)'), c ('{ 0x28, 0, 0, 0xc },'), "
          "xt_bpf ('4,40 0 0 12,...'), ddd (a count line, then 'code jt jf k') and "
          "asm (a bpf_asm mnemonic or 'label:'); pass fmt= to choose")

_RULES = (
    ("tcpdump", re.compile(r"\(\s*[0-9]+\s*\)")),
    ("xt_bpf", re.compile(r"[0-9]+\s*,")),
    ("ddd", re.compile(r"[0-9]+\s*$")),
    # asm before c: a ';' comment after an instruction may contain a '{'.
    ("asm", re.compile(r"[A-Za-z_][A-Za-z0-9_]*\s*:|(?P<word>[A-Za-z]+)(?![A-Za-z0-9_])")),
    ("c", re.compile(r"[^{]*\{|(?:static|const|struct)\b")),
)


def _significant_line(text: str) -> tuple[int, str] | None:
    """The first line that is not blank or only a comment, with its number."""
    in_block = False
    for number, line in enumerate(text.split("\n"), start=1):
        if not in_block and line.lstrip().startswith((";", "//", "#")):
            continue
        kept, pos = [], 0
        while pos < len(line):       # drop /* ... */ spans, which may cross lines
            if in_block:
                end = line.find("*/", pos)
                if end < 0:
                    break
                in_block, pos = False, end + 2
            else:
                start = line.find("/*", pos)
                if start < 0:
                    kept.append(line[pos:])
                    break
                kept.append(line[pos:start])
                in_block, pos = True, start + 2
        line = " ".join(kept).strip()
        if line and not line.startswith((";", "//", "#")):
            return number, line
    return None


def detect(text: str | bytes) -> str:
    """The name of the format ``text`` is written in (see the module docstring)."""
    text = decode(text)
    found = _significant_line(text)
    if found is None:
        return "asm"
    number, line = found
    line = line.strip("'\"").strip()
    for name, rule in _RULES:
        m = rule.match(line)
        if m is None:
            continue
        word = m.groupdict().get("word")
        if name == "asm" and word is not None and word.lower() not in KEYWORDS:
            continue
        return name
    raise ParseError(f"could not tell the format of {quote(line)}: {_TRIED}", line=number)


#: the longest text read: a 4096-instruction listing (the kernel's limit;
#: libpcap's compiler stays far below it) is at most ~200 KB in any format,
#: and parsing is linear but not free (~20 us an instruction), so a bigger
#: text is refused at once instead of parsed for seconds
MAX_TEXT = 512 * 1024


def parse(text: str | bytes, fmt: str | None = None) -> Program:
    """Read a program; ``fmt=None`` detects the format.  Errors are ParseError."""
    text = decode(text)
    if len(text) > MAX_TEXT:
        raise ParseError(f"the text goes on past {MAX_TEXT // 1024} KiB (a 4096-instruction listing, the "
                         "longest program the kernel takes, is about 200 KB)",
                         line=text.count("\n", 0, MAX_TEXT) + 1)
    if fmt is None:
        fmt = detect(text)
    return _module(fmt).parse(text)


def format_program(p: Program, fmt: str, canonical: bool = False) -> str:
    """Write ``p`` in ``fmt``; FormatError where the format cannot carry it exactly."""
    return _module(fmt).write(Program(p), canonical=canonical)


def _module(fmt: str):
    try:
        return _MODULES[fmt]
    except (KeyError, TypeError):
        raise UsageError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}") from None


__all__ = ["FORMATS", "parse", "format_program", "detect"]
