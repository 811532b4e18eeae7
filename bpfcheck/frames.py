"""A reproducible corpus of Ethernet frames for differential tests.

Filters earn their keep on awkward packets: VLAN and QinQ tags, MPLS
stacks, IPv6 extension chains, fragments, tunnels, and frames cut short in
the middle of a header.  :func:`labelled_frames` returns such a corpus,
the same bytes for the same ``(seed, count)`` on every run and machine,
each frame with a label that says what it is, so a failing differential
test can report "vlan-qinq-88a8[:19]" instead of 60 bytes of hex.

The corpus has three parts, in this order:

* well-formed frames: every kind of :func:`frame_kinds` once (when
  ``count`` leaves room), then more of them with other addresses, ports
  and sizes; labelled with the kind, ``"tcp-syn"``;
* truncated frames: well-formed ones cut at a header boundary or one byte
  either side, labelled ``"tcp-syn[:34]"`` (the first 34 bytes);
* garbage: empty, all-zero, all-0xff and random bytes, ``"garbage:random"``.

scapy builds the frames (so lengths and checksums are right) and is
imported only when a frame is first built; every field scapy would fill
from the host or at random (MACs, addresses, IP ids, sequence numbers,
SCTP tags...) is set from a seeded :class:`random.Random`.
"""

from __future__ import annotations

import functools
import random
import types
from typing import Callable, Dict, List, Tuple

#: share of the corpus that is cut short, and that is garbage
TRUNCATED_SHARE = 0.3
GARBAGE_SHARE = 0.1
#: kinds whose every header boundary (and ±1) is in the truncated part, so
#: the classic offsets 0, 1, 13, 14, 15, 33, 34, 35, 53, 54 are always there
_CUT_EVERYWHERE = ("tcp-psh-ack", "ipv6-udp", "vlan-100-tcp", "arp-request")

TCP_PORTS = (0, 20, 21, 22, 23, 25, 53, 80, 443, 8080, 65535)


# ---------------------------------------------------------------- scapy, lazily

@functools.lru_cache(maxsize=None)
def _scapy() -> types.SimpleNamespace:
    """The scapy classes the builders use, imported on first need
    (importing scapy costs a fifth of a second and most of bpfcheck never
    builds a packet)."""
    from scapy.contrib.geneve import GENEVE
    from scapy.contrib.mpls import MPLS
    from scapy.layers.dhcp import BOOTP, DHCP
    from scapy.layers.dns import DNS, DNSQR, DNSRR
    from scapy.layers.igmp import IGMP
    from scapy.layers.inet import ICMP, IP, TCP, UDP, IPOption_Router_Alert, IPOption_RR
    from scapy.layers.inet6 import (ICMPv6DestUnreach, ICMPv6EchoReply, ICMPv6EchoRequest,
                                    ICMPv6ND_NA, ICMPv6ND_NS, ICMPv6ND_RA,
                                    ICMPv6NDOptPrefixInfo, ICMPv6NDOptSrcLLAddr,
                                    ICMPv6NDOptDstLLAddr, IPv6, IPv6ExtHdrDestOpt,
                                    IPv6ExtHdrFragment, IPv6ExtHdrHopByHop, IPv6ExtHdrRouting)
    from scapy.layers.l2 import ARP, GRE, LLC, SNAP, STP, Dot1AD, Dot1Q, Dot3, Ether
    from scapy.layers.ppp import PPP, PPPoE, PPPoED
    from scapy.layers.sctp import SCTP, SCTPChunkData, SCTPChunkInit
    from scapy.layers.vxlan import VXLAN
    from scapy.packet import NoPayload, Raw
    return types.SimpleNamespace(**locals())


# ---------------------------------------------------------------- field helpers

def _mac(r: random.Random) -> str:
    # locally administered unicast: never a real vendor, never multicast
    return "02:" + ":".join(f"{r.randrange(256):02x}" for _ in range(5))


def _ip(r: random.Random, net: str = "10") -> str:
    """A host address in a well-known net: "10", "192.168", "172.16", "127",
    "100.64" (shared), "198.51.100" (documentation)."""
    parts = net.split(".")
    while len(parts) < 4:
        parts.append(str(r.randrange(1, 255)))
    return ".".join(parts)


def _ip6(r: random.Random, prefix: str = "2001:db8:") -> str:
    return prefix + ":".join(f"{r.randrange(1, 0xFFFF):x}" for _ in range(2)) + "::" + f"{r.randrange(1, 0xFFFF):x}"


def _data(r: random.Random, n: int) -> bytes:
    return r.randbytes(n)


def _eth(r, s, dst=None, type=None, src=None):  # noqa: A002 - scapy's field name
    fields = dict(src=src or _mac(r), dst=dst or _mac(r))
    if type is not None:
        fields["type"] = type
    return s.Ether(**fields)


def _ipv4(r, s, net="10", **kw):
    fields = dict(src=_ip(r, net), dst=_ip(r, net), id=r.randrange(65536), ttl=64, tos=0)
    fields.update(kw)
    return s.IP(**fields)


