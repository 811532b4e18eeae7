"""Helpers shared by the differential conformance suite (tests/conformance).

Everything here is plain data and small functions; the oracles themselves
come from fixtures in ``conftest.py``.  The rule every test follows: a
failure message shows the program (``bpf_asm`` text and the raw
``(code, jt, jf, k)`` tuples), each input in hex, and both verdicts.
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, List, Optional, Sequence, Tuple

from hypothesis import HealthCheck, Phase, settings

from bpfcheck import isa
from bpfcheck.context import Context, SeccompData
from bpfcheck.program import Instruction, Program

AD = isa.SKF_AD_OFF
NET = isa.SKF_NET_OFF
LL = isa.SKF_LL_OFF
U32 = isa.U32
RET_A = (0x16, 0, 0, 0)

#: every opcode the kernel's classic checker accepts (chk_code_allowed), by
#: name; kept here as data, independent of bpfcheck.semantics, so that the
#: suite notices if the table there loses or gains one.
KERNEL_OPCODES = {
    0x00: "ld #k", 0x20: "ld [k]", 0x28: "ldh [k]", 0x30: "ldb [k]",
    0x40: "ld [x+k]", 0x48: "ldh [x+k]", 0x50: "ldb [x+k]", 0x60: "ld M[k]", 0x80: "ld #len",
    0x01: "ldx #k", 0x61: "ldx M[k]", 0x81: "ldx #len", 0xB1: "ldx 4*([k]&0xf)",
    0x02: "st M[k]", 0x03: "stx M[k]",
    0x04: "add #k", 0x14: "sub #k", 0x24: "mul #k", 0x34: "div #k", 0x44: "or #k",
    0x54: "and #k", 0x64: "lsh #k", 0x74: "rsh #k", 0x94: "mod #k", 0xA4: "xor #k",
    0x0C: "add x", 0x1C: "sub x", 0x2C: "mul x", 0x3C: "div x", 0x4C: "or x",
    0x5C: "and x", 0x6C: "lsh x", 0x7C: "rsh x", 0x9C: "mod x", 0xAC: "xor x",
    0x84: "neg",
    0x05: "ja", 0x15: "jeq #k", 0x25: "jgt #k", 0x35: "jge #k", 0x45: "jset #k",
    0x1D: "jeq x", 0x2D: "jgt x", 0x3D: "jge x", 0x4D: "jset x",
    0x06: "ret #k", 0x16: "ret a", 0x07: "tax", 0x87: "txa",
}
assert len(KERNEL_OPCODES) == 49

#: what seccomp_check_filter() allows on top of the classic checker
SECCOMP_OPCODES = frozenset(
    {0x06, 0x16, 0x00, 0x01, 0x07, 0x87, 0x60, 0x61, 0x02, 0x03, 0x05, 0x20, 0x80, 0x81, 0x84}
    | {0x04 | op | src for op in (0x00, 0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0xA0)
       for src in (0x00, 0x08)}
    | {0x05 | op | src for op in (0x10, 0x20, 0x30, 0x40) for src in (0x00, 0x08)})

#: values that break careless arithmetic
NASTY = (0, 1, 2, 3, 4, 7, 8, 13, 14, 15, 16, 31, 32, 33, 63, 64, 0xFF, 0x100, 0x800, 0xFFFF,
         0x10000, 0x12345678, 0x7FFFFFFF, 0x80000000, 0x80000001, 0xFFFFFFFE, 0xFFFFFFFF)

SECCOMP_ALLOW = isa.SECCOMP_RET_ALLOW
SECCOMP_ERRNO = isa.SECCOMP_RET_ERRNO
X86_64 = 0xC000003E


def P(*insns) -> Program:
    return Program(list(insns))


def ret(k: int) -> tuple:
    return (0x06, 0, 0, k & U32)


# --- scale and Hypothesis settings ---------------------------------------------------
#: BPFCHECK_CONFORMANCE_SCALE=10 runs ten times as many random examples
#: (for a deeper local campaign); CI runs scale 1.
SCALE = max(0.01, float(os.environ.get("BPFCHECK_CONFORMANCE_SCALE", "1")))


def examples(n: int) -> int:
    return max(1, int(round(n * SCALE)))


def hsettings(max_examples: int, shrink: bool = True) -> settings:
    """Reproducible settings: the same examples on every run and machine.

    ``shrink=False`` for the tests that call an oracle many times per
    example: shrinking one of their failures can take many minutes, and
    the failure message already shows the program and every input."""
    phases = (Phase.explicit, Phase.generate) + ((Phase.shrink,) if shrink else ())
    return settings(max_examples=examples(max_examples), derandomize=True, deadline=None,
                    database=None, phases=phases, print_blob=False,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.filter_too_much,
                                           HealthCheck.large_base_example])


# --- inputs ---------------------------------------------------------------------------
def pattern(n: int, salt: int = 0) -> bytes:
    """``n`` bytes none of which is 0x00 or 0xff: any load from it is
    non-zero and ``add #1`` after it cannot wrap to 0."""
    return bytes(((i + salt) % 251) + 1 for i in range(n))


