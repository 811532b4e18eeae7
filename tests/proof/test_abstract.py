"""The abstract run must contain every concrete run.

Whatever :func:`bpfcheck.symbolic.abstract.interpret` calls impossible —
an instruction, a jump side, a guard firing — is left out of the formula
and settled without a question, so one concrete run that does it would
turn into a wrong proof.  These tests step the semantics table concretely
and check, at every instruction, that the registers, the scratch cells and
the packet length lie inside the abstract state, that the jump side taken
is one called possible, and that a guard that fires is not one called
never.  The domain's operations are checked the same way, value by value.
"""

import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bpfcheck import Context, SeccompData, analyze
from bpfcheck.domains.concrete import CONCRETE
from bpfcheck.domains.ranges import RANGES, Span, Comparison, contains, join
from bpfcheck.semantics import RULE_OUT_OF_BOUNDS, TABLES
from bpfcheck.strategies import programs
from bpfcheck.symbolic.abstract import interpret
from bpfcheck.vm import make_input
from looping_programs import looping_programs

SETTINGS = settings(max_examples=300, deadline=None, derandomize=True, database=None,
                    suppress_health_check=list(HealthCheck))

_NASTY = [0, 1, 2, 3, 7, 8, 0xF, 0x10, 0x1F, 0x20, 0x7F, 0x80, 0xFF, 0x100, 0xFFFF, 0x10000,
          0x7FFFFFFF, 0x80000000, 0xFFFFFFFE, 0xFFFFFFFF]
u32 = st.one_of(st.sampled_from(_NASTY), st.integers(0, 0xFFFFFFFF), st.integers(0, 300))


@st.composite
def abstract_values(draw, near=None):
    """An abstract value and concrete values inside it: those it was built
    from, its extremes, and random members (a bound one too tight shows
    only at its edge).  ``near``: values to build it next to, often."""
    if near is not None and draw(st.booleans()):
        members = [(m + draw(st.sampled_from([-1, 0, 1]))) & 0xFFFFFFFF for m in near]
    else:
        members = draw(st.lists(u32, min_size=1, max_size=4))
    value = members[0]
    for m in members[1:]:
        value = join(value, m)
    if draw(st.booleans()) and not isinstance(value, int):
        # Sometimes a narrowed value, as jumps make them.
        lo = draw(st.integers(0, min(members)))
        value = Span(lo, max(members), value.bits, value.unknown)
    if isinstance(value, int):
        return value, members
    rng = draw(st.randoms(use_true_random=False))
    candidates = [value.lo, value.hi, value.bits, value.bits | value.unknown, value.lo + 1, value.hi - 1]
    candidates += [value.bits | (rng.getrandbits(32) & value.unknown) for _ in range(6)]
    return value, sorted(set(members) | {c for c in candidates if 0 <= c <= 0xFFFFFFFF and contains(value, c)})


_BINARY = ["add", "sub", "mul", "udiv", "urem", "and_", "or_", "xor", "shl", "lshr"]


@SETTINGS
@given(abstract_values(), abstract_values(), st.sampled_from(_BINARY))
def test_every_operation_contains_its_concrete_results(left, right, op):
    (a, a_members), (b, b_members) = left, right
    result = getattr(RANGES, op)(a, b)
    for x in a_members:
        for y in b_members:
            if op in ("udiv", "urem") and y == 0:
                continue             # a guard ends the run before the result is used
            if op in ("shl", "lshr") and y >= 32:
                expected = 0
            else:
                expected = getattr(CONCRETE, op)(x, y)
            assert contains(result, expected), (op, a, b, x, y, expected, result)


@st.composite
def _neighbours(draw):
    """Two abstract values, the second often built next to the first (the
    edges of a comparison are where an off-by-one hides)."""
    left = draw(abstract_values())
    return left, draw(abstract_values(near=[min(left[1]), max(left[1])]))


@SETTINGS
@given(_neighbours(), st.sampled_from(["eq", "ugt", "uge", "test"]), st.booleans(), st.booleans())
def test_comparisons_are_sound_and_narrow_soundly(pair, op, negated, swap):
    (a, a_members), (b, b_members) = pair[::-1] if swap else pair
    cond = getattr(RANGES, op)(a, b)
    for x in a_members:
        for y in b_members:
            holds = getattr(CONCRETE, op)(x, y) != negated
            if isinstance(cond, bool):       # both exact: folded like the concrete domain
                assert cond == getattr(CONCRETE, op)(x, y)
                continue
            test = cond.inverted() if negated else cond
            truth = test.truth()
            assert truth is None or truth == holds, (op, negated, a, b, x, y)
            if holds:
                narrowed = test.narrowed()
                assert narrowed is not None, (op, negated, a, b, x, y)
                assert contains(narrowed[0], x) and contains(narrowed[1], y), (op, negated, a, b, x, y, narrowed)


