"""libseccomp2 through ctypes: build a filter from rules and export its BPF.

Only the stable C API of libseccomp 2.5 is used (``seccomp_init``,
``seccomp_arch_add``, ``seccomp_rule_add_array`` with ``struct
scmp_arg_cmp``, ``seccomp_export_bpf``).  The exported program is read
back from a memfd, so nothing is ever loaded into this process.
"""

from __future__ import annotations

import ctypes
import functools
import os
from dataclasses import dataclass
from typing import Iterable, Optional, Sequence

from ..errors import OracleUnavailable, UsageError
from ..program import Program

#: enum scmp_compare
COMPARE = {"NE": 1, "LT": 2, "LE": 3, "EQ": 4, "GE": 5, "GT": 6, "MASKED_EQ": 7}
#: enum scmp_filter_attr
ATTR_ACT_BADARCH = 2
ATTR_CTL_NNP = 3
ATTR_CTL_OPTIMIZE = 8
NR_SCMP_ERROR = -1


class LibseccompError(UsageError):
    """libseccomp refused a rule or an architecture (a bad policy)."""


class _ArgCmp(ctypes.Structure):
    _fields_ = [("arg", ctypes.c_uint), ("op", ctypes.c_int),
                ("datum_a", ctypes.c_uint64), ("datum_b", ctypes.c_uint64)]


@dataclass(frozen=True)
class ArgCmp:
    """One ``struct scmp_arg_cmp``: ``args[arg] OP value`` or, for
    ``MASKED_EQ``, ``args[arg] & mask == value``."""

    arg: int
    op: str
    value: int
    mask: int = 0

    def __post_init__(self):
        if not 0 <= self.arg <= 5:
            raise UsageError(f"argument index {self.arg} is not 0..5")
        if self.op not in COMPARE:
            raise UsageError(f"unknown comparison {self.op!r} (known: {', '.join(COMPARE)})")

    def to_c(self) -> _ArgCmp:
        u64 = (1 << 64) - 1
        if self.op == "MASKED_EQ":
            return _ArgCmp(self.arg, COMPARE[self.op], self.mask & u64, self.value & u64)
        return _ArgCmp(self.arg, COMPARE[self.op], self.value & u64, 0)


@functools.lru_cache(maxsize=1)
def library():
    """The loaded libseccomp.so.2, with its prototypes declared."""
    try:
        lib = ctypes.CDLL("libseccomp.so.2", use_errno=True)
    except OSError as e:
        raise OracleUnavailable(f"libseccomp.so.2 is not installed (Debian package libseccomp2): {e}") \
            from None
    lib.seccomp_init.restype = ctypes.c_void_p
    lib.seccomp_init.argtypes = [ctypes.c_uint32]
    lib.seccomp_release.argtypes = [ctypes.c_void_p]
    lib.seccomp_arch_add.argtypes = [ctypes.c_void_p, ctypes.c_uint32]
    lib.seccomp_arch_remove.argtypes = [ctypes.c_void_p, ctypes.c_uint32]
    lib.seccomp_arch_native.restype = ctypes.c_uint32
    lib.seccomp_arch_resolve_name.restype = ctypes.c_uint32
    lib.seccomp_arch_resolve_name.argtypes = [ctypes.c_char_p]
    lib.seccomp_syscall_resolve_name_arch.argtypes = [ctypes.c_uint32, ctypes.c_char_p]
    lib.seccomp_rule_add_array.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int,
                                           ctypes.c_uint, ctypes.POINTER(_ArgCmp)]
    lib.seccomp_attr_set.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_uint32]
    lib.seccomp_export_bpf.argtypes = [ctypes.c_void_p, ctypes.c_int]
    lib.seccomp_version.restype = ctypes.c_void_p
    return lib


def available() -> bool:
    try:
        library()
        return True
    except OracleUnavailable:
        return False


def version() -> str:
    class _Version(ctypes.Structure):
        _fields_ = [("major", ctypes.c_uint), ("minor", ctypes.c_uint), ("micro", ctypes.c_uint)]
    v = ctypes.cast(library().seccomp_version(), ctypes.POINTER(_Version)).contents
    return f"{v.major}.{v.minor}.{v.micro}"


