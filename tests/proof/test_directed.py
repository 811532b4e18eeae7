"""Branch flips, dead-code propagation and per-guard questions stay exact.

Every claim ``analyze`` makes is held to the reference VM: an instruction
it calls dead is never visited, a guard it reports fires on its witness,
and a guard it does not report fires on no input brute force tries.
"""

import itertools
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from bpfcheck import Context, Machine, Program, analyze
from bpfcheck.proof.flips import flip_towards
from bpfcheck.proof.session import Session
from bpfcheck.strategies import programs

from test_soundness import SETTINGS, _inputs, _observe

# ldb [0]; add #7; jeq #0x20 -> ret #1, else ret #0: the branch compares a
# computed value, so flipping the raw byte (concrete exploration) cannot
# reach instruction 3; a question along the run can.
COMPUTED = Program([(0x30, 0, 0, 0), (0x04, 0, 0, 7), (0x15, 0, 1, 0x20),
                    (0x06, 0, 0, 1), (0x06, 0, 0, 0)])


def test_flips_reach_a_branch_on_a_computed_value():
    session = Session("socket")
    session.add_program("program", COMPUTED)
    wanted = {3}
    found = []

    def observe(value, ctx):
        trace = session.run("program", value, ctx)
        found.append((value, ctx, trace))
        return set(trace.path)
    flip_towards(session, "program", [(bytes(4), Context())], wanted, 5.0, observe)
    assert not wanted
    value, ctx, trace = found[-1]
    assert 3 in Machine(COMPUTED, "socket").trace(value, ctx).path


#: where _dead_region's dead instructions start
DEAD_FROM = 6


def _dead_region(n):
    """ldb [0]; st M[0]; add #1; tax; ld M[0]; jgt x (never: a byte is not
    above itself plus one) -> n instructions of loads and arithmetic, else
    ret #0.  Only the solver sees it is dead: the abstract run knows the
    ranges of A and X, not how they are related."""
    body = []
    rng = random.Random(n)
    for i in range(n):
        body.append(rng.choice([(0x30, 0, 0, i % 40), (0x04, 0, 0, i), (0x50, 0, 0, 3), (0x07, 0, 0, 0)]))
    return Program([(0x30, 0, 0, 0), (0x02, 0, 0, 0), (0x04, 0, 0, 1), (0x07, 0, 0, 0), (0x60, 0, 0, 0),
                    (0x2D, 0, len(body) + 1, 0)] + body + [(0x16, 0, 0, 0), (0x06, 0, 0, 0)])


def test_a_long_dead_region_is_dead_and_fires_nothing():
    program = _dead_region(200)
    result = analyze(program, "socket")
    assert result.dead == list(range(DEAD_FROM, DEAD_FROM + 201))
    assert all(f.pc < DEAD_FROM for f in result.findings)
    traces = _observe(program, "socket", _inputs("socket", 1))
    assert not set().union(*(t.path for t in traces)) & set(result.dead)


def _indirect_programs():
    """Socket programs with computed offsets (``tax``; ``ldb [x + k]``),
    where guards fire only on some inputs."""
    return st.tuples(programs("socket", max_len=12), st.integers(0, 2**32)).map(
        lambda case: (Program([(0x30, 0, 0, 0), (0x07, 0, 0, 0), (0x50, 0, 0, 1)] + list(case[0])), case[1]))


@settings(SETTINGS, max_examples=30)
@given(_indirect_programs())
def test_findings_are_exact_against_brute_force(case):
    program, seed = case
    result = analyze(program, "socket")
    assert not result.unknown
    reported = {(f.pc, f.kind) for f in result.findings}
    kinds = {"load out of bounds": "out-of-bounds",
             "link-relative load without a link-layer header": "no-link-header",
             "division by zero (X == 0)": "division-by-zero", "modulo by zero (X == 0)": "division-by-zero",
             "device metadata load without a device ends the program, returning A": "no-device"}
    inputs = _inputs("socket", seed) + [(bytes([b]) + bytes(n), Context())
                                         for b, n in itertools.product((0, 3, 0x40, 0xFF), (0, 2, 5, 70))]
    for trace in _observe(program, "socket", inputs):
        if trace.rule is not None:
            assert (trace.rule_pc, kinds[trace.rule]) in reported, (program, trace)
    machine = Machine(program, "socket")
    for finding in result.findings:
        w = finding.witness
        if w is not None:
            t = machine.trace(w.packet, w.context)
            assert t.rule_pc == finding.pc and kinds[t.rule] == finding.kind, (program, finding)


