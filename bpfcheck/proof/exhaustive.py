"""Every verdict of a program that reads a few bytes at fixed offsets, by
running every input that matters.

``ret a`` after arithmetic on a short field (``ldh [16]; add #14; ret a``,
a snap length) can return tens of thousands of values.  Proving that a
range has no gap asks the solver "is there a value no input returns", a
quantified question it answers by trying values one by one, so such a
set used to end as bounds only.  When the program is small enough in
what it reads, running it on every distinct input is exact, and quick.

Why the inputs below are every input there is, for such a program (no
load at a computed offset, no ``len``, no metadata or extension, no
backward jump, nothing pinned): a run reads the packet only at the fixed
offsets of its loads, and looks at the length only through whether each
load fits (``k + size <= len``).  So two packets that agree on the bytes
those loads read, with lengths between the same two consecutive load
ends, run alike: one packet per length class — each load end ``k +
size``, and 0 — carrying every combination of the bytes that fit, is
every behaviour the program has.  A field the program only ever compares
with constants needs, instead of every value, one of each class the
comparisons cannot tell apart (:func:`compared_only`).
"""

from __future__ import annotations

import itertools
from typing import Dict, List, Optional, Sequence, Set, Tuple

from .. import isa
from ..context import Context
from ..errors import ExecutionError
from ..program import Program

#: runs allowed (inputs times instructions); beyond it the solver decides
MAX_STEPS = 1 << 23
#: bytes read whole (every one of 256 values) in one length class, at most
MAX_WHOLE_BYTES = 3
#: the longest packet built; programs loading further are left to the solver
MAX_END = 1 << 16

Extent = Tuple[int, int]            # (offset, size) of a packet load


def load_extents(program: Program, target: str) -> Optional[Dict[int, Extent]]:
    """pc -> ``(offset, size)`` of every packet load, or None when the
    program reads anything else (a computed offset, the length, metadata)
    or may loop, or is a seccomp filter (its words are 32 bits wide)."""
    if target == "seccomp":
        return None
    extents = {}
    for pc, (code, _, _, k) in enumerate(program):
        cls, mode = isa.bpf_class(code), isa.bpf_mode(code)
        if cls in (isa.LD, isa.LDX) and mode not in (isa.IMM, isa.MEM):
            if cls == isa.LD and mode == isa.ABS:
                size = isa.SIZE_BYTES[isa.bpf_size(code)]
            elif cls == isa.LDX and mode == isa.MSH:
                size = 1
            else:
                return None                    # ld [x + k], ld len, ldx len
            if k + size > MAX_END:
                return None                    # extensions, negative offsets, far loads
            extents[pc] = (k, size)
        elif cls == isa.JMP and isa.bpf_op(code) == isa.JA and isa.signed32(k) < 0:
            return None                        # libpcap loops
    return extents


def compared_only(program: Program, target: str) -> Dict[int, Set[int]]:
    """pc of each ``ld [k]`` whose value is only ever compared with
    constants (``jeq``, ``jgt``, ``jge`` with ``#k``) before it is
    replaced -> those constants.  Such a field matters only through which
    side of each constant it lies on.  A forward pass over what each
    instruction reads and writes (the semantics table's, through
    :func:`~bpfcheck.fast.codegen.survey`): A may hold the value of any
    load that reaches here untouched; any other read of A (arithmetic, a
    store, ``tax``, ``jset``, a comparison with X, ``ret a``) rules the
    load out."""
    from ..fast.codegen import survey
    facts = survey(program, target)
    holds: List[Set[int]] = [set() for _ in range(len(program))]
    used: Set[int] = set()
    constants: Dict[int, Set[int]] = {}
    for pc, (code, _, _, k) in enumerate(program):
        a = holds[pc]
        compared = isa.bpf_class(code) == isa.JMP and isa.bpf_src(code) == isa.K and \
            isa.bpf_op(code) in (isa.JEQ, isa.JGT, isa.JGE)
        if compared:
            for load in a:
                constants.setdefault(load, set()).add(k)
        elif "a" in facts.uses[pc]:
            used |= a
        if "a" in facts.defs[pc]:
            is_load = isa.bpf_class(code) == isa.LD and isa.bpf_mode(code) == isa.ABS
            a = {pc} if is_load else set()
        for nxt in facts.successors[pc]:
            if nxt > pc:
                holds[nxt] = holds[nxt] | a
    return {pc: constants.get(pc, set()) for pc, (code, _, _, _) in enumerate(program)
            if isa.bpf_class(code) == isa.LD and isa.bpf_mode(code) == isa.ABS and pc not in used}


def _representatives(constants: Set[int], size: int) -> List[int]:
    """One value of each class a field's comparisons cannot tell apart:
    with ``v == c``, ``v > c`` and ``v >= c`` only, classes are intervals
    whose lowest values are among 0, each c and each c + 1."""
    top = (1 << (8 * size)) - 1
    return sorted({0} | {v for c in constants for v in (c, c + 1) if v <= top})


def exact_verdicts(program: Sequence, target: str) -> Optional[Set[int]]:
    """Every verdict ``program`` returns on some input, found by running it
    on all the inputs that matter; None when it reads too much for that
    (the caller then asks the solver)."""
    from ..fast.compiled import compile_program
    program = Program(program)
    extents = load_extents(program, target)
    if extents is None:
        return None
    compared = compared_only(program, target)
    by_extent: Dict[Extent, List[int]] = {}
    for pc, extent in extents.items():
        by_extent.setdefault(extent, []).append(pc)
    fields: Dict[Extent, List[int]] = {}       # compared-only fields -> their representatives
    for (k, size), pcs in by_extent.items():
        overlaps = any(other != (k, size) and other[0] < k + size and k < other[0] + other[1]
                       for other in by_extent)
        if not overlaps and all(pc in compared for pc in pcs):
            fields[(k, size)] = _representatives(set().union(*(compared[pc] for pc in pcs)), size)
    classes = []
    for length in sorted({0} | {k + size for k, size in extents.values()}):
        fitting = [(k, size) for k, size in by_extent if k + size <= length]
        whole = sorted({k + i for k, size in fitting if (k, size) not in fields for i in range(size)})
        chosen = [(extent, fields[extent]) for extent in fitting if extent in fields]
        classes.append((length, whole, chosen))
    steps = 0
    for _, whole, chosen in classes:
        if len(whole) > MAX_WHOLE_BYTES:
            return None
        count = 256 ** len(whole)
        for _, values in chosen:
            count *= len(values)
        steps += count * len(program)
        if steps > MAX_STEPS:
            return None
    run = compile_program(program, target).run
    ctx = Context()
    verdicts: Set[int] = set()
    try:
        for length, whole, chosen in classes:
            packet = bytearray(length)
            for picks in itertools.product(*(values for _, values in chosen)):
                for ((k, size), _), value in zip(chosen, picks):
                    packet[k:k + size] = value.to_bytes(size, "big")
                for values in itertools.product(range(256), repeat=len(whole)):
                    for position, value in zip(whole, values):
                        packet[position] = value
                    verdicts.add(run(bytes(packet), ctx))
    except ExecutionError:
        return None       # a run libpcap would abort: no verdict set to list
    return verdicts
