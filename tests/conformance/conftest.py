"""Fixtures for the differential conformance suite.

A fresh ``AF_UNIX`` kernel socket per test (cheap: a socket pair) and one
private network namespace per test process (pytest-xdist worker), created
on first use.  A fixture skips, saying why, only when the facility is
really missing here: not Linux, not root (for the namespace), no libpcap,
not x86-64 (for seccomp).  Anything else that goes wrong with an oracle is
an error, not a skip.

The kernel socket pins the test's thread to one CPU (worker ``gwN`` takes
the N-th allowed CPU), so ``SKF_AD_CPU`` is known: tests pass
``Context(cpu=kernel.cpu)``.  The pinning ends with the test, so tests
elsewhere in the same worker see the process's full CPU set.
"""

from __future__ import annotations

import os
import platform
import sys

import pytest

LINUX = sys.platform.startswith("linux")


def _worker_index() -> int:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    digits = "".join(ch for ch in worker if ch.isdigit())
    return int(digits) if digits else 0


@pytest.fixture
def kernel():
    """A :class:`~bpfcheck.oracles.kernel.KernelSocket`, pinned to a CPU
    for the duration of the test."""
    if not LINUX:
        pytest.skip("the kernel socket-filter oracle needs Linux")
    from bpfcheck.oracles.kernel import KernelSocket
    allowed = sorted(os.sched_getaffinity(0))
    cpu = allowed[_worker_index() % len(allowed)]
    ks = KernelSocket(cpu=cpu)
    try:
        yield ks
    finally:
        ks.close()


@pytest.fixture(scope="session")
def netns():
    """A :class:`~bpfcheck.oracles.packet.PacketNamespace` (needs root)."""
    if not LINUX:
        pytest.skip("network namespaces need Linux")
    if os.geteuid() != 0:
        pytest.skip("the AF_PACKET oracle needs root for a private network namespace")
    from bpfcheck.oracles.packet import PacketNamespace
    ns = PacketNamespace()
    try:
        yield ns
    finally:
        ns.close()


@pytest.fixture(scope="session")
def pcap():
    """The libpcap oracle module (needs libpcap.so.0.8)."""
    from bpfcheck.oracles import libpcap
    if not libpcap.available():
        pytest.skip("libpcap.so.0.8 is not installed (Debian package libpcap0.8)")
    return libpcap


@pytest.fixture(scope="session")
def seccomp():
    """The seccomp oracle module (forks children; x86-64 Linux only)."""
    if not LINUX or platform.machine() != "x86_64":
        pytest.skip("the seccomp oracle knows the syscall numbers of x86-64 Linux only")
    from bpfcheck.oracles import seccomp as module
    return module