def _ipv6(r, s, **kw):
    fields = dict(src=_ip6(r), dst=_ip6(r), fl=r.randrange(1 << 20), hlim=64, tc=0)
    fields.update(kw)
    return s.IPv6(**fields)


def _tcp(r, s, **kw):
    fields = dict(sport=r.randrange(32768, 61000), dport=80, seq=r.getrandbits(32), ack=0,
                  window=r.choice((1024, 8192, 29200, 65535)), flags="S", urgptr=0)
    fields.update(kw)
    if "A" in str(fields["flags"]) and not fields["ack"]:
        fields["ack"] = r.getrandbits(32) | 1
    return s.TCP(**fields)


def _syn_options(r):
    return [("MSS", r.choice((536, 1380, 1460, 8960))), ("SAckOK", b""),
            ("Timestamp", (r.getrandbits(32), 0)), ("NOP", None), ("WScale", r.randrange(15))]


def _udp(r, s, sport=None, dport=None):
    return s.UDP(sport=sport if sport is not None else r.randrange(32768, 61000),
                 dport=dport if dport is not None else r.randrange(1024, 32768))


# ---------------------------------------------------------------- the kinds

Builder = Callable[[random.Random, types.SimpleNamespace], object]
_KINDS: Dict[str, Builder] = {}


def _kind(name: str):
    def register(fn: Builder) -> Builder:
        if name in _KINDS:
            raise AssertionError(f"frame kind {name} registered twice")
        _KINDS[name] = fn
        return fn
    return register


def _tcp4(flags, dport=80, payload=0, options=None, sport=None, urgptr=0, **ip):
    """A builder for Ethernet/IPv4/TCP with these flags and ports."""
    def build(r, s):
        extra = {"sport": sport} if sport is not None else {}
        extra["urgptr"] = urgptr
        opts = _syn_options(r) if options == "syn" else (options or [])
        pkt = _eth(r, s) / _ipv4(r, s, **ip) / _tcp(r, s, flags=flags, dport=dport, options=opts, **extra)
        return pkt / s.Raw(_data(r, payload)) if payload else pkt
    return build


# TCP: the flag combinations filters test for, and the well-known ports
_kind("tcp-syn")(_tcp4("S", options="syn"))
_kind("tcp-syn-ack")(_tcp4("SA", options="syn", sport=80, dport=40000))
_kind("tcp-ack")(_tcp4("A"))
_kind("tcp-fin-ack")(_tcp4("FA"))
_kind("tcp-fin")(_tcp4("F"))
_kind("tcp-rst")(_tcp4("R"))
_kind("tcp-rst-ack")(_tcp4("RA"))
_kind("tcp-psh-ack")(_tcp4("PA", payload=100))
_kind("tcp-urg")(_tcp4("UA", payload=8, urgptr=8))
_kind("tcp-ece-cwr")(_tcp4("SEC", options="syn"))
_kind("tcp-null")(_tcp4(""))
_kind("tcp-xmas")(_tcp4("FPU"))
_kind("tcp-all-flags")(_tcp4("FSRPAUEC"))
for _port in TCP_PORTS:
    _kind(f"tcp-dport-{_port}")(_tcp4("S", dport=_port, options="syn"))
_kind("tcp-sport-443")(_tcp4("PA", sport=443, dport=51000, payload=40))
_kind("tcp-sport-0-dport-0")(_tcp4("S", sport=0, dport=0))
_kind("tcp-many-options")(_tcp4("S", options=[("MSS", 1460), ("NOP", None), ("NOP", None),
                                              ("SAckOK", b""), ("Timestamp", (1, 2)),
                                              ("NOP", None), ("WScale", 14), ("EOL", None)]))
_kind("tcp-sack-blocks")(_tcp4("A", options=[("NOP", None), ("NOP", None),
                                              ("SAck", (1000, 2000, 3000, 4000))]))


def _ipv4_udp(r, s, payload=8, **ip):
    return _eth(r, s) / _ipv4(r, s, **ip) / _udp(r, s, dport=r.randrange(1024, 65536)) / s.Raw(_data(r, payload))


# IPv4 header variations
_kind("ipv4-options-rr")(lambda r, s: _eth(r, s) / _ipv4(r, s, options=[s.IPOption_RR(routers=["0.0.0.0"] * 3)])
                         / s.ICMP(type=8, id=r.randrange(65536), seq=1))
_kind("ipv4-options-router-alert")(lambda r, s: _eth(r, s) / _ipv4(r, s, options=[s.IPOption_Router_Alert()])
                                   / _udp(r, s, dport=9999) / s.Raw(b"ra"))
_kind("ipv4-options-max")(lambda r, s: _eth(r, s) / _ipv4(r, s, options=[s.IPOption_RR(routers=["0.0.0.0"] * 9)])
                          / _tcp(r, s, flags="S"))
