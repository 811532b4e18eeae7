"""The AF_PACKET oracle on lo in a private network namespace: which copies
taps see, and the metadata each copy's filter ran with (all measured)."""

import os
import struct

import pytest

from bpfcheck import isa
from bpfcheck.errors import UsageError
from bpfcheck.oracles.kernel import KernelRejected
from bpfcheck.oracles.packet import ARPHRD_LOOPBACK, PacketNamespace
from bpfcheck.program import Program

pytestmark = pytest.mark.netns
AD = isa.SKF_AD_OFF
RET_A = (0x16, 0, 0, 0)
LO_MAC, SRC = b"\0" * 6, bytes.fromhex("020000000001")


def P(*insns):
    return Program(list(insns))


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    s = (s >> 16) + (s & 0xFFFF)
    return ~(s + (s >> 16)) & 0xFFFF


def ipv4(proto, l4, src="127.0.0.1", dst="127.0.0.1"):
    import socket
    hdr = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), 1, 0, 64, proto, 0,
                                socket.inet_aton(src), socket.inet_aton(dst)))
    struct.pack_into("!H", hdr, 10, checksum(bytes(hdr)))
    pseudo = bytes(hdr[12:20]) + struct.pack("!BBH", 0, proto, len(l4))
    l4 = bytearray(l4)
    struct.pack_into("!H", l4, {6: 16, 17: 6}[proto], checksum(pseudo + bytes(l4)))
    return bytes(hdr) + bytes(l4)


TCP_SYN = ipv4(6, struct.pack("!HHIIBBHHH", 40000, 80, 1, 0, 0x50, 0x02, 8192, 0, 0))
UDP_9 = ipv4(17, struct.pack("!HHHH", 40000, 9, 12, 0) + b"ping")   # the stack answers ICMP
IPV6_UDP = bytes.fromhex("60000000000c11ff") + bytes(15) + b"\x01" + bytes.fromhex("ff02") + bytes(13) + b"\x01" \
    + struct.pack("!HHHH", 1, 2, 12, 0) + b"ping"

FRAMES = {
    # name: (frame, incoming pkttype, incoming protocol, stripped tag (tci, tpid) or None, poff out/in)
    "ipv4 tcp to lo's MAC": (LO_MAC + SRC + b"\x08\x00" + TCP_SYN, 0, 0x0800, None, (54, 54)),
    "ipv4 udp to a closed port": (LO_MAC + SRC + b"\x08\x00" + UDP_9, 0, 0x0800, None, (42, 42)),
    "arp broadcast": (b"\xff" * 6 + SRC + b"\x08\x06" + bytes(28), 2, 0x0806, None, (14, 14)),
    "vlan tagged": (LO_MAC + SRC + b"\x81\x00\x20\x05\x08\x00" + TCP_SYN, 0, 0x0800, (0x2005, 0x8100), (58, 54)),
    "qinq": (LO_MAC + SRC + b"\x88\xa8\x00\x64\x81\x00\x00\x07\x08\x00" + TCP_SYN, 0, 0x8100,
             (0x0064, 0x88A8), (62, 58)),
    "ipv6 multicast": (b"\x33\x33\0\0\0\1" + SRC + b"\x86\xdd" + IPV6_UDP, 2, 0x86DD, None, (62, 62)),
    "802.3 llc": (b"\x01\x80\xc2\0\0\0" + SRC + b"\x00\x26\x42\x42\x03" + bytes(35), 2, 0x0004, None, None),
    "otherhost": (b"\x02\0\0\0\0\x09" + SRC + b"\x88\xb5" + bytes(46), 3, 0x88B5, None, (0, 0)),
}


@pytest.fixture(scope="module")
def seen(netns):
    """Every frame through one accept-all run."""
    frames = [f for f, *_ in FRAMES.values()]
    noise = netns.noise
    result = dict(zip(FRAMES, netns.run(P((0x06, 0, 0, 0xFFFFFFFF)), frames)))
    result["noise"] = netns.noise - noise
    return result


def test_nothing_else_talks_in_the_namespace(seen):
    # not even to the UDP datagram for a closed port or the TCP SYN: packets
    # to 127.0.0.1 injected on lo are not delivered locally (measured).
    assert seen["noise"] == 0


