"""The fuzzer finds a bug planted in the reference VM and shrinks it.

The main bug: ``lsh x`` shifts by X instead of ``X & 31`` (libpcap's
meaning, not the kernel's).  It is planted two ways, each seen by its test
only:

* in one test-local ``Machine`` factory (the VM's handler for opcode 0x6c
  replaced on each machine it builds), with the campaign comparing that
  VM itself with the kernel (``fast=False``);
* in the semantics table (``TABLES["socket"][0x6c]``, the single source
  of truth), with the campaign run exactly as ``bpfcheck fuzz`` runs it:
  the compiled fast path, generated from the table, carries the bug too,
  so the kernel is the only side that can show it.  The compiled-program
  cache is emptied before and after, so no wrong code outlives the test.
  Two more table bugs show the other oracles: libpcap's shift given the
  kernel's mask (found against libpcap), and seccomp's ``jset #k`` made a
  ``jeq #k`` (found against the kernel through the socket path).

Each finding must come within 60 s and shrink to at most four
instructions that still hold the planted opcode.
"""

from __future__ import annotations

import time

import pytest

from bpfcheck import semantics
from bpfcheck.corpus.case import load_case
from bpfcheck.corpus.runner import run_case
from bpfcheck.fast import compiled
from bpfcheck.formats import parse
from bpfcheck.fuzz import FuzzConfig, run_campaign
from bpfcheck.semantics import TABLES
from bpfcheck.vm import Machine

from oracle_marks import needs_kernel

LSH_X = 0x6C
BUDGET = 60.0


def unmasked_shift_machine(program, target):
    machine = Machine(program, target)
    wrong = TABLES["pcap"][LSH_X]        # shifts by X >= 32 give 0
    machine._handlers = [wrong if insn[0] == LSH_X else handler
                         for insn, handler in zip(machine.program, machine._handlers)]
    return machine


def _config(corpus, seed, target="socket", against="kernel"):
    return FuzzConfig(against=("pcap",) if against == "libpcap" else ("kernel",), targets=(target,),
                      seconds=BUDGET, corpus=str(corpus), seed=seed, stop_after_findings=1, inputs=256,
                      shrink_seconds=20.0, progress=False)


def _check_finding(result, elapsed, code=LSH_X, against="kernel"):
    """The first finding: found in time, shrunk, showing the planted opcode."""
    assert result.findings, f"no finding in {elapsed:.1f} s ({result.stats.cases} programs)"
    assert elapsed < BUDGET
    case = load_case(result.findings[0])
    program = parse(case.program.text, case.program.format)
    assert len(program) <= 4, f"not shrunk enough:\n{program}"
    assert any(insn[0] == code for insn in program), program
    assert case.provenance["kind"] == "verdict" and case.provenance["against"] == against
    return case, program


@needs_kernel
def test_fuzzer_finds_an_unmasked_shift_and_shrinks_it(tmp_path):
    started = time.monotonic()
    result = run_campaign(_config(tmp_path / "corpus", 11), machine=unmasked_shift_machine, fast=False)
    case, program = _check_finding(result, time.monotonic() - started)
    assert case.provenance.get("shrunk", True)
    # The case expects the kernel's verdict: the real bpfcheck agrees with it
    # (so the case passes), the broken VM does not.
    assert run_case(result.findings[0]).status == "passed"
    packet = case.packets[0]
    assert unmasked_shift_machine(program, "socket").run(packet.data) != packet.verdict


#: (target, opcode, the handler planted for it, the side that must show it, seed);
#: the seeds only make the first finding come early (a few hundred programs
#: at most, so a loaded machine still finds it well within the budget)
TABLE_BUGS = {
    # the kernel shifts by X & 31: planted, libpcap's X >= 32 gives 0
    "socket lsh x": ("socket", LSH_X, ("pcap", LSH_X), "kernel", 3),
    # libpcap gives 0 for X >= 32: planted, the kernel's X & 31
    "pcap lsh x": ("pcap", LSH_X, ("socket", LSH_X), "libpcap", 3),
    # seccomp jset #k planted as jeq #k: seen through the socket path, big-endian words
    "seccomp jset": ("seccomp", 0x45, ("seccomp", 0x15), "kernel", 2),
}


@pytest.fixture
def planted(request, monkeypatch):
    target, code, (source, planted_code), against, seed = TABLE_BUGS[request.param]
    compiled._compile_cached.cache_clear()
    monkeypatch.setitem(semantics.TABLES[target], code, TABLES[source][planted_code])
    yield target, code, against, seed
    monkeypatch.undo()
    compiled._compile_cached.cache_clear()


@needs_kernel
@pytest.mark.parametrize("planted", list(TABLE_BUGS), indirect=True)
def test_fuzzer_finds_a_bug_in_the_semantics_table(tmp_path, planted):
    target, code, against, seed = planted
    started = time.monotonic()
    # as `bpfcheck fuzz` runs: the fast path on
    result = run_campaign(_config(tmp_path / "corpus", seed, target, against))
    case, program = _check_finding(result, time.monotonic() - started, code, against)
    # both of bpfcheck's paths carry the planted bug: only the real side disagrees
    if target == "seccomp":
        from bpfcheck import SeccompData
        s = case.syscalls[0]
        value, expected = SeccompData(s.nr, s.arch, s.instruction_pointer, s.args), s.verdict
    else:
        value, expected = case.packets[0].data, case.packets[0].verdict
    ctx = None
    if target == "pcap" and case.packets[0].wirelen is not None:
        from bpfcheck import Context
        ctx = Context(len=case.packets[0].wirelen)
    assert Machine(program, target).run(value, ctx) != expected
    assert compiled.compile_program(program, target).run(value, ctx) != expected
