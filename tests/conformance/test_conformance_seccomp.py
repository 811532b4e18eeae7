"""seccomp: every opcode seccomp allows, on crafted ``struct seccomp_data``,
the reference VM (``target="seccomp"``) against the kernel's exact verdicts
(``seccomp_run_via_socket``: the filter runs on the socket path over the
big-endian image of the data); and ``validate(target="seccomp")`` against
the kernel's own ``seccomp()`` checker, on crafted valid and invalid
programs and on random programs and their mutants.
"""

from __future__ import annotations

import collections
from typing import List, Tuple

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bpfcheck import Machine, Program, SeccompData, isa
from bpfcheck.strategies import programs, seccomp_data

from conformance_crafted import ALU_OPS, AVALS, JMP_OPS, XVALS
from conformance_support import (AD, KERNEL_OPCODES, NASTY, RET_A, SCALE, SECCOMP_OPCODES, X86_64,
                                 Failures, Mismatch, P, hsettings, random_mutant, report, ret,
                                 single_fault)
from conformance_validation import check_seccomp_validation

pytestmark = pytest.mark.kernel

ACTIONS = (isa.SECCOMP_RET_KILL_PROCESS, isa.SECCOMP_RET_KILL_THREAD, isa.SECCOMP_RET_TRAP | 3,
           isa.SECCOMP_RET_ERRNO | 1, isa.SECCOMP_RET_ERRNO | 0xFFFF, isa.SECCOMP_RET_USER_NOTIF,
           isa.SECCOMP_RET_TRACE | 9, isa.SECCOMP_RET_LOG, isa.SECCOMP_RET_ALLOW, 0x12345678, 0xFFFFFFFF)

#: nr (offset 0) = A operand, args[0]'s low word (offset 16) = X operand
AX_DATA = [SeccompData(a, X86_64, 0, (x | (0xABCD0000 << 32),)) for a in AVALS for x in XVALS]
MISC_DATA = [
    SeccompData(0, X86_64),
    SeccompData(59, X86_64, 0x00007F0012345678, (1, 2, 3, 4, 5, 6)),
    SeccompData(-1, 0x40000003, 0xFFFFFFFFFFFFFFFF, (0xFFFFFFFFFFFFFFFF,) * 6),
    SeccompData(0x40000001, X86_64, 0x1000, (0x100000000, 0x7FFFFFFF, 0x80000000, 0, 0xDEADBEEF, 1 << 63)),
    SeccompData(0x7FFFFFFF, 0xC00000B7, 0, tuple(0x1111111111111111 * i for i in range(1, 7))),
]

Case = Tuple[Program, List[SeccompData]]


