#!/usr/bin/env python3
"""Build the shipped corpus from real tcpdump expressions.

    .venv/bin/python tools/build_corpus.py [--out corpora] [--only SUBSTRING]

For every expression of ``tests/data/expressions.txt`` (libpcap compiles it
for Ethernet, optimized) it writes ``corpora/tcpdump/<slug>.toml``, a
socket-filter case with

* packets: varied frames from :mod:`bpfcheck.frames` (the accepted ones,
  the rejected ones that got furthest through the filter, truncated ones,
  garbage) plus the packets ``bpfcheck gen`` makes to take every
  reachable edge, each with its verdict;
* the verdict set (proved by ``analyze``) as a property, and hand-written
  properties for some expressions (``PROPERTIES``);
* the equivalence of the optimized and the unoptimized program, with the
  outcome libpcap's optimizer actually has.

Every expected verdict is checked when written: the reference VM, the
running kernel (an AF_UNIX socket with the filter attached, exact
verdicts) and libpcap's ``bpf_filter`` must agree, or the packet is left
out and reported.  A sample of expressions also becomes a libpcap case
(``corpora/libpcap/``, target pcap, captures cut short by a snap length
so the wire length differs).  Every optimizer difference found becomes a
regression case (``corpora/regressions/optimizer-<slug>.toml``) pinning
the witness packet.  Hand-written cases (``corpora/seccomp/``,
``corpora/socket/``, other files in ``corpora/regressions/``) are never
touched.

Re-running it keeps each case's ``found`` date, so an unchanged corpus
gives no diff.
"""

from __future__ import annotations

import argparse
import datetime
import os
import re
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from bpfcheck import coverage                                    # noqa: E402
from bpfcheck.context import Context                             # noqa: E402
from bpfcheck.corpus.case import (Case, EquivalenceCase, PacketCase, ProgramSource,  # noqa: E402
                                  PropertyCase, dump_case, load_case)
from bpfcheck.errors import BpfcheckError                        # noqa: E402
from bpfcheck.frames import labelled_frames                      # noqa: E402
from bpfcheck.oracles import libpcap                             # noqa: E402
from bpfcheck.oracles.kernel import kernel_verdicts              # noqa: E402
from bpfcheck.proof.analysis import analyze, describe_ranges     # noqa: E402
from bpfcheck.proof.prove import equivalent, prove               # noqa: E402
from bpfcheck.vm import Machine                                  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
EXPRESSIONS = os.path.join(ROOT, "tests", "data", "expressions.txt")
FRAMES = labelled_frames(seed=0, count=300)
CHECKED = ["reference VM", "kernel AF_UNIX socket (exact verdicts)", "libpcap bpf_filter"]
#: expressions left out, and why
LEFT_OUT = {
    "ip broadcast": "libpcap needs a netmask to compile it",
    "ip6 protochain": "libpcap's backward jumps: a libpcap-only loop (no socket target)",
}
#: every n-th expression also becomes a libpcap (pcap target) case
LIBPCAP_EVERY = 6
#: snap lengths the libpcap cases cut their captures at
SNAPLENS = (14, 34, 54)

#: hand-written properties: (expression, property, expected outcome)
PROPERTIES = [
    ("tcp port 80", "accepted -> pkt[12:2] in {0x0800, 0x86dd}", "proved"),
    ("tcp port 80", "accepted -> len >= 54", "refuted"),
    ("arp", "accepted -> pkt[12:2] == 0x0806", "proved"),
    ("ip", "accepted -> pkt[12:2] == 0x0800", "proved"),
    ("ip6", "accepted -> pkt[12:2] == 0x86dd", "proved"),
    ("ether broadcast", "accepted -> pkt[0:4] == 0xffffffff and pkt[4:2] == 0xffff", "proved"),
    ("udp port 53", "accepted -> matches(\"udp\")", "proved"),
    ("tcp", "accepted -> matches(\"ip or ip6\")", "proved"),
    ("icmp", "accepted -> pkt[23] == 1", "proved"),
    ("not arp", "pkt[12:2] == 0x0806 -> not accepted", "proved"),
    ("ip host 192.168.1.1", "accepted -> pkt[26:4] == 0xc0a80101 or pkt[30:4] == 0xc0a80101", "proved"),
    ("greater 100", "accepted -> len >= 100", "proved"),
    ("less 100", "accepted -> len <= 100", "proved"),
    ("tcp[tcpflags] & tcp-syn != 0", "accepted -> matches(\"tcp\")", "proved"),
    ("vlan", "accepted -> pkt[12:2] in {0x8100, 0x88a8, 0x9100}", "proved"),
]


