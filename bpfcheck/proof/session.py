"""A proof session: inputs, the programs encoded over them, one solver.

Every query bpfcheck asks goes through :meth:`Session.find`, which adds a
goal, asks z3 within the time limit, and turns a model into a concrete,
minimised, replayed :class:`Witness` — or says honestly that it does not
know and why.
"""

from __future__ import annotations

import contextlib
import itertools
import time
from typing import Callable, Dict, Optional, Sequence, Tuple

import z3

from ..context import Context
from ..domains.z3dom import limit_params, make_incremental_solver, make_solver, milliseconds
from ..errors import ExecutionError, ResourceLimit
from ..program import Program
from ..symbolic import SymbolicInputs, encode, netlink
from ..symbolic.executor import NETLINK_APPROXIMATION, RULE_LOOP_BOUND, Encoding
from ..vm import Machine
from . import witness as witness_mod
from .outcome import Witness
from .loopback import Loopback
from .rival import HEAD_START, Rival, second_core_available

SAT, UNSAT, UNKNOWN = "sat", "unsat", "unknown"

#: seconds the incremental solver gets on one question before
#: :meth:`Session.check_incrementally` asks the main solver instead; it
#: stops trying once more than INCREMENTAL_MISSES questions, and more than
#: one in INCREMENTAL_MISS_RATIO, ran out of patience (on some formulas,
#: like a long chain of diamonds, the incremental core is hopeless)
INCREMENTAL_PATIENCE = 2.0
INCREMENTAL_MISSES = 2
INCREMENTAL_MISS_RATIO = 8
#: once the main solver has answered questions the incremental one gave up
#: on, the incremental one waits at most PATIENCE_FACTOR times as long as
#: those answers took (but at least MIN_PATIENCE): on a formula where the
#: main solver needs 0.2 s, two seconds of patience would be wasted on
#: every question the incremental core cannot settle quickly
PATIENCE_FACTOR = 2.0
MIN_PATIENCE = 0.2
#: seconds past its time limit the solver racing the incremental one is
#: waited for (z3 usually stops within milliseconds of its limit)
RIVAL_SLACK = 0.1
#: programs (instructions, all of a session's together) up to which each
#: witness gets the lexicographically least bytes the solver allows: the
#: same answer whichever model z3 finds first (see witness.least_bytes)
LEAST_BYTES_PROGRAMS = 128
#: backward jumps an exploring run of a looping program may take (see Session.explorer)
EXPLORE_LAPS = 4096