def test_a_hopeless_solver_is_asked_a_bounded_number_of_questions(monkeypatch, capsys, tmp_path):
    # Every question times out (as on a formula too hard for --timeout):
    # after GIVE_UP_AFTER in a row the rest are reported unknown, not asked.
    from bpfcheck.cli import main
    from bpfcheck.proof.settler import Settler
    asked = []

    def out_of_time(self, goal, *extra):
        asked.append(goal)
        self.last_reason = "the solver ran out of time (1 s)"
        return "unknown", None
    monkeypatch.setattr(Session, "check_incrementally", out_of_time)
    monkeypatch.setattr(Session, "check", lambda self, goal: out_of_time(self, goal))
    program = _dead_region(200)
    result = analyze(program, "socket", timeout=1)
    assert result.dead == []                       # nothing proved without an answer
    unknown = dict(result.unknown)
    assert set(unknown) == set(range(DEAD_FROM, DEAD_FROM + 201))
    assert sum("not asked" in why for why in unknown.values()) >= 190
    assert len(asked) <= 3 * Settler.GIVE_UP_AFTER
    # the command line groups them: one line per reason, pcs as ranges
    path = tmp_path / "dead-region.c"
    path.write_text(program.format("c"))
    assert main(["analyze", str(path), "--timeout", "1"]) == 3
    lines = [l for l in capsys.readouterr().out.splitlines() if l.startswith("unknown:")]
    # one line per reason: whether instructions are reached, and whether
    # their loads can end the run (also unknown: never silently "no")
    reach = [l for l in lines if "whether it can end the run" not in l]
    assert 1 <= len(reach) <= 3 and any("instructions" in l and "-" in l for l in reach)
    assert any("out of bounds" in l for l in lines) and len(lines) <= 2 * len(reach) + 2


def test_analyze_reports_progress_and_the_cli_shows_it_on_a_terminal(monkeypatch, tmp_path):
    import io
    import sys
    from bpfcheck.cli import live, main
    seen = []
    program = _dead_region(40)
    analyze(program, "socket", progress=lambda phase, done, total: seen.append((phase, done, total)))
    phases = [p for p, _, _ in seen]
    assert phases[0] == "reachability" and "safety findings" in phases and phases[-1] == "verdicts"
    assert all(0 <= done <= total for _, done, total in seen)

    class Terminal(io.StringIO):
        def isatty(self):
            return True
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    monkeypatch.setattr(live.LiveLine, "DELAY", 0.0)
    monkeypatch.setattr(live.LiveLine, "PERIOD", 0.0)
    path = tmp_path / "dead-region.c"
    path.write_text(program.format("c"))
    assert main(["analyze", str(path)]) == 0
    shown = terminal.getvalue()
    assert "analyze: reachability" in shown and shown.endswith("\r\033[K")


# --- equivalence of big programs: concrete differences first ---------------------
def _chain(n, last):
    """n tests of packet bytes, then ``ret #last``: a long program whose
    every test can pass (libpcap's dialect takes any length)."""
    insns = []
    for i in range(n):
        insns += [(0x30, 0, 0, i), (0x15, 0, 1, i & 0xFF), (0x01, 0, 0, i)]
    return Program(insns + [(0x87, 0, 0, 0), (0x06, 0, 0, last)])


def test_big_programs_that_differ_are_refuted_by_a_replayed_witness(monkeypatch):
    from bpfcheck import equivalent, subsumes
    from bpfcheck.proof import prove
    found = []
    real = prove._concrete_counterexample
    monkeypatch.setattr(prove, "_concrete_counterexample", lambda *args: found.append(real(*args)) or found[-1])
    a, b = _chain(400, 0), _chain(400, 7)
    outcome = equivalent(a, b, "pcap", timeout=60)
    assert outcome.status == "refuted" and found[0] is not None     # found by running, not asked
    w = outcome.witness
    va, vb = Machine(a, "pcap").run(w.packet, w.context), Machine(b, "pcap").run(w.packet, w.context)
    assert va != vb and (va, vb) == (w.verdicts["a"], w.verdicts["b"])
    # minimal: every load must succeed (a short packet makes both return 0),
    # and no byte matters beyond that
    assert w.packet == bytes(400)
    assert subsumes(b, a, "pcap", timeout=60).status == "refuted"
    assert subsumes(a, b, "pcap", timeout=60).status == "proved"