_kind("ipv4-frag-first")(lambda r, s: _eth(r, s) / _ipv4(r, s, flags="MF", frag=0, proto=17)
                         / _udp(r, s, dport=5000) / s.Raw(_data(r, 64)))
_kind("ipv4-frag-middle")(lambda r, s: _eth(r, s) / _ipv4(r, s, flags="MF", frag=185, proto=17)
                          / s.Raw(_data(r, 64)))
_kind("ipv4-frag-last")(lambda r, s: _eth(r, s) / _ipv4(r, s, flags=0, frag=370, proto=6)
                        / s.Raw(_data(r, 24)))
_kind("ipv4-frag-tiny-offset-1")(lambda r, s: _eth(r, s) / _ipv4(r, s, flags=0, frag=1, proto=6)
                                 / s.Raw(_data(r, 12)))
_kind("ipv4-df")(lambda r, s: _eth(r, s) / _ipv4(r, s, flags="DF") / _tcp(r, s, flags="S"))
_kind("ipv4-df-mf")(lambda r, s: _eth(r, s) / _ipv4(r, s, flags="DF+MF", proto=17) / s.Raw(_data(r, 16)))
for _ttl in (0, 1, 255):
    _kind(f"ipv4-ttl-{_ttl}")(lambda r, s, ttl=_ttl: _ipv4_udp(r, s, ttl=ttl))
for _tos in (0x10, 0xB8, 0xFF):
    _kind(f"ipv4-tos-0x{_tos:02x}")(lambda r, s, tos=_tos: _ipv4_udp(r, s, tos=tos))
_kind("ipv4-proto-253")(lambda r, s: _eth(r, s) / _ipv4(r, s, proto=253) / s.Raw(_data(r, 20)))
_kind("ipv4-loopback")(lambda r, s: _eth(r, s) / _ipv4(r, s, net="127") / _tcp(r, s, flags="S", dport=22))
_kind("ipv4-192-168")(lambda r, s: _eth(r, s) / _ipv4(r, s, net="192.168") / _tcp(r, s, flags="PA", dport=443)
                      / s.Raw(_data(r, 30)))
_kind("ipv4-172-16")(lambda r, s: _ipv4_udp(r, s, net="172.16"))
_kind("ipv4-broadcast")(lambda r, s: _eth(r, s, dst="ff:ff:ff:ff:ff:ff")
                        / _ipv4(r, s, net="192.168", dst="255.255.255.255") / _udp(r, s, dport=9) / s.Raw(b"\0" * 6))
_kind("ipv4-multicast")(lambda r, s: _eth(r, s, dst="01:00:5e:00:00:fb")
                        / _ipv4(r, s, net="192.168", dst="224.0.0.251", ttl=255)
                        / _udp(r, s, sport=5353, dport=5353)
                        / s.DNS(id=0, qd=s.DNSQR(qname="_services._dns-sd._udp.local", qtype="PTR")))
_kind("ipv4-multicast-239")(lambda r, s: _eth(r, s, dst="01:00:5e:7f:00:01")
                            / _ipv4(r, s, dst="239.255.0.1") / _udp(r, s, dport=1900) / s.Raw(b"M-SEARCH"))
_kind("ipv4-zero-payload")(lambda r, s: _eth(r, s) / _ipv4(r, s, proto=17) / _udp(r, s, dport=7))
_kind("ipv4-mtu-1500")(lambda r, s: _eth(r, s) / _ipv4(r, s) / _tcp(r, s, flags="A") / s.Raw(_data(r, 1460)))
_kind("ipv4-jumbo-9000")(lambda r, s: _eth(r, s) / _ipv4(r, s) / _tcp(r, s, flags="A") / s.Raw(_data(r, 8960)))
_kind("ipv4-padded-60")(lambda r, s: _eth(r, s) / _ipv4(r, s) / s.ICMP(type=8, id=7, seq=1) / s.Raw(b"\0" * 18))
# headers that lie: filters must not trust them, and libpcap and the kernel
# have differed on such frames before
_kind("ipv4-ihl-4")(lambda r, s: _eth(r, s) / _ipv4(r, s, ihl=4) / _tcp(r, s, flags="S"))
_kind("ipv4-len-overstated")(lambda r, s: _eth(r, s) / _ipv4(r, s, len=1400) / _udp(r, s) / s.Raw(b"x" * 4))
_kind("ipv4-version-6")(lambda r, s: _eth(r, s) / _ipv4(r, s, version=6) / _tcp(r, s, flags="S"))
_kind("ipv4-in-ipv4")(lambda r, s: _eth(r, s) / _ipv4(r, s, proto=4) / _ipv4(r, s, net="192.168")
                      / _tcp(r, s, flags="S", dport=80))


# UDP services, tunnels included
_kind("udp-dns-query")(lambda r, s: _eth(r, s) / _ipv4(r, s) / _udp(r, s, dport=53)
                       / s.DNS(id=r.randrange(65536), rd=1, qd=s.DNSQR(qname="example.com", qtype="A")))