class Session:
    """``programs`` maps a role ("a", "b", "program", "match:EXPR") to a Program."""

    def __init__(self, target: str, timeout: Optional[float] = None,
                 fixed: Optional[Dict[str, object]] = None, rlimit: Optional[int] = None,
                 budget: Optional[float] = None):
        self.target = target
        self.timeout = timeout
        self.started = time.monotonic()
        #: seconds for everything this session asks (None: no limit); past
        #: it, every question is unknown without being asked
        self.budget = budget
        self._share = 1.0
        self.inputs = SymbolicInputs(target, fixed)
        self.solver = make_solver(timeout=timeout, rlimit=rlimit)
        self._rlimit = rlimit
        self._rival: Optional[Rival] = None
        self._second_core = second_core_available()
        self.solver.add(*self.inputs.constraints) if self.inputs.constraints else None
        self.encodings: Dict[str, Encoding] = {}
        self.machines: Dict[str, Machine] = {}
        #: lo in a private namespace, for witnesses needing metadata (opened when first needed)
        self.loopback = Loopback()
        self._explorers: Dict[str, Machine] = {}
        self.last_reason: Optional[str] = None
        self._incremental: Optional[z3.Solver] = None
        self._incremental_size = 0         # assertions of the main solver it holds
        self._questions = itertools.count()
        self._incremental_misses = 0
        self._incremental_answers = 0
        #: seconds the main solver took on questions the incremental one
        #: missed, averaged (None: none yet)
        self._fallback_seconds: Optional[float] = None

    def add_program(self, role: str, program: Sequence, target: Optional[str] = None) -> Encoding:
        target = target or self.target
        program = Program(program)
        enc = encode(program, self.inputs, target, name=_safe(role))
        self.solver.add(*enc.definitions) if enc.definitions else None
        self.encodings[role] = enc
        self.machines[role] = Machine(program, target)
        self._explorers[role] = self.machines[role] if enc.loop_bound is False else \
            Machine(program, target, max_laps=EXPLORE_LAPS)
        return enc

    # --- the budget ---------------------------------------------------------
    def share(self, fraction: float) -> None:
        """From now on, stop asking once ``fraction`` of the budget has
        gone since the session began (so one hard phase of a long analysis
        cannot starve the next); no effect without a budget."""
        self._share = fraction

    def lift_budget(self) -> None:
        """No budget from now on (the analysis it was for is over): later
        questions, like :meth:`Analysis.witness`, get the usual limits."""
        self.budget = None
        self.solver.set(**limit_params(self.timeout))
        if self._incremental is not None:
            self._incremental.set(**limit_params(self._patience()))

    def remaining(self) -> Optional[float]:
        """Seconds left of the budget, or of the current share of it (None:
        no budget)."""
        if self.budget is None:
            return None
        return max(0.0, self.started + self._share * self.budget - time.monotonic())

    def out_of_budget(self) -> bool:
        left = self.remaining()
        if left is not None and left <= 0:
            self.last_reason = self.budget_reason()
            return True
        return False

    def budget_reason(self) -> str:
        if self._share < 1.0:
            return f"this part of the analysis used its share of the {self.budget:g} s budget"
        return f"the analysis ran out of its {self.budget:g} s budget"

    def within_budget(self, seconds: float) -> float:
        """``seconds``, or what is left of the budget when that is less."""
        left = self.remaining()
        return seconds if left is None else min(seconds, left)

    def _seconds(self, patience: Optional[float]) -> Optional[float]:
        """The time of one question: ``patience`` (None: no limit), cut to
        what is left of the budget when there is one."""
        left = self.remaining()
        if left is not None:
            patience = left if patience is None else min(patience, left)
        return patience

    def _limit(self, solver: z3.Solver, patience: Optional[float]) -> None:
        """Give ``solver`` the time of one question (see :meth:`_seconds`;
        None: no limit)."""
        solver.set(timeout=milliseconds(self._seconds(patience)))

    @contextlib.contextmanager
    def at_most(self, seconds: float):
        """Every question asked inside takes at most ``seconds`` (or the
        session's own limit, when that is shorter)."""
        saved = self.timeout
        self.timeout = seconds if saved is None else min(saved, seconds)
        try:
            yield
        finally:
            self.timeout = saved

    def _unknown_reason(self, solver: z3.Solver) -> str:
        left = self.remaining()
        if left is not None and left <= 0.001:
            return self.budget_reason()
        return _explain_unknown(solver.reason_unknown(), self.timeout)

    # --- asking -------------------------------------------------------------
    def check(self, goal) -> Tuple[str, Optional[z3.ModelRef]]:
        """Is ``goal`` satisfiable together with everything added so far?"""
        if goal is False:
            return UNSAT, None
        if self.out_of_budget():
            return UNKNOWN, None
        with out_of_memory_is_unknown(self):
            self.solver.push()
            try:
                if goal is not True:
                    self.solver.add(goal)
                self._limit(self.solver, self.timeout)
                result = self.solver.check()
                if result == z3.sat:
                    return SAT, self.solver.model()
                if result == z3.unsat:
                    return UNSAT, None
                self.last_reason = self._unknown_reason(self.solver)
                return UNKNOWN, None
            finally:
                with contextlib.suppress(z3.Z3Exception):
                    self.solver.pop()
        return UNKNOWN, None

    def check_incrementally(self, goal, *extra) -> Tuple[str, Optional[z3.ModelRef]]:
        """:meth:`check` of ``goal`` and ``extra`` for a series of many
        questions over the same formula: asked of a second solver that
        keeps what it learnt between questions (``literal -> goal`` stays
        asserted, the question is ``check(literal, *extra)``), so most
        answers take milliseconds.  Exact either way.  A question that
        solver has not answered within :data:`~.rival.HEAD_START` also
        goes to the main solver's pipeline on the second core (see
        :mod:`.rival`), and the first answer wins; on one core, or when
        that solver runs out of patience (:data:`INCREMENTAL_PATIENCE`),
        the question goes to :meth:`check`."""
        if goal is False:
            return UNSAT, None
        if self.out_of_budget():
            return UNKNOWN, None
        question = z3.And(goal, *extra) if extra else goal
        missed = False
        if self._incremental_misses <= INCREMENTAL_MISSES or \
                self._incremental_misses * INCREMENTAL_MISS_RATIO <= self._incremental_answers:
            with out_of_memory_is_unknown(self):
                solver = self._incremental_solver()
                literal = z3.Bool(f"question_{next(self._questions)}")
                solver.add(z3.Implies(literal, goal) if goal is not True else literal)
                patience = self._patience()
                head = min(patience, HEAD_START) if self._second_core else patience
                self._limit(solver, head)
                result = solver.check(literal, *extra)
                if result == z3.unknown and head < patience and not self.out_of_budget():
                    return self._race(self._rival_solver(), solver, (literal, *extra), question)
                self._incremental_answers += result != z3.unknown
                if result == z3.sat:
                    return SAT, solver.model()
                if result == z3.unsat:
                    return UNSAT, None
                if self.out_of_budget():
                    return UNKNOWN, None
                self._incremental_misses += 1
                missed = True
        started = time.monotonic()
        answer = self.check(question)
        if missed:
            took = time.monotonic() - started
            self._fallback_seconds = took if self._fallback_seconds is None else \
                (self._fallback_seconds + took) / 2
        return answer

    def _race(self, rival: Rival, solver: z3.Solver, assumptions, question) -> Tuple[str, Optional[z3.ModelRef]]:
        """``question`` to the incremental ``solver`` (as a check under
        ``assumptions``) and to ``rival`` at once, each for the whole time
        of a question: the first answer wins and stops the other."""
        seconds = self._seconds(self.timeout)
        deadline = None if seconds is None else time.monotonic() + seconds + RIVAL_SLACK
        rival.start(self.solver.assertions(), question, seconds)
        try:
            solver.set(timeout=milliseconds(seconds))
            result = z3.unknown
            with rival.racing(solver.ctx) as go:
                if go:
                    result = solver.check(*assumptions)
            if result != z3.unknown:
                rival.stop()
                self._incremental_answers += 1
                return (SAT, solver.model()) if result == z3.sat else (UNSAT, None)
            result, model, reason = rival.answer(self.solver.ctx, deadline)
        except BaseException:
            rival.stop()
            raise
        if result == z3.sat:
            return SAT, model
        if result == z3.unsat:
            return UNSAT, None
        self.last_reason = self.budget_reason() if self.out_of_budget() else \
            _explain_unknown(reason or "unknown", self.timeout)
        self._incremental_misses += 1
        return UNKNOWN, None

    def _patience(self) -> float:
        """Seconds the incremental solver gets on one question."""
        patience = INCREMENTAL_PATIENCE if self.timeout is None else min(self.timeout, INCREMENTAL_PATIENCE)
        if self._fallback_seconds is not None:
            patience = min(patience, max(MIN_PATIENCE, PATIENCE_FACTOR * self._fallback_seconds))
        return patience

    def _rival_solver(self) -> Rival:
        """The solver racing the incremental one (made when first needed:
        most sessions never need it)."""
        if self._rival is None or self._rival.abandoned:
            self._rival = Rival(self._rlimit)
        return self._rival

    def _incremental_solver(self) -> z3.Solver:
        assertions = self.solver.assertions()
        if self._incremental is None or len(assertions) != self._incremental_size:
            self._incremental = make_incremental_solver(timeout=self._patience())
            self._incremental.add(*assertions)
            self._incremental_size = len(assertions)
        return self._incremental

    def find(self, goal, replay: Callable[[object, Optional[Context]], bool], hint=None,
             incremental: bool = False):
        """Look for an input satisfying ``goal``; return ``(status, input,
        context, note)`` where the input is concrete, minimised and passes
        ``replay`` (the goal re-checked on the reference VM).  ``hint``, an
        input ``(packet, context)`` believed to pass ``replay``, saves the
        first solver question when it does.  ``incremental`` minimises with
        the solver of :meth:`check_incrementally` (for the many witnesses
        of one analysis: its questions are cheaper there, and one it runs
        out of patience on only leaves the witness longer)."""
        minimiser = self._incremental_solver() if incremental else self.solver
        def safe_replay(value, ctx):
            # A candidate that makes libpcap loop or abort is simply not a witness.
            try:
                return replay(value, ctx)
            except ExecutionError:
                return False

        goal = self.within_unrolling(goal)
        if hint is not None and self.target != "seccomp" and safe_replay(*hint):
            if self.out_of_budget():
                return SAT, hint[0], hint[1], "not minimised: " + self.budget_reason()
            self._limit(minimiser, self._patience() if incremental else self.timeout)
            minimiser.push()
            try:
                if goal is not True:
                    minimiser.add(goal)
                with out_of_memory_is_unknown(self):
                    value, ctx, note = witness_mod.minimise_packet(minimiser, self.inputs, hint[0],
                                                                   hint[1] or Context(), safe_replay,
                                                                   least=self._small())
                    return (SAT,) + self._on_loopback(value, ctx, safe_replay) + (None,)
            finally:
                minimiser.pop()
        status, model = self.check(goal)
        if status != SAT:
            return status, None, None, self.last_reason if status == UNKNOWN else None

        self.solver.push()
        try:
            if goal is not True:
                self.solver.add(goal)
            value, ctx, note = witness_mod.concrete_input(self.solver, self.inputs, model, safe_replay,
                                                          self._small())
            if value is None and self._searches_netlink():
                value, ctx, note = self._walked_input(safe_replay, note)
        finally:
            self.solver.pop()
        if value is None:
            return UNKNOWN, None, None, note
        return (SAT,) + self._on_loopback(value, ctx, safe_replay) + (None,)

    def _on_loopback(self, value, ctx: Optional[Context], replay) -> tuple:
        """``(value, ctx)``; a socket witness whose metadata an ``AF_UNIX``
        datagram cannot carry becomes a frame on ``lo`` with the metadata
        of a copy the kernel makes of it, when it replays so (see
        :mod:`.loopback`): then the kernel can confirm it."""
        if self.target != "socket" or ctx is None or ctx.replace(cpu=0) == Context() or self.inputs.fixed:
            return value, ctx       # (metadata pinned by the caller stays as it is)
        program = next(iter(self.machines.values())).program
        return self.loopback.prefer(program, value, ctx, replay) or (value, ctx)

    def _small(self) -> bool:
        """Whether witnesses get their least bytes (:func:`witness.least_bytes`):
        a question per bit of each byte that matters, cheap on small programs."""
        return sum(len(m.program) for m in self.machines.values()) <= LEAST_BYTES_PROGRAMS

    def _searches_netlink(self) -> bool:
        return any(NETLINK_APPROXIMATION in enc.approximations for enc in self.encodings.values())

    def _walked_input(self, replay, note):
        """Where a model's netlink search result is one no packet gives
        (the search is an unknown function in the formula): the question
        again, with each search pinned to a walk of a few attributes (see
        :mod:`~bpfcheck.symbolic.netlink`), whose models all replay.  Works
        on the main solver, inside the caller's push."""
        walks = netlink.bounded_walks(self.solver.assertions())
        if not walks:
            return None, None, note
        self.solver.add(*walks)
        self._limit(self.solver, self.timeout)
        result = self.solver.check()
        if result == z3.sat:
            return witness_mod.concrete_input(self.solver, self.inputs, self.solver.model(), replay,
                                              self._small())
        walked = f"whose netlink searches walk {netlink.STEPS} attributes or fewer"
        if result == z3.unsat:
            return None, None, f"{note} (nor does any input {walked})"
        return None, None, f"{note} (and none {walked} was found: {self._unknown_reason(self.solver)})"

    # --- concrete replay ------------------------------------------------------
    def small_input(self):
        """A condition keeping packets replayable (None for seccomp)."""
        if self.target == "seccomp":
            return None
        return z3.ULE(self.inputs.length, witness_mod.PREFERRED_MAX)

    def concrete(self, model, cut: Optional[int] = None):
        """The input a model describes, as it stands (not minimised); ``(None,
        None)`` when it is too big to build.  With ``cut``, a packet longer
        than that is cut to it: another input, which may or may not do
        what the model does (replay tells)."""
        if self.target == "seccomp":
            return witness_mod.seccomp_from_model(model, self.inputs), None
        length = model.eval(self.inputs.length, model_completion=True).as_long()
        if cut is not None:
            length = min(length, cut)
        if length > witness_mod.MAX_WITNESS_BYTES:
            return None, None
        from ..symbolic import context_from_model
        packet = witness_mod.packet_from_model(model, self.inputs, length, zero_untouched=False)
        return packet, context_from_model(self.inputs, model)

    def run(self, role: str, value, ctx: Optional[Context]):
        """The reference VM's trace of ``role`` on a concrete input."""
        return _trace(self.machines[role], self.target, value, ctx)

    def explorer(self, role: str) -> Machine:
        """The reference VM of ``role`` for runs that explore: in a program
        that loops, a run longer than EXPLORE_LAPS counts as not finishing
        (a loop that never ends costs a second before the VM's own limit,
        and shows nothing new)."""
        return self._explorers[role]

    def explore_run(self, role: str, value, ctx: Optional[Context]):
        """:meth:`run`, by :meth:`explorer`."""
        return _trace(self._explorers[role], self.target, value, ctx)

    def make_witness(self, value, ctx, roles=None, rule=None, rule_pc=None, note=None) -> Witness:
        roles = roles or list(self.machines)
        verdicts = {}
        for role in roles:
            verdicts[role] = self.run(role, value, ctx).verdict
        kernel = None
        if self.target == "socket":
            kernel = confirm_on_kernel(self.machines[roles[0]].program, value, ctx, verdicts[roles[0]],
                                       self.loopback)
            self.loopback.close()       # a child process each: not kept for a witness that may never come
        if self.target == "seccomp":
            return Witness(self.target, seccomp=value, verdicts=verdicts, rule=rule, rule_pc=rule_pc,
                           kernel=kernel, note=note)
        return Witness(self.target, packet=value, context=ctx, verdicts=verdicts, rule=rule,
                       rule_pc=rule_pc, kernel=kernel, note=note)

    def within_unrolling(self, goal):
        """Restrict ``goal`` to runs that stay inside the unrolled loops: a
        run cut off by the bound has no real verdict."""
        bounds = [enc.loop_bound for enc in self.encodings.values() if enc.loop_bound is not False]
        if not bounds:
            return goal
        stay = z3.Not(z3.Or(*[z3.BoolVal(b) if isinstance(b, bool) else b for b in bounds]))
        return stay if goal is True else z3.And(goal, stay)

    def loop_bound_possible(self) -> bool:
        """Whether some encoding can leave its unrolled region (then "proved"
        cannot be claimed)."""
        for enc in self.encodings.values():
            if enc.loop_bound is not False and self.check(enc.loop_bound)[0] != UNSAT:
                return True
        return False

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started


