"""Seccomp acceptance in forked children, and exact seccomp verdicts run
through the socket-filter path."""

import ctypes
import errno
import os
import platform
import sys

import pytest

from bpfcheck import isa
from bpfcheck.context import SeccompData
from bpfcheck.oracles.kernel import KernelRejected
from bpfcheck.oracles.seccomp import kernel_seccomp_accepts, seccomp_run_via_socket
from bpfcheck.program import Program

pytestmark = [pytest.mark.kernel, pytest.mark.skipif(not sys.platform.startswith("linux") or platform.machine() != "x86_64",
                                reason="the seccomp oracle needs Linux on x86_64")]

ALLOW, KILL, TRAP, ERRNO = (isa.SECCOMP_RET_ALLOW, isa.SECCOMP_RET_KILL_THREAD,
                            isa.SECCOMP_RET_TRAP, isa.SECCOMP_RET_ERRNO)
X86_64 = 0xC000003E
RET_A = (0x16, 0, 0, 0)


def P(*insns):
    return Program(list(insns))


def ret(k):
    return (0x06, 0, 0, k)


@pytest.mark.parametrize("name,program", [
    ("ld [4]; ret ALLOW", P((0x20, 0, 0, 4), ret(ALLOW))),
    ("ret KILL_THREAD", P(ret(KILL))),
    ("ret KILL_PROCESS", P(ret(isa.SECCOMP_RET_KILL_PROCESS))),
    ("ret TRAP", P(ret(TRAP))),
    ("ret ERRNO(1)", P(ret(ERRNO | 1))),
    ("ret TRACE", P(ret(isa.SECCOMP_RET_TRACE))),
    ("ret USER_NOTIF", P(ret(isa.SECCOMP_RET_USER_NOTIF))),
    ("ret LOG", P(ret(isa.SECCOMP_RET_LOG))),
    ("unknown action", P(ret(0x12345678))),
    ("ld #len; ret a", P((0x80, 0, 0, 0), RET_A)),
    ("last args word", P((0x20, 0, 0, 60), ret(ALLOW))),
])
def test_accepted(name, program):
    assert kernel_seccomp_accepts(program) == (True, 0), name


@pytest.mark.parametrize("name,program", [
    ("ldh [0]", P((0x28, 0, 0, 0), ret(ALLOW))),
    ("ldb [0]", P((0x30, 0, 0, 0), ret(ALLOW))),
    ("ld [64]", P((0x20, 0, 0, 64), ret(ALLOW))),
    ("ld [2] (misaligned)", P((0x20, 0, 0, 2), ret(ALLOW))),
    ("ld [x+0]", P((0x40, 0, 0, 0), ret(ALLOW))),
    ("ldx msh", P((0xB1, 0, 0, 0), ret(ALLOW))),
    ("mod #3", P((0x94, 0, 0, 3), ret(ALLOW))),
    ("extension load", P((0x20, 0, 0, isa.SKF_AD_OFF), ret(ALLOW))),
    ("ret x", P((0x0E, 0, 0, 0))),
    ("empty", P()),
    ("4097 instructions", Program([ret(ALLOW)] * 4097)),
])
def test_rejected(name, program):
    assert kernel_seccomp_accepts(program) == (False, errno.EINVAL), name


def test_the_caller_is_never_filtered():
    kernel_seccomp_accepts(P(ret(KILL)))
    libc = ctypes.CDLL(None, use_errno=True)
    assert libc.prctl(21, 0, 0, 0, 0) == 0          # PR_GET_SECCOMP: still mode 0
    assert os.getpid() > 0                           # and system calls still work


# An ordinary policy: check arch, kill x32, errno for some calls, allow a
# few, look at an argument's high word, default trap.
POLICY = P(
    (0x20, 0, 0, 4), (0x15, 1, 0, X86_64), ret(isa.SECCOMP_RET_KILL_PROCESS),   # 0-2
    (0x20, 0, 0, 0), (0x35, 0, 1, 0x40000000), ret(isa.SECCOMP_RET_KILL_PROCESS),  # 3-5
    (0x15, 0, 1, 59), ret(ERRNO | errno.EPERM),                                 # 6-7 execve
    (0x15, 0, 3, 9),                                                             # 8 mmap
    (0x20, 0, 0, 20), (0x15, 0, 1, 0), ret(ALLOW),                              # 9-11 args[0] high == 0
    (0x15, 0, 1, 1), ret(ALLOW),                                                # 12-13 write
    (0x80, 0, 0, 0), (0x15, 0, 1, 64), ret(TRAP | 7),                           # 14-16 ld #len
    ret(KILL),                                                                    # 17
)


def policy_by_hand(d: SeccompData) -> int:
    if d.arch != X86_64 or d.nr >= 0x40000000:
        return isa.SECCOMP_RET_KILL_PROCESS
    if d.nr == 59:
        return ERRNO | errno.EPERM
    if d.nr == 9:
        return ALLOW if d.args[0] >> 32 == 0 else TRAP | 7     # falls to ld #len = 64
    if d.nr == 1:
        return ALLOW
    return TRAP | 7


def test_exact_verdicts_through_the_socket_path():
    inputs = [SeccompData(59, X86_64), SeccompData(1, X86_64), SeccompData(0, X86_64),
              SeccompData(9, X86_64, args=(0x1000,)), SeccompData(9, X86_64, args=(1 << 40,)),
              SeccompData(1, 0x40000003), SeccompData(0x40000001, X86_64), SeccompData(-1, X86_64)]
    assert kernel_seccomp_accepts(POLICY) == (True, 0)
    assert seccomp_run_via_socket(POLICY, inputs) == [policy_by_hand(d) for d in inputs]


def test_every_word_reads_as_seccomp_would():
    data = SeccompData(0x11223344, 0x55667788, 0x99AABBCCDDEEFF00,
                       (0x0102030405060708, 1, 2, 3, 4, 0xFFFFFFFFFFFFFFFF))
    for offset in range(0, 64, 4):
        program = P((0x20, 0, 0, offset), RET_A)
        assert seccomp_run_via_socket(program, [data]) == [data.word(offset)], offset


def test_programs_seccomp_refuses_are_not_run():
    with pytest.raises(KernelRejected) as info:
        seccomp_run_via_socket(P((0x28, 0, 0, 0), RET_A), [SeccompData(0, X86_64)])
    assert info.value.errno == errno.EINVAL and info.value.target == "seccomp"
    # without the check, the socket path runs what the socket checker allows
    assert seccomp_run_via_socket(P((0x28, 0, 0, 2), RET_A), [SeccompData(0x1234, 0)],
                                  check=False) == [0x1234]