def be32(*words: int) -> bytes:
    return b"".join((w & U32).to_bytes(4, "big") for w in words)


# --- failure messages -------------------------------------------------------------------
HEX_LIMIT = 4096          # bytes shown in full; longer inputs are cut (their label says which)


def show_program(program: Sequence) -> str:
    program = Program(program)
    if len(program) > 64:
        head = Program(program[:24])
        text = (f"{len(program)} instructions; first 24:\n" + _listing(head)
                + f"\n  ...\nlast: {program[-1]!r}")
        return text
    return _listing(program) + "\nraw: " + repr(program)


def _listing(program: Program) -> str:
    try:
        return program.format("asm", canonical=True)
    except Exception:                                   # opcodes bpf_asm cannot name
        return "\n".join(f"{pc:4}: {insn}" for pc, insn in enumerate(program))


def show_input(value) -> str:
    if isinstance(value, SeccompData):
        return f"{value!r}  bytes={value.to_bytes().hex()}"
    data = bytes(value)
    if len(data) <= HEX_LIMIT:
        return f"{len(data)} bytes: {data.hex() or '(empty)'}"
    return f"{len(data)} bytes: {data[:HEX_LIMIT].hex()}... (cut)"


def show_context(ctx: Optional[Context]) -> str:
    if ctx is None:
        return "Context()"
    fields = ctx.non_default()
    return "Context(" + ", ".join(f"{k}={v!r}" for k, v in fields.items()) + ")"


def fmt_verdict(v) -> str:
    if isinstance(v, int):
        return f"{v:#x}"
    return repr(v)


@dataclass
class Mismatch:
    label: str
    value: object                  # bytes or SeccompData
    context: Optional[Context]
    ours: object
    theirs: object
    extra: str = ""


def libpcap_mismatches(pcap, program: Program, inputs: Sequence[Tuple[bytes, int]]) -> List[Mismatch]:
    """Run ``(packet, wirelen)`` inputs on libpcap's ``bpf_filter`` and on the
    reference VM's ``pcap`` target; the inputs where they differ (a verdict,
    or an error at another instruction)."""
    from bpfcheck.errors import ExecutionError
    from bpfcheck.vm import Machine
    theirs = pcap.bpf_filter_many(program, [p for p, _ in inputs], [w for _, w in inputs],
                                  errors="return")
    machine = Machine(program, "pcap")
    mismatches = []
    for i, ((packet, wirelen), verdict) in enumerate(zip(inputs, theirs)):
        try:
            ours = machine.run(packet, Context(len=wirelen))
        except ExecutionError as exc:
            ours = exc
        if isinstance(ours, ExecutionError) or isinstance(verdict, ExecutionError):
            same = (isinstance(ours, ExecutionError) and isinstance(verdict, ExecutionError)
                    and ours.pc == verdict.pc)
        else:
            same = ours == verdict
        if not same:
            mismatches.append(Mismatch(f"#{i} wirelen={wirelen}", packet, Context(len=wirelen),
                                       ours, verdict))
    return mismatches


