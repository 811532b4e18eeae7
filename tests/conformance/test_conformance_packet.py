"""The same opcodes on real frames: packet taps (AF_PACKET) on ``lo`` in a
private network namespace, where the kernel runs the filter with a device
(``ifindex``/``hatype`` are loads, not exits), a link-layer header at 0
and the network header at 14 — so link-relative loads succeed here — and
with VLAN tags stripped from the incoming copy.

Every load kind and size is aimed at ``len - size`` and ``len - size + 1``
of every copy a tap sees (the outgoing copy has the frame's length, the
incoming copy of a tagged frame is 4 bytes shorter), absolute, indirect,
``ldx 4*([k]&0xf)``, network- and link-relative.  Value loads end with
``or #1; ret a``: never 0 on the in-bounds path, whatever the bytes.

Each Observation carries the exact bytes and Context the filter saw; the
reference VM runs on those and must return the exact verdict.
"""

from __future__ import annotations

from typing import List

import pytest

from bpfcheck import Machine, isa
from bpfcheck.errors import ValidationError
from bpfcheck.frames import build_frame
from bpfcheck.oracles.kernel import KernelRejected
from bpfcheck.program import Program

from conformance_crafted import NLA_BODIES
from conformance_support import (AD, LL, NET, RET_A, Failures, Mismatch, P, bpfcheck_verdict,
                                 describe_validation, pattern, report, show_program)

pytestmark = [pytest.mark.kernel, pytest.mark.netns]

LO_MAC = bytes(6)
SRC = bytes.fromhex("020000000001")
DESTINATIONS = {"host": LO_MAC, "broadcast": b"\xff" * 6, "multicast": bytes.fromhex("01005e000001"),
                "otherhost": bytes.fromhex("020000000009")}


def frame(dst: bytes, length: int, tags: bytes = b"", ethertype: bytes = b"\x88\xb5") -> bytes:
    head = dst + SRC + tags + ethertype
    return head + pattern(max(0, length - len(head)), salt=length)


def crafted_frames() -> List[bytes]:
    out = []
    for i, length in enumerate((14, 15, 17, 60, 1514)):
        dst = list(DESTINATIONS.values())[i % len(DESTINATIONS)]
        out.append(frame(dst, length))
    # 802.1Q, VID 5, PCP 1: the incoming copy is 4 bytes shorter (measured:
    # a tagged frame with nothing after the tag has no incoming copy at all)
    for length in (18, 20, 64):
        out.append(frame(LO_MAC, length, tags=b"\x81\x00\x20\x05"))
    out.append(frame(LO_MAC, 70, tags=b"\x88\xa8\x00\x64\x81\x00\x00\x07"))    # QinQ: one tag stays
    return out


FRAMES = crafted_frames()
REAL_KINDS = ("tcp-syn", "udp-dns-query", "ipv6-udp", "ipv6-ext-chain", "arp-request", "vlan-100-tcp",
              "vlan-qinq-88a8", "mpls-ipv4", "pppoe-session-ipv4", "llc-stp", "ipv4-frag-middle",
              "icmpv6-neighbor-solicit", "gre-ipv4", "ether-header-only")
REAL_FRAMES = [build_frame(kind) for kind in REAL_KINDS]


def copy_lengths() -> List[int]:
    lengths = set()
    for f in FRAMES:
        lengths.add(len(f))
        if f[12:14] in (b"\x81\x00", b"\x88\xa8"):
            lengths.add(len(f) - 4)
    return sorted(lengths)


def _edges(size: int, base: int = 0) -> List[int]:
    out = set()
    for n in copy_lengths():
        for t in (n - base - size, n - base - size + 1):
            if t >= 0:
                out.add(t)
    return sorted(out)


def _value(load, prefix=()) -> Program:
    return P(*prefix, load, (0x44, 0, 0, 1), RET_A)          # or #1: never 0 in bounds


