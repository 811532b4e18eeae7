"""The kernel's cBPF → eBPF translation limit, measured on the running
kernel and compared with ``validate`` at the boundary and one either side.

``bpf_convert_filter`` (net/core/filter.c) rewrites every socket (and
seccomp) filter into eBPF, where one classic instruction may become up to
21, and fails with EINVAL when a jump's 16-bit offset overflows.  With
``net.core.optmem_max`` at its usual 128 KiB a converted filter that large
never fits on a socket, so near the limit the kernel answers ENOMEM ("passed
the checker, too big to charge to the socket") on one side and EINVAL on the
other: the errno tells the two apart.

Each measurement puts ``ja n`` over a run of ``n`` copies of one
instruction kind, after 2400 ``ld [0]`` (13 eBPF instructions each, 31200
in all) so that the program is long enough for every kind: the largest
``n`` the kernel does not refuse gives that kind's eBPF size, and
``validate`` must accept ``n`` and refuse ``n + 1``.

Where ``validate`` gets the limit wrong, the minimal repros are in
test_conformance_regressions.py (``test_regression_translation_*``).
"""

from __future__ import annotations

import errno

import pytest

from bpfcheck import Program, isa
from bpfcheck.oracles.kernel import kernel_accepts
from bpfcheck.translation import ebpf_size

from conformance_support import (AD, NET, bpfcheck_verdict, describe_errno, describe_validation,
                                 ret, show_program)

pytestmark = pytest.mark.kernel

S16_MAX = 32767
PREFIX = [(0x20, 0, 0, 0)] * 2400          # ld [0]: 13 eBPF instructions each
PREFIX_EBPF = 13 * len(PREFIX)

#: (instruction, eBPF size measured on Linux 6.18 x86-64)
KINDS = {
    **{f"ld [{names[1] or names[0]}]": ((0x20, 0, 0, AD + n), None) for n, names in isa.EXTENSIONS.items()},
    "ldb [vlanp]": ((0x30, 0, 0, AD + isa.SKF_AD_VLAN_TAG_PRESENT), 3),
    "ldh [proto]": ((0x28, 0, 0, AD + isa.SKF_AD_PROTOCOL), 2),
    "div x": ((0x3C, 0, 0, 0), 5),
    "mod x": ((0x9C, 0, 0, 0), 5),
    "div #3": ((0x34, 0, 0, 3), 1),
    "ret #1": ((0x06, 0, 0, 1), 2),
    "ret a": ((0x16, 0, 0, 0), 1),
    "ld #len": ((0x80, 0, 0, 0), 1),
    "ldx #len": ((0x81, 0, 0, 0), 1),
    "tax": ((0x07, 0, 0, 0), 1),
    "neg": ((0x84, 0, 0, 0), 1),
    "st M[0]": ((0x02, 0, 0, 0), 1),
    "lsh x": ((0x6C, 0, 0, 0), 1),
    "add #0x80000000": ((0x04, 0, 0, 0x80000000), 1),
    "ld [0]": ((0x20, 0, 0, 0), 13),
    "ld [12]": ((0x20, 0, 0, 12), 14),
    "ldh [12]": ((0x28, 0, 0, 12), 14),
    "ldb [12]": ((0x30, 0, 0, 12), 13),
    "ld [0x8000]": ((0x20, 0, 0, 0x8000), 16),
    "ldb [0x8000]": ((0x30, 0, 0, 0x8000), 15),
    "ld [x+0]": ((0x40, 0, 0, 0), 8),
    "ld [x+4]": ((0x40, 0, 0, 4), 9),
    "ldb [x+4]": ((0x50, 0, 0, 4), 9),
    "ld [net+0]": ((0x20, 0, 0, NET), 8),
    "ldx 4*([14]&0xf)": ((0xB1, 0, 0, 14), 19),
    "ldx 4*([0]&0xf)": ((0xB1, 0, 0, 0), 18),
    "ldx 4*([0x8000]&0xf)": ((0xB1, 0, 0, 0x8000), 21),
}
#: extension sizes (convert_bpf_extensions); vlan_avail is 3 since 6.1
_EXT_SIZES = {isa.SKF_AD_PROTOCOL: 2, isa.SKF_AD_PKTTYPE: 2, isa.SKF_AD_IFINDEX: 4, isa.SKF_AD_NLATTR: 4,
              isa.SKF_AD_NLATTR_NEST: 4, isa.SKF_AD_MARK: 1, isa.SKF_AD_QUEUE: 1, isa.SKF_AD_HATYPE: 4,
              isa.SKF_AD_RXHASH: 1, isa.SKF_AD_CPU: 4, isa.SKF_AD_ALU_XOR_X: 1, isa.SKF_AD_VLAN_TAG: 1,
              isa.SKF_AD_VLAN_TAG_PRESENT: 3, isa.SKF_AD_PAY_OFFSET: 4, isa.SKF_AD_RANDOM: 4,
              isa.SKF_AD_VLAN_TPID: 2}
for _n, _names in isa.EXTENSIONS.items():
    _key = f"ld [{_names[1] or _names[0]}]"
    KINDS[_key] = (KINDS[_key][0], _EXT_SIZES[_n])


def ja_over(filler, n: int, prefix=PREFIX) -> Program:
    body = list(prefix) + [filler] * n
    return Program([(0x05, 0, 0, len(body))] + body + [ret(1)])


