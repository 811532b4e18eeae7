"""Turning a z3 model into a small concrete input that replays.

A model says *some* input works; users want the smallest one that is easy
to read: the shortest packet, bytes nobody looks at set to zero, metadata
at its defaults where it does not matter.  The length is minimised with
the solver; the rest greedily with concrete replays, which also proves the
witness is real (a replay that disagrees with the model is reported, never
hidden).
"""

from __future__ import annotations

from typing import Callable, Dict, Optional, Tuple

import z3

from ..context import Context, SeccompData
from ..symbolic.inputs import SymbolicInputs, context_constraints, context_from_model

#: witnesses are built as real byte strings; beyond this they are not useful
MAX_WITNESS_BYTES = 1 << 20
#: try to keep packets sendable through a datagram socket (kernel replay)
PREFERRED_MAX = 65507
#: greedy byte zeroing is quadratic-ish; skip it for long packets
GREEDY_LIMIT = 4096
#: witnesses up to this long get the least bytes the solver allows (see least_bytes)
LEAST_BYTES_LIMIT = 128

Check = Callable[[object, Optional[Context]], bool]


def array_entries(model, array) -> Tuple[Dict[int, int], Optional[int]]:
    """The explicit (index -> byte) entries of an array in a model, and its default."""
    value = model.eval(array, model_completion=True)
    entries: Dict[int, int] = {}
    default = None
    while True:
        if z3.is_store(value):
            entries.setdefault(value.arg(1).as_long(), value.arg(2).as_long())
            value = value.arg(0)
        elif z3.is_const_array(value):
            default = value.arg(0).as_long()
            break
        elif z3.is_as_array(value):
            interp = model[z3.get_as_array_func(value)]
            for idx, val in interp.as_list()[:-1]:
                entries.setdefault(idx.as_long(), val.as_long())
            default = interp.else_value().as_long()
            break
        else:   # a lambda or something unexpected: evaluate byte by byte later
            break
    return entries, default


def packet_from_model(model, inputs: SymbolicInputs, length: int, zero_untouched: bool) -> bytes:
    entries, default = array_entries(model, inputs.packet)
    if default is None and not zero_untouched:
        return bytes(model.eval(z3.Select(inputs.packet, i), model_completion=True).as_long()
                     for i in range(length))
    fill = 0 if zero_untouched or default is None else default
    data = bytearray([fill]) * length
    for idx, val in entries.items():
        if idx < length:
            data[idx] = val
    return bytes(data)


def seccomp_from_model(model, inputs: SymbolicInputs) -> SeccompData:
    def value(v):
        return model.eval(v, model_completion=True).as_long()
    return SeccompData(value(inputs.nr), value(inputs.arch), value(inputs.ip),
                       tuple(value(a) for a in inputs.args))


def shortest_length(solver: z3.Solver, inputs: SymbolicInputs, model):
    """Binary-search the smallest packet length that still satisfies
    everything asserted on ``solver``; returns the best model."""
    length = inputs.length
    best = model.eval(length, model_completion=True).as_long()
    if best > PREFERRED_MAX:
        solver.push()
        solver.add(z3.ULE(length, PREFERRED_MAX))
        if solver.check() == z3.sat:
            model = solver.model()
            best = model.eval(length, model_completion=True).as_long()
        solver.pop()
    lo, hi = 0, best
    while lo < hi:
        mid = (lo + hi) // 2
        solver.push()
        solver.add(z3.ULE(length, mid))
        result = solver.check()
        if result == z3.sat:
            model = solver.model()
            hi = min(mid, model.eval(length, model_completion=True).as_long())
        else:
            lo = mid + 1
        solver.pop()
        if result == z3.unknown:
            break
    return model


def concrete_input(solver: z3.Solver, inputs: SymbolicInputs, model, check: Check, least: bool = False):
    """The smallest readable input the model allows that passes ``check``.

    Returns ``(input, context, note)``; ``input`` is None when no concrete
    input built from the model passes the check (a modelling gap: the note
    says so).
    """
    if inputs.target == "seccomp":
        data = seccomp_from_model(model, inputs)
        if not check(data, None):
            return None, None, "the solver's seccomp input does not replay"
        return _shrink_seccomp(data, check), None, None
    length = model.eval(inputs.length, model_completion=True).as_long()
    if length > PREFERRED_MAX:
        model = shortest_length(solver, inputs, model)   # big packets: let the solver shorten
        length = model.eval(inputs.length, model_completion=True).as_long()
    if length > MAX_WITNESS_BYTES:
        return None, None, (f"the shortest witness packet has {length} bytes, "
                            f"more than a witness may have ({MAX_WITNESS_BYTES})")
    ctx = context_from_model(inputs, model)
    for zero in (True, False):
        packet = packet_from_model(model, inputs, length, zero_untouched=zero)
        if check(packet, ctx):
            break
    else:
        return None, None, "the solver's input does not replay on the reference VM"
    return minimise_packet(solver, inputs, packet, ctx, check, model, least)


