"""``bpfcheck demo``: the main job on an embedded default, for newcomers.

It takes one real filter (libpcap's ``tcp port 80 or udp port 53``) through
every step a user would: compile, validate for each target, run on a
varied set of frames against the real kernel and libpcap, prove facts over
every input, find a surprising witness, and check libpcap's optimizer.
"""

from __future__ import annotations

EXPRESSION = "tcp port 80 or udp port 53"


def register(sub) -> None:
    p = sub.add_parser("demo", help="a guided tour on a built-in filter",
                       description="Run bpfcheck's main steps on a built-in filter and explain each.")
    p.set_defaults(handler=cmd_demo)


def _step(title: str) -> None:
    print(f"\n== {title}")


def cmd_demo(args) -> int:
    from .. import analyze, equivalent, prove, run, validate
    from ..errors import OracleUnavailable, ValidationError
    from ..frames import labelled_frames
    from ..oracles import libpcap
    from ..proof.analysis import describe_ranges

    print(f"bpfcheck demo: the filter `{EXPRESSION}`, as tcpdump would compile it for Ethernet.")
    program = libpcap.compile(EXPRESSION, "EN10MB")
    unoptimized = libpcap.compile(EXPRESSION, "EN10MB", optimize=False)

    _step(f"1. libpcap compiles it to {len(program)} instructions (`bpfcheck compile`)")
    print(program.format("tcpdump", canonical=True).rstrip())

    _step("2. Would each target accept it? (`bpfcheck validate --target ...`)")
    for target in ("socket", "seccomp", "pcap"):
        try:
            validate(program, target)
            print(f"  {target:8s} valid")
        except ValidationError as e:
            print(f"  {target:8s} rejected: instruction {e.pc}: {e.reason}")

    frames = labelled_frames(seed=0, count=300)
    _step(f"3. Run it on {len(frames)} varied frames (`bpfcheck run`), and on the real implementations")
    ours = [run(program, f, target="pcap") for _, f in frames]
    accepted = [label for (label, _), v in zip(frames, ours) if v]
    print(f"  reference VM: {len(accepted)} of {len(frames)} accepted, e.g. {', '.join(accepted[:4])}")
    theirs = libpcap.bpf_filter_many(program, [f for _, f in frames])
    print(f"  libpcap's bpf_filter agrees on {sum(a == b for a, b in zip(ours, theirs))} of {len(frames)}")
    try:
        from ..oracles.kernel import kernel_verdicts
        sock = [run(program, f) for _, f in frames]
        kern = kernel_verdicts(program, [f for _, f in frames])
        print(f"  the running kernel (socket filter) agrees on {sum(a == b for a, b in zip(sock, kern))} "
              f"of {len(frames)}")
    except (OracleUnavailable, OSError) as e:
        print(f"  (kernel oracle not available here: {e})")

    _step("4. What can it ever return, and what can go wrong? (`bpfcheck analyze`)")
    result = analyze(program, target="pcap")
    print(f"  verdicts over every packet: {describe_ranges(result.verdicts.ranges)}")
    print(f"  dead instructions: {result.dead or 'none'}")
    kinds = {}
    for f in result.findings:
        kinds.setdefault(f.kind, []).append(f.pc)
    for kind, pcs in kinds.items():
        print(f"  {kind}: instructions {pcs}  (short packets end the filter early with a drop)")

    _step("5. Prove properties for every packet (`bpfcheck prove`)")
    for prop in ("accepted -> pkt[12:2] in {0x0800, 0x86dd}",
                 "accepted -> len >= 54"):
        outcome = prove(program, prop, target="pcap")
        print(f"  {outcome.status:8s} {prop}")
        if outcome.witness:
            print(f"           witness: {outcome.witness.describe()}")
            print("           (a truncated or malformed frame the filter still accepts: "
                  "libpcap trusts the IPv4 header length)")

    _step("6. Is libpcap's optimizer right here? (`bpfcheck equiv --optimized-vs-unoptimized`)")
    outcome = equivalent(program, unoptimized, target="pcap")
    print(f"  {outcome.status}: optimized ({len(program)} insns) vs unoptimized ({len(unoptimized)} insns) "
          f"return the same verdict on every packet ({outcome.seconds:.2f} s)")

    print("\nNext: `bpfcheck --help`, and README.md for every subcommand.")
    return 0