def test_the_domain_knows_what_a_byte_can_be():
    byte = Span(0, 0xFF, 0, 0xFF)
    assert RANGES.lshr(byte, 9) == 0
    assert RANGES.ugt(byte, 300) is not True and Comparison("ugt", byte, 300).truth() is False
    low = RANGES.and_(byte, 0x0F)
    assert (low.lo, low.hi) == (0, 0x0F)
    assert RANGES.test(RANGES.or_(byte, 0x80), 0x80).truth() is True


# --- the interpreter against concrete runs ------------------------------------------
def _step_inside(program, target, facts, packet, ctx):
    """Run the table concretely; fail on the first step outside ``facts``."""
    env = make_input(target, packet, ctx)
    table = TABLES[target]
    a = x = 0
    mem = [0] * 16
    pc = 0
    length = None if target == "seccomp" else len(packet)
    while True:
        assert pc in facts.reachable, f"pc {pc} is reached, but the abstract run calls it dead"
        state = facts.states[pc]
        for name, value, abstract in [("A", a, state.a), ("X", x, state.x)] + \
                [(f"M[{i}]", mem[i], state.mem[i]) for i in range(16)]:
            assert contains(abstract, value), f"pc {pc}: {name} = {value:#x} is outside {abstract}"
        if length is not None:
            assert length >= state.length, f"pc {pc}: a {length}-byte packet, known >= {state.length}"
        effect = table[program[pc][0]](program[pc], a, x, mem, CONCRETE, env)
        for cond, value, rule in effect.guards:
            if cond:
                assert (pc, rule) not in facts.never, f"pc {pc}: {rule} fires, called never"
                assert (pc, rule) in facts.guards
                _check_verdict(facts, value)
                return
        a, x, mem_t = effect.applied(a, x, tuple(mem))
        mem = list(mem_t)
        flow = effect.flow
        if flow is None:
            pc += 1
        elif flow[0] == "goto":
            pc += 1 + flow[1]
        elif flow[0] == "jump":
            side = 0 if flow[1] else 1
            assert facts.edges[pc][side], f"pc {pc}: the {'taken' if side == 0 else 'other'} side is taken"
            pc += 1 + (flow[2] if flow[1] else flow[3])
        else:
            _check_verdict(facts, flow[1])
            return


def _check_verdict(facts, verdict):
    assert any(lo <= verdict <= hi for lo, hi in facts.verdict_ranges()), \
        f"verdict {verdict:#x} is outside the abstract bounds {facts.verdict_ranges()}"


def _boundary_lengths(program):
    lengths = {0, 1, 14, 60}
    for code, jt, jf, k in program:
        if code & 0x07 in (0, 1) and k < 200:
            for size in (1, 2, 4):
                lengths.update({k + size - 1, k + size})
    return sorted(n for n in lengths if n >= 0)


def _inputs(program, target, rng):
    if target == "seccomp":
        return [SeccompData(rng.choice([0, 1, 59, rng.getrandbits(32)]),
                            rng.choice([0xC000003E, rng.getrandbits(32)]), rng.getrandbits(64),
                            tuple(rng.choice([0, 1, rng.getrandbits(64)]) for _ in range(6)))
                for _ in range(16)], [None] * 16
    packets, contexts = [], []
    lengths = _boundary_lengths(program)
    for n in sorted(rng.sample(lengths, min(16, len(lengths)))):
        for fill in range(2):
            packets.append(bytes(rng.choice([0, 1, 0x0F, 0x45, 0x80, 0xFF, rng.getrandbits(8)])
                                 if fill else 0 for _ in range(n)))
            if target == "pcap":
                contexts.append(Context(len=n + rng.choice([0, 3])))
            else:
                contexts.append(rng.choice([
                    Context(),
                    Context(has_device=True, ifindex=rng.randrange(1, 5), hatype=1, link_header=0,
                            network_header=rng.choice([0, 14]), protocol=0x800, vlan_present=1,
                            cpu=1, random=rng.getrandbits(32), mark=9),
                    Context(link_header=rng.choice([None, 2]), network_header=3, payload_offset=7),
                ]))
    return packets, contexts


