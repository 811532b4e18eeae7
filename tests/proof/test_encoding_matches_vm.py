"""The symbolic encoding, pinned to one concrete input, must *be* the VM.

For random programs and inputs chosen at every load boundary (lengths
``offset + size - 1``, ``offset + size``, ``offset + size + 1`` for each
load, X values that wrap), the formula with its inputs fixed to the
concrete values must force exactly the VM's verdict, and its reach
conditions must be true exactly on the VM's path.  This checks the
encoding input by input, where brute force over short packets would miss
an off-by-one.
"""

import random

import z3
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bpfcheck import Context, Machine, Program, SeccompData
from bpfcheck.context import FIELD_RANGES
from bpfcheck.proof.session import Session
from bpfcheck.strategies import programs

SETTINGS = settings(max_examples=150, deadline=None, derandomize=True, database=None,
                    suppress_health_check=list(HealthCheck))


def _pin(session, value, ctx):
    i = session.inputs
    if session.target == "seccomp":
        pins = [i.nr == value.nr, i.arch == value.arch, i.ip == value.instruction_pointer]
        pins += [a == v for a, v in zip(i.args, value.args)]
        return pins
    pins = [i.length == len(value)]
    pins += [z3.Select(i.packet, n) == b for n, b in enumerate(value)]
    if session.target == "pcap":
        pins.append(i.wirelen == (ctx.len if ctx.len is not None else len(value)))
        return pins
    for name in FIELD_RANGES:
        pins.append(i.fields[name] == getattr(ctx, name))
    pins.append(i.has_device == ctx.has_device)
    pins.append(i.has_link_header == (ctx.link_header is not None))
    if ctx.link_header is not None:
        pins.append(i.link_header == ctx.link_header)
    pins.append(i.network_header == ctx.network_header)
    return pins


def _boundary_lengths(program):
    lengths = {0, 1}
    for code, jt, jf, k in program:
        if code & 0x07 in (0, 1) and code & 0xE0 in (0x20, 0x40, 0xA0) and k < 200:
            size = {0x00: 4, 0x08: 2, 0x10: 1}[code & 0x18]
            lengths.update({k + size - 1, k + size, k + size + 1})
    return sorted(n for n in lengths if n >= 0)


def _inputs(program, target, rng):
    if target == "seccomp":
        return [(SeccompData(rng.choice([0, 1, 59, 0x40000000, rng.getrandbits(32)]),
                             rng.choice([0xC000003E, rng.getrandbits(32)]), rng.getrandbits(64),
                             tuple(rng.getrandbits(64) for _ in range(6))), None) for _ in range(12)]
    out = []
    for n in _boundary_lengths(program)[:12]:
        packet = bytes(rng.choice([0, 1, 0x0F, 0x45, 0x80, 0xFF, rng.getrandbits(8)]) for _ in range(n))
        ctx = rng.choice([
            Context(),
            Context(has_device=True, ifindex=rng.randrange(1, 5), hatype=1, link_header=0,
                    network_header=rng.choice([0, 1, 14]), protocol=0x800, vlan_present=1, vlan_tci=5,
                    cpu=1, random=7, mark=9),
            Context(link_header=rng.choice([None, 2]), network_header=rng.choice([0, 3]),
                    payload_offset=rng.randrange(40)),
        ])
        if target == "pcap":
            ctx = Context(len=n + rng.choice([0, 0, 3]))
        out.append((packet, ctx))
    return out


def _boundary_goals(enc, program):
    """Conditions that put each comparison and each load exactly on its edge."""
    from bpfcheck.domains.z3dom import bv
    goals = []
    i = enc.inputs
    for pc, (code, jt, jf, k) in enumerate(program):
        if pc not in enc.states or enc.reach[pc] is False:
            continue
        a, x, _ = enc.states[pc]
        reach = enc.reach[pc] if not isinstance(enc.reach[pc], bool) else z3.BoolVal(True)
        cls, mode = code & 0x07, code & 0xE0
        edges = []
        if cls == 0x05 and code & 0xF0:                       # conditional jump
            other = bv(x) if code & 0x08 else bv(k)
            edges = [bv(a) == other, bv(a) == other + 1, bv(a) + 1 == other, (bv(a) & other) == 0]
        elif cls == 0x04 and code & 0xF0 in (0x30, 0x90, 0x60, 0x70) and code & 0x08:
            edges = [bv(x) == 0, bv(x) == 31, bv(x) == 32, bv(x) == 33]   # div/mod/shift by X
        elif cls in (0, 1) and mode in (0x20, 0x40, 0xA0) and getattr(i, "length", None) is not None:
            size = {0x00: 4, 0x08: 2, 0x10: 1}[code & 0x18]
            base = bv(k) + (bv(x) if mode == 0x40 else 0)
            edges = [i.length == base + size + d for d in (-1, 0, 1)]
            if mode == 0x40:
                edges.append(bv(x) + bv(k) == 0xFFFFFFFF)
        goals += [z3.And(reach, e) for e in edges]
    return goals


