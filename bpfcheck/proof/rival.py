"""A second opinion on the second core: the pipeline racing the incremental core.

Most questions of an analysis go to z3's incremental core, which keeps
what it learnt between them and answers nearly all of them in
milliseconds.  On some "yes" questions over a big formula, though, it
needs seconds where the non-incremental pipeline (:data:`~bpfcheck.domains.z3dom.PIPELINE`)
needs a fraction of one — on seed 7 of bench's 4,096-instruction random
program, 1–2 s against 0.2–0.6 s — and on other formulas it is the other
way round.  Which one is faster cannot be told beforehand, and the
machine has two cores: a question the incremental core has not answered
within a moment also goes to the pipeline, in a z3 context of its own on
a second thread (z3 releases the GIL while it searches), and the first
answer wins.

z3 contexts are not thread-safe, so each is used by one thread at a time:
the main thread translates formulas into the rival's context only while
no search runs there, and the worker thread only searches.  The worker
stops the incremental core with ``Context.interrupt()``, which z3 allows
from another thread; but an interrupt landing just after that search
returned would cancel the next, unrelated call in the context (z3 keeps
the cancellation until a search starts), so the main thread announces
its searches under a lock, and after one that may have been interrupted
starts an empty search, which clears it.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from typing import Optional, Tuple

import z3

from ..domains.z3dom import limit_params, make_solver

#: seconds the incremental core has a question to itself before the rival
#: joins in (most questions are answered sooner: they never cost a thread)
HEAD_START = 0.05
#: seconds a stopped search gets to return before it is abandoned
STOP_GRACE = 0.2


def second_core_available() -> bool:
    """Whether racing can win anything: two cores this process may use,
    and not turned off with ``BPFCHECK_SOLVER_THREADS=1``."""
    if os.environ.get("BPFCHECK_SOLVER_THREADS", "").strip() == "1":
        return False
    try:
        return len(os.sched_getaffinity(0)) >= 2
    except AttributeError:          # not Linux
        return (os.cpu_count() or 1) >= 2


class Rival:
    """The pipeline solver over a copy of a formula, in its own context;
    one question at a time, searched on a worker thread."""

    def __init__(self, rlimit: Optional[int] = None):
        self.context = z3.Context()
        self.solver = make_solver(rlimit=rlimit, ctx=self.context)
        self._copied = 0                 # assertions of the original held here
        self._goal = None                # kept alive while the worker searches
        self._thread: Optional[threading.Thread] = None
        self._answer: Optional[Tuple[object, object, Optional[str]]] = None
        self._lock = threading.Lock()
        self._racing: Optional[z3.Context] = None     # the context racing it, while it searches
        self._interrupted_racer = False
        self._stopped = False
        #: a search outlived its time and still runs: make a new rival
        self.abandoned = False

    def start(self, assertions, goal, seconds: Optional[float]) -> None:
        """Search ``goal`` together with ``assertions`` (the original
        formula, in the main context: only new ones are copied), for at
        most ``seconds`` (None: no limit)."""
        try:
            for term in assertions[self._copied:]:
                self.solver.add(term.translate(self.context))
            self._copied = len(assertions)
            self.solver.push()
            self._goal = z3.BoolVal(goal, ctx=self.context) if isinstance(goal, bool) else \
                goal.translate(self.context)
            self.solver.add(self._goal)
            self.solver.set(**limit_params(seconds))
        except BaseException:
            self.abandoned = True         # half a copy: the next question makes a new rival
            raise
        self._answer, self._interrupted_racer, self._stopped = None, False, False
        self._thread = threading.Thread(target=self._search, name="bpfcheck-rival", daemon=True)
        self._thread.start()

    def _search(self) -> None:
        try:
            result = self.solver.check()
            model = self.solver.model() if result == z3.sat else None
            reason = self.solver.reason_unknown() if result == z3.unknown else None
        except z3.Z3Exception as e:           # out of memory, or stopped mid-way
            message = getattr(e, "value", e)
            reason = message.decode(errors="replace") if isinstance(message, bytes) else str(message)
            result, model = z3.unknown, None
        self._answer = (result, model, reason)
        if result != z3.unknown:
            with self._lock:
                if self._racing is not None:
                    self._racing.interrupt()
                    self._interrupted_racer = True

    @contextlib.contextmanager
    def racing(self, context: z3.Context):
        """Around the main thread's own search in ``context``: an answer
        from the rival interrupts it.  Yields whether to search at all
        (False: the rival has answered already)."""
        with self._lock:
            self._racing = context
            answered = self._answer is not None and self._answer[0] != z3.unknown
        try:
            yield not answered
        finally:
            with self._lock:
                self._racing = None
                interrupted = self._interrupted_racer
            if interrupted:
                _clear_interrupt(context)

    def answer(self, into: z3.Context, deadline: Optional[float] = None):
        """Wait for the search, until ``deadline`` (a ``time.monotonic()``
        instant; None: however long it takes): ``(result, model in the
        context ``into``, reason)``."""
        if not self._join(deadline):
            return z3.unknown, None, "timeout"
        result, model, reason = self._answer
        self._answer = None
        return result, (model.translate(into) if model is not None else None), reason

    def stop(self) -> None:
        """Stop the search (the main thread's answer came first)."""
        self._join(time.monotonic())
        self._answer = None

    def _join(self, deadline: Optional[float]) -> bool:
        """Wait for the worker until ``deadline``, then stop it.  False
        when it does not stop: z3 checks its limits only now and then (one
        tactic over a big formula can take a second without looking), and
        a question must not outlast its time, so the search is left to end
        on its own, in its own context, and this rival is ``abandoned``."""
        thread = self._thread
        if thread is None:
            return True
        thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
        if thread.is_alive():
            self._stopped = True
            self.context.interrupt()
            thread.join(STOP_GRACE)
        if thread.is_alive():
            self.abandoned = True
            self._thread = None
            return False
        self._thread = None
        self.solver.pop()
        self._goal = None
        if self._stopped:
            _clear_interrupt(self.context)
        return True


def _clear_interrupt(context: z3.Context) -> None:
    """z3 keeps an interrupt that found no search running until the next
    search starts, failing every call in between ("canceled"): an empty
    search clears it."""
    z3.Solver(ctx=context).check()