_kind("udp-dns-response")(lambda r, s: _eth(r, s) / _ipv4(r, s) / _udp(r, s, sport=53, dport=r.randrange(1024, 65536))
                          / s.DNS(id=r.randrange(65536), qr=1, rd=1, ra=1,
                                  qd=s.DNSQR(qname="example.com", qtype="A"),
                                  an=s.DNSRR(rrname="example.com", ttl=300, rdata=_ip(r, "93.184"))))
_kind("udp-dhcp-discover")(lambda r, s: _eth(r, s, dst="ff:ff:ff:ff:ff:ff")
                           / _ipv4(r, s, src="0.0.0.0", dst="255.255.255.255")
                           / s.UDP(sport=68, dport=67)
                           / s.BOOTP(op=1, xid=r.getrandbits(32), flags=0x8000, chaddr=bytes(6) + bytes(10))
                           / s.DHCP(options=[("message-type", "discover"), "end"]))
_kind("udp-dhcp-offer")(lambda r, s: _eth(r, s) / _ipv4(r, s, net="192.168") / s.UDP(sport=67, dport=68)
                        / s.BOOTP(op=2, xid=r.getrandbits(32), yiaddr=_ip(r, "192.168"), chaddr=bytes(16))
                        / s.DHCP(options=[("message-type", "offer"), ("lease_time", 3600), "end"]))
_kind("udp-ntp")(lambda r, s: _eth(r, s) / _ipv4(r, s) / s.UDP(sport=123, dport=123)
                 / s.Raw(b"\x23" + bytes(39) + _data(r, 8)))
_kind("udp-vxlan")(lambda r, s: _eth(r, s) / _ipv4(r, s) / _udp(r, s, dport=4789)
                   / s.VXLAN(flags=0x08, vni=r.randrange(1 << 24))
                   / _eth(r, s) / _ipv4(r, s, net="192.168") / _tcp(r, s, flags="S", dport=80))
_kind("udp-geneve")(lambda r, s: _eth(r, s) / _ipv4(r, s) / _udp(r, s, dport=6081)
                    / s.GENEVE(vni=r.randrange(1 << 24), proto=0x6558)
                    / _eth(r, s) / _ipv4(r, s, net="192.168") / _udp(r, s, dport=53) / s.Raw(b"\0" * 12))
_kind("udp-port-0")(lambda r, s: _eth(r, s) / _ipv4(r, s) / s.UDP(sport=0, dport=0) / s.Raw(b"zero"))
_kind("udp-checksum-0")(lambda r, s: _eth(r, s) / _ipv4(r, s) / s.UDP(sport=1000, dport=2000, chksum=0) / s.Raw(b"x"))


# ICMP and friends
_kind("icmp-echo-request")(lambda r, s: _eth(r, s) / _ipv4(r, s) / s.ICMP(type=8, id=r.randrange(65536), seq=1)
                           / s.Raw(_data(r, 56)))
_kind("icmp-echo-reply")(lambda r, s: _eth(r, s) / _ipv4(r, s) / s.ICMP(type=0, id=r.randrange(65536), seq=1)
                         / s.Raw(_data(r, 56)))
_kind("icmp-port-unreachable")(lambda r, s: _eth(r, s) / _ipv4(r, s) / s.ICMP(type=3, code=3)
                               / _ipv4(r, s) / _udp(r, s, dport=33434) / s.Raw(b"\0" * 8))
_kind("icmp-frag-needed")(lambda r, s: _eth(r, s) / _ipv4(r, s) / s.ICMP(type=3, code=4, nexthopmtu=1400)
                          / _ipv4(r, s, flags="DF") / _tcp(r, s, flags="A"))
_kind("icmp-time-exceeded")(lambda r, s: _eth(r, s) / _ipv4(r, s) / s.ICMP(type=11, code=0)
                            / _ipv4(r, s, ttl=1) / _udp(r, s, dport=33435) / s.Raw(b"\0" * 8))
_kind("igmp-v2-report")(lambda r, s: _eth(r, s, dst="01:00:5e:01:02:03")
                        / _ipv4(r, s, dst="239.1.2.3", ttl=1, options=[s.IPOption_Router_Alert()])
                        / s.IGMP(type=0x16, mrcode=0, gaddr="239.1.2.3"))
_kind("igmp-query")(lambda r, s: _eth(r, s, dst="01:00:5e:00:00:01")
                    / _ipv4(r, s, dst="224.0.0.1", ttl=1, options=[s.IPOption_Router_Alert()])
                    / s.IGMP(type=0x11, mrcode=100, gaddr="0.0.0.0"))
_kind("sctp-init")(lambda r, s: _eth(r, s) / _ipv4(r, s) / s.SCTP(sport=r.randrange(1024, 65536), dport=3868, tag=0)
                   / s.SCTPChunkInit(init_tag=r.getrandbits(32), a_rwnd=65535, n_out_streams=10,
                                     n_in_streams=10, init_tsn=r.getrandbits(32)))