def seccomp_cases() -> dict:
    groups = collections.defaultdict(list)
    for k in range(0, 64, 4):                                    # every word of seccomp_data
        groups["ld-words"].append((P((0x20, 0, 0, k), RET_A), MISC_DATA))
        groups["ld-words"].append((P((0x20, 0, 0, k), (0x04, 0, 0, 1), RET_A), MISC_DATA))
    groups["len"] += [(P((0x80, 0, 0, 0), RET_A), MISC_DATA),
                      (P((0x81, 0, 0, 0), (0x87, 0, 0, 0), RET_A), MISC_DATA)]
    for name, op in ALU_OPS.items():
        if name == "mod":
            continue
        for k in NASTY:
            if (name == "div" and k == 0) or (name in ("lsh", "rsh") and k >= 32):
                continue
            groups["alu-k"].append((P((0x20, 0, 0, 0), (0x04 | op, 0, 0, k), RET_A), AX_DATA[::13]))
        groups["alu-x"].append((P((0x20, 0, 0, 16), (0x07, 0, 0, 0), (0x20, 0, 0, 0), (0x0C | op, 0, 0, 0),
                                  RET_A), AX_DATA))
    groups["alu-k"].append((P((0x20, 0, 0, 0), (0x84, 0, 0, 0), RET_A), AX_DATA[::13]))
    for name, op in JMP_OPS.items():
        for k in NASTY:
            groups["jumps"].append((P((0x20, 0, 0, 0), (0x05 | op, 0, 1, k), ret(isa.SECCOMP_RET_ALLOW),
                                      ret(isa.SECCOMP_RET_ERRNO | 5)), AX_DATA[::13]))
        groups["jumps"].append((P((0x20, 0, 0, 16), (0x07, 0, 0, 0), (0x20, 0, 0, 0), (0x0D | op, 1, 0, 0),
                                  ret(isa.SECCOMP_RET_TRAP), ret(isa.SECCOMP_RET_LOG)), AX_DATA))
    for k in (0, 1, 2):
        groups["jumps"].append((P((0x05, 3, 3, k), ret(1), ret(2), ret(3)), MISC_DATA))
    for action in ACTIONS:
        groups["returns"].append((P(ret(action)), MISC_DATA))
        groups["returns"].append((P((0x00, 0, 0, action), RET_A), MISC_DATA))
        groups["returns"].append((P((0x01, 0, 0, action), (0x87, 0, 0, 0), RET_A), MISC_DATA))
    groups["returns"].append((P((0x20, 0, 0, 4), (0x07, 0, 0, 0), (0x00, 0, 0, 0), (0x87, 0, 0, 0), RET_A),
                              MISC_DATA))
    for i in range(isa.MEMWORDS):
        groups["scratch"].append((P((0x20, 0, 0, 8), (0x02, 0, 0, i), (0x00, 0, 0, 0), (0x60, 0, 0, i), RET_A),
                                  MISC_DATA))
        groups["scratch"].append((P((0x20, 0, 0, 12), (0x07, 0, 0, 0), (0x03, 0, 0, i), (0x01, 0, 0, 0),
                                    (0x61, 0, 0, i), (0x87, 0, 0, 0), RET_A), MISC_DATA))
    # an ordinary policy: arch check, x32 kill, a few calls, an argument's high word
    groups["policy"].append((P(
        (0x20, 0, 0, 4), (0x15, 1, 0, X86_64), ret(isa.SECCOMP_RET_KILL_PROCESS),
        (0x20, 0, 0, 0), (0x35, 0, 1, 0x40000000), ret(isa.SECCOMP_RET_KILL_PROCESS),
        (0x15, 0, 1, 59), ret(isa.SECCOMP_RET_ERRNO | 1),
        (0x15, 0, 3, 0x7FFFFFFF), (0x20, 0, 0, 20), (0x15, 0, 1, 0x7FFFFFFF), ret(isa.SECCOMP_RET_ALLOW),
        ret(isa.SECCOMP_RET_TRAP)), MISC_DATA + AX_DATA[::7]))
    return dict(groups)


CASES = seccomp_cases()


def test_every_seccomp_opcode_is_exercised():
    codes = {insn.code for group in CASES.values() for program, _ in group for insn in program}
    assert SECCOMP_OPCODES <= codes, sorted(SECCOMP_OPCODES - codes)


@pytest.mark.parametrize("group", list(CASES))
def test_crafted_seccomp_programs_vs_kernel(seccomp, group):
    failures = Failures(f"seccomp group {group!r}: reference VM vs the kernel")
    for program, datas in CASES[group]:
        theirs = seccomp.seccomp_run_via_socket(program, datas)
        machine = Machine(program, "seccomp")
        mismatches = [Mismatch(f"#{i}", d, None, ours, t) for i, (d, t) in enumerate(zip(datas, theirs))
                      if (ours := machine.run(d)) != t]
        if mismatches:
            failures.add(report("reference VM (target='seccomp') vs kernel", program, mismatches))
    failures.check(len(CASES[group]))


# --- validation: crafted -----------------------------------------------------------------------------
def _minimal(code: int) -> Program:
    """A program the socket checker accepts that uses ``code`` once."""
    if code in (0x06, 0x16):
        return P((code, 0, 0, 0))
    if code in (0x60, 0x61):
        return P((0x02, 0, 0, 3), (code, 0, 0, 3), ret(isa.SECCOMP_RET_ALLOW))
    k = {0x34: 3, 0x94: 3, 0x64: 3, 0x74: 3}.get(code, 0)
    return P((code, 0, 0, k), ret(isa.SECCOMP_RET_ALLOW))


