"""Every one of the kernel's 49 opcodes and every SKF_AD_* extension, on
crafted inputs (see conformance_crafted.py): the reference VM against the
kernel's exact verdicts on an AF_UNIX socket, and the same crafted set
against libpcap's ``bpf_filter`` (``target="pcap"``).

AF_UNIX datagrams have no device (``ld [ifidx]``/``ld [hatype]`` end the
program returning A), no link-layer header, the network header at 0, and
every other field 0 except ``SKF_AD_CPU`` (the pinned CPU, passed in the
Context) and ``SKF_AD_RANDOM`` (compared only where the verdict cannot
depend on it).  The same opcodes on real frames, with a device, are in
test_conformance_packet.py.
"""

from __future__ import annotations

import pytest

from bpfcheck import Context, Machine, isa
from bpfcheck.errors import ValidationError
from bpfcheck.oracles.kernel import KernelRejected
from bpfcheck.program import Program
from bpfcheck.semantics import KERNEL_OPCODES as SEMANTICS_OPCODES

from conformance_crafted import GROUPS, SMALL_PACKETS, all_cases
from conformance_support import (libpcap_mismatches, AD, KERNEL_OPCODES, RET_A, Failures, Mismatch, P,
                                 bpfcheck_verdict, describe_validation, pattern, report, ret,
                                 show_program)

pytestmark = pytest.mark.kernel


def kernel_vs_vm(kernel, program: Program, packets, ctx: Context, failures: Failures) -> None:
    """Attach, take exact verdicts, compare with the reference VM."""
    try:
        kernel.attach(program)
    except KernelRejected as exc:
        failures.add(f"the kernel refuses a crafted program ({exc.reason}); bpfcheck says "
                     f"{describe_validation(bpfcheck_verdict(program, 'socket'))}\n"
                     + show_program(program))
        return
    try:
        machine = Machine(program, "socket")
    except ValidationError as exc:
        failures.add("the kernel accepts, bpfcheck rejects: " + describe_validation(exc) + "\n"
                     + show_program(program))
        return
    theirs = kernel.verdicts(packets)
    mismatches = []
    for i, (packet, verdict) in enumerate(zip(packets, theirs)):
        ours = machine.run(packet, ctx)
        if ours != verdict:
            mismatches.append(Mismatch(f"#{i}", packet, ctx, ours, verdict))
    if mismatches:
        failures.add(report("reference VM vs kernel (AF_UNIX)", program, mismatches))


def test_the_crafted_set_covers_every_opcode_and_extension():
    assert set(SEMANTICS_OPCODES) == set(KERNEL_OPCODES), \
        "bpfcheck.semantics and the kernel's list of 49 opcodes differ"
    cases = all_cases()
    codes = {insn.code for group in cases.values() for program, _ in group for insn in program}
    assert set(KERNEL_OPCODES) <= codes, \
        f"opcodes never exercised: {sorted(set(KERNEL_OPCODES) - codes)}"
    loaded = {insn.k - AD for group in cases.values() for program, _ in group for insn in program
              if insn.code & 0xE7 == 0x20 and insn.k >= AD}
    # SKF_AD_RANDOM has its own test below
    assert set(isa.EXTENSIONS) - {isa.SKF_AD_RANDOM} <= loaded


@pytest.mark.parametrize("group", list(GROUPS))
def test_crafted_programs_vs_kernel(kernel, group):
    cases = GROUPS[group]()
    ctx = Context(cpu=kernel.cpu)
    failures = Failures(f"crafted group {group!r}: reference VM vs the kernel (AF_UNIX socket)")
    for program, packets in cases:
        kernel_vs_vm(kernel, program, packets, ctx, failures)
    failures.check(len(cases))


RANDOM = (0x20, 0, 0, AD + isa.SKF_AD_RANDOM)


@pytest.mark.parametrize("program,expected", [
    (P((0x01, 0, 0, 5), RANDOM, (0x87, 0, 0, 0), RET_A), 5),                 # X survives
    (P(RANDOM, (0x00, 0, 0, 9), RET_A), 9),                                  # A overwritten
    (P((0x01, 0, 0, 5), (0x30, 0, 0, AD + isa.SKF_AD_RANDOM), (0x87, 0, 0, 0), RET_A), 5),   # ldb
    (P((0x01, 0, 0, 6), (0x28, 0, 0, AD + isa.SKF_AD_RANDOM), (0x87, 0, 0, 0), RET_A), 6),   # ldh
    (P(RANDOM, (0x54, 0, 0, 0), (0x04, 0, 0, 3), RET_A), 3),                 # and #0
    (P(RANDOM, (0x07, 0, 0, 0), (0x1C, 0, 0, 0), (0x04, 0, 0, 7), RET_A), 7),  # a - a
])
def test_random_extension_where_the_verdict_cannot_depend_on_it(kernel, program, expected):
    # SKF_AD_RANDOM is a fresh value on every run: exact verdicts cannot be
    # assembled from several runs, so these verdicts are below the packet
    # length and read from one delivery each.
    packets = [pattern(100)] * 20
    kernel.attach(program)
    delivered = kernel.run_many(packets)
    machine = Machine(program, "socket")
    ours = {machine.run(packets[0], Context(cpu=kernel.cpu, random=r))
            for r in (0, 1, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0x12345678)}
    assert ours == {expected} and set(delivered) == {expected}, \
        report("SKF_AD_RANDOM independence", program,
               [Mismatch("100-byte pattern", packets[0], Context(cpu=kernel.cpu), ours, delivered)])


