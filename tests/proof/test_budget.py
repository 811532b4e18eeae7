"""``analyze(..., budget=S)`` / ``bpfcheck analyze --budget S``: bounded,
and honest about what it did not settle.

A program whose questions are too hard for the solver must still come
back near its budget, with every open instruction and guard reported
unknown for that reason (never silently dead, never silently safe), the
verdicts as sound bounds, and the findings that concrete runs already
fired kept, each with a witness that replays.
"""

import json
import os
import random
import sys
import time

from bpfcheck import Context, Machine, analyze
from bpfcheck.cli import main
from bpfcheck.proof import verdicts as verdicts_module

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "bench"))
from proofs import hash_preimage_program, live_random_program  # noqa: E402

#: seconds past the budget allowed for what is not a question (encoding,
#: a last concrete run, building the result) — generous: CI machines vary
SLACK = 6.0


def test_a_hard_program_comes_back_within_its_budget_and_says_what_is_open():
    program = live_random_program(2048, 2)
    start = time.monotonic()
    result = analyze(program, "socket", budget=2.0)
    assert time.monotonic() - start < 2.0 + SLACK
    reasons = {why for _, why in result.unknown}
    assert result.unknown and any("budget" in why for why in reasons), reasons
    machine = Machine(program, "socket")
    rng = random.Random(2)
    open_pcs = {pc for pc, _ in result.unknown}
    for _ in range(300):
        packet = bytes(rng.choice([0, 1, 0x0F, 0xFF, rng.getrandbits(8)]) for _ in range(rng.randrange(90)))
        trace = machine.trace(packet, Context())
        assert not set(trace.path) & set(result.dead)               # dead is still proved dead
        assert any(lo <= trace.verdict <= hi for lo, hi in result.verdicts.ranges)
        if trace.rule is not None:                                 # a guard that fired: found or open
            assert trace.rule_pc in {f.pc for f in result.findings} | open_pcs
    for finding in result.findings:
        if finding.witness is not None:
            t = machine.trace(finding.witness.packet, finding.witness.context)
            assert t.rule_pc == finding.pc


def test_without_a_budget_nothing_is_cut_short():
    program = [(0x30, 0, 0, 20), (0x25, 0, 1, 0x80), (0x06, 0, 0, 1), (0x06, 0, 0, 0)]
    result = analyze(program, "socket", budget=60.0)
    assert result.unknown == [] and result.verdicts.exact and set(result.verdicts) == {0, 1}
    assert analyze(program, "socket").verdicts == result.verdicts


def test_the_command_line_reports_a_spent_budget_as_unknown(tmp_path, capsys):
    path = tmp_path / "hard.c"
    path.write_text(live_random_program(2048, 2).format("c"))
    assert main(["analyze", str(path), "--budget", "1", "--json"]) == 3
    out = json.loads(capsys.readouterr().out)
    assert out["status"] == "unknown" and out["verdicts"]["exact"] is False
    assert any("budget" in u["reason"] for u in out["unknown"])
    assert main(["analyze", str(path), "--budget", "0"]) == 2          # not a positive number


def test_after_a_spent_budget_the_analysis_can_still_show_a_witness():
    program = live_random_program(2048, 2)
    result = analyze(program, "socket", budget=1.0)
    reached = next(pc for pc in range(len(program)) if pc not in result.dead
                   and pc not in {p for p, _ in result.unknown} and pc > 0)
    witness = result.witness(reached)           # asked with the usual limits, not the spent budget
    assert witness is not None
    assert reached in Machine(program, "socket").trace(witness.packet, witness.context).path


def test_questions_over_a_long_chain_of_arithmetic_keep_their_time_limit():
    # z3's incremental core took a formula of deep terms in for minutes
    # without looking at its time limit, both over the whole program and
    # along one run (branch flips, single-path questions); so did the main
    # solver's SMT core, after variable elimination had put the terms the
    # encoder named back together.  Rounds of multiply, xor-shift and add
    # with no jump: no join ever names a value, so without naming
    # (``executor.named_state``) every term nests as deep as the program.
    import z3
    from bpfcheck.domains.z3dom import make_incremental_solver, make_solver
    from bpfcheck.proof.paths import path_solver, shadow_run
    from bpfcheck.proof.session import Session
    program = hash_preimage_program(3000)
    session = Session("socket")
    enc = session.add_program("program", program)
    last = enc.reach[len(program) - 2]
    for solver, goal in ((make_incremental_solver(timeout=0.25), last), (make_solver(timeout=0.25), last),
                         (path_solver(session, 0.25), None)):
        if goal is None:     # along the run of a zero packet, then the other side of the last jump
            prefix, _, branches = shadow_run(session, "program", bytes(8), Context())
            index = branches[-1][0]
            solver.add(*prefix[:index])
            goal = z3.Not(prefix[index])
        else:
            solver.add(*session.solver.assertions())
        literal = z3.Bool("asked")
        solver.add(z3.Implies(literal, goal))
        start = time.monotonic()
        assert solver.check(literal) in (z3.sat, z3.unsat, z3.unknown)
        assert time.monotonic() - start < 0.25 + SLACK


def test_a_hash_preimage_comes_back_within_its_budget_with_its_target_open(monkeypatch):
    # Reaching ret #1 means inverting the hash: nothing can settle it in
    # seconds, and it must not be called dead.
    program = hash_preimage_program()
    start = time.monotonic()
    result = analyze(program, "socket", budget=3.0)
    assert time.monotonic() - start < 3.0 + SLACK
    accept = len(program) - 2
    assert accept not in result.dead and accept in {pc for pc, _ in result.unknown}
    assert Machine(program, "socket").run(b"bpfcheck") == 1
    assert not result.verdicts.exact and any(lo <= 1 <= hi for lo, hi in result.verdicts.ranges)
    # Asking whether 1 is a verdict is the same hard question: it gets a
    # limit of its own (the analysis's budget is over), and "cannot tell"
    # is "may be", never "no".
    monkeypatch.setattr(verdicts_module, "MEMBERSHIP_SECONDS", 0.5)
    start = time.monotonic()
    assert 1 in result.verdicts
    assert time.monotonic() - start < 0.5 + SLACK