def report(title: str, program: Sequence, mismatches: List[Mismatch], ours: str = "bpfcheck",
           theirs: str = "kernel", limit: int = 8) -> str:
    lines = [f"{title}: {len(mismatches)} disagreement(s)", "program:", show_program(program)]
    for m in mismatches[:limit]:
        lines.append(f"- input {m.label}: {show_input(m.value)}")
        if m.context is not None:
            lines.append(f"  context: {show_context(m.context)}")
        lines.append(f"  {ours}: {fmt_verdict(m.ours)}   {theirs}: {fmt_verdict(m.theirs)}"
                     + (f"   ({m.extra})" if m.extra else ""))
    if len(mismatches) > limit:
        lines.append(f"... and {len(mismatches) - limit} more")
    return "\n".join(lines)


class Failures:
    """Collects per-program reports so one test can show every program
    that disagreed, not just the first."""

    def __init__(self, title: str, limit: int = 6):
        self.title = title
        self.limit = limit
        self.reports: List[str] = []
        self.count = 0

    def add(self, text: str) -> None:
        self.count += 1
        if len(self.reports) < self.limit:
            self.reports.append(text)

    def check(self, checked: int) -> None:
        if self.count:
            raise AssertionError(f"{self.title}: {self.count} of {checked} programs disagree\n\n"
                                 + "\n\n".join(self.reports))


# --- validation verdicts ----------------------------------------------------------------------
def bpfcheck_verdict(program, target: str):
    """``None`` when bpfcheck's ``validate`` accepts, else the ValidationError."""
    from bpfcheck.errors import ValidationError
    from bpfcheck.validate import validate
    try:
        validate(program, target)
    except ValidationError as exc:
        return exc
    return None


def describe_validation(err) -> str:
    if err is None:
        return "accepted"
    return f"rejected: {type(err).__name__} at pc {err.pc}: {err.reason}"


def describe_errno(ok: bool, err: int) -> str:
    import errno as _errno
    if ok:
        return "accepted"
    name = _errno.errorcode.get(err, str(err))
    if err == _errno.ENOMEM:
        return "ENOMEM (passed the checker; too big for net.core.optmem_max)"
    return f"rejected ({name})"


# --- mutations for the validation fuzz -----------------------------------------------------------
NON_KERNEL_CODES = tuple(c for c in range(0x100) if c not in KERNEL_OPCODES)
UNKNOWN_EXTENSIONS = tuple(AD + n for n in (1, 2, 3, 5, 64, 68, 0x100, 0xFFC, 0xFFF))
JUMP_CODES = (0x15, 0x25, 0x35, 0x45, 0x1D, 0x2D, 0x3D, 0x4D)


@dataclass(frozen=True)
class Mutant:
    kind: str
    program: Program
    #: for a single-fault mutant: the ValidationError class name and pc the
    #: kernel's order implies (None: several faults may compete)
    expect: Optional[Tuple[str, Optional[int]]] = None


def _quiet_pcs(program: Program) -> List[int]:
    """pcs whose instruction can be replaced without creating a second
    fault elsewhere: not a store (later reads may need it), not a jump (the
    scratch data flow and the landing pads depend on it), not the last."""
    out = []
    for pc, (code, _, _, _) in enumerate(program[:-1]):
        cls = code & 7
        if cls in (isa.ST, isa.STX, isa.JMP):
            continue
        out.append(pc)
    return out


