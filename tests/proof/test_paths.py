"""Single-path questions fire guards that cutting a known input cannot."""

from bpfcheck import Context, Machine, Program, analyze
from bpfcheck.proof.paths import fire_on_known_paths, path_conditions
from bpfcheck.proof.session import Session
from bpfcheck.semantics import RULE_OUT_OF_BOUNDS

# ldb [0]; tax; ldb [x + 0]; ret a — the indirect load falls off the packet
# only when byte 0 points past the end, which no cut of a zero packet shows
# (a cut to 0 bytes fails at instruction 0 first).
PROGRAM = Program([(0x30, 0, 0, 0), (0x07, 0, 0, 0), (0x50, 0, 0, 0), (0x16, 0, 0, 0)])


def test_path_conditions_follow_the_run():
    session = Session("socket")
    session.add_program("program", PROGRAM)
    conds = path_conditions(session, "program", bytes(4), Context(), {2})
    prefix, guards = conds[2]
    assert len(prefix) == 1                      # instruction 0 did not fall off
    assert [g.rule for g in guards][-1] == RULE_OUT_OF_BOUNDS


def test_fired_guards_replay_on_the_vm():
    session = Session("socket")
    session.add_program("program", PROGRAM)
    fired = []

    def observe(value, ctx):
        trace = session.run("program", value, ctx)
        fired.append((trace.rule, trace.rule_pc, value, ctx))
    key = ("guard", 2, RULE_OUT_OF_BOUNDS)
    fire_on_known_paths(session, "program", [(bytes(4), Context())], [key], 5.0, observe,
                        lambda k: not fired)
    assert fired and fired[0][:2] == (RULE_OUT_OF_BOUNDS, 2)
    value, ctx = fired[0][2:]
    assert Machine(PROGRAM, "socket").trace(value, ctx).rule_pc == 2


def test_analyze_reports_the_finding_with_a_witness():
    result = analyze(PROGRAM, "socket")
    finding = [f for f in result.findings if f.pc == 2 and f.kind == "out-of-bounds"]
    assert finding and finding[0].witness is not None
    assert finding[0].witness.rule_pc == 2