def _trace(machine: Machine, target: str, value, ctx: Optional[Context]):
    return machine.trace(value) if target == "seccomp" else machine.trace(value, ctx)


def confirm_on_kernel(program, packet, ctx, verdict, loopback: Loopback) -> Optional[bool]:
    """Replay a socket witness on the running kernel: through an AF_UNIX
    socketpair when its metadata is what a datagram carries (the CPU
    aside: the oracle pins it), else on ``lo`` when a copy there has it;
    None when that is not possible here."""
    if ctx is None or not isinstance(packet, bytes) or len(packet) > witness_mod.PREFERRED_MAX:
        return None
    if ctx.replace(cpu=0) != Context():
        return loopback.confirm(program, packet, ctx, verdict)
    try:
        from ..oracles.kernel import kernel_verdicts
        return kernel_verdicts(program, [packet], cpu=ctx.cpu)[0] == verdict
    except Exception:   # no kernel oracle here (not Linux, no permission, random loads)
        return None


def _safe(role: str) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in role)[:40]


def _out_of_memory(e: BaseException) -> bool:
    return isinstance(e, z3.Z3Exception) and "memory" in str(e.value if hasattr(e, "value") else e)


@contextlib.contextmanager
def out_of_memory_is_unknown(session: Session):
    """Past its memory cap (``--max-memory``) z3 raises from any call, not
    only from ``check``: inside this block that is an unknown answer, with
    the reason in ``session.last_reason``."""
    try:
        yield
    except z3.Z3Exception as e:
        if not _out_of_memory(e):
            raise
        session.last_reason = _explain_unknown("memory", session.timeout)


@contextlib.contextmanager
def solver_limits():
    """Around a whole proof: z3 running out of memory anywhere (building
    terms, minimising a witness) is a :class:`~bpfcheck.errors.ResourceLimit`."""
    try:
        yield
    except z3.Z3Exception as e:
        if not _out_of_memory(e):
            raise
        raise ResourceLimit(_explain_unknown("memory", None)) from None


def _explain_unknown(reason: str, timeout: Optional[float]) -> str:
    if reason in ("timeout", "canceled") and timeout is not None:
        return f"the solver ran out of time ({timeout:g} s)"
    if "max. resource limit" in reason or "rlimit" in reason:
        return "the solver hit its resource limit"
    if "memory" in reason:
        from ..domains.z3dom import _MAX_MEMORY
        cap = f" (--max-memory {_MAX_MEMORY[0]} MB)" if _MAX_MEMORY[0] is not None else ""
        return f"the solver ran out of memory{cap}"
    return f"the solver could not decide ({reason})"


def loop_rule_note(enc: Encoding) -> Optional[str]:
    if any(e.rule == RULE_LOOP_BOUND for e in enc.exits):
        return "libpcap backward jumps were unrolled a bounded number of times"
    return None
