"""``bpfcheck demo`` (``make demo``): a short tour, then the main job —
replay the shipped regression corpus and write the HTML report.

The tour takes one real filter (libpcap's ``tcp port 80 or udp port 53``)
through the steps a user would take; then every case of ``corpora/`` is
replayed (reference VM, the running kernel, libpcap, the solver) exactly
as CI does with ``bpfcheck corpus run corpora --html reports/out``.
"""

from __future__ import annotations

import os

from ..errors import UsageError

EXPRESSION = "tcp port 80 or udp port 53"
#: the repository root, when bpfcheck runs from a checkout (make demo)
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def register(sub) -> None:
    p = sub.add_parser("demo", help="a short tour, then replay the shipped corpus into an HTML report",
                       description="Show bpfcheck's main steps on a built-in filter, then replay the "
                       "shipped regression corpus (corpora/) on the reference VM, the kernel and "
                       "libpcap, prove its properties, and write the HTML report.")
    p.add_argument("--corpus", metavar="DIR", default=None, help="the corpus (default: corpora/ of the checkout)")
    p.add_argument("--out", metavar="DIR", default=None, help="the report directory (default: reports/out/)")
    p.add_argument("-j", "--jobs", type=int, default=None, metavar="N", help="processes (default: one per CPU)")
    p.add_argument("--no-tour", action="store_true", help="only replay the corpus")
    p.set_defaults(handler=cmd_demo)


def _step(title: str) -> None:
    print(f"\n== {title}", flush=True)


def cmd_demo(args) -> int:
    corpus = args.corpus or _default("corpora")
    out = args.out or os.path.join(_default("reports"), "out")
    if not os.path.isdir(corpus):
        raise UsageError(f"demo: no corpus at {corpus} (give --corpus DIR)")
    if not args.no_tour:
        _tour()
    return _replay(corpus, out, args.jobs)


def _default(name: str) -> str:
    here = os.path.join(REPO, name)
    return here if os.path.isdir(os.path.join(REPO, "corpora")) else os.path.join(os.getcwd(), name)


def _tour() -> None:
    from .. import coverage as cov
    from ..oracles import libpcap
    from ..proof.analysis import analyze
    from ..proof.verdicts import describe_ranges
    from ..proof.prove import equivalent, prove
    print(f"bpfcheck demo: first the filter `{EXPRESSION}` as tcpdump compiles it for Ethernet, "
          "then the shipped regression corpus.")
    program = libpcap.compile(EXPRESSION, "EN10MB")
    _step(f"1. One filter: {len(program)} instructions (`bpfcheck compile`, `bpfcheck analyze`)")
    result = analyze(program, target="socket")
    print(f"  verdicts over every packet: {describe_ranges(result.verdicts.ranges)}; "
          f"dead instructions: {result.dead or 'none'}")
    for prop in ("accepted -> pkt[12:2] in {0x0800, 0x86dd}", "accepted -> len >= 54"):
        outcome = prove(program, prop)
        print(f"  {outcome.status:8s} {prop}")
        if outcome.witness:
            from ..corpus.replay import scapy_layers
            from ..proof.outcome import packet_summary
            scapy_layers()
            w = outcome.witness
            print(f"           witness: {len(w.packet)} bytes {w.packet.hex()}  "
                  f"[{packet_summary(w.packet, None, 'pcap')}]")
            print("           (a truncated frame the filter still accepts)")
    outcome = equivalent(program, libpcap.compile(EXPRESSION, "EN10MB", optimize=False))
    print(f"  {outcome.status:8s} the optimized and unoptimized programs agree on every packet "
          "(`bpfcheck equiv --optimized-vs-unoptimized`)")
    made = cov.generate(program, "socket")
    s = cov.summarise(made.coverage, made.reachability)
    print(f"  gen: {len(made.inputs)} solver-made packets take {s.edges_covered} of {s.edges_reachable} "
          f"reachable edges ({s.edge_percent:.0f} %) (`bpfcheck gen`, `bpfcheck cover`)")


def _replay(corpus: str, out: str, jobs) -> int:
    from ..corpus.discover import find_cases
    from ..corpus.parallel import run_corpus
    from ..corpus.progress import Progress
    from ..report import write_report
    from .corpus import oracle_tally
    paths = find_cases(corpus)
    groups = {}
    for p in paths:
        group = os.path.relpath(os.path.dirname(p), corpus).split(os.sep)[0]
        groups[group] = groups.get(group, 0) + 1
    shown = os.path.relpath(corpus)
    _step(f"2. Replay the corpus {shown}/ (`bpfcheck corpus run {shown} --html ...`): {len(paths)} cases")
    print("  " + ", ".join(f"{n} {g}" for g, n in sorted(groups.items())), flush=True)
    progress = Progress(len(paths))
    run = run_corpus(corpus, jobs, report=True, on_result=progress.update, paths=paths)
    progress.finish()
    failed = [r for r in run.results if r.status != "passed"]
    for r in failed:
        print(r.explain())
    print(f"  {len(run.results)} cases: {len(run.results) - len(failed)} passed, {len(failed)} failed "
          f"({run.seconds:.1f} s, {run.jobs} processes)")
    print("  verdicts and proofs checked by: " + ", ".join(f"{k} {v}" for k, v in oracle_tally(run.results).items()))
    index = write_report(run.results, out, run.not_run, run.seconds,
                         "a signal" if run.interrupted else None)
    _step("3. The report")
    print(f"  {os.path.relpath(index)}  (open it in a browser: control-flow graphs with coverage, "
          "proofs, witnesses as pcap)")
    if run.interrupted:
        return 128 + run.interrupted
    return 1 if failed else 0
