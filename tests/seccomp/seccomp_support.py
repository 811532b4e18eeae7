"""Helpers for the seccomp tests: the realistic container profile compiled by
libseccomp (once per session), filters in bpf_asm syntax, and skips that say why."""

import os
import platform
import sys

import pytest

from bpfcheck import parse

DATA = os.path.join(os.path.dirname(__file__), "data")
PROFILE = os.path.join(DATA, "container.json")
VARIANT = os.path.join(DATA, "container-v2.json")
X86_64 = 0xC000003E
I386 = 0x40000003

on_x86_64_linux = sys.platform.startswith("linux") and platform.machine() == "x86_64"
needs_kernel = pytest.mark.skipif(not on_x86_64_linux, reason="the seccomp kernel oracle needs Linux on x86_64")
needs_root = pytest.mark.skipif(not on_x86_64_linux or os.geteuid() != 0,
                                reason="PTRACE_SECCOMP_GET_FILTER needs root on Linux x86_64")


def _libseccomp():
    from bpfcheck.seccomp import libseccomp
    return libseccomp.available()


needs_libseccomp = pytest.mark.skipif(not _libseccomp(),
                                      reason="libseccomp.so.2 is not installed (package libseccomp2)")


@pytest.fixture(scope="session")
def container():
    if not _libseccomp():
        pytest.skip("libseccomp.so.2 is not installed (package libseccomp2)")
    from bpfcheck.seccomp.oci import compile_file
    return compile_file(PROFILE).program


@pytest.fixture(scope="session")
def variant():
    if not _libseccomp():
        pytest.skip("libseccomp.so.2 is not installed (package libseccomp2)")
    from bpfcheck.seccomp.oci import compile_file
    return compile_file(VARIANT).program


def asm(text):
    """A filter in bpf_asm syntax; ``X86_64`` etc. are spelled out."""
    for name, value in (("X86_64", X86_64), ("I386", I386), ("ALLOW", 0x7FFF0000),
                        ("KILL_PROCESS", 0x80000000), ("KILL_THREAD", 0), ("EPERM", 0x50001)):
        text = text.replace(f"#{name}", f"#{value:#x}")
    return parse(text, "asm")
