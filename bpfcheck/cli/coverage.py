"""``cover`` (coverage of a filter by a capture) and ``gen`` (inputs made
to cover every reachable edge, as a capture and a ready-made corpus case)."""

from __future__ import annotations

import os

from ..errors import UsageError
from . import common
from .interrupt import interruptible

CONTEXT_HELP = ("the metadata packets run with on the socket target: 'capture' as `bpfcheck run "
                "--pcap` derives it from each frame (default), or 'afunix' (an AF_UNIX datagram's, "
                "what the kernel oracle can replay); use the same for gen and cover")


def register(sub) -> None:
    p = sub.add_parser("cover", help="instruction and edge coverage of a filter by a capture",
                       description="Run the filter on every input and report which instructions and "
                       "control-flow edges were executed, out of those the solver proves reachable "
                       "(dead edges are listed apart). Exit 0; 1 under --fail-under; 3 when some "
                       "edge could not be settled.")
    common.add_program_argument(p)
    common.add_target_argument(p)
    p.add_argument("--pcap", metavar="F", help="the capture to measure")
    p.add_argument("--case", metavar="C", help="measure a corpus case's inputs instead")
    p.add_argument("--context", choices=("capture", "afunix"), default="capture", help=CONTEXT_HELP)
    p.add_argument("--fail-under", type=float, metavar="PCT", help="exit 1 when edge coverage is below PCT")
    common.add_timeout_argument(p, help="seconds per solver question")
    common.add_json_argument(p)
    p.set_defaults(handler=interruptible(cmd_cover))

    p = sub.add_parser("gen", help="inputs that cover every reachable edge (a ready-made corpus)",
                       description="Ask the solver for a small set of inputs that together take every "
                       "reachable control-flow edge of the filter, each with its verdict; write them "
                       "as a capture (-o) and/or a corpus case (--case). Dead edges are proved and "
                       "reported. Exit 0; 3 when some edge could not be settled.")
    common.add_program_argument(p)
    common.add_target_argument(p)
    p.add_argument("-o", "--output", metavar="OUT.pcap", help="write the packets here")
    p.add_argument("--case", metavar="OUT.toml", help="write a corpus case: the program, every input "
                   "with its verdict")
    p.add_argument("--name", help="the case's name (default: from the output file)")
    p.add_argument("--context", choices=("capture", "afunix"), default="capture", help=CONTEXT_HELP)
    common.add_timeout_argument(p, help="seconds per solver question")
    common.add_json_argument(p)
    p.set_defaults(handler=interruptible(cmd_gen))


def _linktype(args) -> int:
    from ..pcapio import linktype_number
    try:
        return linktype_number(getattr(args, "linktype", "EN10MB"))
    except (ValueError, KeyError, UsageError):
        raise UsageError(f"unknown link type {args.linktype!r}") from None


# --- cover ----------------------------------------------------------------------------------
def cmd_cover(args) -> int:
    from .. import coverage as cov
    if bool(args.pcap) == bool(args.case):
        raise UsageError("cover needs exactly one of --pcap F or --case C")
    program = common.load_program_arg(args)
    from ..validate import validate
    validate(program, args.target)
    inputs = _case_inputs(args) if args.case else _capture_inputs(args)
    measured = cov.measure(program, args.target, inputs)
    mode = "any" if args.case else args.context
    reach = cov.reachability(program, args.target, args.timeout, seen=measured.edge_keys, mode=mode,
                             linktype=_linktype(args))
    summary = cov.summarise(measured, reach)
    failed = args.fail_under is not None and summary.edge_percent < args.fail_under
    unknown = bool(summary.edges_unknown)
    status = "unknown" if unknown else "below" if failed else "ok"
    if args.json:
        common.emit_json({"status": status, "inputs": measured.inputs, "target": args.target,
                          "no_verdict": measured.errors, **summary.to_json()})
    else:
        _print_cover(program, args, measured, summary)
    return 3 if unknown else 1 if failed else 0


def _capture_inputs(args):
    from .. import coverage as cov
    from ..pcapio import read_packets
    if args.target == "seccomp":
        raise UsageError("seccomp inputs are syscalls: measure them with --case C")
    # A generator: the capture is streamed through the measurement, never held whole.
    return ((record.data, cov.run_context(args.target, args.context, record.data, record.wirelen,
                                          record.linktype))
            for record in read_packets(args.pcap))


def _case_inputs(args):
    from ..corpus.case import load_case
    from ..corpus.replay import case_inputs
    case = load_case(args.case)
    if case.target != args.target:
        raise UsageError(f"the case {args.case} is for target {case.target}: add --target {case.target}")
    return [(value, ctx) for value, ctx, _ in case_inputs(case)]


