"""A campaign: hand out chunks, gather counts and findings, stop cleanly.

With one job the worker runs in this process; with more, each is a forked
process (pinned to its own CPU) that takes chunks from a queue and sends
back plain tuples (:mod:`.worker`).  SIGINT and SIGTERM ask everyone to
stop: workers finish the case at hand (a shrink in progress keeps what it
has), every finding is already whole on disk, the state records how far
each unfinished chunk got, and the summary is printed.  A second signal
stops waiting for workers (after which they are killed).
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import signal
import time
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Tuple

from ..vm import Machine
from .config import FuzzConfig
from .progress import Progress
from .state import State
from .stats import Stats
from .worker import Worker, pick_cpu

#: seconds between saves of the state while running
SAVE_EVERY = 5.0
#: seconds to wait for workers to stop after being asked
GRACE = 60.0


@dataclass
class CampaignResult:
    seed: int
    jobs: int
    against: Tuple[str, ...]
    seconds: float
    stats: Stats
    findings: List[str] = field(default_factory=list)          # paths written
    finding_details: List[dict] = field(default_factory=list)
    interrupted: bool = False
    resumed: bool = False
    totals: dict = field(default_factory=dict)
    notes: List[str] = field(default_factory=list)

    errors: List[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        return "found" if self.stats.disagreements or self.stats.errors else "ok"

    def to_json(self) -> dict:
        s = self.stats
        return {"status": self.status, "cases": s.cases, "seconds": round(self.seconds, 3),
                "disagreements": s.disagreements, "findings": list(self.findings),
                "finding_details": self.finding_details, "comparisons": s.comparisons,
                "comparisons_per_second": round(s.comparisons / self.seconds) if self.seconds else 0,
                "by_side": dict(s.by_side), "validations": s.validations, "skipped": s.skipped,
                "duplicates": s.duplicates, "errors": self.errors,
                "coverage": {"opcodes": s.opcode_coverage(), "edges": s.edge_coverage(),
                             "solver_inputs": s.solver_inputs, "solver_seconds": round(s.solver_seconds, 2)},
                "seed": self.seed, "jobs": self.jobs, "against": list(self.against),
                "interrupted": self.interrupted, "resumed": self.resumed, "totals": self.totals,
                "notes": self.notes}


class _Signals:
    """SIGINT/SIGTERM only count: the loops notice and stop (setting a
    lock-guarded event from inside a handler could deadlock)."""

    def __init__(self):
        self.count = 0
        self.saved = {}

    def __enter__(self):
        for sig in (signal.SIGINT, signal.SIGTERM):
            self.saved[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum, frame):
        self.count += 1

    def __exit__(self, *exc):
        for sig, handler in self.saved.items():
            signal.signal(sig, handler)


class _Plan:
    """Which chunk comes next, and whether the case budget allows it."""

    def __init__(self, state: State, config: FuzzConfig, chunk_size: int):
        self.state, self.config, self.size = state, config, chunk_size
        self.allocated = 0

    def next(self) -> Optional[Tuple[int, int, int]]:
        """(chunk, skip, count) or None when the budget is spent."""
        if self.config.cases is not None and self.allocated >= self.config.cases:
            return None
        chunk, skip = self.state.take()
        count = self.size
        if self.config.cases is not None:
            count = min(self.size, skip + self.config.cases - self.allocated)
        self.allocated += count - skip
        return chunk, skip, count


def run_campaign(config: FuzzConfig, machine: Callable = Machine, fast: bool = True,
                 progress: Optional[Progress] = None) -> CampaignResult:
    """Run a campaign as ``config`` says; ``machine``/``fast`` choose
    bpfcheck's side (a test hands in a deliberately broken VM)."""
    # Signals are caught from the start: one that comes while setting up
    # still ends in a clean stop and a summary.
    with _Signals() as signals:
        state = State(config.corpus)
        seed, chunk_size, resumed = state.begin(config.seed, config.chunk)
        progress = progress or Progress(config.progress)
        for note in state.notes:
            progress.say(f"fuzz: {note}")
        started = time.monotonic()
        deadline = started + config.seconds if config.seconds is not None else None
        run = _Run(config, state, progress, started, seed)
        plan = _Plan(state, config, chunk_size)
        if config.jobs == 1:
            _in_process(config, seed, plan, run, deadline, machine, fast, signals)
        else:
            _with_workers(config, seed, plan, run, deadline, machine, fast, signals)
        interrupted = signals.count > 0
    seconds = time.monotonic() - started
    progress.update(run.stats, seconds, len(run.paths) + run.unwritten, force=True)
    progress.done()
    totals = state.save(run.unsaved, run.unsaved_seconds(), run.unsaved_findings, release=True)
    return CampaignResult(seed, config.jobs, config.against, seconds, run.stats, run.paths, run.details,
                          interrupted, resumed, totals, state.notes + run.notes, run.errors)


