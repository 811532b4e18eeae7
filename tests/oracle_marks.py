"""Skip marks shared by the test folders (on the path through ``pythonpath`` in
pyproject.toml): each skips, saying why, only when an oracle is really missing
here (not Linux, not x86-64 for seccomp, no libpcap)."""

from __future__ import annotations

import platform
import sys

import pytest

LINUX = sys.platform.startswith("linux")


def libpcap_available() -> bool:
    from bpfcheck.oracles import libpcap
    return libpcap.available()


needs_kernel = pytest.mark.skipif(not LINUX, reason="the kernel oracles need Linux")
needs_seccomp = pytest.mark.skipif(not LINUX or platform.machine() != "x86_64",
                                   reason="the seccomp oracle knows x86-64 Linux only")
needs_libpcap = pytest.mark.skipif(not libpcap_available(),
                                   reason="libpcap.so.0.8 is not installed (Debian package libpcap0.8)")
