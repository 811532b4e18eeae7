"""Which system-call arguments are 32-bit in the kernel.

The kernel's ``SYSCALL_DEFINEn`` wrappers truncate an ``int`` or
``unsigned int`` parameter to its low 32 bits, whatever the caller left
in the high half of the 64-bit register; seccomp, however, sees the whole
register.  glibc passes an ``int`` sign-extended and an ``unsigned int``
zero-extended, which is the "canonical" high half a filter expects.

Source: the parameter types of the ``SYSCALL_DEFINE*`` of each call in
the Linux kernel (and ``include/linux/syscalls.h``).  Only calls whose
32-bit parameters policies commonly test are listed; an argument not
listed is treated as of unknown width.
"""

from __future__ import annotations

from typing import Dict, Optional

INT, UINT = "int", "unsigned int"

#: syscall name -> {argument index: INT or UINT}
ARG_TYPES: Dict[str, Dict[int, str]] = {
    "socket": {0: INT, 1: INT, 2: INT},
    "socketpair": {0: INT, 1: INT, 2: INT},
    "bind": {0: INT, 2: INT},
    "connect": {0: INT, 2: INT},
    "listen": {0: INT, 1: INT},
    "accept": {0: INT},
    "accept4": {0: INT, 3: INT},
    "setsockopt": {0: INT, 1: INT, 2: INT, 4: INT},
    "getsockopt": {0: INT, 1: INT, 2: INT},
    "sendto": {0: INT, 3: UINT},
    "recvfrom": {0: INT, 3: UINT},
    "sendmsg": {0: INT, 2: UINT},
    "recvmsg": {0: INT, 2: UINT},
    "shutdown": {0: INT, 1: INT},
    "ioctl": {0: UINT, 1: UINT},
    "fcntl": {0: UINT, 1: UINT},
    "flock": {0: UINT, 1: UINT},
    "personality": {0: UINT},
    "prctl": {0: INT},
    "kill": {0: INT, 1: INT},
    "tkill": {0: INT, 1: INT},
    "tgkill": {0: INT, 1: INT, 2: INT},
    "setns": {0: INT, 1: INT},
    "open": {1: INT},
    "openat": {0: INT, 2: INT},
    "close": {0: UINT},
    "dup": {0: UINT},
    "dup2": {0: UINT, 1: UINT},
    "dup3": {0: UINT, 1: UINT, 2: INT},
    "read": {0: UINT},
    "write": {0: UINT},
    "setuid": {0: UINT},
    "setgid": {0: UINT},
    "setreuid": {0: UINT, 1: UINT},
    "setregid": {0: UINT, 1: UINT},
    "setresuid": {0: UINT, 1: UINT, 2: UINT},
    "setresgid": {0: UINT, 1: UINT, 2: UINT},
    "exit": {0: INT},
    "exit_group": {0: INT},
    "madvise": {2: INT},
    "umount2": {1: INT},
    "rt_sigaction": {0: INT},
    "rt_sigprocmask": {0: INT},
    "sched_setscheduler": {0: INT, 1: INT},
    "bpf": {0: INT, 2: UINT},
    "perf_event_open": {1: INT, 2: INT, 3: INT},
    "keyctl": {0: INT},
    "memfd_create": {1: UINT},
    "seccomp": {0: UINT, 1: UINT},
    "reboot": {0: INT, 1: INT, 2: UINT},
    "syslog": {0: INT, 2: INT},
    "ioprio_set": {0: INT, 1: INT, 2: INT},
    "epoll_create1": {0: INT},
    "eventfd2": {0: UINT, 1: INT},
    "getrandom": {2: UINT},
    "kcmp": {0: INT, 1: INT, 2: INT},
    "futex": {1: INT},
    "pidfd_open": {0: INT, 1: UINT},
    "faccessat": {0: INT, 2: INT},
    "unlinkat": {0: INT, 2: INT},
    "mknodat": {0: INT, 3: UINT},
    "fchmodat": {0: INT},
    "quotactl": {0: UINT},
}


def arg_type(syscall: Optional[str], index: int) -> Optional[str]:
    """INT, UINT, or None when the argument's width is not known to be 32 bits."""
    if syscall is None:
        return None
    return ARG_TYPES.get(syscall, {}).get(index)
