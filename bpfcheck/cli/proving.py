"""``analyze``, ``prove`` and ``equiv``."""

from __future__ import annotations

import sys

from ..errors import UsageError
from . import common
from .interrupt import interruptible

EXIT_FOR = {"proved": 0, "refuted": 1, "unknown": 3}


def register(sub) -> None:
    p = sub.add_parser("analyze", help="verdict set, dead code, safety findings",
                       description="Prove facts about every input: the exact set of verdicts, the "
                       "instructions no input reaches, and the loads/divisions that can end the "
                       "program early.")
    common.add_program_argument(p)
    common.add_target_argument(p)
    _add_solver_arguments(p)
    p.add_argument("--budget", type=common.seconds, default=None, metavar="S",
                   help="seconds for the whole analysis (default: no limit); what is not settled "
                   "by then is reported unknown (exit 3), the verdicts as bounds")
    common.add_json_argument(p)
    p.set_defaults(handler=interruptible(cmd_analyze))

    p = sub.add_parser("prove", help="prove or refute properties",
                       description="Prove properties (the property language of INTERFACE.md) for "
                       "every input, or refute them with a concrete witness. Exit 0 when all are "
                       "proved, 1 when one is refuted, 3 when one is unknown.")
    common.add_program_argument(p)
    p.add_argument("properties", metavar="PROPERTY", nargs="+", help="a property, e.g. "
                   "'accepted -> pkt[12:2] == 0x800'")
    common.add_target_argument(p)
    p.add_argument("--arch", default=None, help="architecture for syscall names (default x86_64)")
    p.add_argument("--other", metavar="FILE", help="a second program, named other.verdict / "
                   "other.accepted in properties")
    p.add_argument("--witness", metavar="OUT.pcap", help="write refuting packets to a pcap file")
    _add_solver_arguments(p)
    common.add_json_argument(p)
    p.set_defaults(handler=interruptible(cmd_prove))

    p = sub.add_parser("equiv", help="equivalence of two programs",
                       description="Prove that two programs return the same verdict on every input "
                       "(or, with --subsumes, that every input A accepts B accepts too).")
    p.add_argument("a", metavar="A", nargs="?", help="first program (or use --expr-a)")
    p.add_argument("b", metavar="B", nargs="?", help="second program (or use --expr-b)")
    p.add_argument("--format", dest="fmt", metavar="FMT", help="input format of A and B")
    p.add_argument("--expr-a", "--expr", dest="expr_a", metavar="EXPR", help="A as a tcpdump expression")
    p.add_argument("--expr-b", metavar="EXPR", help="B as a tcpdump expression")
    p.add_argument("--linktype", default="EN10MB", help="link type for expressions")
    p.add_argument("--optimized-vs-unoptimized", metavar="EXPR", dest="opt_vs_unopt",
                   help="check libpcap's optimizer on one expression")
    p.add_argument("--subsumes", action="store_true", help="check A accepts => B accepts instead")
    p.add_argument("--witness", metavar="OUT.pcap", help="write the distinguishing packet to a pcap")
    common.add_target_argument(p)
    _add_solver_arguments(p)
    common.add_json_argument(p)
    p.set_defaults(handler=interruptible(cmd_equiv))


def _add_solver_arguments(p) -> None:
    common.add_timeout_argument(p)
    p.add_argument("--max-memory", type=int, default=None, metavar="MB",
                   help="memory the solver may use, in MB (default: no limit); a question "
                   "that needs more is unknown (exit 3)")
    p.add_argument("--ctx", action="append", metavar="FIELD=VALUE",
                   help="pin socket metadata instead of letting it range freely "
                   "(e.g. --ctx has_device=1,link_header=0,network_header=14)")


def _limits(args) -> None:
    """Check --max-memory and apply it to every solver of this run."""
    from ..domains.z3dom import set_max_memory
    if args.max_memory is not None and args.max_memory < 1:
        raise UsageError(f"--max-memory must be a positive number of MB, not {args.max_memory}")
    set_max_memory(args.max_memory)


def _fixed(args):
    _limits(args)
    fixed = {}
    for spec in args.ctx or ():
        for item in spec.split(","):
            key, sep, value = item.strip().partition("=")
            if not sep:
                raise UsageError(f"--ctx: expected FIELD=VALUE, found {item!r}")
            if key == "has_device":
                fixed[key] = value.lower() in ("1", "true", "yes")
            elif key == "link_header" and value.lower() == "none":
                fixed[key] = None
            else:
                fixed[key] = common.parse_int(value, f"--ctx {key}")
    common.parse_context(args.ctx)   # the same ranges as run's --ctx
    return fixed


# --- analyze --------------------------------------------------------------------
def cmd_analyze(args) -> int:
    from ..proof.analysis import analyze
    from .live import LiveLine
    program = common.load_program_arg(args)
    line = LiveLine(None if args.json else sys.stderr)

    def progress(phase: str, done: int, total: int) -> None:
        line.show(lambda elapsed: f"analyze: {phase}, {done:,} of {total:,} settled, {elapsed:.0f} s")
    try:
        result = analyze(program, args.target, args.timeout, _fixed(args), progress=progress,
                         budget=args.budget)
    finally:
        line.clear()
    settled = not result.unknown and result.verdicts.exact
    if args.json:
        common.emit_json({"status": "ok" if settled else "unknown", **result.to_json()})
        return 0 if settled else 3
    from ..proof.verdicts import describe_ranges
    print(f"{len(program)} instructions, target {args.target}")
    exact = "" if result.verdicts.exact else f"  (bounds only: {result.verdicts.reason})"
    print(f"verdicts: {describe_ranges(result.verdicts.ranges)}{exact}")
    print("dead code: " + (_pc_ranges(result.dead) if result.dead else "none"))
    by_reason = {}
    for pc, why in result.unknown:
        by_reason.setdefault(why, []).append(pc)
    for why, pcs in by_reason.items():
        which = f"instruction {pcs[0]}" if len(pcs) == 1 else f"{len(pcs)} instructions {_pc_ranges(pcs)}"
        print(f"unknown: {which}: {why}")
    if not result.findings:
        print("findings: none")
    for f in result.findings:
        print(f"finding [{f.kind}] {f.message}")
        if f.witness:
            print(f"    e.g. {f.witness.describe()}")
    print(f"({result.seconds:.2f} s)")
    return 0 if settled else 3