def test_copies_from_elsewhere_are_set_aside():
    # The matching on its own: a foreign copy (what the stack might send)
    # between ours, seen by the capture socket and by a filtered socket.
    from bpfcheck.oracles import _wire
    from bpfcheck.oracles.packet import _variants, align
    frame = LO_MAC + SRC + b"\x08\x00" + bytes(46)
    foreign = LO_MAC + SRC + b"\x08\x00" + b"\xff" * 40     # told apart by its length

    def cap(data, pkttype):
        return _wire.Captured(pkttype, 0x800, 1, 772, 1, len(data), 0, 0, 14, data)

    def got(data, pkttype, n):
        return _wire.Delivered(pkttype, 0x800, 1, len(data), 0, 0, n, data[:n])

    captured = [cap(frame, 4), cap(foreign, 4), cap(frame, 0), cap(foreign, 0)]
    assert align(captured, [got(foreign, 4, 5), got(frame, 0, 3)]) == \
        [None, got(foreign, 4, 5), got(frame, 0, 3), None]
    # and only copies of the frame itself (as sent, or with tags stripped) count
    assert _variants(frame) == [frame]
    tagged = LO_MAC + SRC + b"\x88\xa8\x00\x01\x81\x00\x00\x02\x08\x00" + bytes(46)
    assert _variants(tagged)[1:] == [tagged[:12] + tagged[16:], tagged[:12] + tagged[20:]]


@pytest.mark.parametrize("name", list(FRAMES))
def test_each_frame_is_seen_twice_with_measured_context(seen, name):
    frame, in_type, in_proto, tag, poff = FRAMES[name]
    out, inc = seen[name]                          # exactly two copies, noise filtered out
    # the outgoing copy: bytes as sent, protocol the raw EtherType field
    assert out.outgoing and out.frame == frame and out.delivered == len(frame)
    assert out.context.protocol == int.from_bytes(frame[12:14], "big")
    assert (out.context.vlan_present, out.context.vlan_tci, out.context.vlan_tpid) == (0, 0, 0)
    # the incoming copy: pkttype from the destination MAC, one tag stripped
    assert inc.context.pkttype == in_type and inc.context.protocol == in_proto
    if tag is None:
        assert inc.frame == frame and inc.context.vlan_present == 0
    else:
        assert inc.frame == frame[:12] + frame[16:]
        assert (inc.context.vlan_present, inc.context.vlan_tci, inc.context.vlan_tpid) == (1, *tag)
    for obs in (out, inc):
        ctx = obs.context
        assert (ctx.ifindex, ctx.hatype, ctx.has_device) == (1, ARPHRD_LOOPBACK, True)
        assert (ctx.link_header, ctx.network_header, ctx.mark, ctx.queue_mapping, ctx.rxhash) == (0, 14, 0, 0, 0)
        assert ctx.cpu in os.sched_getaffinity(0) and ctx.random == 0
        assert obs.verdict == 0xFFFFFFFF
        # the probed context agrees with sockaddr_ll and tpacket_auxdata
        meta = obs.metadata
        assert (meta.protocol, meta.pkttype, meta.hatype, meta.ifindex, meta.tp_net) == \
            (ctx.protocol, ctx.pkttype, ctx.hatype, ctx.ifindex, ctx.network_header)
        assert meta.vlan_valid == bool(ctx.vlan_present) and meta.tpid_valid == bool(ctx.vlan_present)
        if ctx.vlan_present:
            assert (meta.vlan_tci, meta.vlan_tpid) == (ctx.vlan_tci, ctx.vlan_tpid)
    if poff is not None:
        assert (out.context.payload_offset, inc.context.payload_offset) == poff


def test_pkttype_of_an_802_3_frame_leaving(seen):
    out, _ = seen["802.3 llc"]
    assert out.context.protocol == 0x0026          # the length field, as is


def test_verdicts_are_exact_and_deliveries_trimmed(netns):
    frame = FRAMES["vlan tagged"][0]
    ethertype_x = P((0x28, 0, 0, 12), (0x24, 0, 0, 65537), RET_A)
    out, inc = netns.run(ethertype_x, [frame])[0]
    assert out.verdict == 0x8100 * 65537 and inc.verdict == 0x0800 * 65537
    assert (out.delivered, inc.delivered) == (len(out.frame), len(inc.frame))
    small = netns.run(P((0x06, 0, 0, 20)), [frame])[0]
    assert [(o.delivered, o.verdict) for o in small] == [(20, 20), (20, 20)]
    drop_out = P((0x20, 0, 0, AD + isa.SKF_AD_PKTTYPE), (0x15, 0, 1, 4), (0x06, 0, 0, 0), (0x06, 0, 0, 0x7FFF0000))
    out, inc = netns.run(drop_out, [frame])[0]
    assert (out.delivered, out.verdict) == (None, 0)
    assert (inc.delivered, inc.verdict) == (len(inc.frame), 0x7FFF0000)


