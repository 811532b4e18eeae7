"""The checks of a case that are about every input: validity, properties,
equivalence with a partner program."""

from __future__ import annotations

from typing import List, Optional

from ..errors import BpfcheckError, OracleUnavailable, ValidationError
from ..program import Program
from .case import Case
from .programs import build_program
from .results import ERROR, FAILED, PASSED, Check, Evidence

VALIDATOR = "bpfcheck validator"
SOLVER = "solver"


def check_validity(case: Case, program: Program) -> Check:
    """bpfcheck's validator, and the real implementation's verdict on the
    program (the kernel's checker, or libpcap's ``bpf_validate``)."""
    expected = "valid" if case.valid else "invalid"
    check = Check("validate", "program", f"{len(program)} instructions, target {case.target}", expected)
    try:
        from ..validate import validate
        validate(program, case.target)
        check.got[VALIDATOR] = "valid"
    except ValidationError as e:
        where = f"instruction {e.pc}: " if e.pc is not None else ""
        check.got[VALIDATOR] = "invalid"
        check.notes.append(f"bpfcheck: {where}{e.reason}")
    real = _real_validity(case, program, check)
    if real is not None:
        check.got[real[0]] = real[1]
    check.status = PASSED if all(v == expected for v in check.got.values()) else FAILED
    return check


def _real_validity(case: Case, program: Program, check: Check):
    try:
        if case.target == "socket":
            from ..oracles.kernel import kernel_accepts
            ok, errno = kernel_accepts(program)
            name = "kernel checker"
        elif case.target == "seccomp":
            from ..oracles.seccomp import kernel_seccomp_accepts
            ok, errno = kernel_seccomp_accepts(program)
            name = "kernel seccomp checker"
        else:
            from ..oracles.libpcap import bpf_validate
            ok, errno = bpf_validate(program), 0
            name = "libpcap bpf_validate"
    except (OracleUnavailable, OSError) as e:
        check.notes.append(f"no real implementation to ask: {e}")
        return None
    if not ok and errno:
        import errno as errnos
        check.notes.append(f"{name} refused it: {errnos.errorcode.get(errno, errno)}")
    return name, "valid" if ok else "invalid"


def _evidence(case: Case, witness) -> Evidence:
    if witness.seccomp is not None:
        s = witness.seccomp
        return Evidence(witness.describe(), seccomp={"nr": s.nr, "arch": s.arch,
                                                     "instruction_pointer": s.instruction_pointer,
                                                     "args": list(s.args)})
    from .replay import packet_evidence
    evidence = packet_evidence(case, witness.packet, witness.context, "witness")
    if witness.verdicts:
        evidence.text += "  verdicts " + ", ".join(f"{k}={v:#x}" for k, v in witness.verdicts.items())
    if witness.rule:
        evidence.text += f"  ({witness.rule} at instruction {witness.rule_pc})"
    return evidence


def _outcome_check(case: Case, check: Check, outcome, expect: str) -> Check:
    check.got[SOLVER] = outcome.status
    if outcome.witness is not None:
        check.evidence = _evidence(case, outcome.witness)
        check.evidence.text = "witness: " + check.evidence.text
    if outcome.reason:
        check.notes.append(f"solver: {outcome.reason}")
    check.seconds = outcome.seconds
    check.status = PASSED if outcome.status == expect else FAILED
    return check


def check_properties(case: Case, program: Program, timeout: Optional[float]) -> List[Check]:
    from ..proof.prove import prove
    checks = []
    for i, prop in enumerate(case.properties):
        check = Check("property", f"properties[{i}]", prop.property, prop.expect)
        try:
            outcome = prove(program, prop.property, case.target, timeout, prop.arch,
                            linktype=case.program.linktype)
        except BpfcheckError as e:
            check.got[SOLVER] = f"error: {e}"
            check.status = ERROR
            checks.append(check)
            continue
        checks.append(_outcome_check(case, check, outcome, prop.expect))
        if check.evidence is not None:
            check.evidence.name = f"property-{i}"
    return checks


def check_equivalence(case: Case, program: Program, timeout: Optional[float]) -> List[Check]:
    eq = case.equivalent
    if eq is None:
        return []
    from ..proof.prove import equivalent, subsumes
    label = f"{eq.relation} {eq.partner.describe()}"
    check = Check("equivalence", "equivalent", label, eq.expect)
    try:
        partner = build_program(case, eq.partner)
        relation = subsumes if eq.relation == "subsumes" else equivalent
        outcome = relation(program, partner, case.target, timeout)
    except BpfcheckError as e:
        check.got[SOLVER] = f"error: {e}"
        check.status = ERROR
        return [check]
    _outcome_check(case, check, outcome, eq.expect)
    if check.evidence is not None:
        check.evidence.name = "equivalence"
        verdicts = outcome.witness.verdicts
        check.notes.append(f"this program returns {verdicts.get('a', 0):#x}, the partner "
                           f"{verdicts.get('b', 0):#x}")
    return [check]