_kind("sctp-data")(lambda r, s: _eth(r, s) / _ipv4(r, s) / s.SCTP(sport=2905, dport=2905, tag=r.getrandbits(32))
                   / s.SCTPChunkData(tsn=r.getrandbits(32), stream_id=0, stream_seq=0, proto_id=3,
                                     beginning=1, ending=1, data=_data(r, 20)))
_kind("gre-ipv4")(lambda r, s: _eth(r, s) / _ipv4(r, s) / s.GRE(proto=0x0800)
                  / _ipv4(r, s, net="192.168") / s.ICMP(type=8, id=1, seq=1))
_kind("gre-key-ethernet")(lambda r, s: _eth(r, s) / _ipv4(r, s) / s.GRE(key_present=1, key=r.getrandbits(32), proto=0x6558)
                          / _eth(r, s) / _ipv4(r, s, net="192.168") / _udp(r, s, dport=161) / s.Raw(b"\0" * 4))


# IPv6: extension headers alone and chained, tunnels, ICMPv6
def _ip6_tcp(r, s, *ext):
    pkt = _eth(r, s) / _ipv6(r, s)
    for header in ext:
        pkt = pkt / header
    return pkt / _tcp(r, s, flags="S", dport=443)


_kind("ipv6-tcp")(lambda r, s: _ip6_tcp(r, s))
_kind("ipv6-udp")(lambda r, s: _eth(r, s) / _ipv6(r, s) / _udp(r, s, dport=53)
                  / s.DNS(id=r.randrange(65536), rd=1, qd=s.DNSQR(qname="example.org", qtype="AAAA")))
_kind("ipv6-hop-by-hop")(lambda r, s: _ip6_tcp(r, s, s.IPv6ExtHdrHopByHop()))
_kind("ipv6-routing")(lambda r, s: _ip6_tcp(r, s, s.IPv6ExtHdrRouting(addresses=[_ip6(r)])))
_kind("ipv6-fragment-first")(lambda r, s: _ip6_tcp(r, s, s.IPv6ExtHdrFragment(id=r.getrandbits(32), offset=0, m=1)))
_kind("ipv6-fragment-last")(lambda r, s: _eth(r, s) / _ipv6(r, s)
                            / s.IPv6ExtHdrFragment(id=r.getrandbits(32), offset=100, m=0, nh=6) / s.Raw(_data(r, 16)))
_kind("ipv6-dest-opts")(lambda r, s: _ip6_tcp(r, s, s.IPv6ExtHdrDestOpt()))
_kind("ipv6-ext-chain")(lambda r, s: _ip6_tcp(r, s, s.IPv6ExtHdrHopByHop(), s.IPv6ExtHdrDestOpt(),
                                              s.IPv6ExtHdrRouting(addresses=[_ip6(r)]),
                                              s.IPv6ExtHdrFragment(id=r.getrandbits(32), offset=0, m=1),
                                              s.IPv6ExtHdrDestOpt()))
_kind("ipv6-no-next-header")(lambda r, s: _eth(r, s) / _ipv6(r, s, nh=59))
_kind("ipv6-in-ipv4")(lambda r, s: _eth(r, s) / _ipv4(r, s, proto=41) / _ipv6(r, s)
                      / s.ICMPv6EchoRequest(id=r.randrange(65536), seq=1))
_kind("ipv4-in-ipv6")(lambda r, s: _eth(r, s) / _ipv6(r, s, nh=4) / _ipv4(r, s) / _udp(r, s, dport=53) / s.Raw(b"\0" * 12))
_kind("ipv6-multicast")(lambda r, s: _eth(r, s, dst="33:33:00:00:00:01") / _ipv6(r, s, src="fe80::1", dst="ff02::1", hlim=1)
                        / _udp(r, s, dport=9) / s.Raw(b"\0" * 4))
_kind("ipv6-loopback")(lambda r, s: _eth(r, s) / _ipv6(r, s, src="::1", dst="::1") / _tcp(r, s, flags="S", dport=8080))
_kind("ipv6-jumbo-payload")(lambda r, s: _eth(r, s) / _ipv6(r, s) / _udp(r, s, dport=9000) / s.Raw(_data(r, 8000)))
_kind("icmpv6-echo-request")(lambda r, s: _eth(r, s) / _ipv6(r, s) / s.ICMPv6EchoRequest(id=r.randrange(65536), seq=1, data=b"ping"))
_kind("icmpv6-echo-reply")(lambda r, s: _eth(r, s) / _ipv6(r, s) / s.ICMPv6EchoReply(id=r.randrange(65536), seq=1, data=b"pong"))
_kind("icmpv6-neighbor-solicit")(lambda r, s: _eth(r, s, dst="33:33:ff:00:00:01")
                                 / _ipv6(r, s, src="fe80::2", dst="ff02::1:ff00:1", hlim=255)
                                 / s.ICMPv6ND_NS(tgt="fe80::1") / s.ICMPv6NDOptSrcLLAddr(lladdr=_mac(r)))
