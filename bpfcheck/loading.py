"""Where programs come from: files, standard input, raw bytes, expressions.

Used by the command line and the corpus; nothing here is ever evaluated as
code, and every failure is a :class:`~bpfcheck.errors.ParseError` or
:class:`~bpfcheck.errors.UsageError` naming the source.
"""

from __future__ import annotations

import sys
from typing import Optional

from .errors import ParseError, UsageError
from .program import Program

#: refuse program files beyond this size: a 4096-instruction listing is ~200 KB
MAX_PROGRAM_FILE = 8 * 1024 * 1024


def read_source(path: str) -> bytes:
    """The bytes of ``path`` (``-`` is standard input), bounded in size."""
    try:
        if path == "-":
            data = sys.stdin.buffer.read(MAX_PROGRAM_FILE + 1)
        else:
            with open(path, "rb") as f:
                data = f.read(MAX_PROGRAM_FILE + 1)
    except OSError as e:
        raise UsageError(f"cannot read {path}: {e.strerror or e}") from None
    if len(data) > MAX_PROGRAM_FILE:
        raise ParseError(f"{path} is larger than {MAX_PROGRAM_FILE // (1024 * 1024)} MiB; "
                         "no BPF program is that long")
    return data


def looks_binary(data: bytes) -> bool:
    """Raw ``struct sock_filter`` arrays are full of NULs; text formats never are."""
    if not data:
        return False
    if b"\0" in data:
        return True
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def program_from_bytes(data: bytes, fmt: Optional[str] = None, name: str = "input") -> Program:
    """Decode a program from file contents in ``fmt`` (``None``: detect;
    ``"raw"``: the kernel's binary array)."""
    from .formats import parse
    if fmt is None and looks_binary(data) and len(data) % 8:
        # Neither reading fits: say where the text stops being text.
        nul = data.find(b"\0")
        try:
            data.decode("utf-8")
            bad = nul
        except UnicodeDecodeError as e:
            bad = e.start if nul < 0 else min(nul, e.start)
        what = "a NUL byte" if bad == nul else f"byte 0x{data[bad]:02x}, not UTF-8,"
        raise ParseError(f"{name} is not raw struct sock_filter bytes ({len(data)} bytes is not a "
                         f"multiple of 8) and not text either ({what} at byte {bad})",
                         data[:bad].count(b"\n") + 1)
    if fmt == "raw" or (fmt is None and looks_binary(data)):
        return Program.from_bytes(data)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data[:e.start].count(b"\n") + 1
        raise ParseError(f"{name} is not UTF-8 text (byte {e.start}) and not raw "
                         "struct sock_filter bytes either", line) from None
    return parse(text, fmt)


def load_program(path: Optional[str] = None, fmt: Optional[str] = None,
                 expr: Optional[str] = None, linktype: str = "EN10MB",
                 optimize: bool = True) -> Program:
    """A program from a file (``-`` for stdin) or a tcpdump expression."""
    if expr is not None:
        if path is not None:
            raise UsageError("give either a FILE or --expr, not both")
        from .oracles.libpcap import compile as compile_expr
        return compile_expr(expr, linktype=linktype, optimize=optimize)
    if path is None:
        raise UsageError("a program is needed: give a FILE (or - for standard input) or --expr EXPR")
    return program_from_bytes(read_source(path), fmt, name=path)
