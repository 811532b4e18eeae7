"""The AF_UNIX socket-filter oracle against hand-computed verdicts.

Every expected value here was worked out from the kernel's rules
(SEMANTICS.md) and then confirmed on the running kernel.
"""

import errno
import os
import sys
import time

import pytest

from bpfcheck import isa
from bpfcheck.errors import OracleUnavailable, UsageError, ValidationError
from bpfcheck.oracles.kernel import (KernelRejected, KernelSocket, kernel_accepts, kernel_run,
                                     kernel_verdicts, probe_extensions)
from bpfcheck.program import Program

pytestmark = [pytest.mark.kernel, pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="the kernel oracle needs Linux")]

AD = isa.SKF_AD_OFF
RET_A = (0x16, 0, 0, 0)


def P(*insns):
    return Program(list(insns))


def ret(k):
    return (0x06, 0, 0, k)


# (program, packet, bytes delivered: None = dropped)
CASES = {
    "ret 0 drops": (P(ret(0)), bytes(10), None),
    "ret k trims": (P(ret(5)), bytes(10), 5),
    "ret k above len keeps all": (P(ret(100)), bytes(10), 10),
    "empty packet delivered": (P(ret(1)), b"", 0),
    "empty packet dropped": (P(ret(0)), b"", None),
    "ifindex without device returns A": (P((0x00, 0, 0, 123), (0x20, 0, 0, AD + 8), ret(0)), bytes(200), 123),
    "hatype without device returns A": (P((0x00, 0, 0, 77), (0x28, 0, 0, AD + 28), ret(0)), bytes(200), 77),
    "X survives extension loads": (P((0x01, 0, 0, 7), (0x20, 0, 0, AD), (0x20, 0, 0, AD + 32),
                                     (0x87, 0, 0, 0), RET_A), bytes(100), 7),
    "ld [SKF_AD_OFF-1] ends with 0": (P((0x20, 0, 0, AD - 1), (0x04, 0, 0, 5), RET_A), bytes(3), None),
    "ldh in bounds at len-2": (P((0x28, 0, 0, 8), (0x04, 0, 0, 3), RET_A), bytes(10), 3),
    "ldh out of bounds at len-1": (P((0x28, 0, 0, 9), ret(3)), bytes(10), None),
    "ld [x+k] wraps: X=-1, k=10 reads byte 9": (P((0x01, 0, 0, 0xFFFFFFFF), (0x50, 0, 0, 10), RET_A),
                                                 bytes(range(50)), 9),
    "lsh x uses X & 31": (P((0x00, 0, 0, 1), (0x01, 0, 0, 33), (0x6C, 0, 0, 0), RET_A), bytes(10), 2),
    "rsh x by 32 leaves A": (P((0x00, 0, 0, 6), (0x01, 0, 0, 32), (0x7C, 0, 0, 0), RET_A), bytes(10), 6),
    "div by X = 0 drops": (P((0x00, 0, 0, 6), (0x3C, 0, 0, 0), ret(9)), bytes(10), None),
    "ld #len": (P((0x80, 0, 0, 0), RET_A), bytes(37), 37),
    "SKF_NET_OFF reads from 0": (P((0x30, 0, 0, isa.SKF_NET_OFF + 5), RET_A), bytes(range(50)), 5),
    "SKF_LL_OFF fails without link header": (P((0x30, 0, 0, isa.SKF_LL_OFF), (0x04, 0, 0, 1), RET_A),
                                             bytes(50), None),
    "msh": (P((0xB1, 0, 0, 0), (0x87, 0, 0, 0), RET_A), b"\x45" + bytes(40), 20),
}


@pytest.mark.parametrize("name", list(CASES))
def test_delivered_lengths_match_hand_computed(name):
    program, packet, expected = CASES[name]
    assert kernel_run(program, [packet]) == [expected], name


def test_exact_verdicts_beyond_the_packet_length():
    mul = P((0x80, 0, 0, 0), (0x24, 0, 0, 1000003), RET_A)
    packets = [bytes(64), b"", b"abc", bytes(1)]
    assert kernel_verdicts(mul, packets) == [(len(p) * 1000003) & isa.U32 for p in packets]
    assert kernel_verdicts(P(ret(0x7FFF0000)), [bytes(64), b"", b"x"]) == [0x7FFF0000] * 3
    # the no-device exit bypasses every ret: the rewrite must catch it too
    exit_a = P((0x00, 0, 0, 0xDEADBEEF), (0x20, 0, 0, AD + 8), ret(1))
    assert kernel_verdicts(exit_a, [bytes(3), b""]) == [0xDEADBEEF] * 2
    # verdicts below the length need no extra runs and stay exact
    assert kernel_verdicts(P(ret(0)), [bytes(5)]) == [0]
    assert kernel_verdicts(P(ret(3)), [bytes(5)]) == [3]


def test_ld_skf_ad_off_minus_1_is_a_far_network_relative_load():
    # -0x1001 lies in the SKF_NET_OFF area: offset 0xFEFFF from the network
    # header, so on a datagram over 1 MiB it reads real bytes (measured).
    packet = bytearray(0xFEFFF + 8)
    packet[0xFEFFF:0xFEFFF + 4] = b"\x00\x00\x01\x23"
    assert kernel_verdicts(P((0x20, 0, 0, AD - 1), RET_A), [bytes(packet)]) == [0x123]