def _concrete(session, model, target):
    """The input a model describes, exactly (no minimising: that could hide a bug)."""
    from bpfcheck.proof.witness import packet_from_model, seccomp_from_model
    from bpfcheck.symbolic import context_from_model
    i = session.inputs
    if target == "seccomp":
        return seccomp_from_model(model, i), None
    n = model.eval(i.length, model_completion=True).as_long()
    if n > 4096:
        return None, None
    return packet_from_model(model, i, n, zero_untouched=False), context_from_model(i, model)


def _check_pinned(session, enc, machine, program, target, value, ctx):
    trace = machine.trace(value) if target == "seccomp" else machine.trace(value, ctx)
    session.solver.push()
    session.solver.add(*_pin(session, value, ctx))
    assert session.solver.check() == z3.sat
    model = session.solver.model()
    got = model.eval(enc.verdict, model_completion=True).as_long()
    assert got == trace.verdict, (program, value, ctx, got, trace)
    for pc in range(len(program)):
        cond = enc.reach[pc]
        reached = cond if isinstance(cond, bool) else z3.is_true(model.eval(cond, model_completion=True))
        assert reached == (pc in trace.path), (program, value, ctx, pc, trace.path)
    session.solver.add(enc.verdict != trace.verdict)
    assert session.solver.check() == z3.unsat, (program, value, ctx, "verdict not determined")
    session.solver.pop()


@SETTINGS
@given(st.sampled_from(["socket", "seccomp", "pcap"]).flatmap(
    lambda t: st.tuples(st.just(t), programs(t, max_len=16))))
def test_inputs_on_every_edge_replay_exactly(case):
    target, program = case
    session = Session(target, timeout=None)
    enc = session.add_program("p", program)
    machine = Machine(program, target)
    for goal in _boundary_goals(enc, program):
        status, model = session.check(goal)
        if status != "sat":
            continue
        value, ctx = _concrete(session, model, target)
        if value is None:
            continue
        _check_pinned(session, enc, machine, program, target, value, ctx)


@SETTINGS
@given(st.sampled_from(["socket", "seccomp", "pcap"]).flatmap(
    lambda t: st.tuples(st.just(t), programs(t, max_len=16), st.integers(0, 2**32))))
def test_pinned_formula_is_the_vm(case):
    target, program, seed = case
    rng = random.Random(seed)
    session = Session(target, timeout=None)
    enc = session.add_program("p", program)
    machine = Machine(program, target)
    for value, ctx in _inputs(program, target, rng):
        _check_pinned(session, enc, machine, program, target, value, ctx)