def crafted_validation() -> List[Tuple[str, Program]]:
    out = [(f"{KERNEL_OPCODES[c]} ({c:#04x})", _minimal(c)) for c in sorted(KERNEL_OPCODES)]
    for k in list(range(0, 69)) + [0xFFFFFFFF, 0x80000000, AD, AD + 4, AD - 4]:
        out.append((f"ld [{k:#x}]", P((0x20, 0, 0, k), ret(isa.SECCOMP_RET_ALLOW))))
    for size in (0x28, 0x30):
        for k in (0, 4, 60):
            out.append((f"ld{'h' if size == 0x28 else 'b'} [{k}]", P((size, 0, 0, k), ret(1))))
    for n in sorted(isa.EXTENSIONS):
        out.append((f"extension {n}", P((0x20, 0, 0, AD + n), ret(1))))
    out += [
        ("empty", P()),
        ("4096 instructions", Program([ret(1)] * 4096)),
        ("4097 instructions", Program([ret(1)] * 4097)),
        ("ret x", P((0x0E, 0, 0, 0))),
        ("div #0", P((0x34, 0, 0, 0), ret(1))),
        ("lsh #32", P((0x64, 0, 0, 32), ret(1))),
        ("M[16]", P((0x02, 0, 0, 16), ret(1))),
        ("jump past the end", P((0x15, 1, 0, 0), ret(1))),
        ("ja past the end", P((0x05, 0, 0, 1), ret(1))),
        ("read before write", P((0x60, 0, 0, 0), RET_A)),
        ("no final ret", P((0x00, 0, 0, 0))),
        ("mod #3 after a fault-free prefix", P((0x20, 0, 0, 0), (0x15, 0, 1, 1), (0x94, 0, 0, 3), ret(1))),
        ("ld [x+0] in dead code", P(ret(1), (0x40, 0, 0, 0), ret(1))),
        ("misaligned ld in dead code", P((0x05, 0, 0, 1), (0x20, 0, 0, 2), ret(1))),
        ("ld #len; ldx #len", P((0x80, 0, 0, 0), (0x81, 0, 0, 0), (0x1D, 0, 1, 0), ret(1), ret(2))),
    ]
    return out


@pytest.mark.parametrize("name,program", crafted_validation(), ids=lambda v: v if isinstance(v, str) else "")
def test_crafted_seccomp_validation(seccomp, name, program):
    check_seccomp_validation(seccomp, program, collections.Counter(), f" ({name})")


#: valid socket-filter instructions seccomp_check_filter() refuses
SECCOMP_FORBIDDEN = ([(0x28, 0, 0, 0), (0x30, 0, 0, 4), (0x20, 0, 0, 2), (0x20, 0, 0, 64), (0x20, 0, 0, 0x7FFFFFFF),
                      (0x40, 0, 0, 0), (0x48, 0, 0, 4), (0x50, 0, 0, 8), (0xB1, 0, 0, 0), (0x94, 0, 0, 3),
                      (0x9C, 0, 0, 0)] + [(0x20, 0, 0, AD + n) for n in sorted(isa.EXTENSIONS)])


def seccomp_mutant(program: Program, rnd):
    from conformance_support import Mutant
    insns = list(program)
    insns[rnd.randrange(len(insns) - 1)] = rnd.choice(SECCOMP_FORBIDDEN)
    return Mutant("seccomp-forbidden", Program(insns))


# --- random -------------------------------------------------------------------------------------------
def test_random_seccomp_programs(seccomp):
    """programs("seccomp") on seccomp_data(): verdicts vs the kernel; each
    program and three mutants of it: validate vs seccomp()."""
    stats = collections.Counter()

    @hsettings(60, shrink=False)
    @given(program=programs("seccomp", max_len=24),
           datas=st.lists(seccomp_data(), min_size=6, max_size=6),
           rnd=st.randoms(use_true_random=False))
    def check(program, datas, rnd):
        if check_seccomp_validation(seccomp, program, stats):
            # installed by seccomp() just now: no need to fork again to check
            theirs = seccomp.seccomp_run_via_socket(program, datas, check=False)
            machine = Machine(program, "seccomp")
            mismatches = [Mismatch(f"#{i}", d, None, ours, t)
                          for i, (d, t) in enumerate(zip(datas, theirs)) if (ours := machine.run(d)) != t]
            assert not mismatches, report("random seccomp program: reference VM vs kernel", program,
                                          mismatches)
            stats["compared"] += len(datas)
        mutants = [random_mutant(program, rnd) for _ in range(2)]
        if len(program) > 1:
            mutants.append(seccomp_mutant(program, rnd))
        fault = single_fault(program, rnd)
        if fault is not None:
            mutants.append(fault)
        for mutant in mutants:
            # seccomp's own checks come after the socket checker's, so a
            # single socket fault is not a single seccomp fault: compare the
            # accept/reject answer only
            check_seccomp_validation(seccomp, mutant.program, stats, f" ({mutant.kind} mutant)")

    check()
    print(dict(sorted(stats.items())))
    if SCALE >= 1:
        assert sum(v for k, v in stats.items() if k.startswith("seccomp:")) >= 220, stats
        assert stats["compared"] >= 6 * 55, stats
