"""``fmt``, ``validate``, ``run`` and ``compile``."""

from __future__ import annotations

import sys

from ..errors import UsageError, ValidationError
from . import common


def register(sub) -> None:
    p = sub.add_parser("fmt", help="convert a program between formats",
                       description="Convert a program between formats (tcpdump, c, ddd, asm, xt_bpf, raw).")
    common.add_program_argument(p)
    p.add_argument("--to", required=True, choices=("tcpdump", "c", "ddd", "asm", "xt_bpf", "raw"),
                   help="output format")
    p.add_argument("--canonical", action="store_true",
                   help="write the canonical form where the format cannot carry an encoding exactly")
    p.add_argument("-o", "--output", metavar="OUT", help="write here instead of standard output")
    common.add_json_argument(p)
    p.set_defaults(handler=cmd_fmt)

    p = sub.add_parser("validate", help="check a program as the target would",
                       description="Check a program exactly as the Linux kernel (socket or seccomp) "
                       "or libpcap would. Exit 0 when valid, 1 when the target rejects it.")
    common.add_program_argument(p)
    common.add_target_argument(p)
    common.add_json_argument(p)
    p.set_defaults(handler=cmd_validate)

    p = sub.add_parser("run", help="verdict per packet",
                       description="Run a program on packets (--packet HEX, repeatable) or a capture "
                       "(--pcap FILE) with the target's exact semantics.")
    common.add_program_argument(p)
    common.add_target_argument(p)
    p.add_argument("--packet", action="append", metavar="HEX", help="a packet in hex (repeatable)")
    p.add_argument("--pcap", metavar="FILE", help="a pcap or pcapng capture")
    p.add_argument("--seccomp", action="append", metavar="SPEC",
                   help="a seccomp input 'nr=N,arch=A,ip=I,args=a0:a1:...' (repeatable)")
    p.add_argument("--ctx", action="append", metavar="FIELD=VALUE",
                   help="socket metadata, e.g. --ctx ifindex=2,has_device=1 (repeatable)")
    p.add_argument("--write", metavar="OUT", help="with --pcap: write the accepted packets to this pcap "
                   "file, each cut to the verdict as a packet socket (or libpcap's snapshot) keeps it")
    p.add_argument("--quiet", "-q", action="store_true", help="print the summary only")
    common.add_json_argument(p)
    p.set_defaults(handler=cmd_run)

    p = sub.add_parser("compile", help="compile a tcpdump expression with libpcap",
                       description="Compile a tcpdump/libpcap filter expression with libpcap's own "
                       "compiler and print the program.")
    p.add_argument("expr", metavar="EXPR", nargs="+", help="the filter expression")
    p.add_argument("--linktype", default="EN10MB", help="link type (default EN10MB)")
    p.add_argument("--unoptimized", action="store_true", help="skip libpcap's optimizer")
    p.add_argument("--snaplen", type=int, default=262144, help="snapshot length (default 262144)")
    p.add_argument("--to", default="tcpdump", choices=("tcpdump", "c", "ddd", "asm", "xt_bpf"),
                   help="output format (default tcpdump)")
    common.add_json_argument(p)
    p.set_defaults(handler=cmd_compile)


# --- fmt ------------------------------------------------------------------
def cmd_fmt(args) -> int:
    program = common.load_program_arg(args)
    if args.to == "raw":
        data = program.to_bytes()
        if args.json:
            common.emit_json({"status": "ok", "format": "raw", "hex": data.hex(),
                              "instructions": len(program)})
        elif args.output:
            _write_output(args.output, data)
        elif sys.stdout.isatty():
            raise UsageError("raw output is binary: use -o OUT or redirect standard output")
        else:
            sys.stdout.buffer.write(data)
        return 0
    text = program.format(args.to, canonical=args.canonical)
    if args.json:
        common.emit_json({"status": "ok", "format": args.to, "text": text,
                          "instructions": len(program)})
    elif args.output:
        _write_output(args.output, text.encode())
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return 0


def _write_output(path: str, data: bytes) -> None:
    common.write_output(path, data)