def _idioms():
    """Every opcode with symbolic operands, between prefixes that make A and X
    depend on the packet and a suffix that keeps in-bounds verdicts non-zero."""
    from bpfcheck import isa
    from bpfcheck.semantics import KERNEL_OPCODES
    prefixes = {
        "x-from-msh": [(0xB1, 0, 0, 0), (0x20, 0, 0, 2)],                  # X = 4*(P[0]&15), A = P[2:6]
        "x-from-word": [(0x20, 0, 0, 0), (0x07, 0, 0, 0), (0x28, 0, 0, 4)],  # X = P[0:4], A = P[4:6]
    }
    cases = []
    for code in sorted(KERNEL_OPCODES):
        cls = code & 0x07
        if cls == 0x06 or code in (0x60, 0x61):
            continue
        ks = [2, 0xFFFFFFFF, isa.SKF_NET_OFF + 1]
        if cls == 0x00 and code & 0xE0 == 0x20:
            # (The netlink-attribute searches are uninterpreted functions in
            # the encoding: pinning the packet does not pin them.)
            ks = [5, isa.SKF_NET_OFF + 1, isa.SKF_LL_OFF + 2] + \
                 [isa.SKF_AD_OFF + e for e in sorted(isa.EXTENSIONS)
                  if e not in (isa.SKF_AD_NLATTR, isa.SKF_AD_NLATTR_NEST)]
        if cls == 0x04 and code & 0xF0 in (0x30, 0x90) and not code & 0x08:
            ks = [3, 0xFFFFFFFF]
        if cls == 0x04 and code & 0xF0 in (0x60, 0x70) and not code & 0x08:
            ks = [1, 31]
        for name, prefix in prefixes.items():
            for k in ks:
                if cls == 0x05 and code != 0x05:
                    body = [(code, 0, 1, k), (0x06, 0, 0, 1), (0x06, 0, 0, 2)]
                elif code == 0x05:
                    body = [(code, 0, 0, 1), (0x06, 0, 0, 1), (0x04, 0, 0, 1), (0x16, 0, 0, 0)]
                else:
                    body = [(code, 0, 0, k), (0x04, 0, 0, 1), (0x87, 0, 0, 0), (0x04, 0, 0, 1),
                            (0x16, 0, 0, 0)] if cls in (0x01, 0x07) else \
                           [(code, 0, 0, k), (0x04, 0, 0, 1), (0x16, 0, 0, 0)]
                cases.append((f"{name}/{code:#04x}/{k:#x}", prefix + body))
    return cases


def test_every_opcode_with_symbolic_operands_on_every_edge():
    from bpfcheck import Program
    from bpfcheck.errors import ValidationError
    checked = 0
    for target in ("socket", "pcap"):
        for label, insns in _idioms():
            program = Program(insns)
            try:
                machine = Machine(program, target)
            except ValidationError:
                continue
            session = Session(target, timeout=None)
            enc = session.add_program("p", program)
            for goal in _boundary_goals(enc, program):
                status, model = session.check(goal)
                if status != "sat":
                    continue
                value, ctx = _concrete(session, model, target)
                if value is not None:
                    _check_pinned(session, enc, machine, program, target, value, ctx)
                    checked += 1
    assert checked > 300


# Found by a long random soundness run: `mod x` at 31 always sees X == 0
# (the abstract run knows it, the formula only implies it), so the jump
# at 32 is never reached — and the encoder used to look up the abstract
# run's facts for it and crash.
AFTER_A_GUARD_THAT_ALWAYS_FIRES = Program(
    [(0x20, 0, 0, 0), (0x1D, 4, 0, 0), (0x0C, 0, 0, 0), (0x16, 0, 0, 0), (0x0C, 0, 0, 0), (0x16, 0, 0, 0),
     (0x00, 0, 0, 0), (0x05, 0, 0, 0xA), (0x0C, 0, 0, 0), (0x16, 0, 0, 0), (0x20, 0, 0, 0), (0x0C, 0, 0, 0),
     (0x16, 0, 0, 0), (0x0C, 0, 0, 0), (0x16, 0, 0, 0), (0x20, 0, 0, 0), (0x0C, 0, 0, 0), (0x16, 0, 0, 0),
     (0x0C, 0, 0, 0), (0x20, 0, 0, 0), (0x0C, 0, 0, 0), (0x05, 0, 0, 0x4), (0x0C, 0, 0, 0), (0x16, 0, 0, 0),
     (0x0C, 0, 0, 0), (0x16, 0, 0, 0), (0x07, 0, 0, 0), (0x0C, 0, 0, 0), (0x0C, 0, 0, 0), (0x0C, 0, 0, 0),
     (0x07, 0, 0, 0), (0x9C, 0, 0, 0), (0x1D, 0, 0, 0), (0x06, 0, 0, 0)])


def test_an_instruction_only_a_firing_guard_leads_to_is_dead_not_a_crash():
    from bpfcheck import analyze, prove
    result = analyze(AFTER_A_GUARD_THAT_ALWAYS_FIRES)
    assert {32, 33} <= set(result.dead) and not result.unknown
    machine = Machine(AFTER_A_GUARD_THAT_ALWAYS_FIRES, "socket")
    for n in range(0, 40, 3):
        for fill in (0, 1, 0xFF):
            assert 32 not in machine.trace(bytes([fill]) * n, Context()).path
    outcome = prove(AFTER_A_GUARD_THAT_ALWAYS_FIRES, "verdict <= 0")
    assert outcome.status == "refuted" and outcome.witness.verdicts["program"] > 0
