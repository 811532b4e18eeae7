"""Findings as corpus cases: what they expect, how they replay, how they are written."""

from __future__ import annotations

import multiprocessing
import os

from bpfcheck import Context, Program, SeccompData, isa, run
from bpfcheck.corpus.case import dump_case, load_case, parse_case
from bpfcheck.corpus.runner import run_case
from bpfcheck.differential.values import Acceptance, Input
from bpfcheck.fuzz.findings import FINDINGS_DIR, CorpusWriter, Finding, to_case

from oracle_marks import needs_kernel, needs_libpcap, needs_seccomp

PROGRAM = Program([(0x28, 0, 0, 12), (0x04, 0, 0, 1), (0x16, 0, 0, 0)])
PACKET = bytes(range(40))


def verdict_finding(theirs_delta: int = 1, target="socket", context=None) -> Finding:
    inp = Input(PACKET, context)
    ours = run(PROGRAM, PACKET, context, target=target)
    against = "libpcap" if target == "pcap" else "kernel"
    return Finding("verdict", target, against, PROGRAM, inp, ours, ours + theirs_delta, origin="test")


def write(tmp_path, finding) -> str:
    path = str(tmp_path / "case.toml")
    with open(path, "w") as f:
        f.write(dump_case(to_case(finding, path)))
    return path


@needs_kernel
def test_a_case_expects_the_real_verdict_and_fails_while_bpfcheck_disagrees(tmp_path):
    # the recorded answer is the other side's: bpfcheck + 1 cannot be right
    path = write(tmp_path, verdict_finding(+1))
    case = load_case(path)
    assert case.packets[0].verdict == run(PROGRAM, PACKET) + 1
    assert case.provenance["source"] == "fuzz" and case.provenance["kind"] == "verdict"
    assert run_case(path).status == "failed"
    # a finding whose "other side" is right about bpfcheck replays as a pass
    assert run_case(write(tmp_path, verdict_finding(0))).status == "passed"


def test_the_cpu_is_kept_only_when_the_program_reads_it(tmp_path):
    case = to_case(verdict_finding(1, context=Context(cpu=1)), "x.toml")
    assert case.packets[0].context == {}
    reads_cpu = Program([(0x20, 0, 0, isa.SKF_AD_OFF + isa.SKF_AD_CPU), (0x16, 0, 0, 0)])
    finding = Finding("verdict", "socket", "kernel", reads_cpu, Input(b"", Context(cpu=1)), 1, 0)
    assert to_case(finding, "x.toml").packets[0].context == {"cpu": 1}


@needs_libpcap
def test_pcap_findings_keep_the_wire_length(tmp_path):
    finding = verdict_finding(1, target="pcap", context=Context(len=1000))
    path = write(tmp_path, finding)
    case = load_case(path)
    assert case.target == "pcap" and case.packets[0].wirelen == 1000
    assert run_case(path).status == "failed"


@needs_seccomp
def test_seccomp_findings_are_syscalls(tmp_path):
    program = Program([(0x20, 0, 0, 0), (0x15, 0, 1, 59), (0x06, 0, 0, 0x00050001),
                       (0x06, 0, 0, 0x7FFF0000)])
    data = SeccompData(59, 0xC000003E, 0, (7,))
    finding = Finding("verdict", "seccomp", "kernel", program, Input(data), 0x00050001, 0x7FFF0000)
    path = write(tmp_path, finding)
    case = load_case(path)
    assert case.target == "seccomp" and case.syscalls[0].nr == 59 and case.syscalls[0].verdict == 0x7FFF0000
    assert run_case(path).status == "failed"


@needs_kernel
def test_validation_findings_say_what_the_kernel_decided(tmp_path):
    finding = Finding("validation", "socket", "kernel", PROGRAM, None, Acceptance(True),
                      Acceptance(False, "SO_ATTACH_FILTER failed with EINVAL"))
    path = write(tmp_path, finding)
    assert load_case(path).valid is False
    assert run_case(path).status == "failed"      # both accept it, the case says invalid


def test_programs_that_asm_cannot_carry_are_written_exactly():
    odd = Program([(0x07, 0, 0, 5), (0x16, 0, 0, 0)])     # tax with a k bpf_asm would drop
    finding = Finding("validation", "socket", "kernel", odd, None, Acceptance(True), Acceptance(False))
    case = parse_case(dump_case(to_case(finding, "x.toml")))
    assert case.program.format == "c"
    from bpfcheck.formats import parse
    assert parse(case.program.text, "c") == odd


def test_the_writer_names_files_by_signature_and_skips_duplicates(tmp_path):
    writer = CorpusWriter(str(tmp_path))
    raw = verdict_finding(1)
    first = writer.record(raw)
    assert first and os.path.basename(first) == f"fuzz-socket-verdict-kernel-{raw.signature}.toml"
    assert writer.record(verdict_finding(1)) is None           # the same finding again
    shrunk = Finding("verdict", "socket", "kernel", Program([(0x16, 0, 0, 0)]), Input(b""), 0, 1, shrunk=True)
    final = writer.replace(first, shrunk)
    assert final != first and not os.path.exists(first) and os.path.exists(final)
    assert writer.replace(writer.record(verdict_finding(2)), shrunk) is None   # shrinks to a known one
    assert sorted(os.listdir(tmp_path / FINDINGS_DIR)) == [os.path.basename(final)]


def _write_many(corpus: str, start: int) -> None:
    writer = CorpusWriter(corpus)
    for i in range(start, start + 30):
        f = Finding("verdict", "socket", "kernel", Program([(0x06, 0, 0, i)]), Input(bytes([i])), i, i + 1)
        path = writer.record(f)
        shrunk = Finding("verdict", "socket", "kernel", Program([(0x06, 0, 0, i % 40)]), Input(b""), i, i + 1)
        writer.replace(path, shrunk)


def test_two_writers_sharing_a_corpus_never_corrupt_it(tmp_path):
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_write_many, args=(str(tmp_path), start)) for start in (0, 15)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    names = os.listdir(tmp_path / FINDINGS_DIR)
    assert not [n for n in names if n.endswith(".tmp") or n.startswith(".")]
    programs = set()
    for name in names:
        case = load_case(str(tmp_path / FINDINGS_DIR / name))      # every file whole
        programs.add(case.program.text)
    assert len(programs) == len(names) == 40                        # each distinct finding once
