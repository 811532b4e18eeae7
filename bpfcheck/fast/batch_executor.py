"""Run one program over many inputs at once: the table over numpy lanes.

The same idea as the symbolic executor, with arrays for terms: every
instruction is visited once, in pc order, with a *reach mask* (the lanes
that get there) and the machine state of those lanes.  Where edges join,
state is merged with ``np.where`` over the (mutually exclusive) edge
masks; a value that is the same object on every edge is kept as is, so
straight jump chains cost no merging at all.  Guards and ``ret`` write the
verdict of the lanes they end.  An edge no lane takes is dropped, and an
instruction no lane reaches costs nothing.

Masks are ``True`` (every lane) until the first branch, then bool arrays.
"""

from __future__ import annotations

from typing import Dict, List, Tuple

import numpy as np

from .. import isa
from ..errors import ExecutionError
from ..program import Program
from ..semantics import TABLES
from .codegen import flow_facts
from .numpy_domain import NUMPY, U32, as_array

Edge = Tuple[object, object, object, tuple]     # (mask, a, x, mem)


def _and(mask, cond):
    if mask is True:
        return cond
    if cond is True:
        return mask
    return np.logical_and(mask, cond)


def _and_not(mask, cond):
    """``mask and not cond``; for bool arrays ``m > c`` is exactly that."""
    if cond is True:
        return False
    if mask is True:
        return np.logical_not(cond)
    return np.greater(mask, cond)


def _taken(mask) -> bool:
    return mask is True or (mask is not False and bool(mask.any()))


def _same(values) -> bool:
    first = values[0]
    if isinstance(first, int):
        return all(isinstance(v, int) and v == first for v in values)
    return all(v is first for v in values)


def _merge(values, masks, n: int):
    """One value per lane from the edge each lane came by."""
    if _same(values):
        return values[0]
    out = as_array(values[-1], n)
    for value, mask in zip(values[-2::-1], masks[-2::-1]):
        out = np.where(mask, U32(value) if isinstance(value, int) else value, out)
    return out


def _join(edges: List[Edge], n: int, live):
    """Merge the edges into one state; values nothing reads later (not in
    ``live``) are not merged but forgotten."""
    if len(edges) == 1:
        return edges[0]
    masks = [e[0] for e in edges]
    if any(m is True for m in masks):
        reach = True
    else:
        reach = np.logical_or(masks[0], masks[1])
        for m in masks[2:]:
            np.logical_or(reach, m, out=reach)
    a = _merge([e[1] for e in edges], masks, n) if "a" in live else 0
    x = _merge([e[2] for e in edges], masks, n) if "x" in live else 0
    mem = tuple(_merge([e[3][i] for e in edges], masks, n) if i in live else 0
                for i in range(isa.MEMWORDS))
    return reach, a, x, mem


def _abort(code: int, pc: int) -> ExecutionError:
    return ExecutionError(f"libpcap's bpf_filter aborts the process on opcode {code:#06x}", pc)


def execute(program: Program, target: str, env, n: int) -> np.ndarray:
    """Verdicts (uint32, one per lane) of a valid, forward-only program."""
    table = TABLES[target]
    _survey, live_in = flow_facts(program.to_bytes(), target)
    verdict = np.zeros(n, dtype=U32)
    incoming: Dict[int, List[Edge]] = {0: [(True, 0, 0, (0,) * isa.MEMWORDS)]}
    dom = NUMPY

    def finish(mask, value):
        if mask is True:
            verdict[...] = value
        else:
            np.copyto(verdict, value, where=mask)

    for pc in range(len(program)):
        edges = incoming.pop(pc, None)
        if not edges:
            continue
        reach, a, x, mem = _join(edges, n, live_in[pc])
        insn = program[pc]
        handler = table.get(insn[0])
        if handler is None:
            raise _abort(insn[0], pc)
        env.reach = reach           # loads may skip the lanes that are not here
        effect = handler(insn, a, x, mem, dom, env)
        live = reach
        for cond, value, _rule in effect.guards:
            if cond is False:
                continue
            fire = _and(live, cond)
            if _taken(fire):
                finish(fire, value)
                live = _and_not(live, cond)
                if not _taken(live):
                    live = False
                    break
        if live is False:
            continue
        a, x, mem = effect.applied(a, x, mem)

        def go(target_pc, mask):
            if mask is not False:
                incoming.setdefault(target_pc, []).append((mask, a, x, mem))

        flow = effect.flow
        if flow is None:
            go(pc + 1, live)
        elif flow[0] == "ret":
            finish(live, flow[1])
        elif flow[0] == "goto":
            go(pc + 1 + flow[1], live)
        else:
            _, cond, jt, jf = flow
            if jt == jf or isinstance(cond, bool):
                go(pc + 1 + (jt if cond is True or jt == jf else jf), live)
            else:
                taken = _and(live, cond)
                fallen = _and_not(live, cond)
                go(pc + 1 + jt, taken if _taken(taken) else False)
                go(pc + 1 + jf, fallen if _taken(fallen) else False)
    return verdict