@SETTINGS
@given(st.sampled_from(["socket", "pcap", "seccomp"]).flatmap(
    lambda target: st.tuples(st.just(target), programs(target, max_len=40))), st.randoms(use_true_random=False))
def test_every_concrete_run_stays_inside_the_abstract_run(target_program, rng):
    target, program = target_program
    facts = interpret(program, target)
    if facts is None:
        return             # a libpcap loop: not interpreted
    for packet, ctx in zip(*_inputs(program, target, rng)):
        _step_inside(program, target, facts, packet, ctx)


def test_big_random_programs_stay_inside_too():
    """Long ALU-heavy programs, where joins and narrowing pile up."""
    import os
    import sys
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "bench"))
    from proofs import live_random_program
    rng = random.Random(5)
    for seed in (1, 2, 7):
        program = live_random_program(1024, seed)
        facts = interpret(program, "socket")
        ends = _boundary_lengths(program)
        for _ in range(300):
            n = rng.choice([rng.randrange(400), rng.choice(ends), rng.choice(ends) + 1])
            packet = bytes(rng.choice([0, 1, 0x0F, 0xFF, rng.getrandbits(8)]) for _ in range(n))
            _step_inside(program, "socket", facts, packet, Context())


# --- what it proves ----------------------------------------------------------------
def test_dead_code_and_silent_guards_are_found():
    program = [
        (0x30, 0, 0, 20),          # ldb [20]
        (0x74, 0, 0, 9),           # rsh #9: A is 0
        (0x15, 1, 0, 0),           # jeq #0, +1, +0
        (0x06, 0, 0, 1),           # ret #1: dead
        (0x30, 0, 0, 10),          # ldb [10]: cannot fall off (21 bytes are known)
        (0x25, 0, 1, 0xFF),        # jgt #255: never taken
        (0x06, 0, 0, 2),           # ret #2: dead
        (0x06, 0, 0, 3),
    ]
    facts = interpret(program, "socket")
    assert facts.reachable == {0, 1, 2, 4, 5, 7}
    assert facts.edges[2] == (True, False) and facts.edges[5] == (False, True)
    assert (4, RULE_OUT_OF_BOUNDS) in facts.never and (0, RULE_OUT_OF_BOUNDS) in facts.guards
    result = analyze(program, "socket")
    assert result.dead == [3, 6]
    assert [f.pc for f in result.findings] == [0]
    assert set(result.verdicts) == {0, 3}


def test_a_load_one_byte_past_the_known_length_can_fall_off():
    for second in ((0x30, 0, 0, 11), (0x50, 0, 0, 11), (0x28, 0, 0, 10)):   # ldb [11], ldb [x+11], ldh [10]
        program = [(0x30, 0, 0, 10), second, (0x06, 0, 0, 1)]
        facts = interpret(program, "socket")
        assert (1, RULE_OUT_OF_BOUNDS) in facts.guards
        _step_inside(program, "socket", facts, bytes(11), Context())
        assert facts.states[2].length == 12


def test_an_indexed_load_is_bounded_by_the_largest_index():
    program = [(0xB1, 0, 0, 0),          # ldxb 4*([0]&0xf): X is 0..60
               (0x30, 0, 0, 74),         # ldb [74]: 75 bytes known
               (0x50, 0, 0, 15),         # ldb [x+15]: reads up to byte 75
               (0x06, 0, 0, 1)]
    facts = interpret(program, "socket")
    assert (2, RULE_OUT_OF_BOUNDS) in facts.guards
    _step_inside(program, "socket", facts, b"\x0f" + bytes(74), Context())
    assert not any(pc == 2 for pc, _ in facts.never)
    program[1] = (0x30, 0, 0, 75)          # ldb [75]: now it cannot fall off
    assert (2, RULE_OUT_OF_BOUNDS) in interpret(program, "socket").never