def load_programs() -> dict:
    groups = {"abs": [], "net": [], "link": [], "ind": [], "msh": []}
    for size, nbytes in ((0x00, 4), (0x08, 2), (0x10, 1)):
        for t in _edges(nbytes):
            groups["abs"].append(_value((0x20 | size, 0, 0, t)))
            groups["link"].append(_value((0x20 | size, 0, 0, LL + t)))
            groups["ind"].append(_value((0x40 | size, 0, 0, 0), [(0x01, 0, 0, t)]))
            if size == 0x00:       # X + k wraps around 2**32
                groups["ind"].append(_value((0x40 | size, 0, 0, t + 1), [(0x01, 0, 0, 0xFFFFFFFF)]))
            if size == 0x10:       # link-relative through X + k
                groups["ind"].append(_value((0x40 | size, 0, 0, t), [(0x01, 0, 0, LL)]))
        for t in _edges(nbytes, base=14):
            groups["net"].append(_value((0x20 | size, 0, 0, NET + t)))
            if size == 0x08:       # network-relative through X + k
                groups["ind"].append(_value((0x40 | size, 0, 0, t), [(0x01, 0, 0, NET)]))
        # just below each area
        groups["net"].append(_value((0x20 | size, 0, 0, NET - 1)))
        groups["link"].append(_value((0x20 | size, 0, 0, LL - 1)))
    msh_offsets = _edges(1) + [NET + t for t in _edges(1, base=14)] + [LL + t for t in _edges(1)]
    for k in msh_offsets + [AD, AD - 1, 0xFFFFFFFF]:
        groups["msh"].append(P((0x00, 0, 0, 0x55), (0xB1, 0, 0, k), (0x0C, 0, 0, 0), RET_A))
    return groups


LOAD_GROUPS = load_programs()


#: every extension but SKF_AD_RANDOM (test_conformance_opcodes.py has it), by libpcap name
EXTENSIONS = {names[0]: n for n, names in isa.EXTENSIONS.items() if n != isa.SKF_AD_RANDOM}


def extension_programs(n: int) -> List[Program]:
    out = []
    for size in (0x20, 0x28, 0x30):
        load = (size, 0, 0, AD + n)
        out.append(P((0x01, 0, 0, 7), (0x00, 0, 0, 0x1234), load, (0x04, 0, 0, 1), RET_A))
        out.append(P((0x01, 0, 0, 7), (0x00, 0, 0, 0x1234), load, (0x87, 0, 0, 0), RET_A))
    if n == isa.SKF_AD_ALU_XOR_X:
        out.append(P((0x28, 0, 0, 12), (0x07, 0, 0, 0), (0x20, 0, 0, 0), (0x20, 0, 0, AD + n), RET_A))
    if n == isa.SKF_AD_VLAN_TAG_PRESENT:
        # the VLAN test libpcap emits for live captures
        out.append(P((0x30, 0, 0, AD + n), (0x15, 0, 1, 1), (0x06, 0, 0, 0x10000), (0x06, 0, 0, 0x20000)))
    return out


def netlink_programs() -> List[Program]:
    out = []
    for ext in (isa.SKF_AD_NLATTR, isa.SKF_AD_NLATTR_NEST):
        for a in (0, 14, 18, 22, 26, 34, 0xFFFFFFFF):
            for x in (1, 2, 3, 7, 8, 0x3FFF):
                out.append(P((0x00, 0, 0, a), (0x01, 0, 0, x), (0x20, 0, 0, AD + ext), (0x04, 0, 0, 1), RET_A))
    return out


NETLINK_FRAMES = [LO_MAC + SRC + b"\x88\xb5" + body + bytes(max(0, 46 - len(body)))
                  for body in NLA_BODIES]


@pytest.fixture(scope="module")
def copies_seen(netns):
    """How many copies of FRAMES taps see (an accept-all run)."""
    return sum(len(copies) for copies in netns.run(P((0x06, 0, 0, 0xFFFFFFFF)), FRAMES))


