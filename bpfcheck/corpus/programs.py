"""The programs a case names: compiled, parsed or read, never evaluated."""

from __future__ import annotations

from ..program import Program
from .case import Case, ProgramSource


def build_program(case: Case, source: ProgramSource) -> Program:
    """The program ``source`` describes: a tcpdump expression compiled by
    libpcap, inline text in any format, or a file next to the case (raw
    ``struct sock_filter`` bytes or text)."""
    if source.expr is not None:
        from ..oracles.libpcap import compile as compile_expr
        return compile_expr(source.expr, linktype=source.linktype, optimize=source.optimize)
    if source.text is not None:
        from ..formats import parse
        return parse(source.text, source.format)
    from ..loading import program_from_bytes, read_source
    path = case.resolve(source.file)
    return program_from_bytes(read_source(path), source.format, name=source.file)