_kind("icmpv6-neighbor-advert")(lambda r, s: _eth(r, s) / _ipv6(r, s, src="fe80::1", dst="fe80::2", hlim=255)
                                / s.ICMPv6ND_NA(tgt="fe80::1", R=0, S=1, O=1) / s.ICMPv6NDOptDstLLAddr(lladdr=_mac(r)))
_kind("icmpv6-router-advert")(lambda r, s: _eth(r, s, dst="33:33:00:00:00:01")
                              / _ipv6(r, s, src="fe80::1", dst="ff02::1", hlim=255)
                              / s.ICMPv6ND_RA(chlim=64, routerlifetime=1800)
                              / s.ICMPv6NDOptPrefixInfo(prefix="2001:db8:1::", prefixlen=64,
                                                        validlifetime=86400, preferredlifetime=14400)
                              / s.ICMPv6NDOptSrcLLAddr(lladdr=_mac(r)))
_kind("icmpv6-unreachable")(lambda r, s: _eth(r, s) / _ipv6(r, s) / s.ICMPv6DestUnreach(code=4)
                            / _ipv6(r, s) / _udp(r, s, dport=33434))


# ARP and RARP
def _arp(r, s, op, ethertype=0x0806, dst=None, gratuitous=False):
    mac, ip = _mac(r), _ip(r, "192.168")
    target_ip = ip if gratuitous else _ip(r, "192.168")
    target_mac = "00:00:00:00:00:00" if op in (1, 3) else _mac(r)
    return (_eth(r, s, src=mac, dst=dst or ("ff:ff:ff:ff:ff:ff" if op in (1, 3) else target_mac), type=ethertype)
            / s.ARP(op=op, hwsrc=mac, psrc=ip, hwdst=target_mac, pdst=target_ip))


_kind("arp-request")(lambda r, s: _arp(r, s, 1))
_kind("arp-reply")(lambda r, s: _arp(r, s, 2))
_kind("arp-gratuitous")(lambda r, s: _arp(r, s, 1, gratuitous=True))
_kind("arp-request-padded-60")(lambda r, s: _arp(r, s, 1) / s.Raw(bytes(18)))
_kind("rarp-request")(lambda r, s: _arp(r, s, 3, ethertype=0x8035))
_kind("rarp-reply")(lambda r, s: _arp(r, s, 4, ethertype=0x8035))


# VLAN tags: 802.1Q, priority tags, QinQ with each outer TPID
def _vlan(vid, pcp=0):
    return lambda r, s: (_eth(r, s, type=0x8100) / s.Dot1Q(vlan=vid, prio=pcp)
                         / _ipv4(r, s) / _tcp(r, s, flags="S", dport=80))


_kind("vlan-100-tcp")(_vlan(100))
_kind("vlan-1-pcp-7")(_vlan(1, 7))
_kind("vlan-4095-pcp-3")(_vlan(4095, 3))
_kind("vlan-0-priority-tag")(_vlan(0, 5))
_kind("vlan-200-arp")(lambda r, s: _eth(r, s, dst="ff:ff:ff:ff:ff:ff", type=0x8100) / s.Dot1Q(vlan=200)
                      / s.ARP(op=1, hwsrc=_mac(r), psrc=_ip(r), hwdst="00:00:00:00:00:00", pdst=_ip(r)))
_kind("vlan-300-ipv6")(lambda r, s: _eth(r, s, type=0x8100) / s.Dot1Q(vlan=300, prio=2) / _ipv6(r, s)
                       / _udp(r, s, dport=123) / s.Raw(b"\x23" + bytes(47)))
_kind("vlan-qinq-88a8")(lambda r, s: _eth(r, s, type=0x88A8) / s.Dot1AD(vlan=1000, type=0x8100)
                        / s.Dot1Q(vlan=100) / _ipv4(r, s) / _udp(r, s, dport=53) / s.Raw(bytes(12)))
_kind("vlan-qinq-9100")(lambda r, s: _eth(r, s, type=0x9100) / s.Dot1Q(vlan=20, type=0x8100)
                        / s.Dot1Q(vlan=30) / _ipv4(r, s) / _tcp(r, s, flags="S", dport=22))
_kind("vlan-qinq-8100-8100")(lambda r, s: _eth(r, s, type=0x8100) / s.Dot1Q(vlan=10, type=0x8100)
                             / s.Dot1Q(vlan=20) / _ipv6(r, s) / s.ICMPv6EchoRequest(id=1, seq=1))
_kind("vlan-mpls")(lambda r, s: _eth(r, s, type=0x8100) / s.Dot1Q(vlan=50, type=0x8847)
                   / s.MPLS(label=r.randrange(16, 1 << 20), s=1, ttl=64) / _ipv4(r, s) / _udp(r, s) / s.Raw(bytes(4)))


# MPLS
_kind("mpls-ipv4")(lambda r, s: _eth(r, s, type=0x8847) / s.MPLS(label=r.randrange(16, 1 << 20), cos=0, s=1, ttl=64)
                   / _ipv4(r, s) / _tcp(r, s, flags="S", dport=80))