def expressions():
    with open(EXPRESSIONS, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#"):
                yield line


def slug(expr: str, taken: set) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", expr.lower()).strip("-")[:60] or "expr"
    name, n = base, 2
    while name in taken:
        name, n = f"{base}-{n}", n + 1
    taken.add(name)
    return name


def found_date(path: str) -> str:
    try:
        return str(load_case(path).provenance.get("found"))
    except (BpfcheckError, OSError):
        return datetime.date.today().isoformat()


def agreeing(program, packets, report):
    """Only the packets the VM, the kernel and libpcap agree on."""
    datas = [d for _, d in packets]
    vm = [Machine(program, "socket").run(d) for d in datas]
    kern = kernel_verdicts(program, datas)
    pcap = libpcap.bpf_filter_many(program, datas, errors="return")
    out = []
    for (label, data), a, b, c in zip(packets, vm, kern, pcap):
        if a == b == c:
            out.append((label, data, a))
        else:
            report(f"  disagreement on {label}: VM {a:#x}, kernel {b:#x}, libpcap {c}: left out")
    return out


def choose_frames(program):
    """Accepted frames, the rejected frames that went furthest, truncated
    ones and garbage: a dozen or so, each kind of frame once."""
    machine = Machine(program, "socket")
    traced = [(label, data, machine.trace(data)) for label, data in FRAMES]
    picked, kinds = [], set()

    def take(items, n):
        for label, data, _ in items:
            kind = label.split("[")[0]
            if n and kind not in kinds and all(data != d for _, d in picked):
                picked.append((label, data))
                kinds.add(kind)
                n -= 1

    whole = [t for t in traced if "[" not in t[0] and not t[0].startswith("garbage")]
    take([t for t in whole if t[2].verdict], 4)
    take(sorted((t for t in whole if not t[2].verdict), key=lambda t: -len(t[2].path)), 4)
    take(sorted((t for t in traced if "[" in t[0]), key=lambda t: -len(t[2].path)), 3)
    take([t for t in traced if t[0].startswith("garbage")][:2], 1)
    return picked


def generated(program, target="socket"):
    made = coverage.generate(program, target, timeout=30, mode="afunix")
    return [(f"gen: edge {i.target_edge[0]}->{i.target_edge[1]}", i.packet, i.wirelen) for i in made.inputs]


def socket_case(expr, name, path, report):
    program = libpcap.compile(expr)
    unoptimized = libpcap.compile(expr, optimize=False)
    packets = choose_frames(program) + [(label, data) for label, data, _ in generated(program)]
    seen, unique = set(), []
    for label, data in packets:
        if data not in seen:
            seen.add(data)
            unique.append((label, data))
    kept = agreeing(program, unique, report)
    analysis = analyze(program, "socket", timeout=30)
    ranges = analysis.verdicts.ranges
    props = [PropertyCase(f"verdict in {describe_ranges(ranges)}" if all(lo == hi for lo, hi in ranges)
                          else _range_property(ranges), "proved")]
    for e, prop, expect in PROPERTIES:
        if e == expr:
            outcome = prove(program, prop, "socket", timeout=30)
            if outcome.status != expect:
                raise SystemExit(f"{expr}: {prop!r} is {outcome.status}, the table says {expect}")
            props.append(PropertyCase(prop, expect))
    outcome = equivalent(program, unoptimized, "socket", timeout=30)
    if outcome.status == "unknown":
        raise SystemExit(f"{expr}: optimizer equivalence unknown: {outcome.reason}")
    note = ("optimized and unoptimized programs are equivalent" if outcome.status == "proved" else
            "libpcap's optimizer changes the verdict on some packets (see regressions/)")
    case = Case(path, name, "socket", ProgramSource(expr=expr),
                description=f"tcpdump expression `{expr}` as a socket filter (libpcap, Ethernet)",
                packets=tuple(PacketCase(d, v, label) for label, d, v in kept),
                properties=tuple(props),
                equivalent=EquivalenceCase(ProgramSource(expr=expr, optimize=False), "equivalent",
                                           outcome.status),
                provenance=_provenance(path, f"expression from tests/data/expressions.txt; packets: "
                                             f"bpfcheck.frames (seed 0) and bpfcheck gen; {note}"))
    return case, outcome, program, unoptimized


def _range_property(ranges) -> str:
    return " or ".join(f"verdict in [{lo:#x}, {hi:#x}]" if lo != hi else f"verdict == {lo:#x}" for lo, hi in ranges)


def _provenance(path, note, source="libpcap"):
    return {"source": source, "found": found_date(path), "checked": CHECKED,
            "libpcap": libpcap.version().split(" (")[0], "note": note}


def regression_case(expr, name, path, outcome, program, unoptimized):
    w = outcome.witness
    ours = Machine(program, "socket").run(w.packet)
    theirs = Machine(unoptimized, "socket").run(w.packet)
    assert kernel_verdicts(program, [w.packet]) == [ours]
    assert libpcap.bpf_filter_many(unoptimized, [w.packet]) == [theirs]
    return Case(path, name, "socket", ProgramSource(expr=expr),
                description=f"libpcap's optimizer changes the verdict of `{expr}` on a short packet: "
                            f"optimized {ours:#x}, unoptimized {theirs:#x}",
                packets=(PacketCase(w.packet, ours, "optimizer witness (optimized program)"),),
                equivalent=EquivalenceCase(ProgramSource(expr=expr, optimize=False), "equivalent", "refuted"),
                provenance={"source": "optimizer-check", "found": found_date(path), "checked": CHECKED,
                            "libpcap": libpcap.version().split(" (")[0],
                            "note": "bpfcheck equiv --optimized-vs-unoptimized refuted it; the optimizer "
                                    "drops or reorders loads, so a truncated packet the unoptimized "
                                    "program rejects (load out of bounds) is accepted. This case passes "
                                    "while libpcap behaves so; should an update fix the optimizer, it fails and tells us."})


def libpcap_case(expr, name, path, report):
    """Target pcap: captures cut at a snap length (caplen < wire length),
    and libpcap-made inputs; verdicts from libpcap itself."""
    program = libpcap.compile(expr)
    machine = Machine(program, "pcap")
    rows = []
    for label, data in choose_frames(program)[:6]:
        for snap in SNAPLENS:
            if len(data) > snap:
                rows.append((f"{label} snapped at {snap}", data[:snap], len(data)))
                break
        rows.append((label, data, None))
    rows += generated(program, "pcap")
    kept = []
    for label, data, wirelen in rows:
        ours = machine.run(data, Context(len=wirelen))
        theirs = libpcap.bpf_filter(program, data, wirelen)
        if ours != theirs:
            report(f"  disagreement on {label}: VM {ours:#x}, libpcap {theirs:#x}: left out")
            continue
        kept.append(PacketCase(data, ours, label, {}, wirelen))
    return Case(path, name, "pcap", ProgramSource(expr=expr),
                description=f"tcpdump expression `{expr}` in libpcap's bpf_filter, on captures cut "
                            f"short by a snap length",
                packets=tuple(kept),
                provenance={"source": "libpcap", "found": found_date(path),
                            "checked": ["reference VM (pcap target)", "libpcap bpf_filter"],
                            "libpcap": libpcap.version().split(" (")[0],
                            "note": "expression from tests/data/expressions.txt"})


def write(path, case) -> None:
    from bpfcheck.atomic import write_atomic
    os.makedirs(os.path.dirname(path), exist_ok=True)
    text = dump_case(case)
    try:
        with open(path, encoding="utf-8") as f:
            if f.read() == text:
                return
    except OSError:
        pass
    write_atomic(path, text, fsync=False)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=os.path.join(ROOT, "corpora"))
    parser.add_argument("--only", help="only expressions containing this text")
    args = parser.parse_args(argv)
    started = time.monotonic()
    taken: set = set()
    counts = {"tcpdump": 0, "libpcap": 0, "regressions": 0, "left out": 0}

    def report(message):
        print(message, file=sys.stderr)

    for n, expr in enumerate(expressions()):
        why = next((reason for prefix, reason in LEFT_OUT.items() if expr.startswith(prefix)), None)
        if why:
            report(f"left out {expr!r}: {why}")
            counts["left out"] += 1
            continue
        name = slug(expr, taken)
        if args.only and args.only not in expr:
            continue
        path = os.path.join(args.out, "tcpdump", f"{name}.toml")
        case, outcome, program, unoptimized = socket_case(expr, name, path, report)
        write(path, case)
        counts["tcpdump"] += 1
        if outcome.status == "refuted":
            rpath = os.path.join(args.out, "regressions", f"optimizer-{name}.toml")
            write(rpath, regression_case(expr, f"optimizer-{name}", rpath, outcome, program, unoptimized))
            counts["regressions"] += 1
        if n % LIBPCAP_EVERY == 0:
            lpath = os.path.join(args.out, "libpcap", f"{name}.toml")
            write(lpath, libpcap_case(expr, f"pcap-{name}", lpath, report))
            counts["libpcap"] += 1
        report(f"{expr}: {len(case.packets)} packets")
    print(", ".join(f"{v} {k}" for k, v in counts.items()) + f" ({time.monotonic() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