class _Run:
    """Gathers what workers report; saves the state now and then."""

    def __init__(self, config, state: State, progress: Progress, started: float, seed: int):
        self.config, self.state, self.progress, self.started, self.seed = config, state, progress, started, seed
        self.stats = Stats()
        self.unsaved = Stats()
        self.unsaved_findings = 0
        self.saved_at = started
        self.seconds_saved = 0.0
        self.paths: List[str] = []
        self.details: List[dict] = []
        self.unwritten = 0          # findings with no corpus to go to
        self.errors: List[str] = []
        self.notes: List[str] = []

    def unsaved_seconds(self) -> float:
        now = time.monotonic() - self.started
        seconds, self.seconds_saved = now - self.seconds_saved, now
        return seconds

    def handle(self, event: tuple) -> None:
        kind = event[0]
        if kind == "progress":
            _, chunk, done, counts = event
            delta = Stats.from_dict(counts)
            self.stats.merge(delta)
            self.unsaved.merge(delta)
            self.state.progress(chunk, done)
        elif kind == "chunk":
            _, chunk, done = event
            self.state.progress(chunk, done)
        elif kind == "found":
            self.progress.say(f"fuzz: disagreement: {event[1]} (shrinking)")
        elif kind == "error":
            _, summary, trace = event
            if len(self.errors) < 100:
                self.errors.append(summary)
            self.progress.say(f"fuzz: internal error (a bug in bpfcheck), {summary}\n{trace.rstrip()}")
        elif kind == "finding":
            _, detail, path = event
            self.details.append(detail)
            self.unsaved_findings += 1
            if path:
                self.paths.append(path)
                self.progress.say(f"fuzz: finding written: {path}")
            else:
                self.unwritten += 1
                self.progress.say("fuzz: finding (no --corpus to write it to): "
                                  f"{detail['kind']} {detail['target']} vs {detail['against']}, "
                                  f"{detail['instructions']} instructions")
        now = time.monotonic()
        self.progress.update(self.stats, now - self.started, len(self.paths) + self.unwritten)
        if now - self.saved_at >= SAVE_EVERY:
            self.save()

    def chunk_finished(self, chunk: int, done: int, count: int) -> None:
        if done >= count:
            self.state.finish(chunk)

    def save(self) -> None:
        self.state.save(self.unsaved, self.unsaved_seconds(), self.unsaved_findings)
        self.unsaved = Stats()
        self.unsaved_findings = 0
        self.saved_at = time.monotonic()


def _stop_check(signals: _Signals, deadline: Optional[float]) -> Callable[[], bool]:
    def stop() -> bool:
        return signals.count > 0 or (deadline is not None and time.monotonic() >= deadline)
    return stop


def _in_process(config, seed, plan: _Plan, run: _Run, deadline, machine, fast, signals: _Signals) -> None:
    stop = _stop_check(signals, deadline)
    if stop():
        return
    worker = Worker(config, seed, 0, run.handle, stop, cpu=pick_cpu(0), machine=machine, fast=fast)
    try:
        while not stop() and not worker.stopped:
            assignment = plan.next()
            if assignment is None:
                break
            chunk, skip, count = assignment
            done = worker.run_chunk(chunk, skip, count)
            run.chunk_finished(chunk, done, count)
    finally:
        worker.close()