# --- prove ------------------------------------------------------------------------
def _pc_ranges(pcs) -> str:
    """``[3, 4, 5, 9]`` as ``3-5, 9``: a long program's dead code on one
    readable line."""
    parts, start = [], None
    for i, pc in enumerate(pcs):
        if start is None:
            start = pc
        if i + 1 == len(pcs) or pcs[i + 1] != pc + 1:
            parts.append(str(start) if start == pc else f"{start}-{pc}")
            start = None
    return ", ".join(parts)


def cmd_prove(args) -> int:
    from ..loading import load_program
    from ..proof.prove import prove
    if args.expr is not None and args.file is not None:
        # With --expr there is no FILE: the first positional is a property.
        args.properties.insert(0, args.file)
        args.file = None
    program = common.load_program_arg(args)
    other = load_program(args.other, args.fmt) if args.other else None
    fixed = _fixed(args)
    outcomes = []
    for prop in args.properties:
        outcomes.append(prove(program, prop, args.target, args.timeout, args.arch, other, fixed,
                              getattr(args, "linktype", "EN10MB")))
    _write_witnesses(args.witness, [o.witness for o in outcomes if o.witness], args.target,
                     getattr(args, "linktype", "EN10MB"))
    worst = _worst([o.status for o in outcomes])
    if args.json:
        first = next((o for o in outcomes if o.status == worst), outcomes[0])
        common.emit_json({"status": worst, "witness": first.witness.to_json() if first.witness else None,
                          "reason": first.reason, "properties": [o.to_json() for o in outcomes]})
    else:
        for o in outcomes:
            print(f"{o.status}: {o.property}  ({o.seconds:.2f} s)")
            if o.witness:
                print(f"    witness: {o.witness.describe()}")
            if o.reason:
                print(f"    reason: {o.reason}")
        if args.witness and any(o.witness for o in outcomes):
            print(f"witnesses written to {args.witness}")
    return EXIT_FOR[worst]


def _worst(statuses):
    if "refuted" in statuses:
        return "refuted"
    if "unknown" in statuses:
        return "unknown"
    return "proved"


# --- equiv --------------------------------------------------------------------------
def cmd_equiv(args) -> int:
    from ..loading import load_program
    from ..proof.prove import equivalent, subsumes
    if args.opt_vs_unopt is not None:
        if args.a or args.b or args.expr_a or args.expr_b:
            raise UsageError("--optimized-vs-unoptimized takes one expression and no programs")
        a = load_program(expr=args.opt_vs_unopt, linktype=args.linktype, optimize=True)
        b = load_program(expr=args.opt_vs_unopt, linktype=args.linktype, optimize=False)
        names = ("optimized", "unoptimized")
    else:
        a = _side(args.a, args.expr_a, args, "A")
        b = _side(args.b, args.expr_b, args, "B")
        names = ("A", "B")
    check = subsumes if args.subsumes else equivalent
    outcome = check(a, b, args.target, args.timeout, _fixed(args))
    if outcome.witness:
        _write_witnesses(args.witness, [outcome.witness], args.target, args.linktype)
    if args.json:
        common.emit_json({**outcome.to_json(), "relation": "subsumes" if args.subsumes else "equivalent",
                          "instructions": [len(a), len(b)]})
    else:
        relation = "A accepts => B accepts" if args.subsumes else "same verdict on every input"
        print(f"{outcome.status}: {relation} ({names[0]}: {len(a)} instructions, "
              f"{names[1]}: {len(b)} instructions, {outcome.seconds:.2f} s)")
        if outcome.witness:
            w = outcome.witness
            print(f"    witness: {w.describe()}")
            print(f"    {names[0]} returns {w.verdicts.get('a', 0):#x}, {names[1]} returns "
                  f"{w.verdicts.get('b', 0):#x}")
        if outcome.reason:
            print(f"    reason: {outcome.reason}")
    return EXIT_FOR[outcome.status]


def _side(path, expr, args, name):
    from ..loading import load_program
    if path is None and expr is None:
        raise UsageError(f"equiv needs program {name}: a FILE or --expr-{name.lower()} EXPR")
    if path is not None and expr is not None:
        raise UsageError(f"program {name}: give a FILE or an expression, not both")
    if expr is not None:
        return load_program(expr=expr, linktype=args.linktype)
    return load_program(path, args.fmt)


def _write_witnesses(path, witnesses, target, linktype="EN10MB") -> None:
    """Witness packets as a capture; the link type only tells readers how
    to decode the bytes (the filter's semantics do not depend on it)."""
    if not path or not witnesses:
        return
    if target == "seccomp":
        raise UsageError("--witness writes packets; seccomp witnesses are syscalls (see --json)")
    from ..pcapio import PcapWriter, linktype_number
    try:
        linktype = linktype_number(linktype)
    except ValueError as e:
        raise UsageError(f"--witness: {e}") from None
    try:
        with PcapWriter(path, linktype=linktype, atomic=True) as writer:
            for w in witnesses:
                writer.write(w.packet)
    except OSError as e:
        raise UsageError(f"cannot write {path}: {e.strerror or e}") from None