_kind("mpls-stacked-ipv4")(lambda r, s: _eth(r, s, type=0x8847) / s.MPLS(label=r.randrange(16, 1 << 20), s=0, ttl=255)
                           / s.MPLS(label=r.randrange(16, 1 << 20), s=0, ttl=255)
                           / s.MPLS(label=r.randrange(16, 1 << 20), s=1, ttl=64) / _ipv4(r, s)
                           / _udp(r, s, dport=4789) / s.VXLAN(flags=0x08, vni=5) / _eth(r, s) / _ipv4(r, s)
                           / s.ICMP(type=8, id=2, seq=2))
_kind("mpls-ipv6")(lambda r, s: _eth(r, s, type=0x8847) / s.MPLS(label=2, s=1, ttl=64) / _ipv6(r, s)
                   / _tcp(r, s, flags="S", dport=443))
_kind("mpls-multicast")(lambda r, s: _eth(r, s, dst="01:00:5e:80:00:01", type=0x8848)
                        / s.MPLS(label=r.randrange(16, 1 << 20), s=1, ttl=64) / _ipv4(r, s, dst="232.1.1.1")
                        / _udp(r, s, dport=5000) / s.Raw(bytes(8)))


# PPPoE, LLC/SNAP and other link-layer oddities
_kind("pppoe-discovery-padi")(lambda r, s: _eth(r, s, dst="ff:ff:ff:ff:ff:ff", type=0x8863)
                              / s.PPPoED(code=0x09, sessionid=0) / s.Raw(b"\x01\x01\x00\x00"))
_kind("pppoe-discovery-pads")(lambda r, s: _eth(r, s, type=0x8863)
                              / s.PPPoED(code=0x65, sessionid=r.randrange(1, 65535)) / s.Raw(b"\x01\x01\x00\x00"))
_kind("pppoe-session-ipv4")(lambda r, s: _eth(r, s, type=0x8864) / s.PPPoE(sessionid=r.randrange(1, 65535))
                            / s.PPP(proto=0x0021) / _ipv4(r, s) / _tcp(r, s, flags="S", dport=80))
_kind("pppoe-session-ipv6")(lambda r, s: _eth(r, s, type=0x8864) / s.PPPoE(sessionid=r.randrange(1, 65535))
                            / s.PPP(proto=0x0057) / _ipv6(r, s) / _udp(r, s) / s.Raw(bytes(4)))
_kind("pppoe-session-lcp")(lambda r, s: _eth(r, s, type=0x8864) / s.PPPoE(sessionid=r.randrange(1, 65535))
                           / s.PPP(proto=0xC021) / s.Raw(b"\x09\x01\x00\x08" + _data(r, 4)))
_kind("llc-snap-ipv4")(lambda r, s: s.Dot3(src=_mac(r), dst=_mac(r)) / s.LLC(dsap=0xAA, ssap=0xAA, ctrl=3)
                       / s.SNAP(OUI=0, code=0x0800) / _ipv4(r, s) / _udp(r, s, dport=69) / s.Raw(bytes(8)))
_kind("llc-snap-cdp")(lambda r, s: s.Dot3(src=_mac(r), dst="01:00:0c:cc:cc:cc") / s.LLC(dsap=0xAA, ssap=0xAA, ctrl=3)
                      / s.SNAP(OUI=0x00000C, code=0x2000) / s.Raw(b"\x02\xb4\x00\x00" + b"\x00\x01\x00\x06R1"))
_kind("llc-stp")(lambda r, s: s.Dot3(src=_mac(r), dst="01:80:c2:00:00:00") / s.LLC(dsap=0x42, ssap=0x42, ctrl=3)
                 / s.STP(rootmac=_mac(r), bridgemac=_mac(r), pathcost=4))
_kind("llc-netbios")(lambda r, s: s.Dot3(src=_mac(r), dst="03:00:00:00:00:01") / s.LLC(dsap=0xF0, ssap=0xF0, ctrl=3)
                     / s.Raw(_data(r, 40)))
_kind("novell-raw-802.3")(lambda r, s: s.Dot3(src=_mac(r), dst="ff:ff:ff:ff:ff:ff") / s.Raw(b"\xff\xff" + _data(r, 28)))
_kind("ether-lldp")(lambda r, s: _eth(r, s, dst="01:80:c2:00:00:0e", type=0x88CC)
                    / s.Raw(b"\x02\x07\x04" + bytes.fromhex(_mac(r).replace(":", "")) + b"\x04\x02\x07\x31\x06\x02\x00\x78\x00\x00"))
_kind("ether-unknown-type")(lambda r, s: _eth(r, s, type=0x88B5) / s.Raw(_data(r, 46)))
_kind("ether-type-0x0600")(lambda r, s: _eth(r, s, type=0x0600) / s.Raw(_data(r, 46)))
_kind("ether-header-only")(lambda r, s: _eth(r, s, type=0x0800))