def packet_vs_vm(netns, program: Program, frames, failures: Failures) -> int:
    """Returns how many copies were compared."""
    try:
        results = netns.run(program, frames)
    except KernelRejected as exc:
        failures.add(f"the kernel refuses a crafted program ({exc.reason}); bpfcheck says "
                     f"{describe_validation(bpfcheck_verdict(program, 'socket'))}\n" + show_program(program))
        return 0
    try:
        machine = Machine(program, "socket")
    except ValidationError as exc:
        failures.add("the kernel accepts, bpfcheck rejects: " + describe_validation(exc) + "\n"
                     + show_program(program))
        return 0
    mismatches, compared = [], 0
    for i, copies in enumerate(results):
        for obs in copies:
            assert obs.verdict is not None, "this program's verdict should be exact"
            ours = machine.run(obs.frame, obs.context)
            compared += 1
            if ours != obs.verdict:
                where = "outgoing" if obs.outgoing else "incoming"
                mismatches.append(Mismatch(f"frame #{i} ({where} copy)", obs.frame, obs.context,
                                           ours, obs.verdict))
    if mismatches:
        failures.add(report("reference VM vs kernel (AF_PACKET on lo)", program, mismatches))
    return compared


@pytest.mark.parametrize("group", list(LOAD_GROUPS))
def test_loads_at_the_edges_of_every_copy(netns, copies_seen, group):
    programs = LOAD_GROUPS[group]
    failures = Failures(f"AF_PACKET {group} loads")
    compared = sum(packet_vs_vm(netns, p, FRAMES, failures) for p in programs)
    failures.check(len(programs))
    assert compared == len(programs) * copies_seen


@pytest.mark.parametrize("name", list(EXTENSIONS))
def test_every_extension_with_a_device(netns, name):
    # ifindex and hatype are loads here (lo: 1 and ARPHRD_LOOPBACK); pkttype
    # from the destination MAC; vlan fields from the stripped tag; poff from
    # the flow dissector — all as the probes measured them
    programs = extension_programs(EXTENSIONS[name])
    failures = Failures(f"AF_PACKET extension load {name}")
    for program in programs:
        packet_vs_vm(netns, program, FRAMES + REAL_FRAMES, failures)
    failures.check(len(programs))


def test_netlink_attribute_extensions_on_frames(netns):
    programs = netlink_programs()
    failures = Failures("AF_PACKET nla/nlan")
    for program in programs:
        packet_vs_vm(netns, program, NETLINK_FRAMES, failures)
    failures.check(len(programs))


def test_classic_programs_on_real_frames(netns):
    # A few hand-written filters of the kind people attach, every opcode
    # family mixed, on real frames (the random programs have their own test)
    programs = [
        P((0x28, 0, 0, 12), (0x15, 0, 8, 0x800), (0x30, 0, 0, 23), (0x15, 0, 6, 6), (0x28, 0, 0, 20),
          (0x45, 4, 0, 0x1FFF), (0xB1, 0, 0, 14), (0x48, 0, 0, 16), (0x15, 0, 1, 80), (0x06, 0, 0, 0xFFFF),
          (0x06, 0, 0, 0)),
        P((0x20, 0, 0, AD + isa.SKF_AD_PROTOCOL), (0x15, 0, 3, 0x86DD), (0x30, 0, 0, NET + 6),
          (0x15, 0, 1, 17), (0x06, 0, 0, 0x40000), (0x06, 0, 0, 0)),
        P((0x20, 0, 0, AD + isa.SKF_AD_PAY_OFFSET), (0x07, 0, 0, 0), (0x80, 0, 0, 0), (0x1C, 0, 0, 0),
          RET_A),
        P((0x20, 0, 0, AD + isa.SKF_AD_PKTTYPE), (0x02, 0, 0, 0), (0x20, 0, 0, AD + isa.SKF_AD_IFINDEX),
          (0x24, 0, 0, 1000), (0x61, 0, 0, 0), (0x0C, 0, 0, 0), RET_A),
    ]
    failures = Failures("AF_PACKET classic programs")
    for program in programs:
        packet_vs_vm(netns, program, REAL_FRAMES + FRAMES, failures)
    failures.check(len(programs))