def test_loading_the_same_place_again_gives_the_same_narrowed_value():
    from bpfcheck.symbolic.abstract import interpret
    ip_then_ip6 = [
        (0x28, 0, 0, 12),          # ldh [12]
        (0x15, 0, 3, 0x800),       # jeq #0x800, +0, +3
        (0x28, 0, 0, 12),          # ldh [12] again: 0x800 on this path
        (0x15, 0, 1, 0x86DD),      # jeq #0x86dd: never taken here
        (0x06, 0, 0, 1),           # dead
        (0x06, 0, 0, 2),
        (0x06, 0, 0, 0),
    ]
    facts = interpret(ip_then_ip6, "pcap")
    assert facts.edges[3] == (False, True) and 4 not in facts.reachable
    same_byte = [(0x30, 0, 0, 0), (0x07, 0, 0, 0), (0x30, 0, 0, 0),      # ldb [0]; tax; ldb [0]
                 (0x2D, 0, 1, 0), (0x06, 0, 0, 1), (0x06, 0, 0, 2)]       # jgt x: never
    assert 4 not in interpret(same_byte, "socket").reachable
    syscall_twice = [(0x20, 0, 0, 0), (0x15, 0, 3, 59),                  # ld [0] (nr); jeq #59
                     (0x20, 0, 0, 0), (0x15, 1, 0, 59),                  # ld [0]; jeq #59: always
                     (0x06, 0, 0, 0),                                     # dead
                     (0x06, 0, 0, 0x7FFF0000), (0x06, 0, 0, 0)]
    assert 4 not in interpret(syscall_twice, "seccomp").reachable
    protocol_twice = [(0x20, 0, 0, 0xFFFFF000), (0x25, 0, 3, 10),        # ld proto; jgt #10
                      (0x20, 0, 0, 0xFFFFF000), (0x35, 1, 0, 11),        # ld proto; jge #11: always
                      (0x06, 0, 0, 0), (0x06, 0, 0, 1), (0x06, 0, 0, 2)]
    assert 4 not in interpret(protocol_twice, "socket").reachable


@SETTINGS
@given(looping_programs(), st.randoms(use_true_random=False))
def test_runs_that_loop_stay_inside_the_abstract_run(program, rng):
    # Loop heads start from anything; packets long enough for many laps.
    facts = interpret(program, "pcap")
    for _ in range(24):
        n = rng.choice([0, 1, 5, 13, 20, 31, rng.randrange(150)])
        packet = bytes(rng.choice([0, 1, 6, 0x11, 0x2B, 0x80, 0xFF, rng.getrandbits(8)]) for _ in range(n))
        _step_inside(program, "pcap", facts, packet, Context(len=n))


def test_a_loop_head_starts_from_anything_and_what_the_loop_cannot_do_is_still_found():
    program = [
        (0x01, 0, 0, 0),           # ldx #0
        (0x50, 0, 0, 0),           # head: ldb [x + 0]
        (0x15, 6, 0, 0x2B),        # jeq #0x2b -> ret #1
        (0x74, 0, 0, 8),           # rsh #8: A is 0
        (0x15, 0, 5, 0),           # jeq #0: the other side (ret #2) is dead
        (0x87, 0, 0, 0),           # txa
        (0x04, 0, 0, 1),           # add #1
        (0x07, 0, 0, 0),           # tax
        (0x05, 0, 0, 0xFFFFFFF8),  # ja head
        (0x06, 0, 0, 1),
        (0x06, 0, 0, 2),
    ]
    facts = interpret(program, "pcap")
    assert facts.reachable == set(range(10)) and facts.edges[4] == (True, False)
    assert facts.states[1].x is not None and not isinstance(facts.states[1].x, int)   # any X: not 0
    assert sorted(facts.verdict_ranges()) == [(0, 0), (1, 1)]      # the load falling off, ret #1
    rng = random.Random(1)
    for n in range(12):
        _step_inside(program, "pcap", facts, bytes(rng.choice([0, 0x2B]) for _ in range(n)), Context(len=n))


def test_an_opcode_libpcap_aborts_on_ends_the_abstract_run_and_is_one_clean_error(tmp_path, capsys):
    from bpfcheck.cli import main
    program = [(0x30, 0, 0, 0), (0x15, 0, 1, 7), (0x08, 0, 0, 0), (0x06, 0, 0, 1)]   # 0x08: abort()
    facts = interpret(program, "pcap")
    assert 2 in facts.reachable and 3 in facts.reachable and 2 not in facts.edges
    path = tmp_path / "abort.c"
    path.write_text("{ 0x30, 0, 0, 0 },\n{ 0x15, 0, 1, 7 },\n{ 0x08, 0, 0, 0 },\n{ 0x06, 0, 0, 1 },\n")
    assert main(["analyze", str(path), "--target", "pcap"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "instruction 2" in err[0] and "abort" in err[0]
