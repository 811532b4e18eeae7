"""``seccomp explain|diff|audit|compile|dump``: thin shells over
:mod:`bpfcheck.seccomp`."""

from __future__ import annotations

import sys

from ..errors import UsageError
from . import common

FORMATS = ("tcpdump", "c", "ddd", "asm", "xt_bpf", "raw")
POLICY_HELP = ("a filter in any format (raw, tcpdump, c, ddd, asm, xt_bpf) or an OCI/Docker seccomp "
               "profile (JSON, compiled by libseccomp); several FILEs are a stack, oldest first")


def register(sub) -> None:
    p = sub.add_parser("seccomp", help="explain, diff, audit, compile and dump seccomp policies",
                       description="Seccomp policies: what they do per system call (explain), what "
                       "changed (diff), what is wrong (audit), OCI profiles compiled by libseccomp "
                       "(compile), and the filters of a running process (dump).")
    common.add_json_argument(p)
    actions = p.add_subparsers(dest="seccomp_command", metavar="ACTION", parser_class=type(p))
    p.set_defaults(handler=lambda args: _missing(p))

    e = actions.add_parser("explain", help="the action for every system call, proved",
                           description="For every system call of the architecture: the action, or "
                           "the actions and the argument conditions that select them, derived from "
                           "the filter and proved by the solver. Exit 0 when every answer is "
                           "proved, 3 when one is not.")
    _policy_arguments(e)
    e.add_argument("--examples", action="store_true", help="show an example call for every case")
    e.add_argument("--html", metavar="OUT", help="also write the table as an HTML fragment")
    e.set_defaults(handler=cmd_explain)

    d = actions.add_parser("diff", help="every change of action between two policies",
                           description="Every system call and argument condition whose action "
                           "changed from OLD to NEW, each with a witness replayed on both. Exit 0 "
                           "when they agree on every input, 1 when they differ.")
    d.add_argument("old", metavar="OLD", help=POLICY_HELP.split(";")[0])
    d.add_argument("new", metavar="NEW", help="the same, for the new policy")
    d.add_argument("--format", dest="fmt", choices=FORMATS + ("oci",), help="input format (default: detect)")
    d.add_argument("--arch", default="x86_64", help="architecture (default x86_64)")
    _solver_arguments(d)
    d.set_defaults(handler=cmd_diff)

    a = actions.add_parser("audit", help="proved findings, each with a witness system call",
                           description="Proved findings: architecture not checked, x32 bypass, "
                           "arguments compared on one half, sign-extension mistakes, default "
                           "ALLOW, rules that never fire, ERRNO data above 4095, opcodes the kernel "
                           "rejects; plus your own --check properties. Exit 0 when clean, 1 with "
                           "findings, 3 when a check could not be decided.")
    _policy_arguments(a)
    a.add_argument("--check", action="append", default=[], metavar="PROPERTY",
                   help="also require a property, e.g. 'nr == execve -> action == KILL_PROCESS'")
    a.add_argument("--only", metavar="CHECKS", help="comma-separated checks to run (default: all)")
    a.add_argument("--no-kernel", action="store_true", help="do not replay witnesses on the kernel")
    a.set_defaults(handler=cmd_audit)

    c = actions.add_parser("compile", help="compile an OCI/Docker profile with libseccomp",
                           description="Compile an OCI/Docker seccomp profile (JSON) into the BPF "
                           "program libseccomp makes of it, as runc would install it.")
    c.add_argument("profile", metavar="PROFILE", help="the profile (JSON; - for standard input)")
    c.add_argument("--to", choices=FORMATS, help="output format (default: raw with -o, asm otherwise)")
    c.add_argument("-o", "--output", metavar="OUT", help="write the program here")
    common.add_json_argument(c)
    c.set_defaults(handler=cmd_compile)

    u = actions.add_parser("dump", help="the filters installed in a running process",
                           description="Read every seccomp filter of a running process with "
                           "PTRACE_SECCOMP_GET_FILTER (root), oldest first.")
    u.add_argument("--pid", type=int, required=True, help="the process")
    u.add_argument("--to", choices=FORMATS[:-1], default="asm", help="listing format (default asm)")
    u.add_argument("--save", metavar="PREFIX", help="also write PREFIX.N.bpf (raw) per filter")
    common.add_json_argument(u)
    u.set_defaults(handler=cmd_dump)


def _missing(parser) -> int:
    raise UsageError("seccomp: an ACTION is needed: explain, diff, audit, compile or dump")


def _policy_arguments(p) -> None:
    p.add_argument("files", metavar="FILE", nargs="*", help=POLICY_HELP)
    p.add_argument("--pid", type=int, help="the filters of a running process instead of FILEs (root)")
    p.add_argument("--format", dest="fmt", choices=FORMATS + ("oci",), help="input format (default: detect)")
    p.add_argument("--arch", default="x86_64", help="architecture (default x86_64; also i386, x32, "
                   "aarch64, arm, riscv64, ppc64le, s390x)")
    _solver_arguments(p)


def _solver_arguments(p) -> None:
    common.add_timeout_argument(p)
    common.add_json_argument(p)


