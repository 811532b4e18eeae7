"""The benchmark capture: a million varied Ethernet frames, built once.

Scapy is far too slow to build a million frames, so a few hundred real
ones come from :func:`bpfcheck.frames.sample_frames` (every kind: VLAN,
IPv6 chains, fragments, truncated frames, garbage) and the rest are copies
with their IPv4 addresses and TCP/UDP ports rewritten, so that address and
port filters match a realistic share of them rather than all or none.
"""

from __future__ import annotations

import os
import random
from typing import List, Tuple

from bpfcheck.frames import sample_frames
from bpfcheck.pcapio import PcapWriter

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "out")
#: bump when the recipe changes, so a stale cached file is not reused
RECIPE = 1
PORTS = (80, 53, 443, 22, 8080, 123, 5353, 25, 1234, 40000)


def _ipv4_layout(frame: bytes):
    """(address offset, transport offset or None) of an untagged IPv4
    frame long enough to carry both addresses, else None."""
    if len(frame) < 34 or frame[12:14] != b"\x08\x00" or frame[14] >> 4 != 4:
        return None
    ihl = (frame[14] & 0xF) * 4
    transport = 14 + ihl
    proto = frame[23]
    if proto in (6, 17) and len(frame) >= transport + 4 and ihl >= 20:
        return 26, transport
    return 26, None


def host_addresses() -> List[str]:
    """Thirty addresses for the long filter: half of them occur in the
    capture's rewritten address space, half never do."""
    present = [f"10.{a}.{b}.{c}" for a, b, c in ((0, 0, 1), (0, 0, 7), (0, 1, 3), (1, 2, 3),
                                                   (0, 2, 9), (3, 3, 3), (0, 0, 42), (1, 1, 1),
                                                   (0, 0, 99), (2, 0, 5), (0, 3, 11), (1, 0, 77),
                                                   (0, 1, 200), (2, 2, 2), (3, 0, 150))]
    absent = [f"192.0.2.{i}" for i in range(1, 16)]
    return [a for pair in zip(present, absent) for a in pair]


def _addresses(rng: random.Random) -> bytes:
    return bytes((10, rng.randrange(4), rng.randrange(4), rng.randrange(1, 255),
                  10, rng.randrange(4), rng.randrange(4), rng.randrange(1, 255)))


def frames(count: int, seed: int = 7) -> List[Tuple[bytes, int]]:
    """``count`` ``(frame, wirelen)`` pairs, the same on every run."""
    base = sample_frames(seed=0, count=300) + sample_frames(seed=1, count=300)
    layouts = [_ipv4_layout(f) for f in base]
    rng = random.Random(seed)
    out = []
    for i in range(count):
        j = i % len(base)
        frame, layout = base[j], layouts[j]
        if layout is not None and i >= len(base):
            buf = bytearray(frame)
            addr, transport = layout
            buf[addr:addr + 8] = _addresses(rng)
            if transport is not None:
                buf[transport:transport + 2] = rng.choice(PORTS).to_bytes(2, "big")
                buf[transport + 2:transport + 4] = rng.choice(PORTS).to_bytes(2, "big")
            frame = bytes(buf)
        out.append((frame, len(frame)))
    return out


def capture(count: int) -> str:
    """Path of the cached capture of ``count`` frames, written if missing."""
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, f"bench-{count}-r{RECIPE}.pcap")
    if not os.path.exists(path):
        with PcapWriter(path, linktype="EN10MB", atomic=True) as writer:
            for frame, wirelen in frames(count):
                writer.write(frame, wirelen)
    return path
