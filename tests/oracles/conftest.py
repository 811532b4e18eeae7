"""Fixtures for the oracle tests: each skips, saying why, only when the
facility it needs is missing here (not Linux, no root, no libpcap)."""

import os
import sys

import pytest

from bpfcheck.errors import OracleUnavailable

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="the kernel oracles need Linux")


@pytest.fixture(scope="session")
def pcap():
    from bpfcheck.oracles import libpcap
    if not libpcap.available():
        pytest.skip("libpcap.so.0.8 is not installed (package libpcap0.8)")
    return libpcap


@pytest.fixture(scope="module")
def netns():
    if not sys.platform.startswith("linux"):
        pytest.skip("network namespaces need Linux")
    if os.geteuid() != 0:
        pytest.skip("a private network namespace needs root")
    from bpfcheck.oracles.packet import PacketNamespace
    try:
        ns = PacketNamespace()
    except OracleUnavailable as exc:
        pytest.skip(str(exc))
    yield ns
    ns.close()
