"""``bpfcheck diff``: one program, bpfcheck against a real implementation."""

from __future__ import annotations

import sys

from ..errors import UsageError
from . import common

#: differences listed in text output, and kept for --json
SHOWN = 20
KEPT = 10_000
#: inputs compared at once when streaming a capture
CHUNK = 4096
CHUNK_BYTES = 16 << 20


def register(sub) -> None:
    p = sub.add_parser(
        "diff", help="run a program on bpfcheck and on the kernel or libpcap, input by input",
        description="Run the program on bpfcheck and on a real implementation (the kernel's "
        "socket filter on an AF_UNIX socket pair, or libpcap's bpf_filter) for every input of a "
        "capture or N generated ones, and report each difference with both verdicts. A "
        "difference bpfcheck's model of the other side predicts comes from the documented "
        "dialects (libpcap: no Linux extensions, shifts by X >= 32 give 0, wrapped or negative "
        "offsets out of bounds; AF_UNIX: no device, no link-layer header, no metadata) and is "
        "listed as 'dialect'; any other is a 'disagreement'. Exit 0 when there is no "
        "disagreement (dialect differences are listed, and count with --strict), 1 otherwise.")
    common.add_program_argument(p)
    p.add_argument("--against", required=True, choices=("kernel", "pcap"),
                   help="the real implementation: the running kernel or libpcap")
    source = p.add_mutually_exclusive_group()
    source.add_argument("--pcap", metavar="F", help="compare on every record of this capture")
    source.add_argument("--random", metavar="N", type=int, default=None,
                        help="compare on N generated inputs (default 1000): the solver's, one per "
                        "branch it can reach, then drawn by bpfcheck.strategies")
    p.add_argument("--target", choices=("socket", "seccomp", "pcap"), default=None,
                   help="whose rules bpfcheck applies (default: the implementation's own: pcap "
                   "against libpcap, socket against the kernel)")
    p.add_argument("--seed", type=int, default=0, help="seed for generated inputs (default 0)")
    p.add_argument("--no-solver", action="store_true", help="generated inputs: no solver-made ones")
    p.add_argument("--strict", action="store_true", help="dialect differences count as differences")
    common.add_json_argument(p)
    p.set_defaults(handler=cmd_diff)


def cmd_diff(args) -> int:
    from ..differential import compare, oracle_named
    from ..differential.oracles import ReferenceOracle
    program = common.load_program_arg(args)
    target = args.target or ("pcap" if args.against == "pcap" else "socket")
    if args.random is not None and args.random < 0:
        raise UsageError(f"--random {args.random}: give a number of inputs, 0 or more")
    theirs = oracle_named(args.against, target)
    ours = ReferenceOracle(target)
    try:
        if args.pcap:
            from ..differential.inputs import capture_inputs
            batches = _chunks(capture_inputs(args.pcap, target))
            origin = args.pcap
        else:
            n = 1000 if args.random is None else args.random
            context = theirs.context if args.against == "kernel" and target == "socket" else None
            from ..differential.inputs import generated_inputs
            inputs = generated_inputs(program, target, n, args.seed, context,
                                      solver_budget=0 if args.no_solver else 5.0)
            batches = [inputs]
            origin = f"{n} generated inputs (seed {args.seed})"
        report = _Report(program, target, args.against, origin)
        for batch in batches:
            report.add(compare(program, batch, ours, theirs))
            if report.refused:
                break
    finally:
        close = getattr(theirs, "close", None)
        if close:
            close()
    return report.finish(args.json, args.strict)


def _chunks(inputs):
    # Bounded in bytes as well as in inputs: 4096 records of a capture may be a gigabyte.
    batch, size = [], 0
    for inp in inputs:
        batch.append(inp)
        size += len(inp.value) if isinstance(inp.value, (bytes, bytearray)) else 64
        if len(batch) >= CHUNK or size >= CHUNK_BYTES:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


class _Report:
    """Differences as they come, totals at the end."""

    def __init__(self, program, target, against, origin):
        self.program, self.target, self.against, self.origin = program, target, against, origin
        self.theirs_name = "kernel" if against == "kernel" else "libpcap"
        self.inputs = self.compared = self.skipped = 0
        self.counts = {"dialect": 0, "disagreement": 0}
        self.kept = []
        self.refused = None            # the program-level difference, or "both"

    def add(self, comparison) -> None:
        if comparison.both_refuse:
            self.refused = "both"
        offset = self.inputs
        self.inputs += comparison.inputs
        self.compared += comparison.compared
        self.skipped += comparison.skipped
        for d in comparison.differences:
            if d.index is None:
                self.refused = d
            else:
                d.index += offset
            self.counts[d.kind] += 1
            if len(self.kept) < KEPT:
                self.kept.append(d)

    def finish(self, as_json: bool, strict: bool) -> int:
        bad = self.counts["disagreement"] + (self.counts["dialect"] if strict else 0)
        status = "different" if bad else "same"
        if as_json:
            common.emit_json({"status": status, "against": self.theirs_name, "target": self.target,
                              "inputs": self.inputs, "compared": self.compared, "skipped": self.skipped,
                              "disagreements": self.counts["disagreement"],
                              "dialect": self.counts["dialect"],
                              "differences": [d.to_json("bpfcheck", self.theirs_name) for d in self.kept]})
            return 1 if bad else 0
        if self.against == "pcap":
            where = "libpcap's bpf_filter"
        elif self.target == "seccomp":
            where = ("the kernel (checked by seccomp() in a forked child, run through an AF_UNIX "
                     "socket with each word of seccomp_data big-endian)")
        else:
            where = "the kernel (AF_UNIX socket)"
        print(f"{len(self.program)} instructions, bpfcheck with {self.target} rules against {where}, "
              f"on {self.origin}")
        if self.refused == "both":
            print("both refuse the program: nothing to run")
        disagreements = [d for d in self.kept if d.kind == "disagreement"]
        for d in disagreements[:SHOWN]:
            print(f"  disagreement: {d.describe('bpfcheck', self.theirs_name)}")
            for reason in d.reasons[:3]:
                print(f"      {reason}")
        if self.counts["disagreement"] > SHOWN:
            print(f"  ... and {self.counts['disagreement'] - SHOWN} more disagreements "
                  f"(--json lists up to {KEPT} differences)")
        # Dialect differences come in families (one rule at one instruction,
        # many inputs and values): one line per rule, then its first example.
        families = {}
        for d in self.kept:
            if d.kind == "dialect":
                key = (d.families or d.reasons or [""])[0]
                families.setdefault(key, []).append(d)
        for rule, members in list(families.items())[:SHOWN]:
            first = members[0]
            print(f"  dialect, {len(members)} input{'s' if len(members) != 1 else ''}: {rule}")
            print(f"      e.g. {first.describe('bpfcheck', self.theirs_name)}")
            if first.reasons and first.reasons[0] != rule:
                print(f"           ({first.reasons[0]})")
        if len(families) > SHOWN:
            print(f"  ... and {len(families) - SHOWN} more dialect rules (--json lists the differences)")
        skipped = f", {self.skipped} skipped (their verdict depends on SKF_AD_RANDOM)" if self.skipped else ""
        print(f"{status}: {self.compared} inputs compared{skipped}; "
              f"{self.counts['disagreement']} disagreements, {self.counts['dialect']} dialect differences")
        sys.stdout.flush()
        return 1 if bad else 0