def single_fault(program: Program, r: random.Random) -> Optional[Mutant]:
    """One fault in a program the kernel accepts, with the error class
    and pc bpfcheck must report (ValidationError.pc semantics)."""
    n = len(program)
    insns = list(program)
    quiet = _quiet_pcs(program)
    kinds = ["missing-ret", "length-0", "length-4097"]
    if quiet:
        kinds += ["opcode", "div0", "shift", "scratch-index", "jump-range", "ja-range",
                  "extension", "read-before-write"]
    kind = r.choice(kinds)
    if kind == "missing-ret":
        insns[-1] = Instruction(*r.choice([(0x00, 0, 0, 1), (0x04, 0, 0, 1), (0x87, 0, 0, 0),
                                           (0x05, 0, 0, 0)]))
        if insns[-1].code == 0x05:
            # ja 0 at the end jumps past it: that is a range fault first
            return Mutant(kind, Program(insns), ("JumpOutOfRange", n - 1))
        return Mutant(kind, Program(insns), ("MissingReturn", n - 1))
    if kind == "length-0":
        return Mutant(kind, Program([]), ("BadLength", None))
    if kind == "length-4097":
        body = [Instruction(0x04, 0, 0, 1)] * (4097 - n)
        return Mutant(kind, Program(body + insns), ("BadLength", None))
    pc = r.choice(quiet)
    if kind == "opcode":
        insns[pc] = Instruction(r.choice(NON_KERNEL_CODES + (0x0E, 0x08, 0x8C, 0x100, 0xFFFF)),
                                r.randrange(256), r.randrange(256), r.getrandbits(32))
        expect = ("UnknownOpcode", pc)
    elif kind == "div0":
        insns[pc] = Instruction(r.choice((0x34, 0x94)), 0, 0, 0)
        expect = ("DivisionByZero", pc)
    elif kind == "shift":
        insns[pc] = Instruction(r.choice((0x64, 0x74)), 0, 0, r.choice((32, 33, 63, 64, 0xFFFFFFFF)))
        expect = ("ShiftTooLarge", pc)
    elif kind == "scratch-index":
        insns[pc] = Instruction(r.choice((0x60, 0x61, 0x02, 0x03)), 0, 0, r.choice((16, 17, 0xFFFFFFFF)))
        expect = ("BadScratchIndex", pc)
    elif kind == "jump-range":
        over = n - pc - 1          # lands exactly one past the last instruction
        code = r.choice(JUMP_CODES)
        jt, jf = (over, 0) if r.random() < 0.5 else (0, over)
        if over > 255:
            return None
        insns[pc] = Instruction(code, jt, jf, r.choice(NASTY))
        expect = ("JumpOutOfRange", pc)
    elif kind == "ja-range":
        insns[pc] = Instruction(0x05, 0, 0, r.choice((n - pc - 1, n - pc, 0xFFFFFFFF, 0x80000000)))
        expect = ("JumpOutOfRange", pc)
    elif kind == "extension":
        insns[pc] = Instruction(r.choice((0x20, 0x28, 0x30)), 0, 0, r.choice(UNKNOWN_EXTENSIONS))
        expect = ("UnknownExtension", pc)
    else:   # read-before-write: a cell no earlier instruction stores
        # Only before the first jump: the kernel's walk treats whatever
        # follows a jump as written (code no path falls into), so "no store
        # before pc" means "never written" only on a straight line.
        first_jump = next((i for i, insn in enumerate(program) if insn.code & 7 == isa.JMP), n)
        pc = r.choice([p for p in quiet if p < first_jump] or [None])
        if pc is None:
            return None
        stored = {k for code, _, _, k in program[:pc] if code & 7 in (isa.ST, isa.STX)}
        free = [k for k in range(isa.MEMWORDS) if k not in stored]
        if not free:
            return None
        insns[pc] = Instruction(r.choice((0x60, 0x61)), 0, 0, r.choice(free))
        expect = ("ScratchReadBeforeWrite", pc)
    return Mutant(kind, Program(insns), expect)