# --- validate ---------------------------------------------------------------
def cmd_validate(args) -> int:
    from ..validate import validate
    program = common.load_program_arg(args)
    try:
        validate(program, args.target)
    except ValidationError as e:
        if args.json:
            common.emit_json({"status": "invalid", "target": args.target, "pc": e.pc,
                              "reason": e.reason, "check": type(e).__name__})
        else:
            where = f"instruction {e.pc}" if e.pc is not None else "program"
            line = f"invalid for {args.target}: {where}: {e.reason}"
            if e.pc is not None and e.pc < len(program):
                line += f"  [{program[e.pc]}]"
            print(line)
        return 1
    if args.json:
        common.emit_json({"status": "valid", "target": args.target, "pc": None, "reason": None,
                          "instructions": len(program)})
    else:
        print(f"valid for {args.target}: {len(program)} instructions")
    return 0


# --- run ----------------------------------------------------------------------
def cmd_run(args) -> int:
    from ..vm import Machine
    program = common.load_program_arg(args)
    sources = [bool(args.packet), bool(args.pcap), bool(args.seccomp)]
    if sum(sources) != 1:
        raise UsageError("run needs exactly one input source: --packet HEX, --pcap FILE or --seccomp SPEC")
    if args.seccomp and args.target != "seccomp":
        raise UsageError("--seccomp inputs need --target seccomp")
    if args.target == "seccomp" and not args.seccomp:
        raise UsageError("--target seccomp runs on --seccomp 'nr=N,arch=A,...' inputs")
    if args.write and not args.pcap:
        raise UsageError("--write needs --pcap: it writes the capture's accepted packets")
    machine = Machine(program, args.target)
    base_ctx = common.parse_context(args.ctx)
    results = _RunSummary(args)
    if args.packet:
        for i, text in enumerate(args.packet, 1):
            packet = _parse_hex(text, i)
            results.add(packet, len(packet), machine.run(packet, base_ctx))
    elif args.seccomp:
        for i, spec in enumerate(args.seccomp, 1):
            data = _parse_seccomp(spec, i)
            results.add(data.to_bytes(), 64, machine.run(data))
    else:
        _run_capture(machine, args.pcap, base_ctx, results, args.write)
    return results.finish()


def _run_capture(machine, path, base_ctx, results, write=None) -> None:
    # Streamed in chunks through the batch path: memory stays flat.
    from ..capture_run import run_capture
    from ..fast.allocator import keep_freed_memory
    keep_freed_memory()
    progress = _CaptureProgress(sys.stderr if not results.args.json else None)

    def on_chunk(datas, wirelens, verdicts):
        results.show_chunk(datas, wirelens, verdicts)
        progress.update(len(verdicts))

    try:
        summary = run_capture(machine.program, path, machine.target, base_ctx,
                              on_chunk=on_chunk, write=write)
    finally:
        progress.clear()
    results.absorb(summary, write)


class _CaptureProgress:
    """Packets so far and the rate, as a live line (see :mod:`.live`)."""

    def __init__(self, stream):
        from .live import LiveLine
        self.line = LiveLine(stream)
        self.packets = 0

    def update(self, packets: int) -> None:
        self.packets += packets
        self.line.show(lambda elapsed: f"run: {self.packets:,} packets, "
                       f"{self.packets / max(elapsed, 1e-9) / 1e6:.2f} M/s, {elapsed:.0f} s")

    def clear(self) -> None:
        self.line.clear()


