"""``bpfcheck fuzz``: a differential campaign against the kernel and libpcap."""

from __future__ import annotations

from ..errors import UsageError
from . import common


def register(sub) -> None:
    p = sub.add_parser(
        "fuzz", help="differential fuzz campaign against the kernel and libpcap",
        description="Generate programs and inputs with bpfcheck.strategies (socket, seccomp and "
        "pcap targets), compare bpfcheck (the reference VM and its fast paths) with the running "
        "kernel and libpcap, verdicts and validators, and shrink every disagreement to a minimal "
        "program and input. Each finding is written to --corpus at once, as a case `bpfcheck "
        "corpus run` replays (expecting the real implementation's answer, so it fails while "
        "bpfcheck disagrees). Progress goes to standard error. SIGINT/SIGTERM stop cleanly "
        "(findings on disk, summary printed); running again on the same corpus resumes (the "
        "state is in CORPUS/.bpfcheck-fuzz/). Exit 0 when nothing disagreed, 1 otherwise.")
    p.add_argument("--against", default="kernel,pcap", metavar="LIST",
                   help="kernel, pcap, or both comma-separated (default kernel,pcap)")
    budget = p.add_mutually_exclusive_group()
    budget.add_argument("--time", type=float, metavar="S", help="stop after S seconds")
    budget.add_argument("--cases", type=int, metavar="N", help="stop after N programs")
    p.add_argument("--corpus", metavar="DIR", help="write findings (and the resumable state) here")
    p.add_argument("-j", "--jobs", type=int, default=1, metavar="N", help="worker processes (default 1)")
    p.add_argument("--seed", type=int, default=None,
                   help="seed (default: resume the corpus' own, or a fresh one); the same seed "
                   "draws the same cases")
    p.add_argument("--targets", default="socket,pcap,seccomp", metavar="LIST",
                   help="kinds of program to generate (default socket,pcap,seccomp)")
    p.add_argument("--inputs", type=int, default=1024, metavar="N", help="inputs per program (default 1024)")
    p.add_argument("--max-len", type=int, default=24, metavar="N", help="longest program (default 24)")
    p.add_argument("--shrink-time", type=float, default=30.0, metavar="S",
                   help="seconds to shrink each finding (default 30)")
    p.add_argument("--quiet", action="store_true", help="no progress on standard error")
    common.add_json_argument(p)
    p.set_defaults(handler=cmd_fuzz)


def _list(text: str, what: str):
    items = tuple(x.strip() for x in text.split(",") if x.strip())
    if not items:
        raise UsageError(f"--{what}: give a comma-separated list")
    return items


def cmd_fuzz(args) -> int:
    from ..fuzz import FuzzConfig, run_campaign
    from ..fuzz.progress import summary_lines
    if args.time is None and args.cases is None and args.corpus is None:
        # An endless run that keeps nothing would only ever be interrupted.
        raise UsageError("fuzz needs a stopping rule (--time S or --cases N) or a --corpus to keep findings in")
    config = FuzzConfig(against=_list(args.against, "against"), seconds=args.time, cases=args.cases,
                        corpus=args.corpus, jobs=args.jobs, seed=args.seed,
                        targets=_list(args.targets, "targets"), inputs=args.inputs, max_len=args.max_len,
                        shrink_seconds=args.shrink_time, progress=not args.quiet)
    result = run_campaign(config)
    if args.json:
        common.emit_json(result.to_json())
    else:
        print("\n".join(summary_lines(result)))
    return 1 if result.stats.disagreements or result.stats.errors else 0
