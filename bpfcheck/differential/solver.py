"""Inputs made by the solver for the branches random inputs missed.

Random packets rarely satisfy ``jeq #0x86dd`` after ``ldh [12]``, let
alone a chain of such tests; the solver does it at once.  For each
control-flow edge not yet taken, :func:`edge_inputs` asks a proof
:class:`~bpfcheck.proof.session.Session` for an input that takes it
(replayed on the reference VM before it is believed), within a time
budget, under the context the inputs will really run with (the kernel's
``AF_UNIX`` datagram: no device, no link-layer header, every field 0 but
the CPU).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Iterable, List, Optional, Set, Tuple

from ..context import FIELD_RANGES, Context
from ..program import Program
from .values import Input

EdgeKey = Tuple[int, int]


@dataclass
class SolverInputs:
    inputs: List[Input] = field(default_factory=list)
    edges: List[EdgeKey] = field(default_factory=list)     # the edge each input was made for
    dead: Set[EdgeKey] = field(default_factory=set)         # proved never taken
    unknown: int = 0
    asked: int = 0
    seconds: float = 0.0
    complete: bool = True          # every edge was asked about (not cut short by the budget)


def _fixed(target: str, context: Optional[Context]) -> dict:
    if target != "socket" or context is None:
        return {}
    fixed = {name: getattr(context, name) for name in FIELD_RANGES}
    fixed.update(has_device=context.has_device, link_header=context.link_header,
                 network_header=context.network_header, linear=True)
    return fixed


def edge_inputs(program: Program, target: str, covered: Iterable[EdgeKey] = (),
                context: Optional[Context] = None, budget: float = 5.0,
                timeout: float = 1.0) -> SolverInputs:
    """An input for each edge of ``program`` not in ``covered`` that some
    input can take, deepest edges first, until ``budget`` seconds are
    spent (``timeout`` per solver question).  Programs with backward jumps
    (libpcap's ``ip6 protochain``) get none: their edge conditions are not
    exact."""
    from ..coverage import edge_conditions, edges, has_loops, path_edges
    from ..proof.session import SAT, UNSAT, Session
    started = time.monotonic()
    program = Program(program)
    out = SolverInputs()
    if has_loops(program, target):
        out.complete = False
        return out
    session = Session(target, timeout, _fixed(target, context))
    enc = session.add_program("program", program)
    conds = edge_conditions(program, target, enc.reach)
    taken: Set[EdgeKey] = set(covered)
    machine = session.machines["program"]

    def run_context(ctx: Optional[Context]) -> Optional[Context]:
        if target == "seccomp":
            return None
        if target == "pcap":
            return Context(len=ctx.len if ctx is not None else None)
        return context if context is not None else ctx

    def trace(value, ctx):
        return machine.trace(value) if target == "seccomp" else machine.trace(value, run_context(ctx))

    for edge in sorted(edges(program, target), key=lambda e: (-e.dst, -e.src)):
        key = edge.key
        if key in taken:
            continue
        if conds.get(key) is False:
            out.dead.add(key)
            continue
        if time.monotonic() - started > budget:
            out.complete = False
            break
        out.asked += 1

        def takes(value, ctx, key=key):
            return key in path_edges(trace(value, ctx).path)
        status, value, ctx, _note = session.find(conds[key], takes)
        if status == SAT:
            path = trace(value, ctx).path
            taken.update(path_edges(path))
            out.inputs.append(Input(value, run_context(ctx)))
            out.edges.append(key)
        elif status == UNSAT:
            out.dead.add(key)
        else:
            out.unknown += 1
    out.seconds = time.monotonic() - started
    return out