def test_network_and_link_relative_loads(netns):
    frame = LO_MAC + SRC + b"\x81\x00\x20\x05\x08\x00" + bytes(range(64))
    for offset_base, where in ((isa.SKF_NET_OFF, 14), (isa.SKF_LL_OFF, 0)):
        for obs in netns.run(P((0x20, 0, 0, offset_base), RET_A), [frame])[0]:
            assert obs.verdict == int.from_bytes(obs.frame[where:where + 4], "big")
    # one byte past the end from the network header fails
    for obs in netns.run(P((0x30, 0, 0, isa.SKF_NET_OFF + len(frame) - 14), (0x06, 0, 0, 1)), [frame])[0]:
        assert obs.delivered is None


@pytest.mark.parametrize("field,offset", [("pkttype", 4), ("ifindex", 8), ("hatype", 28),
                                          ("cpu", 36), ("vlan_present", 48), ("payload_offset", 52),
                                          ("protocol", 0)])
def test_the_add_100_trick_agrees_with_the_probes(netns, field, offset):
    # ld [SKF_AD_OFF+n]; add #100; ret a on a frame longer than any value:
    # the received length minus 100 is the value.
    frames = [FRAMES[name][0] + bytes(36000) for name in ("vlan tagged", "arp broadcast", "ipv6 multicast")]
    for copies in netns.run(P((0x20, 0, 0, AD + offset), (0x04, 0, 0, 100), RET_A), frames):
        for obs in copies:
            assert obs.delivered - 100 == getattr(obs.context, field)


def test_random_programs_have_no_exact_verdict(netns):
    rand = P((0x20, 0, 0, AD + isa.SKF_AD_RANDOM), (0x44, 0, 0, 0x80000000), RET_A)
    for obs in netns.run(rand, [FRAMES["otherhost"][0]])[0]:
        assert obs.delivered == len(obs.frame) and obs.verdict is None


def test_rejections_and_bad_frames(netns):
    with pytest.raises(KernelRejected) as info:
        netns.run(P((0x0E, 0, 0, 0)), [FRAMES["otherhost"][0]])
    assert info.value.errno == 22
    with pytest.raises(UsageError, match="lo carries"):
        netns.run(P((0x06, 0, 0, 1)), [bytes(13)])
    assert netns.run(P((0x06, 0, 0, 1)), []) == []
    # still usable afterwards, and a maximum-size frame goes through
    big = netns.run(P((0x06, 0, 0, 0xFFFFFFFF)), [LO_MAC + SRC + b"\x88\xb5" + bytes(65536)])[0]
    assert [o.delivered for o in big] == [65550, 65550]


def test_the_child_is_reaped():
    if os.geteuid() != 0:
        pytest.skip("a private network namespace needs root")
    ns = PacketNamespace()
    pid = ns._child.pid
    assert os.readlink(f"/proc/{pid}/ns/net") != os.readlink("/proc/self/ns/net")
    ns.close()
    assert not os.path.exists(f"/proc/{pid}")
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
    with pytest.raises(UsageError, match="closed"):
        ns.run(P((0x06, 0, 0, 1)), [bytes(60)])


def _in_child(fn, timeout=10.0):
    """fn() in a forked child; its one-byte answer (None on timeout)."""
    from bpfcheck.oracles._fork import Child

    def work(fd):
        os.write(fd, bytes([fn()]))

    with Child(work) as child:
        data = child.read_exact(1, timeout)
    return data[0] if data else None


def test_without_privileges_it_is_unavailable_with_the_reason():
    if os.geteuid() != 0:
        pytest.skip("needs root to drop privileges from")
    from bpfcheck.errors import OracleUnavailable

    def unprivileged():
        os.setgroups([])
        os.setgid(65534)
        os.setuid(65534)
        try:
            PacketNamespace(timeout=5)
        except OracleUnavailable as exc:
            return 1 if "unshare(CLONE_NEWNET) failed" in str(exc) else 2
        return 3

    assert _in_child(unprivileged) == 1


def test_the_namespace_child_dies_with_its_parent():
    if os.geteuid() != 0:
        pytest.skip("a private network namespace needs root")
    import signal
    import time
    from bpfcheck.oracles._fork import Child

    def owner(fd):
        ns = PacketNamespace()
        os.write(fd, struct.pack("<i", ns._child.pid))
        time.sleep(60)                                  # killed long before

    with Child(owner) as parent:
        pid = struct.unpack("<i", parent.read_exact(4, 10.0))[0]
        assert os.path.exists(f"/proc/{pid}")
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(5.0)

    def alive():
        # gone, or a zombie waiting for init to reap it: either way dead
        try:
            with open(f"/proc/{pid}/stat") as f:
                return f.read().rsplit(")", 1)[1].split()[0] != "Z"
        except FileNotFoundError:
            return False

    deadline = time.monotonic() + 5.0
    while alive() and time.monotonic() < deadline:
        time.sleep(0.01)                               # PR_SET_PDEATHSIG at work
    assert not alive()