def arch_token(name: str) -> int:
    """libseccomp's token for an architecture name (``x86_64``, ``x86``,
    ``x32``, ``aarch64``, ...; ``SCMP_ARCH_`` prefixes allowed)."""
    key = name.lower()
    if key.startswith("scmp_arch_"):
        key = key[len("scmp_arch_"):]
    key = {"i386": "x86", "amd64": "x86_64", "arm64": "aarch64"}.get(key, key)
    token = library().seccomp_arch_resolve_name(key.encode())
    if token == 0:
        raise LibseccompError(f"libseccomp does not know the architecture {name!r}")
    return token


def syscall_number(name: str, arch: str = "x86_64") -> Optional[int]:
    """libseccomp's number for ``name`` on ``arch`` (None if it has none)."""
    nr = library().seccomp_syscall_resolve_name_arch(arch_token(arch), name.encode())
    return None if nr == NR_SCMP_ERROR else nr


class Filter:
    """A libseccomp filter context; a context manager that releases it."""

    def __init__(self, default_action: int, bad_arch_action: Optional[int] = None):
        self.lib = library()
        self.ctx = self.lib.seccomp_init(default_action)
        if not self.ctx:
            raise LibseccompError(f"seccomp_init refused the default action {default_action:#x}")
        if bad_arch_action is not None:
            self._call("seccomp_attr_set", self.lib.seccomp_attr_set(self.ctx, ATTR_ACT_BADARCH,
                                                                     bad_arch_action))

    def _call(self, what: str, rc: int) -> int:
        if rc < 0:
            raise LibseccompError(f"libseccomp {what} failed: {os.strerror(-rc)}")
        return rc

    def add_arch(self, name: str) -> None:
        rc = self.lib.seccomp_arch_add(self.ctx, arch_token(name))
        if rc != -17:              # EEXIST: the native arch is already there
            self._call(f"seccomp_arch_add({name})", rc)


    def set_optimize(self, level: int) -> None:
        self._call("seccomp_attr_set(OPTIMIZE)", self.lib.seccomp_attr_set(self.ctx, ATTR_CTL_OPTIMIZE, level))

    def add_rule(self, action: int, syscall: str | int, args: Sequence[ArgCmp] = ()) -> None:
        """``seccomp_rule_add_array``: ``args`` are ANDed.  ``syscall`` is a
        name (resolved by libseccomp for every architecture of the filter)
        or the native number."""
        if isinstance(syscall, str):
            nr = self.lib.seccomp_syscall_resolve_name_arch(0, syscall.encode())
            if nr == NR_SCMP_ERROR:
                raise LibseccompError(f"libseccomp does not know the system call {syscall!r}")
        else:
            nr = syscall
        array = (_ArgCmp * max(1, len(args)))(*[a.to_c() for a in args])
        self._call(f"seccomp_rule_add({syscall}, {len(args)} args)",
                   self.lib.seccomp_rule_add_array(self.ctx, action, nr, len(args), array))

    def export(self) -> Program:
        """The BPF program, via ``seccomp_export_bpf`` to a memfd."""
        fd = os.memfd_create("bpfcheck-seccomp", 0)
        try:
            self._call("seccomp_export_bpf", self.lib.seccomp_export_bpf(self.ctx, fd))
            os.lseek(fd, 0, os.SEEK_SET)
            chunks = []
            while True:
                chunk = os.read(fd, 1 << 16)
                if not chunk:
                    break
                chunks.append(chunk)
        finally:
            os.close(fd)
        return Program.from_bytes(b"".join(chunks))

    def close(self) -> None:
        if self.ctx:
            self.lib.seccomp_release(self.ctx)
            self.ctx = None

    def __enter__(self) -> "Filter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self):
        self.close()


@dataclass(frozen=True)
class Rule:
    action: int
    syscall: str
    args: tuple = ()


def build(default_action: int, rules: Iterable[Rule], arches: Sequence[str] = (),
          bad_arch_action: Optional[int] = None) -> Program:
    """A filter from a default action and rules, compiled by libseccomp."""
    with Filter(default_action, bad_arch_action) as f:
        for arch in arches:
            f.add_arch(arch)
        for rule in rules:
            f.add_rule(rule.action, rule.syscall, rule.args)
        return f.export()
