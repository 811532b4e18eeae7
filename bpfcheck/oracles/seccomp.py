"""The running kernel as a seccomp oracle, without ever filtering the caller.

Acceptance: a forked child sets ``PR_SET_NO_NEW_PRIVS`` and calls
``seccomp(SECCOMP_SET_MODE_FILTER, 0, &fprog)``.  If the call fails, no
filter is installed and the child exits with ``100 + errno``.  If it
succeeds, the filter is live and judges the child's own ``exit_group``: it
may allow it (exit 0), kill the child (a signal), make it fail (glibc then
executes ``hlt``: SIGSEGV) or leave it hanging; every one of those means
*accepted*.  Each child is bounded by a timeout, then SIGKILLed and reaped.

Verdicts: a seccomp filter cannot be run on demand, so we run it as a socket
filter on ``SeccompData.to_socket_packet()`` (each 32-bit word of
``struct seccomp_data`` stored big-endian, so ``ld [k]`` reads the same
value; the packet is 64 bytes, so ``ld #len`` gives 64 as seccomp's does).
A socket only reports ``min(64, verdict)``, and every seccomp action is far
above 64, so the exact verdict is assembled from six runs of rewritten
programs, each returning six bits of it (see :mod:`._exact`).  The seccomp
checker is stricter than the socket one, so the program is first checked
with :func:`kernel_seccomp_accepts`.
"""

from __future__ import annotations

import ctypes
import faulthandler
import functools
import os
import signal
from typing import Iterable, List, Tuple

from ..context import SeccompData
from ..errors import OracleUnavailable
from ..program import Program
from ._fork import Child, describe_status
from ._fprog import FilterProg
from .kernel import KernelRejected, KernelSocket

PR_SET_NO_NEW_PRIVS = 38
SYS_SECCOMP = 317                 # x86-64
SECCOMP_SET_MODE_FILTER = 1
#: a child that could not install the filter exits with this plus errno.
FAILED_BASE = 100
DEFAULT_TIMEOUT = 5.0

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long


#: fatal signals whose handlers (pytest's faulthandler, say) would make
#: system calls that the filter may refuse, turning a quick death into a hang.
_FATAL = (signal.SIGSEGV, signal.SIGBUS, signal.SIGILL, signal.SIGFPE, signal.SIGABRT, signal.SIGSYS)


def _install_and_exit(fprog: FilterProg) -> int:
    """In the child.  Everything was prepared before the fork, so that once
    the filter is live the child makes no system call but ``exit_group``
    (and, if that is refused, glibc's ``hlt``: a SIGSEGV that must kill)."""
    faulthandler.disable()
    for sig in _FATAL:
        signal.signal(sig, signal.SIG_DFL)
    if _libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        return FAILED_BASE + ctypes.get_errno()
    if _libc.syscall(SYS_SECCOMP, SECCOMP_SET_MODE_FILTER, 0,
                     ctypes.c_void_p(fprog.pointer)) != 0:
        return FAILED_BASE + ctypes.get_errno()
    return 0


def kernel_seccomp_accepts(program: Program, timeout: float = DEFAULT_TIMEOUT) -> Tuple[bool, int]:
    """``(True, 0)`` if the kernel installs ``program`` as a seccomp filter,
    else ``(False, errno)`` (EINVAL for anything its checkers refuse).

    A program longer than 65535 instructions cannot even be described to
    the kernel (``sock_fprog.len`` is 16 bits): ``(False, EINVAL)``.
    """
    fprog = FilterProg(program)
    if not fprog.fits:
        return False, 22
    if os.uname().machine != "x86_64":
        raise OracleUnavailable(f"the seccomp oracle knows the syscall number on x86_64 only, "
                                f"not {os.uname().machine}")
    with Child(lambda _fd: _install_and_exit(fprog)) as child:
        status = child.wait(timeout)
        if status is None:
            return True, 0          # installed, and it keeps the child from exiting
    if os.WIFEXITED(status):
        code = os.WEXITSTATUS(status)
        if code > FAILED_BASE:
            return False, code - FAILED_BASE
        if code not in (0,):
            raise OracleUnavailable(f"the seccomp probe child ended oddly ({describe_status(status)})")
    return True, 0


@functools.lru_cache(maxsize=256)
def _accepts_cached(program: Program) -> Tuple[bool, int]:
    return kernel_seccomp_accepts(program)


def seccomp_run_via_socket(program: Program, inputs: Iterable[SeccompData], *,
                           check: bool = True) -> List[int]:
    """The exact verdict of seccomp filter ``program`` on each input, run by
    the kernel's socket-filter path.

    With ``check`` (the default) the program must first pass the kernel's
    seccomp checks, else :class:`KernelRejected` (target ``"seccomp"``);
    without it, anything the socket checker accepts runs.
    """
    program = Program(program)
    if check:
        ok, err = _accepts_cached(program)
        if not ok:
            raise KernelRejected(err, target="seccomp")
    packets = [data.to_socket_packet() for data in inputs]
    with KernelSocket(program) as ks:
        return ks.verdicts(packets)
