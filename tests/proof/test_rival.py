"""The pipeline racing the incremental core on the second core (proof/rival.py).

A question the incremental core has not answered within its head start
also goes to the pipeline, in a z3 context of its own on another thread;
the first answer wins.  What must hold: the answers are the same as with
one core, the winner stops the loser, a search that outlives its time is
left behind (never waited for past the question's limit), and the main
context is usable after the rival interrupted it.
"""

import os
import sys
import threading
import time

import pytest
import z3

from bpfcheck import Machine, analyze
from bpfcheck.proof import rival as rival_module
from bpfcheck.proof import session as session_module
from bpfcheck.proof.rival import Rival, second_core_available
from bpfcheck.proof.session import Session

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "bench"))
from proofs import live_random_program  # noqa: E402

needs_two_cores = pytest.mark.skipif(not second_core_available(),
                                     reason="racing needs two cores this process may use")


class _Interruptible(z3.Context):
    """A context whose interrupt() is seen (the incremental core's, here)."""

    def __init__(self):
        super().__init__()
        self.interrupted = threading.Event()

    def interrupt(self):
        self.interrupted.set()
        super().interrupt()


class _SlowCore:
    """An incremental core that answers nothing until interrupted (60 s at most)."""

    def __init__(self):
        self.ctx = _Interruptible()
        self.timeouts = []
        self.checks = 0
        self.racing = threading.Event()     # set once its racing search has begun

    def set(self, timeout):
        self.timeouts.append(timeout)

    def add(self, *terms):
        pass

    def check(self, *assumptions):
        self.checks += 1
        if self.checks > 1:             # the head start gives up at once; the race waits
            self.racing.set()
            self.ctx.interrupted.wait(60)
        return z3.unknown


def _program():
    # ldb [3]; add #5; jeq #0x4c: ret #1, else ret #0
    return [(0x30, 0, 0, 3), (0x04, 0, 0, 5), (0x15, 0, 1, 0x4C), (0x06, 0, 0, 1), (0x06, 0, 0, 0)]


def _racing_session(monkeypatch):
    """A session whose incremental core is a :class:`_SlowCore` and whose
    main solver must not be asked: ``(session, core, encoding)``."""
    core = _SlowCore()
    session = Session("socket", timeout=30)
    enc = session.add_program("program", _program())
    monkeypatch.setattr(Session, "_incremental_solver", lambda self: core)
    monkeypatch.setattr(Session, "check", lambda self, goal: pytest.fail("the main solver was asked"))
    return session, core, enc


def _reaches_3(session, model):
    # The model is in the main context and describes an input that gets there.
    packet, ctx = session.concrete(model, cut=64)
    return 3 in Machine(_program()).trace(packet, ctx).path


@needs_two_cores
def test_the_rivals_answer_wins_and_interrupts_the_incremental_search(monkeypatch):
    session, core, enc = _racing_session(monkeypatch)
    search = Rival._search

    def search_once_the_core_races(self):  # the order this test is about, every time
        core.racing.wait(60)
        search(self)
    monkeypatch.setattr(Rival, "_search", search_once_the_core_races)
    status, model = session.check_incrementally(enc.reach[3])
    assert status == "sat" and core.ctx.interrupted.is_set()
    assert core.checks == 2 and core.timeouts[-1] == 30_000    # the race: the question's whole time
    assert _reaches_3(session, model)


@needs_two_cores
def test_a_rival_that_answers_before_the_race_begins_spares_the_incremental_search(monkeypatch):
    session, core, enc = _racing_session(monkeypatch)
    start = Rival.start

    def start_and_finish(self, *args):     # the rival's answer is in before the core races
        start(self, *args)
        self._thread.join(60)
    monkeypatch.setattr(Rival, "start", start_and_finish)
    status, model = session.check_incrementally(enc.reach[3])
    assert status == "sat" and core.checks == 1 and not core.ctx.interrupted.is_set()
    assert _reaches_3(session, model)


@needs_two_cores
def test_a_context_the_rival_interrupted_works_afterwards():
    # z3 keeps an interrupt until the next search starts: one landing just
    # after the search it was meant for would fail the next model
    # evaluation ("canceled").  The racing block clears it.
    context = z3.main_ctx()
    x = z3.BitVec("x", 32)
    solver = z3.SolverFor("QF_BV")
    solver.add(x * 3 == 12)
    rival = Rival()
    rival.start([], z3.BoolVal(True), 10)
    rival.answer(context)
    rival._interrupted_racer = True          # as if its answer had come just then
    with rival.racing(context) as go:
        assert go
        assert solver.check() == z3.sat
        context.interrupt()
    assert solver.model().eval(x * 3).as_long() == 12


def test_a_rival_that_outlives_its_time_is_left_behind_and_replaced(monkeypatch):
    release = threading.Event()

    def deaf_search(self):                # a search ignoring every interrupt
        release.wait(60)
        self._answer = (z3.unknown, None, "canceled")
    monkeypatch.setattr(Rival, "_search", deaf_search)
    monkeypatch.setattr(rival_module, "STOP_GRACE", 0.05)
    rival = Rival()
    rival.start([], z3.BoolVal(True), 0.01)
    worker = rival._thread
    result, model, reason = rival.answer(z3.main_ctx(), time.monotonic() + 0.05)
    assert result == z3.unknown and model is None and rival.abandoned
    assert worker.is_alive()                  # not waited for
    session = Session("socket", timeout=1)
    session._rival = rival
    assert session._rival_solver() is not rival
    release.set()
    worker.join(10)


@needs_two_cores
@pytest.mark.parametrize("size,seed", [(512, 2), (512, 3), (256, 7)])
def test_racing_gives_the_same_analysis_as_one_core(monkeypatch, size, seed):
    # With no head start, nearly every question races: whichever solver
    # wins, what is dead, what can fire and the verdicts are the same.
    program = live_random_program(size, seed)
    races = []
    real_race = Session._race
    monkeypatch.setattr(Session, "_race", lambda self, *args: races.append(1) or real_race(self, *args))
    monkeypatch.setattr(session_module, "HEAD_START", 0.0)
    raced = analyze(program, "socket", timeout=60)
    assert races, "no question raced: the test would prove nothing"
    monkeypatch.setenv("BPFCHECK_SOLVER_THREADS", "1")
    alone = analyze(program, "socket", timeout=60)
    assert raced.dead == alone.dead and not raced.unknown and not alone.unknown
    assert [(f.kind, f.pc) for f in raced.findings] == [(f.kind, f.pc) for f in alone.findings]
    assert raced.verdicts == alone.verdicts


def test_a_question_that_is_just_true_or_false_can_race():
    # "Any verdict at all?" is the plain True when nothing is excluded yet.
    for goal, expected in ((True, z3.sat), (False, z3.unsat)):
        rival = Rival()
        rival.start([], goal, 5)
        assert rival.answer(z3.main_ctx())[0] == expected
