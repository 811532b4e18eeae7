"""Writing cases from what bpfcheck found: solver-made inputs (``gen``)."""

from __future__ import annotations

import datetime
from typing import Optional

from ..context import Context
from ..errors import FormatError
from ..program import Program
from .case import Case, PacketCase, ProgramSource, SyscallCase


def program_source(program: Program, expr: Optional[str] = None, linktype: str = "EN10MB",
                   optimize: bool = True) -> ProgramSource:
    """The expression when there is one; else the listing inline, in the
    most readable format that carries every field exactly."""
    if expr is not None:
        return ProgramSource(expr=expr, linktype=linktype, optimize=optimize)
    for fmt in ("tcpdump", "c"):
        try:
            return ProgramSource(text=program.format(fmt), format=fmt)
        except FormatError:
            continue
    raise FormatError("no text format carries this program exactly")


def _needs_context(program: Program, target: str, item) -> bool:
    """Whether a packet's verdict or path depends on it not being an
    AF_UNIX datagram (then the case must say which context it ran with)."""
    from ..vm import Machine
    machine = Machine(program, target)
    plain = machine.trace(item.packet, Context())
    return plain.verdict != item.verdict or plain.path != item.path


def case_from_generated(name: str, program: Program, target: str, made, summary, expr: Optional[str] = None,
                        linktype: str = "EN10MB", optimize: bool = True) -> Case:
    packets, syscalls = [], []
    for item in made.inputs:
        label = f"gen: edge {item.target_edge[0]}->{item.target_edge[1]}"
        if item.seccomp is not None:
            s = item.seccomp
            syscalls.append(SyscallCase(s.nr, s.arch, item.verdict, tuple(a for a in s.args),
                                        s.instruction_pointer, label))
        elif target == "pcap":
            packets.append(PacketCase(item.packet, item.verdict, label, {}, item.wirelen))
        else:
            context = {}
            if item.context is not None and _needs_context(program, target, item):
                context = {k: v for k, v in item.context.non_default().items() if v is not None}
            packets.append(PacketCase(item.packet, item.verdict, label, context))
    provenance = {"source": "gen", "tool": "bpfcheck gen", "found": datetime.date.today().isoformat(),
                  "note": f"made by the solver to take every reachable edge: {summary.edges_covered} of "
                          f"{summary.edges_reachable} ({summary.edge_percent:.1f} %)"
                          + (f"; dead edges {', '.join(f'{a}->{b}' for a, b in summary.edges_dead)}"
                             if summary.edges_dead else "")}
    return Case(f"{name}.toml", name, target, program_source(program, expr, linktype, optimize),
                packets=tuple(packets), syscalls=tuple(syscalls), provenance=provenance)
