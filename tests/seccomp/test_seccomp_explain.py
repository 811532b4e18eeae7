"""``explain``: the per-syscall table, derived from the filter and proved,
then checked syscall by syscall by running the filter through the kernel."""

import random

import pytest

from bpfcheck import isa, syscalls
from bpfcheck.context import SeccompData
from bpfcheck.seccomp.explain import explain
from bpfcheck.seccomp.policy import Policy
from bpfcheck.seccomp.render import explanation_html, explanation_table, explanation_text

from seccomp_support import X86_64, asm, needs_kernel

ALLOW, EPERM, ENOSYS = isa.SECCOMP_RET_ALLOW, 0x50001, 0x50026
KILL_PROCESS, KILL_THREAD = isa.SECCOMP_RET_KILL_PROCESS, isa.SECCOMP_RET_KILL_THREAD


@pytest.fixture(scope="module")
def explained(container):
    return explain(Policy([container]), "x86_64", source="container.json")


def conditions(e):
    return {row.name: {c.verdict: c.condition for c in row.cases} for row in e.conditional}


def test_every_answer_is_proved(explained):
    assert explained.proved, explained.unproved
    sizes = {v: len(calls) for v, calls in explained.groups.items()}
    assert sizes[KILL_PROCESS] == 5 and sizes[ENOSYS] == 4
    assert sum(sizes.values()) + len(explained.conditional) == len(syscalls.table("x86_64"))


def test_argument_rules_are_summarised(explained):
    got = conditions(explained)
    assert got["personality"][ALLOW] == "args[0] in {0x0, 0x8, 0x20000, 0x20008, 0xffffffff}"
    assert got["clone"] == {ALLOW: "args[0] & 0x7e020000 == 0x0", EPERM: "args[0] & 0x7e020000 != 0x0"}
    assert got["socket"][ALLOW] == "args[0] in {0x1, 0x2, 0xa, 0x10}"
    assert got["ioctl"] == {ALLOW: "args[1] != 0x5412", EPERM: "args[1] == 0x5412"}
    assert set(got) == {"personality", "clone", "socket", "ioctl", "unshare"}


def test_outside_the_table_and_other_architectures(explained):
    numbers = {s.label: set(s.possible.verdicts) for s in explained.numbers}
    assert numbers["other numbers not in the table"] == {EPERM}
    assert numbers["x32 numbers (nr | 0x40000000)"] == {ALLOW, EPERM, ENOSYS, KILL_PROCESS}
    arches = {s.label.split()[0]: set(s.possible.verdicts) for s in explained.architectures}
    assert arches["aarch64"] == {KILL_THREAD} and arches["any"] == {KILL_THREAD}
    assert arches["i386"] == {ALLOW, EPERM, ENOSYS, KILL_PROCESS}


@needs_kernel
def test_the_table_matches_the_kernel_syscall_by_syscall(explained, container):
    """Every group member (with args 0 and with random args), every case
    example and every segment example, run by the kernel."""
    from bpfcheck.oracles.seccomp import seccomp_run_via_socket
    rng = random.Random(5)
    inputs, expected = [], []
    for verdict, calls in explained.groups.items():
        for _name, nr in calls:
            for args in ((), tuple(rng.getrandbits(64) for _ in range(6))):
                inputs.append(SeccompData(nr, X86_64, rng.getrandbits(64), args))
                expected.append(verdict)
    for row in explained.conditional:
        for case in row.cases:
            inputs.append(case.example)
            expected.append(case.verdict)
    for seg in explained.numbers + explained.architectures:
        inputs.extend(seg.possible.examples)
        expected.extend(seg.possible.verdicts)
    assert len(inputs) > 700
    assert seccomp_run_via_socket(container, inputs) == expected


def test_32_bit_arches_read_arguments_as_32_bit_values(container):
    e = explain(Policy([container]), "i386")
    assert e.proved
    got = conditions(e)
    assert got["ioctl"][ALLOW] == "args[1] != 0x5412"
    # socketcall multiplexes: socket's domain cannot be checked through it.
    assert got["socketcall"][ALLOW] == "args[0] in {0x1..0x8, 0xb..0x14}"


def test_x32_is_explained_under_the_x86_64_audit_arch(container):
    e = explain(Policy([container]), "x32")
    assert e.proved and e.audit_arch == X86_64
    assert conditions(e)["personality"][ALLOW] == "args[0].lo in {0x0, 0x8, 0x20000, 0x20008, 0xffffffff}"


def test_hand_written_filter_with_ranges_masks_and_ip():
    p = asm("""
        ld [4]
        jne #X86_64, kill
        ld [0]
        jeq #9, mmap
        jeq #1, write
        ret #EPERM
    mmap: ld [32]
        jset #4, kill
        ret #ALLOW
    write: ld [16]
        jgt #2, errno
        ld [12]
        jeq #0, allow
    errno: ret #0x50009
    allow: ret #ALLOW
    kill: ret #KILL_PROCESS
    """)
    e = explain(Policy([p]))
    assert e.proved
    got = conditions(e)
    assert got["mmap"] == {ALLOW: "args[2] & 0x4 == 0x0", KILL_PROCESS: "args[2] & 0x4 != 0x0"}
    assert got["write"][ALLOW] == "args[0].lo in {0x0, 0x1, 0x2} and ip <= 0xffffffff"
    assert {row.name for row in e.conditional} == {"mmap", "write"}


def test_a_stack_is_explained_with_the_kernels_precedence():
    older = asm("ld [0]\n jeq #39, err\n ret #ALLOW\n err: ret #0x50005")      # getpid: ERRNO(5)
    newer = asm("ld [0]\n jeq #39, err\n jeq #102, trap\n ret #ALLOW\n err: ret #0x50007\n"
                "trap: ret #0x30000")
    e = explain(Policy([older, newer]))
    assert e.proved
    assert e.verdict_for(39) == 0x50007           # same action: the newest filter's data wins
    assert e.verdict_for(102) == isa.SECCOMP_RET_TRAP
    assert e.verdict_for(0) == ALLOW


def test_text_json_and_html(explained):
    text = explanation_text(explained, examples=True)
    assert "KILL_PROCESS: 5 system calls" in text and "otherwise" in text and "e.g. personality(" in text
    obj = explained.to_json()
    assert obj["proved"] and {g["action"] for g in obj["groups"]} >= {"ALLOW", "ERRNO(EPERM)"}
    table = explanation_table(explained)
    assert any(r["syscalls"] == ["clone"] for r in table["rows"])
    html = explanation_html(explained)
    assert html.startswith('<section class="bpfcheck-seccomp-explain">') and "&amp; 0x7e020000" in html


def test_html_escapes_everything():
    e = explain(Policy([asm("ret #ALLOW")]), source="<script>alert(1)</script>")
    html = explanation_html(e)
    assert "<script>" not in html and "&lt;script&gt;" in html
