"""One worker: draws a chunk's cases, checks them, shrinks and writes findings.

A worker reports through ``emit(event)``, one plain tuple per event (it
may cross a process boundary):

* ``("progress", chunk, done_in_chunk, stats_dict)`` — counters since the last report;
* ``("found", summary)`` — a disagreement seen, being shrunk (nothing on disk yet
  when there is no corpus);
* ``("finding", finding_json, path)`` — a finding written (path None: no corpus,
  or already in it);
* ``("chunk", chunk, done)`` — a chunk finished (``done`` < size: stopped early);
* ``("error", summary, traceback)`` — checking a case raised: a bug in bpfcheck,
  reported, and the campaign goes on.

Each finding is written the moment it is seen (raw), then replaced by its
shrunk form; a finding that looks like a bug already written down (same
kind and sides, its run's opcodes include every opcode of a known minimal
finding) is only counted.
"""

from __future__ import annotations

import time
import traceback
from typing import Callable, List, Optional

from ..vm import Machine
from .cases import FuzzCase, StopDrawing, draw_chunk
from .check import Checker
from .config import TARGET_WEIGHTS, FuzzConfig
from .findings import VALIDATION, CorpusWriter, Finding
from .shrink import shrink
from .stats import Stats

#: every Nth case is traced in full (edge coverage, the solver, the batch path)
FULL_EVERY = 8
#: seconds between progress reports
REPORT_EVERY = 0.5


class Worker:
    def __init__(self, config: FuzzConfig, seed: int, number: int, emit: Callable[[tuple], None],
                 stop: Callable[[], bool], cpu=None, machine: Callable = Machine, fast: bool = True):
        self.config = config
        self.seed = seed
        self.number = number
        self.emit = emit
        self.external_stop = stop
        self.checker = Checker(config.against, cpu=cpu, machine=machine, fast=fast, inputs=config.inputs,
                               vm_sample=config.vm_sample)
        self.writer = CorpusWriter(config.corpus) if config.corpus else None
        self.classes = self.writer.bug_classes() if self.writer else []
        self.stats = Stats()
        self.started = time.monotonic()
        self.last_report = self.started
        self.findings = 0
        self.stopped = False
        self._solver_spent = 0.0

    def stop_requested(self) -> bool:
        if self.stopped or self.external_stop():
            self.stopped = True
        return self.stopped

    def close(self) -> None:
        self.checker.close()

    # --- chunks ------------------------------------------------------------------------
    def run_chunk(self, chunk: int, skip: int, count: int) -> int:
        """Run cases ``skip``..``count-1`` of ``chunk``; returns how many of
        its cases are done (``count`` unless stopped)."""
        done = [skip]

        def handle(case: FuzzCase) -> None:
            if self.stop_requested():
                raise StopDrawing()
            try:
                self._check(case)
            except Exception as e:      # a bug in bpfcheck: report it, go on with the next case
                self.stats.errors += 1
                self.emit(("error", f"seed {self.seed}, chunk {case.chunk}, case {case.index}: "
                                    f"{type(e).__name__}: {e}", traceback.format_exc(limit=6)))
            done[0] = case.index + 1
            now = time.monotonic()
            if now - self.last_report >= REPORT_EVERY:
                self.flush(chunk, done[0])
        try:
            draw_chunk(self.seed, chunk, count, self.config.targets, self.config.max_len, handle, skip,
                       TARGET_WEIGHTS)
        except StopDrawing:
            pass
        self.flush(chunk, done[0])
        self.emit(("chunk", chunk, done[0]))
        return done[0]

    def flush(self, chunk: int, done: int) -> None:
        self.emit(("progress", chunk, done, self.stats.to_dict()))
        self.stats = Stats()
        self.last_report = time.monotonic()

    # --- cases -------------------------------------------------------------------------
    def _solver_budget(self) -> float:
        allowance = self.config.solver_share * (time.monotonic() - self.started) - self._solver_spent
        return min(2.0, allowance) if allowance > 0.05 else 0.0

    def _check(self, case: FuzzCase) -> None:
        full = case.index % FULL_EVERY == 0
        budget = self._solver_budget() if full and self.config.solver_share > 0 else 0.0
        before = self.stats.solver_seconds
        found = self.checker.check(case, self.stats, full, budget)
        self._solver_spent += self.stats.solver_seconds - before
        for finding in found:
            finding.origin = f"seed {self.seed}, chunk {case.chunk}, case {case.index}"
            self._report(finding)
            if self.stop_requested():
                break

    def _report(self, finding: Finding) -> None:
        if self._known(finding):
            self.stats.duplicates += 1
            return
        self.emit(("found", finding.describe()))
        raw_path = self.writer.record(finding) if self.writer else None
        result = shrink(finding.program, finding.input, self.checker.predicate(finding),
                        seconds=self.config.shrink_seconds, should_stop=self.external_stop)
        final = self._replayed(finding, result.program, result.input) or finding
        final.shrunk = True
        if not result.complete:
            final.notes.append(f"shrinking stopped after {result.evaluations} tries ({result.seconds:.1f} s)")
        self.classes.append({"kind": final.kind, "target": final.target, "against": final.against,
                             "opcodes": frozenset(final.opcodes)})
        path = None
        if self.writer is not None:
            path = self.writer.replace(raw_path, final)
            if path is None:
                self.stats.duplicates += 1
                return
        self.findings += 1
        self.emit(("finding", final.to_json(path), path))
        if self.config.stop_after_findings and self.findings >= self.config.stop_after_findings:
            self.stopped = True

    def _replayed(self, finding: Finding, program, inp) -> Optional[Finding]:
        candidate = Finding(finding.kind, finding.target, finding.against, program, inp, finding.ours,
                            finding.theirs, finding.origin)
        try:
            return self.checker.replay(candidate)
        except Exception:
            return None

    def _known(self, finding: Finding) -> bool:
        """Does a minimal finding already on record explain this one?"""
        ran = self._opcodes_run(finding)
        return any(c["kind"] == finding.kind and c["target"] == finding.target
                   and c["against"] == finding.against and c["opcodes"] <= ran for c in self.classes)

    def _opcodes_run(self, finding: Finding) -> frozenset:
        if finding.kind == VALIDATION or finding.input is None:
            return frozenset(finding.opcodes)
        trace = self.checker.reference[finding.target].trace(finding.program, finding.input)
        if trace is None:
            return frozenset(finding.opcodes)
        return frozenset(finding.program[pc][0] for pc in trace.path)


def pick_cpu(number: int) -> Optional[int]:
    """Worker N's CPU: the N-th the process may run on (round robin)."""
    import os
    try:
        allowed: List[int] = sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return None
    return allowed[number % len(allowed)] if allowed else None