class _RunSummary:
    """Prints verdicts as they come and the totals at the end."""

    MAX_LISTED = 10_000

    def __init__(self, args):
        self.args = args
        self.count = 0
        self.accepted = 0
        self.verdicts = []
        self.histogram = {}
        self.shown = 0          # per-packet lines printed for a capture
        self.cut = False        # ... and whether they were cut short
        self.written = None     # (count, path) of --write

    def add(self, packet: bytes, length: int, verdict: int) -> None:
        self.count += 1
        self.accepted += verdict != 0
        self.histogram[verdict] = self.histogram.get(verdict, 0) + 1
        if len(self.verdicts) < self.MAX_LISTED:
            self.verdicts.append(verdict)
        if not (self.args.json or self.args.quiet):
            print(f"#{self.count}  len {length:5d}  verdict {verdict:#010x} ({verdict})  "
                  f"{_meaning(verdict, length, self.args.target)}")

    def show_chunk(self, datas, wirelens, verdicts) -> None:
        """Per-packet lines for a capture's first MAX_LISTED packets."""
        if self.args.json or self.args.quiet:
            return
        room = self.MAX_LISTED - self.shown
        for length, verdict in zip(wirelens, list(verdicts[:max(room, 0)])):
            self.shown += 1
            verdict = int(verdict)
            print(f"#{self.shown}  len {length:5d}  verdict {verdict:#010x} ({verdict})  "
                  f"{_meaning(verdict, length, self.args.target)}")
        if len(verdicts) > room and not self.cut:
            self.cut = True
            print(f"(per-packet lines stop after {self.MAX_LISTED}; the totals below count "
                  "every packet)")

    def absorb(self, summary, written_to=None) -> None:
        """Take a streamed capture's totals."""
        self.count, self.accepted = summary.packets, summary.accepted
        self.histogram = dict(summary.histogram)
        self.verdicts = list(summary.verdicts)
        if written_to is not None:
            self.written = (summary.written, written_to)

    def finish(self) -> int:
        written = self.written
        if self.args.json:
            obj = {"status": "ok", "target": self.args.target, "packets": self.count,
                   "accepted": self.accepted,
                   "histogram": {str(k): v for k, v in sorted(self.histogram.items())}}
            if self.count < self.MAX_LISTED:
                obj["verdicts"] = self.verdicts
            if written is not None:
                obj["written"] = written[0]
            common.emit_json(obj)
        elif self.args.target == "seccomp":
            actions = {}
            for verdict, n in self.histogram.items():
                name = _meaning(verdict, 64, "seccomp").split()[0]
                actions[name] = actions.get(name, 0) + n
            print(f"{self.count} syscalls: " + ", ".join(f"{n} {a}" for a, n in
                                                        sorted(actions.items(), key=lambda kv: -kv[1])))
        else:
            top = ", ".join(f"{k:#x}: {v}" for k, v in
                            sorted(self.histogram.items(), key=lambda kv: -kv[1])[:8])
            print(f"{self.count} inputs, {self.accepted} accepted, "
                  f"{self.count - self.accepted} dropped; verdicts {{{top}}}")
            if written is not None:
                print(f"{written[0]} accepted packets written to {written[1]}")
        return 0


def _meaning(verdict: int, length: int, target: str) -> str:
    if target == "seccomp":
        from ..isa import SECCOMP_ACTIONS
        action = verdict & 0xFFFF0000
        names = {v: k for k, v in SECCOMP_ACTIONS.items() if k != "KILL"}
        name = names.get(action, "KILL_PROCESS (unknown action)")
        data = verdict & 0xFFFF
        return f"{name}" + (f" data {data}" if data else "")
    if verdict == 0:
        return "drop"
    if verdict >= length:
        return "accept whole packet"
    return f"accept first {verdict} bytes"


def _parse_hex(text: str, index: int) -> bytes:
    cleaned = "".join(text.split()).replace(":", "")
    if cleaned.lower().startswith("0x"):
        cleaned = cleaned[2:]
    try:
        return bytes.fromhex(cleaned)
    except ValueError:
        raise UsageError(f"--packet #{index}: not hex bytes: {text[:40]!r}") from None


def _parse_seccomp(spec: str, index: int):
    from ..context import SeccompData
    fields = {"nr": 0, "arch": 0, "ip": 0, "args": []}
    for item in spec.split(","):
        key, sep, value = item.strip().partition("=")
        if not sep or key not in fields:
            raise UsageError(f"--seccomp #{index}: expected nr=,arch=,ip=,args=a:b:..., found {item!r}")
        if key == "args":
            fields["args"] = [common.parse_int(v, f"--seccomp #{index} args") for v in value.split(":") if v]
        else:
            fields[key] = _seccomp_number(key, value, index)
    try:
        return SeccompData(fields["nr"], fields["arch"], fields["ip"], tuple(fields["args"]))
    except ValueError as e:
        raise UsageError(f"--seccomp #{index}: {e}") from None


def _seccomp_number(key: str, value: str, index: int) -> int:
    try:
        from ..syscalls import resolve_name
        resolved = resolve_name(key, value)
        if resolved is not None:
            return resolved
    except ImportError:
        pass
    return common.parse_int(value, f"--seccomp #{index} {key}")


# --- compile --------------------------------------------------------------------
def cmd_compile(args) -> int:
    from ..oracles.libpcap import compile as compile_expr
    expr = " ".join(args.expr)
    program = compile_expr(expr, linktype=args.linktype, optimize=not args.unoptimized,
                           snaplen=args.snaplen)
    text = program.format(args.to, canonical=True)
    if args.json:
        common.emit_json({"status": "ok", "expr": expr, "linktype": args.linktype,
                          "optimized": not args.unoptimized, "instructions": len(program),
                          "program": [list(i) for i in program], "text": text})
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return 0
