"""Structured frames, built by scapy from drawn fields.

Ethernet (with no tag, an 802.1Q tag or a QinQ pair), then IPv4 (options,
fragments), IPv6 (extension headers), ARP or another ethertype, then TCP,
UDP, ICMP/ICMPv6 or raw payload — every field drawn, the interesting values
(ports 0/53/80, broadcast addresses, fragment offsets, TCP flag
combinations) often.  scapy computes lengths and checksums, so the frames
are well-formed until ``truncate`` cuts them short (often right at a
header boundary, where filters go wrong).

scapy is imported on the first draw: importing it takes a fifth of a
second, and most users of the other strategies never build a frame.
"""

from __future__ import annotations

import functools
import types

from hypothesis import strategies as st

from ._validation import check_bool, drawn_by, given_arguments

PORTS = (0, 20, 21, 22, 23, 25, 53, 67, 68, 80, 123, 443, 1024, 8080, 65535)
TCP_FLAGS = ("S", "SA", "A", "PA", "F", "FA", "R", "RA", "", "FSRPAUEC", "U")
ETHERTYPES = (0x0800, 0x86DD, 0x0806, 0x8035, 0x88CC, 0x8863, 0x8864, 0x8847, 0x0600, 0x05DC, 0x88B5)


@functools.lru_cache(maxsize=None)
def _scapy() -> types.SimpleNamespace:
    from scapy.layers.inet import ICMP, IP, TCP, UDP, IPOption_Router_Alert
    from scapy.layers.inet6 import (ICMPv6EchoRequest, IPv6, IPv6ExtHdrDestOpt, IPv6ExtHdrFragment,
                                    IPv6ExtHdrHopByHop)
    from scapy.layers.l2 import ARP, Dot1AD, Dot1Q, Ether
    from scapy.packet import Raw
    return types.SimpleNamespace(**locals())


def frames(truncate: bool = True) -> st.SearchStrategy[bytes]:
    """Ethernet frames built by scapy; with ``truncate`` about half are
    cut short, at a header boundary or anywhere."""
    check_bool("truncate", truncate)
    return _frames(**given_arguments(truncate=(truncate, True)))


_BYTE = st.integers(0, 255)
_MACS = st.one_of(st.just("ff:ff:ff:ff:ff:ff"), st.just("01:00:5e:00:00:01"), st.just("33:33:00:00:00:01"),
                  st.tuples(*[_BYTE] * 6).map(lambda b: ":".join(f"{x:02x}" for x in b)))
_IPV4 = st.one_of(st.sampled_from(("10.0.0.1", "192.168.1.1", "127.0.0.1", "255.255.255.255", "224.0.0.1",
                                   "0.0.0.0")),
                  st.integers(0, 0xFFFFFFFF).map(lambda v: ".".join(str(v >> s & 0xFF) for s in (24, 16, 8, 0))))
_IPV6 = st.one_of(st.sampled_from(("::1", "fe80::1", "ff02::1", "2001:db8::1", "::")),
                  st.lists(st.integers(0, 0xFFFF), min_size=8, max_size=8).map(
                      lambda g: ":".join(f"{x:x}" for x in g)))
_PORTS = st.one_of(st.sampled_from(PORTS), st.integers(0, 65535))
_PAYLOAD = st.one_of(st.just(b""), st.binary(max_size=48))


