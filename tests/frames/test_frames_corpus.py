"""The frame corpus: reproducible, varied, and what tcpdump says it is."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import time

import pytest

from bpfcheck import frames
from bpfcheck.pcapio import read_packets

TCPDUMP = shutil.which("tcpdump")
needs_tcpdump = pytest.mark.skipif(TCPDUMP is None, reason="tcpdump is not installed")


def digest(items) -> str:
    h = hashlib.sha256()
    for label, frame in items:
        h.update(label.encode() + b"\0" + len(frame).to_bytes(4, "big") + frame)
    return h.hexdigest()


def fresh(seed=0, count=300):
    frames._built.cache_clear()
    frames._corpus.cache_clear()
    return frames.labelled_frames(seed, count)


# ---------------------------------------------------------------- reproducible

def test_same_seed_same_bytes_and_other_seeds_differ():
    first = fresh(0)
    assert fresh(0) == first                              # rebuilt, not cached
    assert frames.sample_frames(0) == [f for _, f in first]
    other = fresh(1)
    assert [label for label, _ in other[:len(frames.frame_kinds())]] == frames.frame_kinds()
    assert sum(a != b for (_, a), (_, b) in zip(first, other)) > 250


def test_same_bytes_in_another_process_whatever_the_hash_seed():
    script = ("import hashlib, sys; from bpfcheck import frames; "
              "h = hashlib.sha256(); "
              "[h.update(l.encode() + b'\\0' + len(f).to_bytes(4, 'big') + f) for l, f in frames.labelled_frames(0, 300)]; "
              "print(h.hexdigest())")
    env = dict(os.environ, PYTHONHASHSEED="12345")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env,
                         timeout=120, check=True).stdout.strip()
    assert out == digest(frames.labelled_frames(0, 300))


def test_scapy_is_not_imported_until_a_frame_is_built():
    script = ("import sys, bpfcheck.frames as f; assert not any(m.startswith('scapy') for m in sys.modules); "
              "f.frame_kinds(); assert not any(m.startswith('scapy') for m in sys.modules); "
              "f.build_frame('arp-request'); assert 'scapy' in sys.modules")
    subprocess.run([sys.executable, "-c", script], check=True, timeout=120)


def test_building_300_frames_is_fast():
    frames._scapy()                                       # the import is paid once per process
    start = time.perf_counter()
    fresh(7)
    elapsed = time.perf_counter() - start
    assert elapsed < 2.0, f"building 300 frames took {elapsed:.2f}s"


# ---------------------------------------------------------------- varied

def test_every_kind_truncations_and_garbage_are_present():
    items = frames.labelled_frames()
    labels = [label for label, _ in items]
    assert len(items) == 300
    kinds = frames.frame_kinds()
    assert len(kinds) >= 100 and len(set(kinds)) == len(kinds)
    assert labels[:len(kinds)] == kinds
    truncated = [label for label in labels if "[:" in label]
    garbage = [label for label in labels if label.startswith("garbage:")]
    assert len(truncated) == 90 and len(garbage) == 30
    for cut in (0, 1, 13, 14, 15, 33, 34, 35, 53, 54, 55):
        assert f"tcp-psh-ack[:{cut}]" in labels
    for cut in (17, 18, 19, 37, 38, 39):                  # the VLAN tag shifts IPv4 by 4
        assert f"vlan-100-tcp[:{cut}]" in labels
    by_label = dict(items)
    assert by_label["garbage:empty"] == b""
    assert by_label["garbage:zeros"] == bytes(60) and by_label["garbage:ones"] == b"\xff" * 60
    random_garbage = [f for label, f in items if label == "garbage:random"]
    assert len({len(f) for f in random_garbage}) > 10 and max(map(len, random_garbage)) <= 200
    # a truncated frame really is a prefix of its kind's frame
    whole = frames.build_frame("tcp-psh-ack")
    assert by_label["tcp-psh-ack[:34]"] == whole[:34]


def test_frames_say_what_they_are():
    f = frames.build_frame
    assert f("ipv4-broadcast")[:6] == b"\xff" * 6 and f("ipv4-broadcast")[30:34] == b"\xff" * 4
    assert f("ipv4-multicast")[:3] == b"\x01\x00\x5e" and f("ipv6-multicast")[:2] == b"\x33\x33"
    assert f("vlan-qinq-88a8")[12:14] == b"\x88\xa8" and f("vlan-qinq-88a8")[16:18] == b"\x81\x00"
    assert f("vlan-qinq-9100")[12:14] == b"\x91\x00"
    assert f("mpls-stacked-ipv4")[12:14] == b"\x88\x47" and f("mpls-stacked-ipv4")[24] & 0x01   # bottom of stack
    assert len(f("ipv4-jumbo-9000")) == 9014 and len(f("ipv4-mtu-1500")) == 1514
    assert len(f("ipv4-padded-60")) == 60 and len(f("arp-request-padded-60")) == 60
    assert int.from_bytes(f("llc-snap-ipv4")[12:14], "big") < 0x600          # an 802.3 length
    assert f("ipv4-ttl-0")[22] == 0 and f("ipv4-ttl-255")[22] == 255
    for port in frames.TCP_PORTS:
        assert int.from_bytes(f(f"tcp-dport-{port}")[36:38], "big") == port


def test_small_and_empty_corpora_and_bad_arguments():
    assert frames.labelled_frames(0, 0) == []
    small = frames.labelled_frames(3, 10)
    assert len(small) == 10 and len({label for label, _ in small}) > 5
    for bad in (-1, 1.5, "3", True):
        with pytest.raises(ValueError):
            frames.labelled_frames(0, bad)
    with pytest.raises(ValueError, match="frame_kinds"):
        frames.build_frame("no-such-kind")


# ---------------------------------------------------------------- tcpdump agrees

#: what tcpdump -n -vv -e prints somewhere in each kind's frame
TCPDUMP_SAYS = {
    "tcp-syn": "Flags [S]", "tcp-syn-ack": "Flags [S.]", "tcp-fin": "Flags [F]", "tcp-rst": "Flags [R]",
    "tcp-psh-ack": "Flags [P.]", "tcp-urg": "Flags [.U]", "tcp-ece-cwr": "Flags [SEW]",
    "tcp-many-options": "wscale 14", "tcp-dport-443": ".443: Flags [S]", "tcp-dport-65535": ".65535: Flags",
    "ipv4-options-rr": "options (RR", "ipv4-options-router-alert": "options (RA)",
    "ipv4-frag-first": "offset 0, flags [+]", "ipv4-frag-middle": "offset 1480, flags [+]",
    "ipv4-frag-last": "offset 2960, flags [none]", "ipv4-df": "flags [DF]",
    "ipv4-ttl-1": "ttl 1,", "ipv4-tos-0xb8": "tos 0xb8", "ipv4-loopback": "127.",
    "ipv4-192-168": "192.168.", "ipv4-broadcast": "> 255.255.255.255.9", "ipv4-multicast": "224.0.0.251.5353",
    "ipv4-in-ipv4": "proto IPIP (4)", "ipv4-ihl-4": "bad-hlen 16",
    "udp-dns-query": "A? example.com.", "udp-dns-response": "example.com. A ",
    "udp-dhcp-discover": "DHCP-Message (53), length 1: Discover", "udp-ntp": "NTPv4, Client",
    "udp-vxlan": "VXLAN, flags [I] (0x08)", "udp-geneve": "Geneve", "udp-checksum-0": "[no cksum]",
    "icmp-echo-request": "ICMP echo request", "icmp-echo-reply": "ICMP echo reply",
    "icmp-port-unreachable": "udp port 33434 unreachable", "icmp-time-exceeded": "ICMP time exceeded in-transit",
    "icmp-frag-needed": "need to frag (mtu 1400)",
    "igmp-v2-report": "igmp v2 report 239.1.2.3", "igmp-query": "igmp query v2",
    "sctp-init": "[INIT]", "sctp-data": "[DATA]", "gre-ipv4": "GREv0", "gre-key-ethernet": "key present",
    "ipv6-tcp": "ethertype IPv6", "ipv6-hop-by-hop": "HBH", "ipv6-routing": "RT6",
    "ipv6-fragment-first": "frag (", "ipv6-dest-opts": "DSTOPT",
    "ipv6-ext-chain": "HBH (padn) DSTOPT (padn) RT6", "ipv6-in-ipv4": "proto IPv6 (41)",
    "ipv4-in-ipv6": "next-header IPIP (4)", "ipv6-loopback": "::1.",
    "icmpv6-echo-request": "ICMP6, echo request", "icmpv6-echo-reply": "ICMP6, echo reply",
    "icmpv6-neighbor-solicit": "neighbor solicitation", "icmpv6-neighbor-advert": "neighbor advertisement",
    "icmpv6-router-advert": "router advertisement", "icmpv6-unreachable": "destination unreachable",
    "arp-request": "Request who-has", "arp-reply": "Reply ", "rarp-request": "Reverse Request",
    "rarp-reply": "Reverse Reply",
    "vlan-100-tcp": "vlan 100, p 0", "vlan-1-pcp-7": "vlan 1, p 7", "vlan-4095-pcp-3": "vlan 4095, p 3",
    "vlan-200-arp": "vlan 200, p 0, ethertype ARP", "vlan-300-ipv6": "vlan 300, p 2, ethertype IPv6",
    "vlan-qinq-88a8": "802.1Q-QinQ (0x88a8), length 62: vlan 1000, p 0, ethertype 802.1Q (0x8100), vlan 100",
    "vlan-qinq-9100": "802.1Q-9100 (0x9100)", "vlan-qinq-8100-8100": "vlan 10, p 0, ethertype 802.1Q (0x8100), vlan 20",
    "vlan-mpls": "vlan 50, p 0, ethertype MPLS unicast",
    "mpls-ipv4": "MPLS (label", "mpls-stacked-ipv4": "[S], ttl 64", "mpls-ipv6": "IPv6 explicit NULL",
    "mpls-multicast": "MPLS multicast",
    "pppoe-discovery-padi": "PPPoE PADI", "pppoe-discovery-pads": "PPPoE PADS",
    "pppoe-session-ipv4": "PPPoE  [ses 0x", "pppoe-session-ipv6": "IP6 (0x0057)", "pppoe-session-lcp": "LCP, Echo-Request",
    "llc-snap-ipv4": "oui Ethernet (0x000000), ethertype IPv4", "llc-snap-cdp": "CDPv2",
    "llc-stp": "STP 802.1d", "novell-raw-802.3": "IPX 802.3", "ether-lldp": "LLDP",
    "ether-unknown-type": "ethertype Unknown (0x88b5)",
}

#: kinds that lie in a header on purpose; every other frame must have
#: correct checksums
_LIARS = {"ipv4-ihl-4", "ipv4-len-overstated", "ipv4-version-6"}


@needs_tcpdump
def test_tcpdump_agrees_with_every_label(tmp_path):
    path = tmp_path / "corpus.pcap"
    count = frames.write_sample_pcap(path)
    assert count == 300 and len(list(read_packets(path))) == 300
    done = subprocess.run([TCPDUMP, "-r", str(path), "-n", "-vv", "-e", "-tt"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    # records are stamped i µs, so each output line names its frame
    per_frame = {}
    current = None
    for line in done.stdout.splitlines():
        m = re.match(r"0\.(\d{6}) ", line)
        if m:
            current = int(m.group(1))
            per_frame[current] = line
        elif current is not None:
            per_frame[current] += " " + line.strip()
    items = frames.labelled_frames()
    said = {label: per_frame.get(i, "") for i, (label, _) in enumerate(items) if "[:" not in label}
    missing = {k: v for k, v in TCPDUMP_SAYS.items() if v not in said[k]}
    assert not missing, "\n".join(f"{k}: expected {v!r} in {said[k][:300]!r}" for k, v in missing.items())
    bad = [k for k in frames.frame_kinds()
           if k not in _LIARS and re.search(r"bad \w* ?cksum|incorrect|\(invalid\)", said[k])]
    assert not bad, "\n".join(f"{k}: {said[k][:300]}" for k in bad)