# ---------------------------------------------------------------- building

def frame_kinds() -> List[str]:
    """Every kind of well-formed frame, in corpus order."""
    return list(_KINDS)


def _rng(seed: int, *what) -> random.Random:
    # A string seed goes through SHA-512, so the stream does not depend on
    # PYTHONHASHSEED, and each frame's randomness on nothing else in the list.
    return random.Random(":".join(map(str, (seed,) + what)))


@functools.lru_cache(maxsize=4096)
def _built(kind: str, seed: int, variant: int) -> Tuple[bytes, Tuple[int, ...]]:
    """A frame of ``kind`` and the offsets where each of its headers starts."""
    s = _scapy()
    pkt = _KINDS[kind](_rng(seed, kind, variant), s)
    raw = bytes(pkt)
    starts = []
    layer = pkt
    while not isinstance(layer, s.NoPayload):     # Raw payload included
        starts.append(len(raw) - len(layer))
        layer = layer.payload
    return raw, tuple(starts)


def build_frame(kind: str, seed: int = 0, variant: int = 0) -> bytes:
    """One frame of ``kind`` (see :func:`frame_kinds`)."""
    if kind not in _KINDS:
        raise ValueError(f"unknown frame kind {kind!r}; see frame_kinds()")
    return _built(kind, seed, variant)[0]


def _cuts(frame: bytes, starts: Tuple[int, ...]) -> List[int]:
    """Lengths that stop exactly at, or one byte either side of, a header
    boundary (0 and 1 included): where off-by-one bounds checks go wrong."""
    points = {0, 1}
    for start in starts[1:] + (len(frame),):
        points.update((start - 1, start, start + 1))
    return sorted(p for p in points if 0 <= p < len(frame))


def _check(seed, count) -> None:
    for name, value in (("seed", seed), ("count", count)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ValueError(f"{name}={value!r} must be a non-negative int")


@functools.lru_cache(maxsize=32)
def _corpus(seed: int, count: int) -> Tuple[Tuple[str, bytes], ...]:
    kinds = frame_kinds()
    n_garbage = int(count * GARBAGE_SHARE)
    n_truncated = int(count * TRUNCATED_SHARE)
    n_whole = count - n_garbage - n_truncated
    plan = _rng(seed, "plan")

    # well-formed: each kind once, then variants of kinds chosen at random
    if n_whole <= len(kinds):
        chosen = sorted(plan.sample(range(len(kinds)), n_whole))
        picks = [(kinds[i], 0) for i in chosen]
    else:
        picks = [(k, 0) for k in kinds]
        picks += [(plan.choice(kinds), 1 + i) for i in range(n_whole - len(kinds))]
    out = [(kind, _built(kind, seed, v)[0]) for kind, v in picks]

    # truncated: every cut of a few classic frames, then a random cut of
    # random others
    truncated = []
    for kind in _CUT_EVERYWHERE:
        frame, starts = _built(kind, seed, 0)
        truncated += [(f"{kind}[:{cut}]", frame[:cut]) for cut in _cuts(frame, starts)]
    truncated = truncated[:n_truncated]
    while len(truncated) < n_truncated:
        kind = plan.choice(kinds)
        frame, starts = _built(kind, seed, 0)
        # 0 and 1 byte frames are already there; random picks start at 2
        cut = plan.choice([c for c in _cuts(frame, starts) if c > 1] or [0])
        truncated.append((f"{kind}[:{cut}]", frame[:cut]))
    out += truncated

    # garbage: the fixed nasty three, then random bytes of random lengths
    garbage = [("garbage:empty", b""), ("garbage:zeros", bytes(60)), ("garbage:ones", b"\xff" * 60)]
    garbage = garbage[:n_garbage]
    while len(garbage) < n_garbage:
        garbage.append(("garbage:random", plan.randbytes(plan.randrange(201))))
    out += garbage
    return tuple(out)


def labelled_frames(seed: int = 0, count: int = 300) -> List[Tuple[str, bytes]]:
    """``count`` frames as ``(label, bytes)``, the same for the same
    arguments on every run: well-formed ones (label = kind), then truncated
    ones (``"kind[:n]"``), then garbage (``"garbage:..."``)."""
    _check(seed, count)
    return list(_corpus(seed, count))


def sample_frames(seed: int = 0, count: int = 300) -> List[bytes]:
    """The frames of :func:`labelled_frames` without their labels."""
    return [frame for _, frame in labelled_frames(seed, count)]


def write_sample_pcap(path, seed: int = 0, count: int = 300, *, atomic: bool = False) -> int:
    """Write the corpus as an Ethernet pcap (record ``i`` stamped ``i`` µs);
    returns the number of frames written."""
    from .pcapio import PcapWriter
    frames = sample_frames(seed, count)
    with PcapWriter(path, linktype=1, atomic=atomic) as writer:
        for frame in frames:
            writer.write(frame)
    return len(frames)
