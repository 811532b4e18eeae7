"""What the HTML report needs beyond pass/fail: the listing, the proved
facts (verdict set, dead code, safety findings) and coverage by the case's
own inputs against what the solver proves reachable."""

from __future__ import annotations

from typing import Optional

from .. import coverage as cov
from ..program import Program
from .case import Case
from .replay import case_inputs
from .results import ReportData


def listing(program: Program, target: str):
    try:
        lines = program.format("tcpdump", canonical=True).splitlines()
        if len(lines) == len(program):
            return lines
    except Exception:      # a listing is a nicety: fall back to bpf_asm per instruction
        pass
    return [f"({pc:03d}) {insn}" for pc, insn in enumerate(program)]


def report_data(case: Case, program: Program, timeout: Optional[float]) -> ReportData:
    data = ReportData(listing=listing(program, case.target), linktype=case.program.linktype)
    data.edges = [(e.src, e.dst, e.kind) for e in cov.edges(program, case.target)]
    inputs = case_inputs(case)
    data.inputs = [ev for _, _, ev in inputs]
    try:
        measured = cov.measure(program, case.target, [(v, c) for v, c, _ in inputs])
        data.pc_hits, data.edge_hits = dict(measured.pc_hits), dict(measured.edge_hits)
        reach = cov.reachability(program, case.target, timeout, seen=measured.edge_keys, mode="any")
        data.pc_status, data.edge_status = dict(reach.pcs), dict(reach.edges)
        data.coverage = cov.summarise(measured, reach).to_json()
    except Exception as e:        # the report still shows the rest
        data.problems.append(f"coverage: {type(e).__name__}: {e}")
    try:
        from ..proof.analysis import analyze
        from ..proof.verdicts import describe_ranges
        result = analyze(program, case.target, timeout)
        data.verdicts = describe_ranges(result.verdicts.ranges)
        data.verdicts_exact = result.verdicts.exact
        data.findings = [(f.kind, f.pc, f.message) for f in result.findings]
        for pc in result.dead:
            data.pc_status[pc] = cov.DEAD
    except Exception as e:
        data.problems.append(f"analysis: {type(e).__name__}: {e}")
    return data