def test_random_extension_is_random(kernel):
    # and the kernel's value really changes: 64 runs of (rand & 63) + 1
    program = P(RANDOM, (0x54, 0, 0, 63), (0x04, 0, 0, 1), RET_A)
    kernel.attach(program)
    delivered = kernel.run_many([pattern(100)] * 64)
    assert all(1 <= d <= 64 for d in delivered) and len(set(delivered)) > 8, (
        f"{show_program(program)}\non 64 copies of a 100-byte pattern the kernel delivered {delivered}")
    # each is what the reference VM gives for some SKF_AD_RANDOM value
    machine = Machine(program, "socket")
    wrong = {d: machine.run(pattern(100), Context(random=d - 1)) for d in delivered}
    assert all(d == ours for d, ours in wrong.items()), (
        f"{show_program(program)}\nkernel delivered -> bpfcheck with random = delivered - 1: {wrong}")


def test_no_device_ends_the_program_returning_a(kernel):
    # SEMANTICS 18: with no device ld [ifidx] / ld [hatype] end the run with
    # the current A; the packet sizes make every verdict exact in one run
    failures = Failures("ifindex/hatype without a device")
    for ext in (isa.SKF_AD_IFINDEX, isa.SKF_AD_HATYPE):
        for size in (0x20, 0x28, 0x30):
            for a in (0, 1, 123, 0xFFFFFFFF):
                program = P((0x00, 0, 0, a), (size, 0, 0, AD + ext), ret(0x7777))
                kernel_vs_vm(kernel, program, SMALL_PACKETS, Context(cpu=kernel.cpu), failures)
    failures.check(24)


# --- the same crafted set against libpcap ---------------------------------------------------------
def pcap_dialect() -> list:
    """Where libpcap 1.10.3 differs from the kernel on purpose, plus
    opcodes its bpf_validate passes but its bpf_filter cannot run."""
    small = SMALL_PACKETS
    cases = []
    for k in (32, 33, 63, 64, 0xFFFFFFFF):
        for op in (0x64, 0x74):        # shifts by a constant >= 32: x86 masks the count
            cases.append((P((0x00, 0, 0, 0x80000001), (op, 0, 0, k), RET_A), small))
    for i in (0, 3, 15):               # M[] read before any write: the guarded run zeroes it
        cases.append((P((0x60, 0, 0, i), (0x04, 0, 0, 1), RET_A), small))
    # a backward ja (ip6 protochain style) that terminates
    cases.append((P((0x00, 0, 0, 0), (0x04, 0, 0, 1), (0x35, 1, 0, 5), (0x05, 0, 0, 0xFFFFFFFD), RET_A), small))
    # bpf_validate checks class and mode, not the opcode: bpf_filter aborts
    for code in (0x0E, 0x08, 0x8C, 0x0F, 0x1E):
        cases.append((P((0x00, 0, 0, 1), (code, 0, 0, 0), ret(5)), small))
    # ... but only when a run reaches the instruction
    cases.append((P((0x80, 0, 0, 0), (0x15, 0, 1, 0), (0x0E, 0, 0, 0), ret(5)), small))
    # extension offsets are ordinary, always out-of-bounds loads
    for n in sorted(isa.EXTENSIONS):
        cases.append((P((0x00, 0, 0, 77), (0x30, 0, 0, AD + n), ret(5)), small))
    # loads near 2**32 do not wrap; X + k does not wrap either
    for k in (0xFFFFFFFF, 0xFFFFFFFC, 0x80000000):
        cases.append((P((0x20, 0, 0, k), ret(5)), small))
    cases.append((P((0x01, 0, 0, 0xFFFFFFFC), (0x50, 0, 0, 8), ret(5)), small))
    return cases


def libpcap_vs_vm(pcap, program: Program, packets, failures: Failures) -> None:
    accepted = pcap.bpf_validate(program)
    ours_valid = bpfcheck_verdict(program, "pcap")
    if accepted != (ours_valid is None):
        failures.add(f"bpf_validate says {accepted}, bpfcheck {describe_validation(ours_valid)}\n"
                     + show_program(program))
        return
    if not accepted:
        return
    # each packet twice: whole, and as a capture cut short (wirelen > caplen)
    inputs = [(p, len(p)) for p in packets] + [(p, len(p) + 1000) for p in packets]
    mismatches = libpcap_mismatches(pcap, program, inputs)
    if mismatches:
        failures.add(report("reference VM (target='pcap') vs libpcap bpf_filter", program,
                            mismatches, theirs="libpcap"))


@pytest.mark.libpcap
@pytest.mark.parametrize("group", list(GROUPS) + ["pcap-dialect"])
def test_crafted_programs_vs_libpcap(pcap, group):
    cases = pcap_dialect() if group == "pcap-dialect" else GROUPS[group]()
    failures = Failures(f"crafted group {group!r}: reference VM vs libpcap")
    for program, packets in cases:
        libpcap_vs_vm(pcap, program, packets, failures)
    failures.check(len(cases))