def _print_cover(program, args, measured, s) -> None:
    source = args.pcap or args.case
    plural = "" if measured.inputs == 1 else "s"
    print(f"{len(program)} instructions, target {args.target}; {measured.inputs} input{plural} from {source}")
    dead = ", ".join(map(str, s.pcs_dead)) or "none"
    print(f"instructions: {s.pcs_covered} of {s.pcs_reachable} reachable covered ({s.pc_percent:.1f} %); "
          f"dead: {dead}")
    dead_edges = ", ".join(f"{a}->{b}" for a, b in s.edges_dead) or "none"
    print(f"edges: {s.edges_covered} of {s.edges_reachable} reachable covered ({s.edge_percent:.1f} %); "
          f"dead edges: {dead_edges}")
    if s.edges_unknown:
        print(f"not settled by the solver: {', '.join(f'{a}->{b}' for a, b in s.edges_unknown)}")
    for a, b in s.uncovered[:20]:
        print(f"  not taken: {a}->{b}  ({program[a]})")
    if len(s.uncovered) > 20:
        print(f"  ... and {len(s.uncovered) - 20} more")
    if measured.errors:
        print(f"{measured.errors} inputs had no verdict (libpcap would abort or loop)")


# --- gen ----------------------------------------------------------------------------------
def cmd_gen(args) -> int:
    from .. import coverage as cov
    if not args.output and not args.case:
        raise UsageError("gen needs somewhere to write: -o OUT.pcap and/or --case OUT.toml")
    if args.target == "seccomp" and args.output:
        raise UsageError("seccomp inputs are syscalls, not packets: write them with --case OUT.toml")
    program = common.load_program_arg(args)
    from ..validate import validate
    validate(program, args.target)
    linktype = _linktype(args)
    made = cov.generate(program, args.target, args.timeout, mode=args.context, linktype=linktype)
    summary = cov.summarise(made.coverage, made.reachability)
    if args.output:
        _write_capture(args.output, made.inputs, linktype)
    if args.case:
        _write_case(args, program, made, summary)
    unknown = bool(summary.edges_unknown)
    if args.json:
        common.emit_json({"status": "unknown" if unknown else "ok", "inputs": [_input_json(i) for i in made.inputs],
                          "seconds": round(made.seconds, 3), **summary.to_json(),
                          **({"pcap": args.output} if args.output else {}),
                          **({"case": args.case} if args.case else {})})
    else:
        what = "syscalls" if args.target == "seccomp" else "packets"
        dead = ", ".join(f"{a}->{b}" for a, b in summary.edges_dead) or "none"
        print(f"{len(made.inputs)} {what} cover {summary.edges_covered} of {summary.edges_reachable} "
              f"reachable edges ({summary.edge_percent:.1f} %); dead edges: {dead} ({made.seconds:.2f} s)")
        for n, item in enumerate(made.inputs, 1):
            size = f"{len(item.packet)} bytes" if item.packet is not None else "syscall"
            print(f"  #{n:<3} {size:>10}  verdict {item.verdict:#x}  (made for edge "
                  f"{item.target_edge[0]}->{item.target_edge[1]})")
        if summary.edges_unknown:
            print(f"not settled: {', '.join(f'{a}->{b}' for a, b in summary.edges_unknown)}")
        if args.output:
            print(f"wrote {args.output}")
        if args.case:
            print(f"wrote {args.case} (a corpus case: every input with its verdict)")
    return 3 if unknown else 0


def _input_json(item) -> dict:
    obj = {"verdict": item.verdict, "edge": list(item.target_edge)}
    if item.packet is not None:
        obj["packet"] = item.packet.hex()
        if item.wirelen is not None:
            obj["wirelen"] = item.wirelen
    else:
        s = item.seccomp
        obj["seccomp"] = {"nr": s.nr, "arch": s.arch, "instruction_pointer": s.instruction_pointer,
                          "args": list(s.args)}
    return obj


def _write_capture(path, inputs, linktype) -> None:
    from ..pcapio import PcapWriter
    try:
        with PcapWriter(path, linktype=linktype, atomic=True) as writer:
            for item in inputs:
                writer.write(item.packet, item.wirelen)
    except OSError as e:
        raise UsageError(f"cannot write {path}: {e.strerror or e}") from None


def _write_case(args, program, made, summary) -> None:
    from ..atomic import write_atomic
    from ..corpus.case import dump_case
    from ..corpus.make import case_from_generated
    name = args.name or os.path.splitext(os.path.basename(args.case))[0]
    case = case_from_generated(name, program, args.target, made, summary, expr=args.expr,
                               linktype=getattr(args, "linktype", "EN10MB"),
                               optimize=not getattr(args, "unoptimized", False))
    try:
        write_atomic(args.case, dump_case(case))
    except OSError as e:
        raise UsageError(f"cannot write {args.case}: {e.strerror or e}") from None