def _policy(args):
    from ..seccomp.sources import describe_source, load_policy
    return load_policy(args.files, args.fmt, args.pid), describe_source(args.files, args.pid)


# --- explain ---------------------------------------------------------------------
def cmd_explain(args) -> int:
    from ..seccomp.explain import explain
    from ..seccomp.render import explanation_html, explanation_text
    policy, source = _policy(args)
    result = explain(policy, args.arch, args.timeout, source)
    if args.html:
        common.write_output(args.html, explanation_html(result) + "\n")
    if args.json:
        common.emit_json({"status": "ok" if result.proved else "unknown", **result.to_json()})
    else:
        print(explanation_text(result, examples=args.examples))
    return 0 if result.proved else 3


# --- diff ------------------------------------------------------------------------------
def cmd_diff(args) -> int:
    from ..seccomp.diff import diff, diff_text
    from ..seccomp.sources import load_policy
    old, new = load_policy([args.old], args.fmt), load_policy([args.new], args.fmt)
    result = diff(old, new, args.arch, args.timeout)
    if args.json:
        common.emit_json({**result.to_json(), "old": args.old, "new": args.new})
    else:
        print(diff_text(result, args.old, args.new))
    if result.changes:
        return 1
    return 3 if result.unproved else 0


# --- audit -------------------------------------------------------------------------------
def cmd_audit(args) -> int:
    from ..seccomp.audit import CHECKS, audit, audit_text
    from ..seccomp.sources import load_filter
    only = None
    if args.only:
        only = [c.strip() for c in args.only.split(",") if c.strip()]
        unknown = [c for c in only if c not in CHECKS]
        if unknown:
            raise UsageError(f"--only: unknown check {unknown[0]!r} (known: {', '.join(CHECKS)})")
    if args.pid is not None:
        if args.files:
            raise UsageError("give FILEs or --pid, not both")
        from ..seccomp.live import dump_filters
        filters = dump_filters(args.pid)
        if not filters:
            raise UsageError(f"process {args.pid} has no seccomp filter")
        names = [f"pid {args.pid} filter {i}" for i in range(len(filters))]
    elif args.files:
        # Filters are loaded unvalidated here: a filter the kernel refuses is a finding.
        filters = [load_filter(p, args.fmt) for p in args.files]
        names = list(args.files)
    else:
        raise UsageError("a policy is needed: FILE ... (oldest filter first) or --pid PID")
    result = audit(filters, args.arch, only, args.check, args.timeout, not args.no_kernel, names)
    if args.json:
        common.emit_json(result.to_json())
    else:
        print(audit_text(result))
    return {"clean": 0, "findings": 1, "unknown": 3}[result.status]


# --- compile -------------------------------------------------------------------------------
def cmd_compile(args) -> int:
    from ..seccomp.oci import compile_profile, load_profile
    from ..loading import read_source
    compiled = compile_profile(load_profile(read_source(args.profile), args.profile))
    program = compiled.program
    fmt = args.to or ("raw" if args.output else "asm")
    if args.json:
        text = program.to_bytes().hex() if fmt == "raw" else program.format(fmt, canonical=True)
        common.emit_json({"status": "ok", "format": fmt, "instructions": len(program),
                          "program": text, "rules": len(compiled.rules), "skipped": compiled.skipped})
        if args.output:
            _write(args.output, program, fmt)
        return 0
    if args.output:
        _write(args.output, program, fmt)
        print(f"{len(program)} instructions ({len(compiled.rules)} rules) written to {args.output}",
              file=sys.stderr)
    elif fmt == "raw":
        if sys.stdout.isatty():
            raise UsageError("raw output is binary: use -o OUT, --to FMT, or redirect standard output")
        sys.stdout.buffer.write(program.to_bytes())
    else:
        sys.stdout.write(program.format(fmt, canonical=True).rstrip("\n") + "\n")
    for note in compiled.skipped:
        print(f"note: {note}", file=sys.stderr)
    return 0


def _write(path, program, fmt) -> None:
    data = program.to_bytes() if fmt == "raw" else program.format(fmt, canonical=True).rstrip("\n") + "\n"
    common.write_output(path, data)


# --- dump ----------------------------------------------------------------------------------------
def cmd_dump(args) -> int:
    from ..seccomp.live import dump_filters
    filters = dump_filters(args.pid)
    if args.save:
        for i, f in enumerate(filters):
            common.write_output(f"{args.save}.{i}.bpf", f.to_bytes())
    if args.json:
        common.emit_json({"status": "ok", "pid": args.pid, "filters": [
            {"index": i, "instructions": len(f), "hex": f.to_bytes().hex(),
             args.to: f.format(args.to, canonical=True)} for i, f in enumerate(filters)]})
        return 0
    if not filters:
        print(f"process {args.pid} has no seccomp filter")
    for i, f in enumerate(filters):
        age = " (oldest)" if i == 0 and len(filters) > 1 else " (newest)" if i == len(filters) - 1 and i else ""
        print(f"# filter {i}{age}: {len(f)} instructions")
        print(f.format(args.to, canonical=True).rstrip("\n"))
    return 0
