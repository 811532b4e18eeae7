"""``struct sock_fprog`` for ``setsockopt(SO_ATTACH_FILTER)`` and ``seccomp()``.

The kernel copies the instructions out of our memory during the call, so the
buffer only has to live as long as the :class:`FilterProg` object that owns
it; callers keep that object referenced across the system call.
"""

from __future__ import annotations

import ctypes
import struct

from ..program import Program

SOL_SOCKET = 1
SO_ATTACH_FILTER = 26
SO_DETACH_FILTER = 27
SO_LOCK_FILTER = 44

# struct sock_fprog { unsigned short len; /* 6 bytes padding */ struct sock_filter *filter; }
_SOCK_FPROG = struct.Struct("=H6xQ")
FPROG_MAX_LEN = 0xFFFF        # ``len`` is an unsigned short


class FilterProg:
    """A program laid out as the kernel reads it, plus the ``sock_fprog``
    header that points at it.

    ``header`` is the 16-byte ``sock_fprog`` (for ``setsockopt``);
    ``pointer`` is its address (for ``seccomp(2)``).  A program longer than
    65535 instructions cannot be described at all: ``fits`` is then False
    and the header claims length 0 (which every kernel refuses with EINVAL,
    as it would refuse the real program).
    """

    __slots__ = ("program", "fits", "_insns", "_header_buf", "header", "pointer")

    def __init__(self, program: Program):
        program = Program(program)
        self.program = program
        self.fits = len(program) <= FPROG_MAX_LEN
        raw = program.to_bytes() or b"\0" * 8   # never a NULL pointer
        self._insns = ctypes.create_string_buffer(raw, len(raw))
        length = len(program) if self.fits else 0
        self.header = _SOCK_FPROG.pack(length, ctypes.addressof(self._insns))
        self._header_buf = ctypes.create_string_buffer(self.header, len(self.header))
        self.pointer = ctypes.addressof(self._header_buf)
