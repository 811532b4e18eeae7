"""Stacked filters: the kernel's precedence, checked on the kernel itself,
and the policy read back from a live process with PTRACE_SECCOMP_GET_FILTER."""

import ctypes
import os
import struct
import time

import pytest

from bpfcheck import isa
from bpfcheck.context import SeccompData
from bpfcheck.seccomp.explain import explain
from bpfcheck.seccomp.policy import Policy, combine

from seccomp_support import X86_64, asm, needs_kernel, needs_root

GETPID, GETPPID, GETTID = 39, 110, 186
OLDER = asm("ld [0]\n jeq #39, e5\n jeq #110, e9\n jeq #186, trace\n ret #ALLOW\n"
            "e5: ret #0x50005\n e9: ret #0x50009\n trace: ret #0x7ff00003")
NEWER = asm("ld [0]\n jeq #39, e7\n jeq #110, log\n jeq #186, e11\n ret #ALLOW\n"
            "e7: ret #0x50007\n log: ret #0x7ffc0000\n e11: ret #0x5000b")


def test_combine_follows_the_kernels_order():
    assert combine([0x50005, 0x50007]) == 0x50007                   # a tie: the newest wins
    assert combine([0x50009, isa.SECCOMP_RET_LOG]) == 0x50009        # the lowest action wins
    assert combine([isa.SECCOMP_RET_ALLOW, isa.SECCOMP_RET_KILL_PROCESS]) == isa.SECCOMP_RET_KILL_PROCESS
    assert combine([0, isa.SECCOMP_RET_KILL_PROCESS]) == isa.SECCOMP_RET_KILL_PROCESS   # signed
    assert combine([0x00010000, isa.SECCOMP_RET_TRAP]) == 0x00010000   # unknown actions by value
    assert combine([0x7FFF1234]) == 0x7FFF1234                       # one filter: as returned


def _install_and_call(filters, calls, wfd):
    from bpfcheck.oracles._fprog import FilterProg
    libc = ctypes.CDLL(None, use_errno=True)
    progs = [FilterProg(f) for f in filters]
    libc.prctl(38, 1, 0, 0, 0)
    for p in progs:
        if libc.syscall(317, 1, 0, ctypes.c_void_p(p.pointer)) != 0:
            os.write(wfd, struct.pack("<i", -1000))
            return 1
    for nr in calls:
        rc = libc.syscall(nr)
        os.write(wfd, struct.pack("<i", -ctypes.get_errno() if rc == -1 else rc))
    return 0


@needs_kernel
def test_the_kernel_combines_stacked_filters_as_we_do():
    from bpfcheck.oracles._fork import Child
    calls = (GETPID, GETPPID, GETTID)
    with Child(lambda wfd: _install_and_call([OLDER, NEWER], calls, wfd)) as child:
        data = child.read_exact(4 * len(calls), 5.0)
    got = list(struct.unpack(f"<{len(calls)}i", data))
    policy = Policy([OLDER, NEWER])
    want = [-(policy.run(SeccompData(nr, X86_64)) & 0xFFFF) for nr in calls]
    assert got == want == [-7, -9, -11]


def test_explain_and_audit_answer_for_the_stack():
    e = explain(Policy([OLDER, NEWER]))
    assert e.proved
    assert [e.verdict_for(n) for n in (GETPID, GETPPID, GETTID, 0)] == [0x50007, 0x50009, 0x5000B,
                                                                        isa.SECCOMP_RET_ALLOW]
    from bpfcheck.seccomp.audit import audit
    result = audit([OLDER, NEWER], checks=["arch-not-checked", "default-allow"], kernel=False)
    assert {f.check for f in result.findings} == {"arch-not-checked", "default-allow"}


def _install_and_sleep(filters, wfd):
    from bpfcheck.oracles._fprog import FilterProg
    libc = ctypes.CDLL(None, use_errno=True)
    progs = [FilterProg(f) for f in filters]
    libc.prctl(38, 1, 0, 0, 0)
    for p in progs:
        libc.syscall(317, 1, 0, ctypes.c_void_p(p.pointer))
    os.write(wfd, b"R")
    time.sleep(30)                  # clock_nanosleep: allowed; the test kills us first


@needs_root
def test_dump_reads_every_filter_of_a_live_process_oldest_first():
    from bpfcheck.oracles._fork import Child
    from bpfcheck.seccomp.live import dump_filters
    from bpfcheck.seccomp.sources import load_policy
    with Child(lambda wfd: _install_and_sleep([OLDER, NEWER], wfd)) as child:
        assert child.read_exact(1, 5.0) == b"R"
        assert dump_filters(child.pid) == [OLDER, NEWER]
        policy = load_policy(pid=child.pid)
        assert explain(policy).verdict_for(GETPID) == 0x50007
        assert dump_filters(child.pid) == [OLDER, NEWER]        # detached cleanly: again


@needs_root
def test_dump_of_a_process_without_filters_and_of_no_process():
    from bpfcheck.oracles._fork import Child
    from bpfcheck.seccomp.live import DumpError, dump_filters

    def sleeper(wfd):
        os.write(wfd, b"R")
        time.sleep(30)
    with Child(sleeper) as child:
        assert child.read_exact(1, 5.0) == b"R"
        assert dump_filters(child.pid) == []
    with pytest.raises(DumpError, match="no such process"):
        dump_filters(2 ** 22 + 12345)


@needs_root
def test_dump_and_audit_from_the_command_line(capsys):
    import json
    from bpfcheck.cli import main
    from bpfcheck.oracles._fork import Child
    with Child(lambda wfd: _install_and_sleep([OLDER, NEWER], wfd)) as child:
        assert child.read_exact(1, 5.0) == b"R"
        assert main(["seccomp", "dump", "--pid", str(child.pid), "--json"]) == 0
        obj = json.loads(capsys.readouterr().out)
        assert [f["instructions"] for f in obj["filters"]] == [len(OLDER), len(NEWER)]
        assert main(["seccomp", "audit", "--pid", str(child.pid), "--only", "default-allow",
                     "--no-kernel"]) == 1
        assert "default-allow" in capsys.readouterr().out
