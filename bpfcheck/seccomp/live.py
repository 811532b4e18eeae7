"""Read the seccomp filters of a running process (``PTRACE_SECCOMP_GET_FILTER``).

As root (CAP_SYS_ADMIN): seize the process, interrupt it, wait for it to
stop, ask for filter 0, 1, ... until the kernel says ENOENT, and detach.
Every wait has a deadline, and the process is detached whatever happens.
Index 0 is the oldest filter (the kernel counts from the first installed),
which is the order :class:`~bpfcheck.seccomp.policy.Policy` expects.
"""

from __future__ import annotations

import ctypes
import errno
import os
import time
from typing import List

from ..errors import BpfcheckError
from ..program import Program

PTRACE_DETACH = 17
PTRACE_SEIZE = 0x4206
PTRACE_INTERRUPT = 0x4207
PTRACE_SECCOMP_GET_FILTER = 0x420C
WALL = 0x40000000                 # __WALL: wait for any kind of tracee
DEFAULT_TIMEOUT = 5.0

_libc = ctypes.CDLL(None, use_errno=True)
_libc.ptrace.restype = ctypes.c_long
_libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]


class DumpError(BpfcheckError, RuntimeError):
    """The filters of a process could not be read (permission, no such
    process, already traced, timeout)."""


def _ptrace(request: int, pid: int, addr: int = 0, data=None) -> int:
    ctypes.set_errno(0)
    result = _libc.ptrace(request, pid, ctypes.c_void_p(addr), data)
    if result == -1 and ctypes.get_errno():
        raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
    return result


def _wait_stopped(pid: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        got, status = os.waitpid(pid, os.WNOHANG | WALL)
        if got == pid:
            if os.WIFSTOPPED(status):
                return
            if os.WIFEXITED(status) or os.WIFSIGNALED(status):
                raise DumpError(f"process {pid} ended while being stopped")
        if time.monotonic() > deadline:
            raise DumpError(f"process {pid} did not stop within {timeout:g} s")
        time.sleep(0.001)


def dump_filters(pid: int, timeout: float = DEFAULT_TIMEOUT) -> List[Program]:
    """Every seccomp filter of ``pid``, oldest first ([] when it has none)."""
    try:
        _ptrace(PTRACE_SEIZE, pid)
    except OSError as e:
        why = {errno.EPERM: "not permitted (needs root, and the process must not be traced already)",
               errno.ESRCH: "no such process"}.get(e.errno, e.strerror)
        raise DumpError(f"cannot attach to process {pid}: {why}") from None
    try:
        _ptrace(PTRACE_INTERRUPT, pid)
        _wait_stopped(pid, timeout)
        return _read_all(pid)
    except OSError as e:
        raise DumpError(f"reading the filters of process {pid} failed: {e.strerror}") from None
    finally:
        try:
            _ptrace(PTRACE_DETACH, pid)
        except OSError:
            pass                       # it is gone: nothing to detach from


def _read_all(pid: int) -> List[Program]:
    filters = []
    for index in range(1 << 16):
        try:
            count = _ptrace(PTRACE_SECCOMP_GET_FILTER, pid, index, None)
        except OSError as e:
            if e.errno == errno.ENOENT:        # past the last filter
                return filters
            if e.errno == errno.EINVAL and index == 0:   # not in filter mode: no filters
                return filters
            if e.errno == errno.EMEDIUMTYPE:
                raise DumpError(f"filter {index} of process {pid} is not a classic BPF program") from None
            raise
        buf = ctypes.create_string_buffer(count * 8)
        got = _ptrace(PTRACE_SECCOMP_GET_FILTER, pid, index, buf)
        filters.append(Program.from_bytes(buf.raw[:got * 8]))
    return filters