def test_big_programs_that_agree_are_still_proved():
    from bpfcheck import equivalent
    a = _chain(400, 7)
    b = Program(list(a[:-1]) + [(0x07, 0, 0, 0), (0x87, 0, 0, 0), (0x06, 0, 0, 7)])   # tax; txa: no change
    assert equivalent(a, b, "pcap", timeout=60).status == "proved"


def test_a_property_of_a_big_program_is_refuted_by_running_it_first(monkeypatch):
    from bpfcheck import prove
    from bpfcheck.proof import prove as prove_module
    found = []
    real = prove_module._concrete_counterexample
    monkeypatch.setattr(prove_module, "_concrete_counterexample", lambda *args: found.append(real(*args)) or found[-1])
    program = _chain(400, 7)
    outcome = prove(program, "verdict != 7", "pcap", timeout=60)
    assert outcome.status == "refuted" and found[0] is not None
    assert Machine(program, "pcap").run(outcome.witness.packet, outcome.witness.context) == 7
    assert prove(program, "verdict <= 7", "pcap", timeout=60).status == "proved"


def test_an_answer_with_a_huge_packet_is_cut_and_replayed_not_asked_again(monkeypatch):
    # The solver leaves the packet length free, and often picks gigabytes.
    # Cut to a sendable length, the same input usually still does what the
    # model does: one run settles it, where a second question would cost
    # as much as the first.  Here every model is at least 100,000 bytes
    # long, so a second question ("and at most PREFERRED_MAX") would find
    # nothing: only the cut input can come back.
    import z3
    from bpfcheck.proof.settler import Settler
    from bpfcheck.proof.witness import PREFERRED_MAX
    program = Program([(0x30, 0, 0, 3), (0x04, 0, 0, 5), (0x15, 0, 1, 0x4C), (0x06, 0, 0, 1),
                       (0x06, 0, 0, 0)])        # ldb [3]; add #5; jeq #0x4c: ret #1
    session = Session("socket", timeout=10)
    enc = session.add_program("program", program)
    session.solver.add(z3.UGE(session.inputs.length, 100_000))
    asked = []
    real = Session.check_incrementally
    monkeypatch.setattr(Session, "check_incrementally", lambda self, *goal: asked.append(goal) or real(self, *goal))
    status, model, found = Settler(session)._check(enc.reach[3], {("reach", 3): enc.reach[3]})
    assert status == "sat" and len(asked) == 1
    packet, ctx = found
    assert len(packet) == PREFERRED_MAX and packet[3] == 0x47
    assert 3 in Machine(program).trace(packet, ctx).path


def test_the_incremental_solver_waits_no_longer_than_the_main_one_needs(monkeypatch):
    # When the incremental core gives up and the main solver answers fast,
    # the next questions give the incremental core about as long as that
    # took, not the full patience: a program whose questions all miss would
    # otherwise pay the full patience on every one.
    import z3
    from bpfcheck.proof import session as session_module

    class GivesUp:                       # an incremental core that never answers
        def __init__(self):
            self.timeouts = []

        def set(self, timeout):
            self.timeouts.append(timeout)

        def add(self, *terms):
            pass

        def check(self, *assumptions):
            return z3.unknown
    core = GivesUp()
    monkeypatch.setenv("BPFCHECK_SOLVER_THREADS", "1")     # one core: no rival racing the core
    session = Session("pcap", timeout=10)
    enc = session.add_program("program", _chain(300, 7))
    monkeypatch.setattr(Session, "_incremental_solver", lambda self: core)
    last = len(enc.program) - 1
    assert session.check_incrementally(enc.reach[last])[0] == "sat"      # answered by the main solver
    assert core.timeouts == [2000] and session._fallback_seconds is not None
    expected = max(session_module.MIN_PATIENCE,
                   min(session_module.INCREMENTAL_PATIENCE,
                       session_module.PATIENCE_FACTOR * session._fallback_seconds))
    assert session._patience() == expected < session_module.INCREMENTAL_PATIENCE
    assert session.check_incrementally(z3.Not(enc.reach[last]))[0] == "sat"
    assert core.timeouts[1] == max(1, int(expected * 1000))