def random_mutant(program: Program, r: random.Random, instruction_pool: Sequence = ()) -> Mutant:
    """Any damage at all (several faults may compete; only the accept /
    reject answer is compared).  Programs stay far from the translation
    limits, which tests/conformance/test_conformance_translation.py owns."""
    insns = [list(i) for i in program]
    n = len(insns)
    if n == 0:
        return Mutant("empty", Program([]))
    kind = r.choice(["flip-bit", "flip-bit", "kernel-code", "any-code", "wide-code", "pool",
                     "jump", "ja", "no-ret", "read", "shift", "div", "scratch", "ext-k",
                     "neg-x", "length", "double"])
    pc = r.randrange(n)
    if kind == "flip-bit":
        insns[pc][0] ^= 1 << r.randrange(8)
    elif kind == "kernel-code":
        insns[pc][0] = r.choice(tuple(KERNEL_OPCODES))
    elif kind == "any-code":
        insns[pc][0] = r.randrange(0x100)
    elif kind == "wide-code":
        insns[pc][0] |= r.choice((0x100, 0x800, 0x8000))
    elif kind == "pool" and instruction_pool:
        insns[pc] = list(r.choice(instruction_pool))
    elif kind == "jump":
        insns[pc] = [r.choice(JUMP_CODES), r.choice((0, 1, n - pc - 2, n - pc - 1, r.randrange(256))),
                     r.choice((0, 1, n - pc - 2, n - pc - 1, r.randrange(256))), r.choice(NASTY)]
    elif kind == "ja":
        insns[pc] = [0x05, r.randrange(256), r.randrange(256),
                     r.choice((0, n - pc - 2, n - pc - 1, n - pc, 0xFFFFFFFF, r.getrandbits(32)))]
    elif kind == "no-ret":
        insns[-1] = [r.choice((0x0E, 0x00, 0x04, 0x87, 0x26, 0x1E)), 0, 0, r.choice(NASTY)]
    elif kind == "read":
        insns[pc] = [r.choice((0x60, 0x61)), 0, 0, r.randrange(16)]
    elif kind == "shift":
        insns[pc] = [r.choice((0x64, 0x74)), 0, 0, r.choice((0, 31, 32, 33, 0xFFFFFFFF))]
    elif kind == "div":
        insns[pc] = [r.choice((0x34, 0x94, 0x3C, 0x9C)), 0, 0, r.choice((0, 0, 1, 7))]
    elif kind == "scratch":
        insns[pc] = [r.choice((0x60, 0x61, 0x02, 0x03)), 0, 0, r.choice((0, 15, 16, 17, 0xFFFFFFFF))]
    elif kind == "ext-k":
        insns[pc] = [r.choice((0x20, 0x28, 0x30, 0x40, 0x48, 0x50, 0xB1)), 0, 0,
                     AD + r.choice(tuple(range(0, 68, 4)) + (1, 2, 3, 0x100, 0xFFF))]
    elif kind == "neg-x":
        insns[pc] = [r.choice((0x8C, 0x08, 0x0E, 0x8D, 0x07 | 0x08, 0x87 | 0x10)), 0, 0, 0]
    elif kind == "length":
        choice = r.choice(("0", "4096", "4097", "4096-ret-k", "4096-expanding-tail"))
        if choice == "0":
            insns = []
        elif choice == "4096":
            insns = [[0x04, 0, 0, 1]] * (4096 - n) + insns
        elif choice == "4097":
            insns = [[0x04, 0, 0, 1]] * (4097 - n) + insns
        elif choice == "4096-ret-k":
            insns = [[0x06, 0, 0, 1]] * (4096 - n) + insns
        else:
            # dead code after the program that the kernel's translation
            # blows up 13-fold: ENOMEM (optmem_max), not EINVAL; no jump
            # sits after it, so no translation limit is near
            insns = insns + [[0x30, 0, 0, 0]] * (4095 - n) + [[0x06, 0, 0, 1]]
    elif kind == "double":
        first = random_mutant(program, r, instruction_pool).program
        return Mutant("double", random_mutant(first if len(first) else program, r,
                                              instruction_pool).program)
    for insn in insns:
        insn[0] &= 0xFFFF
        insn[1] = max(0, min(255, insn[1]))
        insn[2] = max(0, min(255, insn[2]))
        insn[3] &= U32
    return Mutant(kind, Program([tuple(i) for i in insns]))


# --- tcpdump expressions ------------------------------------------------------------------------
EXPRESSIONS_FILE = Path(__file__).resolve().parent.parent / "data" / "expressions.txt"


def load_expressions() -> List[str]:
    lines = EXPRESSIONS_FILE.read_text().splitlines()
    out = []
    for line in lines:
        line = line.strip()
        if line and not line.startswith("#"):
            out.append(line)
    return out


def compile_expression(expr: str, optimize: bool = True) -> Program:
    """libpcap's compiler on Ethernet; expressions that need a netmask
    (``ip broadcast``) get 255.255.255.0, as a capture on a /24 would."""
    from bpfcheck.errors import CompileError
    from bpfcheck.oracles import libpcap
    try:
        return libpcap.compile(expr, "EN10MB", optimize=optimize)
    except CompileError as exc:
        if "netmask" not in str(exc):
            raise
        return libpcap.compile(expr, "EN10MB", optimize=optimize, netmask=0xFFFFFF00)


def chunked(seq: Sequence, size: int) -> Iterable[Sequence]:
    for i in range(0, len(seq), size):
        yield seq[i:i + size]
