"""Running a whole corpus: cases in parallel processes, stoppable.

Cases are independent, so they run in a pool of ``jobs`` forked worker
processes (z3 holds the GIL; threads would not help).  Workers ignore
SIGINT: a Ctrl-C at the terminal reaches the whole process group, and
only the parent decides what happens.  On SIGINT or SIGTERM the parent
stops handing out cases, kills the workers, and returns what finished, so
that the caller still writes its JUnit and HTML (atomically) and says what
ran.
"""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass, field
from typing import Callable, List, Optional

from .discover import find_cases
from .results import PASSED, CaseResult
from .runner import DEFAULT_TIMEOUT, run_case

#: how often the parent wakes up while waiting for results (seconds)
POLL = 0.2


@dataclass
class CorpusRun:
    root: str
    paths: List[str]
    results: List[CaseResult] = field(default_factory=list)
    interrupted: Optional[int] = None           # the signal that stopped the run
    seconds: float = 0.0
    jobs: int = 1

    @property
    def passed(self) -> bool:
        return self.interrupted is None and all(r.status == PASSED for r in self.results)

    @property
    def not_run(self) -> List[str]:
        ran = {r.path for r in self.results}
        from .runner import display_path
        return [display_path(p, self.root) for p in self.paths if display_path(p, self.root) not in ran]


class Interrupted(BaseException):
    """Raised in the parent by the SIGINT/SIGTERM handler."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:        # not Linux
        return max(1, os.cpu_count() or 1)


def run_corpus(root: str, jobs: Optional[int] = None, timeout: Optional[float] = DEFAULT_TIMEOUT,
               report: bool = False, on_result: Optional[Callable[[CaseResult], None]] = None,
               paths: Optional[List[str]] = None) -> CorpusRun:
    """Replay every case under ``root`` (see :mod:`.discover`)."""
    paths = find_cases(root) if paths is None else paths
    jobs = max(1, min(jobs or default_jobs(), len(paths) or 1))
    run = CorpusRun(root if os.path.isdir(root) else os.path.dirname(root), paths, jobs=jobs)
    started = time.monotonic()
    base = run.root
    previous = _install_handlers()
    try:
        if jobs == 1:
            for path in paths:
                _collect(run, run_case(path, base, timeout, report), on_result)
        else:
            _run_pool(run, paths, base, jobs, timeout, report, on_result)
    except Interrupted as e:
        run.interrupted = e.signum
    finally:
        _restore_handlers(previous)
        run.seconds = time.monotonic() - started
    run.results.sort(key=lambda r: r.path)
    return run


def _collect(run: CorpusRun, result: CaseResult, on_result) -> None:
    run.results.append(result)
    if on_result is not None:
        on_result(result)


def _run_pool(run, paths, base, jobs, timeout, report, on_result) -> None:
    """Hand each idle worker the next case; a worker that dies (a crash in
    a native library, the OOM killer) costs only its own case, reported as
    an error, and is replaced."""
    import multiprocessing
    from multiprocessing.connection import wait
    _warm_up()
    context = multiprocessing.get_context("fork")
    todo = list(paths)
    workers: List[_Worker] = []
    try:
        workers = [_Worker(context, (base, timeout, report)) for _ in range(jobs)]
        busy = 0
        while todo or busy:
            for w in workers:
                if w.task is None and todo:
                    w.give(todo.pop(0))
                    busy += 1
            ready = wait([w.conn for w in workers if w.task] + [w.process.sentinel for w in workers if w.task],
                         timeout=POLL)
            for i, w in enumerate(workers):
                if w.task is None:
                    continue
                if w.conn in ready and w.conn.poll():
                    try:
                        result = w.conn.recv()
                    except (EOFError, OSError):
                        result = None
                    if result is not None:
                        w.task = None
                        busy -= 1
                        _collect(run, result, on_result)
                        continue
                if not w.process.is_alive():
                    _collect(run, _died(w, base), on_result)
                    busy -= 1
                    w.close()
                    workers[i] = _Worker(context, (base, timeout, report))
    finally:
        for w in workers:
            w.close()


class _Worker:
    """One forked process running cases sent over its pipe."""

    def __init__(self, context, settings):
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_serve, args=(child, settings, os.getpid()), daemon=True)
        self.process.start()
        child.close()
        self.task: Optional[str] = None

    def give(self, path: str) -> None:
        self.task = path
        self.conn.send(path)

    def close(self) -> None:
        if self.process.is_alive():
            self.process.terminate()
        self.process.join(5)
        self.conn.close()


def _serve(conn, settings, parent: int) -> None:
    _worker_init(parent)
    base, timeout, report = settings
    while True:
        try:
            path = conn.recv()
        except EOFError:
            return
        conn.send(run_case(path, base, timeout, report))


def _died(worker: "_Worker", base: str) -> CaseResult:
    from .results import ERROR, Check
    from .runner import display_path
    code = worker.process.exitcode
    how = f"signal {signal.Signals(-code).name}" if code and code < 0 else f"exit status {code}"
    path = display_path(worker.task, base)
    result = CaseResult(path, os.path.splitext(os.path.basename(path))[0], ERROR)
    result.checks.append(Check("load", "case", "", f"the process replaying this case died ({how})",
                               status=ERROR))
    return result


def _worker_init(parent: int) -> None:
    # A parent killed outright (SIGKILL, the OOM killer) takes its workers
    # with it: they would otherwise wait on their pipe for ever.
    from ..oracles._fork import die_with_parent
    die_with_parent(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _warm_up() -> None:
    """Import the heavy modules once in the parent, so that forked workers
    share them instead of each paying for the import."""
    try:
        import z3  # noqa: F401

        from ..proof import analysis, prove  # noqa: F401
        from ..vm import Machine  # noqa: F401
    except ImportError:
        pass


def _raise(signum, frame):
    raise Interrupted(signum)


def _install_handlers():
    import threading
    if threading.current_thread() is not threading.main_thread():
        return None
    return {s: signal.signal(s, _raise) for s in (signal.SIGINT, signal.SIGTERM)}


def _restore_handlers(previous) -> None:
    if previous:
        for s, handler in previous.items():
            signal.signal(s, handler)
