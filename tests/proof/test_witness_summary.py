"""The scapy line of a witness starts decoding where the packet does."""

import pytest

pytest.importorskip("scapy")
from scapy.layers.inet import IP, TCP   # noqa: E402
from scapy.layers.inet6 import IPv6     # noqa: E402
from scapy.layers.l2 import Ether       # noqa: E402

from bpfcheck import Context, Program, prove   # noqa: E402
from bpfcheck.proof.outcome import packet_summary   # noqa: E402

ETHER_TCP80 = Program([(0x28, 0, 0, 12), (0x15, 0, 3, 0x800), (0x30, 0, 0, 23), (0x15, 0, 1, 6),
                       (0x06, 0, 0, 0x40000), (0x06, 0, 0, 0)])   # ip and tcp, on Ethernet


@pytest.mark.parametrize("frame, first", [
    (Ether() / IP(dst="192.0.2.1") / TCP(dport=80), "Ether / IP / TCP"),
    (Ether(dst="00:00:00:00:00:00") / IPv6() / TCP(), "Ether / IPv6 / TCP"),
    (IP(dst="192.0.2.1") / TCP(dport=80), "IP / TCP"),
    (IPv6() / TCP(dport=443), "IPv6 / TCP"),
])
def test_a_socket_packet_is_read_from_its_ethernet_or_ip_header(frame, first):
    summary = packet_summary(bytes(frame), Context(), "socket")
    assert summary == frame.summary() and summary.startswith(first.split(" / ")[0])
    assert all(name in frame.summary() for name in first.split(" / "))


def test_bytes_that_are_neither_stay_raw():
    assert packet_summary(bytes(20), Context(), "socket") == "Raw"
    assert packet_summary(b"", Context(), "socket") is None


def test_a_link_header_or_a_capture_means_ethernet():
    packet = bytes(IP() / TCP())     # begins 0x45, but these inputs start at the link layer
    assert packet_summary(packet, Context(), "pcap").startswith(Ether(packet).summary()[:17])
    assert packet_summary(packet, Context(has_device=True, link_header=0, network_header=14),
                          "socket") == Ether(packet).summary()


def test_a_witness_for_an_ethernet_filter_is_shown_as_ethernet():
    outcome = prove(ETHER_TCP80, "not accepted")
    assert outcome.status == "refuted"
    packet = outcome.witness.packet    # minimal: an Ethernet header and a cut IP header
    assert f"[{Ether(packet).summary()}]" in outcome.witness.describe()
    assert "(IPv4)" in outcome.witness.describe()
