"""The fuzzer finds a bug planted in the reference VM and shrinks it.

The bug: ``lsh x`` shifts by X instead of ``X & 31`` (libpcap's meaning,
not the kernel's).  It is planted in one test-local ``Machine`` factory
(the VM's handler for opcode 0x6c replaced on each machine it builds), so
nothing outside this test sees it: the semantics table, the compiled path
and every other Machine stay right.
"""

from __future__ import annotations

import time

from bpfcheck.corpus.case import load_case
from bpfcheck.corpus.runner import run_case
from bpfcheck.formats import parse
from bpfcheck.fuzz import FuzzConfig, run_campaign
from bpfcheck.semantics import TABLES
from bpfcheck.vm import Machine

from fuzz_support import needs_kernel

LSH_X = 0x6C
BUDGET = 60.0


def unmasked_shift_machine(program, target):
    machine = Machine(program, target)
    wrong = TABLES["pcap"][LSH_X]        # shifts by X >= 32 give 0
    machine._handlers = [wrong if insn[0] == LSH_X else handler
                         for insn, handler in zip(machine.program, machine._handlers)]
    return machine


@needs_kernel
def test_fuzzer_finds_an_unmasked_shift_and_shrinks_it(tmp_path):
    corpus = tmp_path / "corpus"
    config = FuzzConfig(against=("kernel",), targets=("socket",), seconds=BUDGET, corpus=str(corpus),
                        seed=11, stop_after_findings=1, inputs=256, shrink_seconds=20.0, progress=False)
    started = time.monotonic()
    result = run_campaign(config, machine=unmasked_shift_machine, fast=False)
    elapsed = time.monotonic() - started
    assert result.findings, f"no finding in {elapsed:.1f} s ({result.stats.cases} programs)"
    assert elapsed < BUDGET
    case = load_case(result.findings[0])
    program = parse(case.program.text, case.program.format)
    assert len(program) <= 4, f"not shrunk enough:\n{program}"
    assert any(insn[0] == LSH_X for insn in program), program
    assert case.provenance["kind"] == "verdict" and case.provenance["against"] == "kernel"
    # The case expects the kernel's verdict: the real bpfcheck agrees with it
    # (so the case passes), the broken VM does not.
    assert run_case(result.findings[0]).status == "passed"
    packet = case.packets[0]
    assert unmasked_shift_machine(program, "socket").run(packet.data) != packet.verdict
