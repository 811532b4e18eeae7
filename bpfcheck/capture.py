"""The socket-buffer metadata a captured frame would carry.

A capture file stores bytes, not ``struct sk_buff``; to run a socket
filter over it we rebuild what an ``AF_PACKET`` socket on an Ethernet
device would see for the received frame: the protocol from the EtherType
(as ``eth_type_trans`` derives it), the packet type from the destination
MAC, the link-layer header at 0 and the network header after it.  Fields a
capture cannot know (mark, hash, queue, cpu…) stay 0; ``--ctx`` overrides
any of them.
"""

from __future__ import annotations

from .context import Context

LINKTYPE_ETHERNET = 1
LINKTYPE_RAW = 101
LINKTYPE_IPV4 = 228
LINKTYPE_IPV6 = 229

ARPHRD_ETHER = 1
ARPHRD_NONE = 0xFFFE
ETH_P_802_3 = 0x0001
ETH_P_802_2 = 0x0004
ETH_P_IP = 0x0800
ETH_P_IPV6 = 0x86DD
PACKET_HOST, PACKET_BROADCAST, PACKET_MULTICAST = 0, 1, 2


def ethernet_protocol(frame: bytes) -> int:
    """``skb->protocol`` as eth_type_trans sets it."""
    if len(frame) < 14:
        return 0
    ethertype = int.from_bytes(frame[12:14], "big")
    if ethertype >= 0x600:
        return ethertype
    # 802.3 length field: Novell raw 802.3 starts its payload with 0xFFFF.
    if frame[14:16] == b"\xff\xff":
        return ETH_P_802_3
    return ETH_P_802_2


def ethernet_pkttype(frame: bytes) -> int:
    if len(frame) < 6:
        return PACKET_HOST
    if frame[:6] == b"\xff" * 6:
        return PACKET_BROADCAST
    if frame[0] & 1:
        return PACKET_MULTICAST
    return PACKET_HOST


def context_for_frame(frame: bytes, linktype: int, wirelen: int, base: Context = Context()) -> Context:
    """A :class:`Context` for one captured record, overlaid on ``base``."""
    if linktype == LINKTYPE_ETHERNET:
        derived = dict(has_device=True, ifindex=base.ifindex or 1, hatype=ARPHRD_ETHER,
                       protocol=ethernet_protocol(frame), pkttype=ethernet_pkttype(frame),
                       link_header=0, network_header=14)
    elif linktype in (LINKTYPE_RAW, LINKTYPE_IPV4, LINKTYPE_IPV6):
        version = frame[0] >> 4 if frame else 0
        derived = dict(has_device=True, ifindex=base.ifindex or 1, hatype=ARPHRD_NONE,
                       protocol=ETH_P_IPV6 if version == 6 else ETH_P_IP,
                       link_header=0, network_header=0)
    else:
        derived = {}
    fields = dict(derived)
    fields.update(base.non_default())   # what the user set explicitly wins
    if wirelen != len(frame):
        fields.setdefault("len", wirelen)
    return base.replace(**fields)