@drawn_by("frames")
def _frames(draw, *, truncate=True) -> bytes:
    s = _scapy()
    tags = draw(st.sampled_from(("none", "none", "dot1q", "qinq")))
    network = draw(st.sampled_from(("ipv4", "ipv4", "ipv6", "arp", "other")))
    ethertype = draw(st.sampled_from(ETHERTYPES)) if network == "other" else None
    frame = s.Ether(dst=draw(_MACS), src=draw(_MACS))
    if tags == "dot1q":
        frame = frame / s.Dot1Q(vlan=draw(st.integers(0, 4095)), prio=draw(st.integers(0, 7)))
    elif tags == "qinq":
        frame = frame / s.Dot1AD(vlan=draw(st.integers(0, 4095))) / s.Dot1Q(vlan=draw(st.integers(0, 4095)))
    if network == "ipv4":
        frame = frame / draw(_ipv4_packet())
    elif network == "ipv6":
        frame = frame / draw(_ipv6_packet())
    elif network == "arp":
        frame = frame / s.ARP(op=draw(st.sampled_from((1, 2, 3, 4))), hwsrc=draw(_MACS), psrc=draw(_IPV4),
                              hwdst=draw(_MACS), pdst=draw(_IPV4))
    else:
        frame = frame / s.Raw(draw(_PAYLOAD))
    if network == "other":     # scapy fills in the type only for layers it knows
        (frame if tags == "none" else frame[s.Dot1Q]).type = ethertype
    data = bytes(frame)
    if truncate and draw(st.booleans()):
        # Header boundaries (Ethernet, a tag, IPv4, IPv6) and one byte either side.
        cuts = st.sampled_from((0, 1, 5, 6, 12, 13, 14, 15, 17, 18, 19, 22, 23, 33, 34, 35, 38, 53, 54, 55, 58))
        data = data[:draw(st.one_of(cuts, st.integers(0, len(data))))]
    return data


@functools.lru_cache(maxsize=None)
def _ipv4_packet():
    @st.composite
    def ipv4(draw):
        s = _scapy()
        fields = dict(src=draw(_IPV4), dst=draw(_IPV4), ttl=draw(st.sampled_from((0, 1, 64, 255))),
                      flags=draw(st.sampled_from((0, 1, 2))), id=draw(st.integers(0, 65535)),
                      frag=draw(st.one_of(st.just(0), st.just(0), st.integers(0, 0x1FFF))))
        if draw(st.integers(0, 7)) == 0:
            fields["options"] = [s.IPOption_Router_Alert()]
        return s.IP(**fields) / draw(_transport("ipv4"))
    return ipv4()


@functools.lru_cache(maxsize=None)
def _ipv6_packet():
    @st.composite
    def ipv6(draw):
        s = _scapy()
        packet = s.IPv6(src=draw(_IPV6), dst=draw(_IPV6), hlim=draw(st.sampled_from((0, 1, 64, 255))))
        extension = draw(st.sampled_from((None, None, None, "hop", "frag", "dest")))
        if extension == "hop":
            packet = packet / s.IPv6ExtHdrHopByHop()
        elif extension == "frag":
            packet = packet / s.IPv6ExtHdrFragment(offset=draw(st.integers(0, 8191)), m=draw(st.integers(0, 1)))
        elif extension == "dest":
            packet = packet / s.IPv6ExtHdrDestOpt()
        return packet / draw(_transport("ipv6"))
    return ipv6()


@functools.lru_cache(maxsize=None)
def _transport(network: str):
    @st.composite
    def transport(draw):
        s = _scapy()
        kind = draw(st.sampled_from(("tcp", "tcp", "udp", "udp", "icmp", "raw")))
        payload = s.Raw(draw(_PAYLOAD))
        if kind == "tcp":
            return s.TCP(sport=draw(_PORTS), dport=draw(_PORTS), flags=draw(st.sampled_from(TCP_FLAGS)),
                         seq=draw(st.integers(0, 0xFFFFFFFF))) / payload
        if kind == "udp":
            return s.UDP(sport=draw(_PORTS), dport=draw(_PORTS)) / payload
        if kind == "icmp" and network == "ipv4":
            return s.ICMP(type=draw(st.sampled_from((0, 3, 8, 11))), code=draw(st.integers(0, 15))) / payload
        if kind == "icmp":
            return s.ICMPv6EchoRequest(id=draw(st.integers(0, 65535))) / payload
        return payload
    return transport()
