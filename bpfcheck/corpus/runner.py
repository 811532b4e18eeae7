"""Replaying one case: every check it names, each explained.

In order: read the case, build its program (compile the expression, parse
the text, read the file), check the target accepts it (bpfcheck's
validator and the real one agree with ``valid``), replay the inputs with
their expected verdicts (:mod:`.replay`), prove the properties and the
equivalence (:mod:`.proofs`).  A case passes when every check does;
implementations missing on this machine are skipped with a note.

Nothing stops at the first failure: a case reports every check, so one
run explains everything that changed.
"""

from __future__ import annotations

import os
import time
from typing import Optional

from ..errors import BpfcheckError
from .case import Case, load_case
from .programs import build_program
from .proofs import check_equivalence, check_properties, check_validity
from .replay import replay_packets, replay_pcaps, replay_syscalls
from .results import ERROR, FAILED, PASSED, CaseResult, Check

#: seconds per solver question in a corpus run (a case is a test: it must end)
DEFAULT_TIMEOUT = 30.0


def display_path(path: str, root: Optional[str]) -> str:
    if root:
        try:
            rel = os.path.relpath(path, root)
            if not rel.startswith(".."):
                return rel
        except ValueError:
            pass
    return path


def run_case(path: str, root: Optional[str] = None, timeout: Optional[float] = DEFAULT_TIMEOUT,
             report: bool = False) -> CaseResult:
    """Replay the case in ``path``; never raises for a bad case (that is
    an ``error`` result naming the problem)."""
    started = time.monotonic()
    shown = display_path(path, root)
    try:
        case = load_case(path)
    except BpfcheckError as e:
        result = CaseResult(shown, _stem(path), ERROR)
        result.checks.append(Check("load", "case", "", f"a readable case: {e}", status=ERROR))
        return _done(result, started)
    result = CaseResult(shown, case.name, PASSED, case.target, case.program.describe(),
                        case.description, dict(case.provenance))
    try:
        _replay(case, result, timeout, report)
    except Exception as e:    # a bug must not take the whole corpus run down
        result.checks.append(Check("load", "case", "", f"internal error: {type(e).__name__}: {e}",
                                   status=ERROR))
    return _done(result, started)


def _replay(case: Case, result: CaseResult, timeout, report: bool) -> None:
    try:
        program = build_program(case, case.program)
    except BpfcheckError as e:
        result.checks.append(Check("load", "program", case.program.describe(),
                                   f"a program: {e}", status=ERROR))
        return
    validity = check_validity(case, program)
    result.checks.append(validity)
    if not case.valid or validity.got.get("bpfcheck validator") != "valid":
        return            # nothing can run a program its target refuses
    from ..vm import Machine
    machine = Machine(program, case.target)
    result.checks += replay_packets(case, program, machine)
    result.checks += replay_pcaps(case, program, machine)
    result.checks += replay_syscalls(case, program, machine)
    result.checks += check_properties(case, program, timeout)
    result.checks += check_equivalence(case, program, timeout)
    skipped = sum(1 for c in result.checks if any(n.startswith("kernel skipped: this packet") for n in c.notes))
    if skipped:
        result.notes.append(f"kernel skipped for {skipped} packet(s) whose context is not an AF_UNIX datagram's")
    if report:
        from .reportdata import report_data
        result.report = report_data(case, program, timeout)


def _done(result: CaseResult, started: float) -> CaseResult:
    statuses = {c.status for c in result.checks}
    result.status = ERROR if ERROR in statuses else FAILED if FAILED in statuses else PASSED
    result.seconds = time.monotonic() - started
    return result


def _stem(path: str) -> str:
    return os.path.splitext(os.path.basename(path))[0]