def minimise_packet(solver: z3.Solver, inputs: SymbolicInputs, packet: bytes, ctx: Context,
                    check: Check, model=None, least: bool = False):
    """The smallest readable packet input, starting from one that passes
    ``check`` (from a model, or found by concrete exploration): returns
    ``(packet, context, None)``.  ``solver`` holds the goal."""
    # Shorten by replay (cheap), then ask the solver once whether anything
    # shorter exists at all: "a witness of at most n bytes" is monotone in n.
    packet = _truncate(packet, ctx, check)
    if packet and _exists_shorter(solver, inputs, len(packet) - 1):
        if model is None:
            solver.push()
            solver.add(z3.ULE(inputs.length, len(packet) - 1))
            model = solver.model() if solver.check() == z3.sat else None
            solver.pop()
        if model is None:
            return _shrink_packet(packet, ctx, check, inputs.fixed) + (None,)
        model = shortest_length(solver, inputs, model)
        length = model.eval(inputs.length, model_completion=True).as_long()
        ctx = context_from_model(inputs, model)
        shorter = packet_from_model(model, inputs, length, zero_untouched=False)
        if check(shorter, ctx):
            packet = shorter
    packet, ctx = _shrink_packet(packet, ctx, check, inputs.fixed)
    if least:
        packet = least_bytes(solver, inputs, packet, ctx, check)
    return packet, ctx, None


def least_bytes(solver: z3.Solver, inputs: SymbolicInputs, packet: bytes, ctx: Context,
                check: Check) -> bytes:
    """The lexicographically least packet of this length and metadata
    that ``solver`` allows and ``check`` passes: from the first byte on,
    each the least value any such witness has there, given the bytes
    before it.  Two models of the same goal then give the same witness —
    which one z3 finds first depends even on memory addresses (``tcp port
    80`` has a minimal witness with either port set).  One question shows
    a byte can be no lower, a binary search finds how low it goes; each
    candidate is replayed, and a question the solver cannot answer leaves
    the byte as it is.  ``solver`` holds the goal."""
    if not packet or len(packet) > LEAST_BYTES_LIMIT:
        return packet
    solver.push()
    try:
        solver.add(*context_constraints(inputs, ctx, len(packet)))
        for i in range(len(packet)):
            if packet[i]:
                lower = _least_value(solver, inputs.byte(i), packet[i])
                for zero in (True, False) if lower is not None else ():
                    # (bytes the model leaves to the array's default value
                    # may matter: then they are taken as the model has them)
                    candidate = packet_from_model(lower, inputs, len(packet), zero_untouched=zero)
                    if candidate[:i] == packet[:i] and check(candidate, ctx):
                        packet = _zero_from(candidate, i + 1, ctx, check)
                        break
            solver.add(inputs.byte(i) == packet[i])
    finally:
        solver.pop()
    return packet


def _least_value(solver: z3.Solver, byte, current: int):
    """A model in which ``byte`` has the least value it can below
    ``current``; None when it cannot be lower (or the solver cannot tell)."""
    best, lo, hi = None, 0, current - 1
    while lo <= hi:
        bound = hi if best is None else (lo + hi) // 2     # first: can it be lower at all?
        solver.push()
        solver.add(z3.ULE(byte, bound))
        result = solver.check()
        model = solver.model() if result == z3.sat else None
        solver.pop()
        if result == z3.unknown:
            break
        if model is None:
            if best is None:
                return None
            lo = bound + 1
        else:
            best = model
            hi = model.eval(byte, model_completion=True).as_long() - 1
    return best


def _zero_from(packet: bytes, start: int, ctx: Context, check: Check) -> bytes:
    """Each byte from ``start`` on set to 0 where ``check`` still passes."""
    data = bytearray(packet)
    for j in range(start, len(data)):
        if data[j]:
            kept, data[j] = data[j], 0
            if not check(bytes(data), ctx):
                data[j] = kept
    return bytes(data)


def _truncate(packet: bytes, ctx: Context, check: Check) -> bytes:
    """The shortest prefix that still passes ``check`` (binary search; the
    result is checked, so a non-monotone case only costs optimality)."""
    lo, hi = 0, len(packet)
    while lo < hi:
        mid = (lo + hi) // 2
        if check(packet[:mid], ctx):
            hi = mid
        else:
            lo = mid + 1
    return packet[:hi] if check(packet[:hi], ctx) else packet


def _exists_shorter(solver, inputs, bound: int) -> bool:
    solver.push()
    solver.add(z3.ULE(inputs.length, bound))
    result = solver.check()
    solver.pop()
    return result != z3.unsat


def _shrink_packet(packet: bytes, ctx: Context, check: Check, fixed) -> Tuple[bytes, Context]:
    default = Context()
    # Metadata first: defaults make a witness replayable on an AF_UNIX socket.
    for name, value in ctx.non_default().items():
        if name in fixed:
            continue
        candidate = _try_replace(ctx, name, getattr(default, name))
        if candidate is not None and check(packet, candidate):
            ctx = candidate
    if ctx.has_device is False and ctx.ifindex:
        candidate = _try_replace(ctx, "ifindex", 0)
        if candidate is not None and check(packet, candidate):
            ctx = candidate
    if len(packet) <= GREEDY_LIMIT:
        packet = _zero_from(packet, 0, ctx, check)
    return packet, ctx


def _try_replace(ctx: Context, name: str, value) -> Optional[Context]:
    try:
        return ctx.replace(**{name: value})
    except ValueError:
        return None


def _shrink_seccomp(data: SeccompData, check: Check) -> SeccompData:
    args = list(data.args)
    for i, value in enumerate(args):
        if value:
            trial = args[:i] + [0] + args[i + 1:]
            candidate = SeccompData(data.nr, data.arch, data.instruction_pointer, tuple(trial))
            if check(candidate, None):
                args = trial
                data = candidate
    if data.instruction_pointer:
        candidate = SeccompData(data.nr, data.arch, 0, data.args)
        if check(candidate, None):
            data = candidate
    return data
