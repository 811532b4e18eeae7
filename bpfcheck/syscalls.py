"""Syscall names and numbers per architecture, and the AUDIT_ARCH constants.

The tables in ``data/syscalls/`` were generated from libseccomp by
``tools/gen_syscalls.py`` (each file names its source).  x32 syscalls are
the x86_64 ABI's numbers with bit 30 (``__X32_SYSCALL_BIT``) set, under
``AUDIT_ARCH_X86_64``.
"""

from __future__ import annotations

import functools
import os
from typing import Dict, Optional

from .context import SeccompData
from .errors import UsageError

X32_SYSCALL_BIT = 0x40000000

#: AUDIT_ARCH_* values (include/uapi/linux/audit.h)
AUDIT_ARCH = {
    "AUDIT_ARCH_X86_64": 0xC000003E,
    "AUDIT_ARCH_I386": 0x40000003,
    "AUDIT_ARCH_AARCH64": 0xC00000B7,
    "AUDIT_ARCH_ARM": 0x40000028,
    "AUDIT_ARCH_ARMEB": 0x00000028,
    "AUDIT_ARCH_RISCV64": 0xC00000F3,
    "AUDIT_ARCH_RISCV32": 0x400000F3,
    "AUDIT_ARCH_PPC64LE": 0xC0000015,
    "AUDIT_ARCH_PPC64": 0x80000015,
    "AUDIT_ARCH_S390X": 0x80000016,
    "AUDIT_ARCH_MIPS": 0x00000008,
    "AUDIT_ARCH_MIPSEL64": 0xC0000008,
    "AUDIT_ARCH_LOONGARCH64": 0xC0000102,
}

#: our architecture names -> their AUDIT_ARCH value and table file
ARCHITECTURES = {
    "x86_64": 0xC000003E,
    "i386": 0x40000003,
    "x32": 0xC000003E,
    "aarch64": 0xC00000B7,
    "arm": 0x40000028,
    "riscv64": 0xC00000F3,
    "ppc64le": 0xC0000015,
    "s390x": 0x80000016,
}
ALIASES = {"amd64": "x86_64", "x86": "i386", "arm64": "aarch64", "armhf": "arm", "ppc64el": "ppc64le"}


def arch_name(name: str) -> str:
    key = ALIASES.get(name.lower(), name.lower())
    if key.startswith("audit_arch_"):
        key = {v: k for k, v in ARCHITECTURES.items() if k != "x32"}.get(AUDIT_ARCH.get(name.upper()), key)
    if key not in ARCHITECTURES:
        raise UsageError(f"unknown architecture {name!r} (known: {', '.join(ARCHITECTURES)})")
    return key


@functools.lru_cache(maxsize=None)
def table(arch: str) -> Dict[int, str]:
    """number -> name for ``arch``."""
    arch = arch_name(arch)
    path = os.path.join(os.path.dirname(__file__), "data", "syscalls", f"{arch}.tsv")
    numbers: Dict[int, str] = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            number, name = line.split("\t")
            numbers[int(number)] = name.strip()
    return numbers


@functools.lru_cache(maxsize=None)
def numbers(arch: str) -> Dict[str, int]:
    """name -> number for ``arch``."""
    return {name: number for number, name in table(arch).items()}


def syscall_number(name: str, arch: str = "x86_64") -> Optional[int]:
    return numbers(arch).get(name)


def syscall_name(number: int, arch: str = "x86_64") -> Optional[str]:
    return table(arch).get(number)


def arch_of_audit(value: int) -> Optional[str]:
    for name, audit in ARCHITECTURES.items():
        if audit == value and name != "x32":
            return name
    return None


def resolve_property_name(name: str, arch: str = "x86_64") -> Optional[int]:
    """A name in a seccomp property: a syscall of ``arch`` or an AUDIT_ARCH_* constant."""
    if name in AUDIT_ARCH:
        return AUDIT_ARCH[name]
    return syscall_number(name, arch)


def resolve_name(key: str, value: str) -> Optional[int]:
    """``--seccomp nr=execve,arch=x86_64``: names on the command line."""
    if key == "arch":
        if value.upper() in AUDIT_ARCH:
            return AUDIT_ARCH[value.upper()]
        try:
            return ARCHITECTURES[arch_name(value)]
        except UsageError:
            return None
    if key == "nr" and not value[:1].isdigit() and not value.startswith("-"):
        arch, _, syscall = value.rpartition(":")
        return syscall_number(syscall, arch or "x86_64")
    return None


def describe_seccomp(data: SeccompData) -> str:
    """``execve(0x0, 0x1, ...) on x86_64 (nr 59, arch 0xc000003e)``."""
    arch = arch_of_audit(data.arch)
    name = None
    if arch == "x86_64" and data.nr & X32_SYSCALL_BIT:
        name = syscall_name(data.nr, "x32")
        arch_text = "x86_64 (x32 ABI)"
    elif arch is not None:
        name = syscall_name(data.nr, arch)
        arch_text = arch
    else:
        arch_text = f"unknown arch {data.arch:#x}"
    args = ", ".join(f"{a:#x}" for a in data.args)
    label = name or f"syscall {data.nr}"
    text = f"{label}({args}) on {arch_text} (nr {data.nr}, arch {data.arch:#x})"
    if data.instruction_pointer:
        text += f" ip {data.instruction_pointer:#x}"
    return text