def refused(program) -> bool:
    """The kernel's checker or translation refuses it (ENOMEM passes)."""
    ok, err = kernel_accepts(program)
    assert ok or err in (errno.EINVAL, errno.ENOMEM), describe_errno(ok, err)
    return not ok and err == errno.EINVAL


def largest_accepted(make, lo: int, hi: int) -> int:
    """Binary search: the largest n in [lo, hi) for which make(n) is not refused."""
    assert not refused(make(lo)), show_program(make(lo))
    assert refused(make(hi)), show_program(make(hi))
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if refused(make(mid)):
            hi = mid
        else:
            lo = mid
    return lo


@pytest.mark.parametrize("kind", list(KINDS))
def test_ja_limit_matches_validate_at_the_boundary(kind):
    filler, size = KINDS[kind]
    room = S16_MAX - PREFIX_EBPF                       # eBPF instructions the ja may still span
    top = 4094 - len(PREFIX)                           # the most fillers that fit in 4096
    n = largest_accepted(lambda m: ja_over(filler, m), 1, min(top, room // size + 2))
    measured = room // n
    assert room // measured == n and measured == size, (
        f"{kind}: the kernel takes at most {n} after the prefix, i.e. {measured} eBPF instructions "
        f"each; expected {size}")
    assert ebpf_size(filler) == size, f"bpfcheck.translation counts {ebpf_size(filler)} for {kind}"
    for m in (n - 1, n, n + 1):
        program = ja_over(filler, m)
        theirs = refused(program)
        ours = bpfcheck_verdict(program, "socket")
        assert theirs == (ours is not None), (
            f"{kind} x {m} after the prefix (ja spans {PREFIX_EBPF + m * size} eBPF instructions): "
            f"kernel {'refuses' if theirs else 'accepts'}, bpfcheck {describe_validation(ours)}")
        if ours is not None:
            assert type(ours).__name__ == "TranslationJumpTooFar" and ours.pc == 0, describe_validation(ours)


@pytest.mark.parametrize("kind,n", [("ld [12]", 2340), ("ld [0x8000]", 2047), ("ldb [0x8000]", 2184),
                                    ("ldx 4*([14]&0xf)", 1724), ("ldx 4*([0x8000]&0xf)", 1560)])
def test_kernel_limit_without_a_prefix(kind, n):
    # The kernel facts behind test_regression_translation_limit_checked_only_from_2400_instructions:
    # one kind alone reaches the limit in programs far shorter than 2400.
    filler, size = KINDS[kind]
    assert n == S16_MAX // size
    assert not refused(ja_over(filler, n, prefix=()))
    assert refused(ja_over(filler, n + 1, prefix=()))


@pytest.mark.parametrize("jump,adj", [((0x05, 0, 0, 0), 0),            # ja 0
                                      ((0x15, 0, 0, 0), 0),            # jeq #0, 0, 0 (a no-op)
                                      ((0x15, 0, 1, 0), 0),            # jeq, jf next: one jump
                                      ((0x15, 1, 1, 0), 1),            # jeq + ja
                                      ((0x45, 0, 1, 1), 1),            # jset, jt next: jset + ja
                                      ((0x15, 0, 0, 0x80000000), 1),   # mov "negative" imm + jeq
                                      ((0x1D, 1, 1, 0), 1)])           # jeq x + ja
def test_kernel_refuses_a_jump_beyond_ebpf_instruction_32767(jump, adj):
    # The kernel facts behind test_regression_translation_jump_beyond_ebpf_instruction_32767:
    # bpf_convert_filter's first pass, where every forward target's address
    # is still 0, rejects any jump whose own eBPF position p (prologue of 7
    # when the program loads packet data, + the index of the jump within
    # its instruction's expansion) makes the offset -p-1 < -32768.
    base = [(0x20, 0, 0, 0)] * 2519                 # ld [0]: 7 + 13 * 2519 = 32754
    tail = [ret(1), ret(1)]

    def make(m: int) -> Program:
        return Program(base + [(0x20, 0, 0, AD + isa.SKF_AD_MARK)] * m + [jump] + tail)

    m = largest_accepted(make, 0, 20)
    assert 7 + 13 * 2519 + m + adj == S16_MAX, f"the jump's last eBPF instruction sat at {7 + 32747 + m + adj}"


def test_seccomp_filters_never_reach_the_limit(seccomp):
    # seccomp_check_filter turns ld [k] into one eBPF load, so 4094 of them
    # under a ja are accepted; the biggest seccomp expansions (div x: 5,
    # jumps on "negative" immediates: 3) cannot reach 32767 in 4096
    for filler in ((0x20, 0, 0, 0), (0x3C, 0, 0, 0), (0x15, 0, 0, 0x80000000)):
        program = Program([(0x05, 0, 0, 4094)] + [filler] * 4094 + [ret(isa.SECCOMP_RET_ALLOW)])
        assert seccomp.kernel_seccomp_accepts(program) == (True, 0), show_program(program)


def test_enomem_is_not_a_validation_rule():
    # 4096 instructions that convert to 13 eBPF instructions each: past
    # net.core.optmem_max (the socket's charge), not past any rule
    for program in (Program([(0x30, 0, 0, 0)] * 4095 + [ret(1)]),
                    Program([(0x05, 0, 0, 2519)] + [(0x30, 0, 0, 0)] * 2519 + [ret(1)])):
        ok, err = kernel_accepts(program)
        assert ok or err == errno.ENOMEM, describe_errno(ok, err)
        assert bpfcheck_verdict(program, "socket") is None, describe_validation(bpfcheck_verdict(program, "socket"))