def test_random_programs_cannot_have_exact_verdicts_above_the_length():
    rand = P((0x20, 0, 0, AD + isa.SKF_AD_RANDOM), (0x44, 0, 0, 0x80000000), RET_A)
    with pytest.raises(OracleUnavailable, match="SKF_AD_RANDOM"):
        kernel_verdicts(rand, [bytes(8)])


@pytest.mark.parametrize("name,program", [
    ("4097 instructions", Program([ret(1)] * 4097)),
    ("ret x (0x0e)", P((0x0E, 0, 0, 0))),
    ("ldh #k (0x08)", P((0x08, 0, 0, 0), ret(1))),
    ("neg with X bit (0x8c)", P((0x8C, 0, 0, 0), ret(1))),
    ("jump past the end", P((0x15, 5, 0, 0), ret(1))),
    ("ja past the end", P((0x05, 0, 0, 1), ret(1))),
    ("last is not ret", P(ret(1), (0x00, 0, 0, 0))),
    ("empty", P()),
    ("M[] read before write", P((0x60, 0, 0, 0), RET_A)),
    ("div #0", P((0x34, 0, 0, 0), ret(1))),
    ("lsh #32", P((0x64, 0, 0, 32), ret(1))),
    ("unknown extension", P((0x20, 0, 0, AD + 64), RET_A)),
])
def test_invalid_programs_get_einval(name, program):
    assert kernel_accepts(program) == (False, errno.EINVAL), name
    with KernelSocket() as ks, pytest.raises(KernelRejected) as info:
        ks.attach(program)
    assert info.value.errno == errno.EINVAL and isinstance(info.value, ValidationError)
    assert "EINVAL" in info.value.reason


def test_4096_instructions_are_accepted():
    assert kernel_accepts(Program([(0x04, 0, 0, 1)] * 4095 + [ret(1)])) == (True, 0)


def test_huge_converted_filters_hit_optmem_max():
    with open("/proc/sys/net/core/optmem_max") as f:
        optmem = int(f.read())
    program = Program([(0x30, 0, 0, 0)] * 4095 + [ret(1)])       # each ldb grows a lot
    ok, err = kernel_accepts(program)
    if optmem <= 131072:
        assert (ok, err) == (False, errno.ENOMEM)
        with pytest.raises(KernelRejected, match="optmem_max"):
            KernelSocket(program)
    else:
        assert ok or err == errno.ENOMEM


def test_a_rejected_attach_keeps_the_previous_filter():
    with KernelSocket(P(ret(3))) as ks:
        with pytest.raises(KernelRejected):
            ks.attach(P((0x0E, 0, 0, 0)))
        assert ks.send(bytes(10)) == 3


def test_big_datagrams():
    with KernelSocket(P(ret(0xFFFFFFFF))) as ks:
        assert ks.run_many([bytes(65535), bytes(65536), bytes(1 << 20)]) == [65535, 65536, 1 << 20]
        ks.attach(P(ret(70000)))
        assert ks.send(bytes(100000)) == 70000
        with pytest.raises(UsageError, match="does not fit"):
            ks.send(bytes(64 << 20))
        assert ks.send(bytes(10)) == 10                  # still usable


@pytest.mark.parametrize("cpu", sorted(os.sched_getaffinity(0)))
def test_pinning_fixes_skf_ad_cpu(cpu):
    before = os.sched_getaffinity(0)
    with KernelSocket(P((0x20, 0, 0, AD + isa.SKF_AD_CPU), RET_A), cpu=cpu) as ks:
        assert ks.cpu == cpu and ks.context().cpu == cpu
        assert ks.verdicts([b"", bytes(3)]) == [cpu, cpu]
    assert os.sched_getaffinity(0) == before                       # restored


def test_af_unix_context_is_all_zero_but_cpu():
    values = probe_extensions(bytes(100), cpu="current")
    cpu = values.pop("cpu")
    assert cpu in os.sched_getaffinity(0)
    assert values == {name: 0 for name in values}                 # has_device 0 too


def test_sockets_are_closed():
    fds = len(os.listdir("/proc/self/fd"))
    for _ in range(20):
        with KernelSocket(P(ret(1))) as ks:
            ks.send(b"x")
        ks2 = KernelSocket(P(ret(1)))
        del ks2                                                    # __del__ closes too
    kernel_run(P(ret(1)), [b"x"])
    kernel_accepts(P((0x0E, 0, 0, 0)))
    assert len(os.listdir("/proc/self/fd")) == fds


def test_throughput(capsys):
    program = P((0x28, 0, 0, 12), (0x15, 0, 1, 0x800), ret(0xFFFF), ret(0))
    packets = [bytes(12) + b"\x08\x00" + bytes(60), bytes(74)] * 25000
    with KernelSocket(program) as ks:
        start = time.perf_counter()
        out = ks.run_many(packets)
        elapsed = time.perf_counter() - start
        assert out[:2] == [74, None]
        start = time.perf_counter()
        exact = ks.verdicts(packets[:10000])
        exact_elapsed = time.perf_counter() - start
        assert exact[:2] == [0xFFFF, 0]
    with capsys.disabled():
        print(f"\n  kernel oracle: {len(packets) / elapsed:,.0f} packets/s through one filter; "
              f"exact verdicts {10000 / exact_elapsed:,.0f}/s")


def test_a_failed_construction_undoes_the_pinning():
    before = os.sched_getaffinity(0)
    with pytest.raises(KernelRejected):
        KernelSocket(P((0x0E, 0, 0, 0)), cpu=min(before))
    assert os.sched_getaffinity(0) == before