# --- several processes ------------------------------------------------------------------
def _worker_main(config, seed, number, tasks, events, stop_event, deadline, machine, fast, parent=None) -> None:
    """In a forked worker: take chunks until told to stop."""
    if parent is not None:           # a parent killed outright takes its workers with it
        from ..oracles._fork import die_with_parent
        die_with_parent(parent)
    interrupted = [False]

    def on_signal(signum, frame):
        interrupted[0] = True
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    def stop() -> bool:
        return interrupted[0] or stop_event.is_set() or (deadline is not None and time.monotonic() >= deadline)

    worker = Worker(config, seed, number, events.put, stop, cpu=pick_cpu(number), machine=machine, fast=fast)
    try:
        events.put(("ready", number))
        while not stop() and not worker.stopped:
            task = tasks.get()
            if task is None:
                break
            chunk, skip, count = task
            done = worker.run_chunk(chunk, skip, count)
            events.put(("done", number, chunk, done, count))
            if worker.stopped and config.stop_after_findings:
                stop_event.set()
    finally:
        worker.close()
        events.put(("exit", number))


def _prepare() -> None:
    """Import and build, once, what every worker needs (the strategies,
    Hypothesis, scapy's frame corpus): forked workers then share it
    instead of each spending seconds on it."""
    from ..frames import sample_frames
    from ..strategies import invalid_programs, packets, programs  # noqa: F401
    from .cases import draw_chunk  # noqa: F401
    sample_frames(0, 300)


def _with_workers(config, seed, plan: _Plan, run: _Run, deadline, machine, fast, signals: _Signals) -> None:
    _prepare()
    ctx = multiprocessing.get_context("fork")
    events = ctx.Queue()
    stop_event = ctx.Event()
    if signals.count:
        return
    tasks: Dict[int, object] = {}
    procs = {}
    for number in range(config.jobs):
        tasks[number] = ctx.SimpleQueue()
        procs[number] = ctx.Process(target=_worker_main, name=f"bpfcheck-fuzz-{number}",
                                    args=(config, seed, number, tasks[number], events, stop_event,
                                          deadline, machine, fast, os.getpid()), daemon=True)
        procs[number].start()
    try:
        _serve(plan, run, deadline, signals, stop_event, events, tasks, procs)
    finally:
        for proc in procs.values():
            proc.join(timeout=1.0)
            if proc.is_alive():
                proc.kill()
                proc.join(timeout=5.0)


def _serve(plan: _Plan, run: _Run, deadline, signals: _Signals, stop_event, events, tasks, procs) -> None:
    """Hand out chunks and gather events until every worker has left."""
    running = set(procs)
    idle_for_good = set()
    asked_to_stop_at = None
    while running:
        stopping = signals.count > 0 or stop_event.is_set() or (
            deadline is not None and time.monotonic() >= deadline)
        if stopping and asked_to_stop_at is None:
            asked_to_stop_at = time.monotonic()
            stop_event.set()
            for number in running:
                tasks[number].put(None)
        if asked_to_stop_at is not None and (signals.count > 1 or time.monotonic() - asked_to_stop_at > GRACE):
            break
        try:
            event = events.get(timeout=0.2)
        except queue.Empty:
            for number in list(running):
                if not procs[number].is_alive():
                    running.discard(number)
                    run.notes.append(f"worker {number} died (exit code {procs[number].exitcode})")
            continue
        except (EOFError, OSError):
            break
        kind = event[0]
        if kind in ("ready", "done"):
            if kind == "done":
                _, number, chunk, done, count = event
                run.chunk_finished(chunk, done, count)
            else:
                number = event[1]
            if not stopping and number not in idle_for_good:
                assignment = plan.next()
                if assignment is None:
                    idle_for_good.add(number)
                    tasks[number].put(None)
                else:
                    tasks[number].put(assignment)
        elif kind == "exit":
            running.discard(event[1])
        else:
            run.handle(event)
    # Whatever is still queued was sent before the workers stopped.
    while True:
        try:
            event = events.get(timeout=0.05)
        except (queue.Empty, EOFError, OSError):
            break
        if event[0] == "done":
            run.chunk_finished(*event[2:])
        elif event[0] not in ("ready", "exit"):
            run.handle(event)
