"""``corpus run``: replay a regression corpus, write JUnit and HTML."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import threading

from ..errors import UsageError
from . import common


EPILOG = """exit codes:
  0      every case passed
  1      a case failed (each failure explained on standard output)
  2      bad input or usage (one line on standard error)
  128+N  stopped by signal N (SIGINT 130, SIGTERM 143): what ran is reported,
         JUnit and HTML are written

Progress goes to standard error: a live line on a terminal, a line every
few seconds otherwise. Which .toml files are cases: bpfcheck/corpus/discover.py."""


def register(sub) -> None:
    p = sub.add_parser("corpus", help="replay a regression corpus (corpus run DIR)",
                       description="Regression corpora: directories of case files (TOML, format "
                       "bpfcheck-case/1; see bpfcheck/corpus/case.py).")
    verbs = p.add_subparsers(dest="verb", metavar="VERB")
    run = verbs.add_parser("run", help="replay every case under DIR",
                           description="Validate each case's program, replay its inputs with their "
                           "expected verdicts on the reference VM and, where available, the kernel "
                           "(socket: AF_UNIX, for packets with the AF_UNIX context; seccomp) and "
                           "libpcap (pcap target), prove its properties and equivalence. Exit 0 when "
                           "every case passes, 1 when one fails, 2 for bad usage, 128+N when stopped "
                           "by signal N (what ran is still reported and written).",
                           epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    run.add_argument("directory", metavar="DIR", help="a corpus directory (or one case file)")
    run.add_argument("--junit", metavar="FILE", help="write JUnit XML here (one testcase per case)")
    run.add_argument("--html", metavar="DIR", help="write the HTML report into this directory")
    run.add_argument("-j", "--jobs", type=int, default=None, metavar="N",
                     help="cases run in N processes (default: one per CPU)")
    common.add_timeout_argument(run, 30.0, help="seconds per solver question (default 30)")
    run.add_argument("-q", "--quiet", action="store_true", help="no progress on standard error")
    common.add_json_argument(run)
    run.set_defaults(handler=cmd_corpus_run)
    p.set_defaults(handler=lambda args: _need_verb(p))


def _need_verb(parser) -> int:
    raise UsageError("corpus: say what to do: corpus run DIR")


def cmd_corpus_run(args) -> int:
    from ..corpus.discover import find_cases
    from ..corpus.parallel import run_corpus
    from ..corpus.progress import Progress
    if not os.path.exists(args.directory):
        raise UsageError(f"corpus run: {args.directory}: no such directory")
    if args.jobs is not None and args.jobs < 1:
        raise UsageError("corpus run: -j needs a positive number of processes")
    # Output paths are checked before the run, not found unwritable after it.
    if args.junit:
        common.check_output_path(args.junit, "--junit")
    if args.html:
        common.check_output_path(args.html, "--html", directory=True)
    paths = find_cases(args.directory)
    if not paths:
        raise UsageError(f"corpus run: no case files under {args.directory} "
                         "(*.toml with format = \"bpfcheck-case/1\", or under a corpora/ directory)")
    progress = Progress(len(paths), quiet=args.quiet)
    run = run_corpus(args.directory, args.jobs, args.timeout, report=bool(args.html),
                     on_result=progress.update, paths=paths)
    why = signal.Signals(run.interrupted).name if run.interrupted else None
    progress.finish(f"interrupted by {why}" if why else "")
    written = _write_outputs(run, args, why)
    failures = [r for r in run.results if r.status != "passed"]
    status = "interrupted" if why else "passed" if not failures else "failed"
    if args.json:
        from ..corpus.results import failure_json
        common.emit_json({"status": status, "cases": len(run.results), "total": len(paths),
                          "passed": len(run.results) - len(failures),
                          "failures": [failure_json(r, c) for r in failures for c in r.failures],
                          "failed_cases": [r.name for r in failures], "not_run": run.not_run,
                          "seconds": round(run.seconds, 2), "jobs": run.jobs,
                          "checked_by": oracle_tally(run.results), **written})
    else:
        for r in failures:
            print(r.explain())
            print()
        ran = f"{len(run.results)} of {len(paths)} cases ran" if why else _cases(len(paths))
        print(f"{ran}: {len(run.results) - len(failures)} passed, {len(failures)} failed "
              f"({run.seconds:.1f} s, {run.jobs} process{'es' if run.jobs > 1 else ''})"
              + (f"; interrupted by {why}" if why else ""))
        print("checked by: " + ", ".join(f"{k} {v}" for k, v in oracle_tally(run.results).items()))
        if "junit" in written:
            print(f"JUnit: {written['junit']}")
        if "html" in written:
            print(f"HTML report: {written['html']}")
    if why:
        return 128 + run.interrupted
    return 1 if failures else 0


def _cases(n: int) -> str:
    return f"{n} case" + ("" if n == 1 else "s")


def oracle_tally(results) -> dict:
    """How many answers each implementation gave across the run (shows
    that the kernel and libpcap were really asked, not skipped)."""
    tally = {}
    for r in results:
        for c in r.checks:
            for name in c.got:
                tally[name] = tally.get(name, 0) + 1
    return dict(sorted(tally.items(), key=lambda kv: -kv[1]))


@contextlib.contextmanager
def _signals_deferred():
    """SIGINT/SIGTERM while the reports are written take effect once they
    are: a report is never left half replaced (new case pages, stale ones
    removed, but the old index still in place)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught = []
    previous = {s: signal.signal(s, lambda signum, frame: caught.append(signum))
                for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        if caught:
            signal.raise_signal(caught[0])


def _write_outputs(run, args, why) -> dict:
    with _signals_deferred():
        return _write_outputs_now(run, args, why)


def _write_outputs_now(run, args, why) -> dict:
    written = {}
    if args.junit:
        from ..atomic import write_atomic
        from ..corpus.junit import junit_xml
        try:
            write_atomic(args.junit, junit_xml(run.results, run.not_run, seconds=run.seconds))
        except OSError as e:
            raise UsageError(f"cannot write {args.junit}: {e.strerror or e}") from None
        written["junit"] = args.junit
    if args.html:
        from ..report import write_report
        try:
            written["html"] = write_report(run.results, args.html, run.not_run, run.seconds, why)
        except OSError as e:
            raise UsageError(f"cannot write the report into {args.html}: {e.strerror or e}") from None
    return written
