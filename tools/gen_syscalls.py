#!/usr/bin/env python3
"""Regenerate bpfcheck/data/syscalls/*.tsv from the system's libseccomp.

The tables are data, shipped with the package; this script records where
they came from.  It asks libseccomp (``seccomp_syscall_resolve_num_arch``)
for the name of every number on each architecture.
"""

import ctypes
import ctypes.util
import os
import subprocess

ARCHES = {  # our name: (libseccomp name, AUDIT_ARCH value)
    "x86_64": ("x86_64", 0xC000003E),
    "i386": ("x86", 0x40000003),
    "x32": ("x32", 0xC000003E),   # x32 syscalls run under AUDIT_ARCH_X86_64 with bit 30 set
    "aarch64": ("aarch64", 0xC00000B7),
    "arm": ("arm", 0x40000028),
    "riscv64": ("riscv64", 0xC00000F3),
    "ppc64le": ("ppc64le", 0xC0000015),
    "s390x": ("s390x", 0x80000016),
}
OUT = os.path.join(os.path.dirname(__file__), "..", "bpfcheck", "data", "syscalls")


def main():
    lib = ctypes.CDLL("libseccomp.so.2")
    lib.seccomp_syscall_resolve_num_arch.restype = ctypes.c_void_p
    lib.seccomp_syscall_resolve_num_arch.argtypes = [ctypes.c_uint32, ctypes.c_int]
    lib.seccomp_arch_resolve_name.restype = ctypes.c_uint32
    lib.seccomp_arch_resolve_name.argtypes = [ctypes.c_char_p]
    libc = ctypes.CDLL(ctypes.util.find_library("c"))
    libc.free.argtypes = [ctypes.c_void_p]
    version = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "libseccomp2"],
                             capture_output=True, text=True).stdout.strip() or "unknown"
    for ours, (theirs, audit) in ARCHES.items():
        token = lib.seccomp_arch_resolve_name(theirs.encode())
        numbers = list(range(0, 2048)) + list(range(0xF0000, 0xF0100))
        if ours == "x32":
            numbers = [0x40000000 + n for n in range(0, 2048)]
        rows = []
        for n in numbers:
            p = lib.seccomp_syscall_resolve_num_arch(token, n)
            if p:
                rows.append((n, ctypes.string_at(p).decode()))
                libc.free(p)
        with open(os.path.join(OUT, f"{ours}.tsv"), "w") as f:
            f.write(f"# {ours}: AUDIT_ARCH {audit:#010x}\n")
            f.write(f"# source: libseccomp {version} (Debian libseccomp2), "
                    f"seccomp_syscall_resolve_num_arch for arch '{theirs}'\n")
            for n, name in rows:
                f.write(f"{n}\t{name}\n")
        print(ours, len(rows))


if __name__ == "__main__":
    main()
