"""One regression case: a small, diff-friendly TOML file (format version 1).

A case names a program, the target it runs on, inputs with the verdicts
they must produce, properties that must be proved (or refuted), an
optional partner program it must be equivalent to, and where it came from::

    format = "bpfcheck-case/1"
    name = "tcp-port-80"
    target = "socket"                 # socket | seccomp | pcap
    description = "web traffic only"
    valid = true                      # optional: false = the target must refuse the program

    [program]                         # exactly one of expr / text / file
    expr = "tcp port 80"
    linktype = "EN10MB"               # for expr (default EN10MB)
    optimize = true                   # for expr (default true)
    # text = "ldh [12]\\n..."          # inline, any format (detected)
    # format = "tcpdump"              # optional, for text or file
    # file = "filters/web.bpf"        # relative to this file; raw or text

    [[packets]]
    hex = "ffffffffffff..."
    verdict = 262144
    label = "SYN to port 80"          # optional
    context = { has_device = true, network_header = 14 }   # optional
    wirelen = 1514                    # optional (libpcap's len)

    [[pcap]]                          # packets from a capture
    file = "captures/web.pcap"
    verdicts = [262144, 0, 0]         # one per record (or accepted = N)

    [[syscalls]]                      # seccomp inputs
    nr = 59                           # or "execve" (names resolve for arch)
    arch = "x86_64"                   # or a number
    args = [0, 1]
    verdict = 0x7fff0000

    [[properties]]
    property = "accepted -> len >= 54"
    expect = "proved"                 # proved | refuted
    arch = "x86_64"                   # seccomp names (optional)

    [equivalent]                      # a partner program, same keys as [program]
    expr = "tcp port 80"
    optimize = false
    relation = "equivalent"           # or "subsumes" (this accepts => partner accepts)
    expect = "proved"

    [provenance]
    source = "fuzz"                   # written | fuzz | optimizer-check | libpcap | kernel
    found = "2026-11-27"
    link = "https://..."
    note = "why this case exists"

Nothing in a case is evaluated as code.

Additions that keep version 1 (files without them read as before):

* ``valid = false`` (default true): a regression for a program the target
  must *refuse* — bpfcheck's validator and the real implementation (kernel
  or libpcap's ``bpf_validate``) are both checked; nothing is run.

How ``bpfcheck corpus run`` (and ``pytest``) replay a case is documented in
:mod:`bpfcheck.corpus.runner`.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from ..errors import ParseError

FORMAT = "bpfcheck-case/1"
TARGETS = ("socket", "seccomp", "pcap")
MAX_CASE_FILE = 4 * 1024 * 1024
#: entries a case may hold: each packet is a few runs, each property a
#: solver question of up to --timeout seconds (the shipped corpus has at most 4)
MAX_ENTRIES = {"packets": 65536, "syscalls": 65536, "pcap": 64, "properties": 256}
_PROGRAM_KEYS = {"expr", "linktype", "optimize", "text", "format", "file"}


class CaseError(ParseError):
    """A case file that is not a valid case; names the file (and line)."""

    def __init__(self, path: str, message: str, line: Optional[int] = None):
        self.path = path
        where = f"{path}:{line}: " if line else f"{path}: "
        ParseError.__init__(self, message, line=line, fmt="case")
        self.args = (f"{where}{message}",)

    def __str__(self):
        return self.args[0]


@dataclass(frozen=True)
class ProgramSource:
    expr: Optional[str] = None
    linktype: str = "EN10MB"
    optimize: bool = True
    text: Optional[str] = None
    format: Optional[str] = None
    file: Optional[str] = None

    def describe(self) -> str:
        if self.expr is not None:
            return f"expression {self.expr!r} ({self.linktype}{'' if self.optimize else ', unoptimized'})"
        if self.file is not None:
            return f"file {self.file}"
        return "inline program"


@dataclass(frozen=True)
class PacketCase:
    data: bytes
    verdict: int
    label: Optional[str] = None
    context: Dict[str, Any] = field(default_factory=dict)
    wirelen: Optional[int] = None


@dataclass(frozen=True)
class PcapCase:
    file: str
    verdicts: Optional[Tuple[int, ...]] = None
    accepted: Optional[int] = None


@dataclass(frozen=True)
class SyscallCase:
    nr: Any
    arch: Any
    verdict: int
    args: Tuple[int, ...] = ()
    instruction_pointer: int = 0
    label: Optional[str] = None


@dataclass(frozen=True)
class PropertyCase:
    property: str
    expect: str = "proved"
    arch: Optional[str] = None


@dataclass(frozen=True)
class EquivalenceCase:
    partner: ProgramSource
    relation: str = "equivalent"
    expect: str = "proved"


@dataclass(frozen=True)
class Case:
    path: str
    name: str
    target: str
    program: ProgramSource
    description: str = ""
    packets: Tuple[PacketCase, ...] = ()
    pcaps: Tuple[PcapCase, ...] = ()
    syscalls: Tuple[SyscallCase, ...] = ()
    properties: Tuple[PropertyCase, ...] = ()
    equivalent: Optional[EquivalenceCase] = None
    provenance: Dict[str, Any] = field(default_factory=dict)
    valid: bool = True

    @property
    def directory(self) -> str:
        return os.path.dirname(os.path.abspath(self.path))

    def resolve(self, relative: str) -> str:
        """A path named in the case, relative to the case file; it may not
        climb out of the corpus through ``..`` or absolute paths."""
        if os.path.isabs(relative) or ".." in relative.replace("\\", "/").split("/"):
            raise CaseError(self.path, f"file {relative!r} must be a relative path inside the corpus")
        return os.path.join(self.directory, relative)


# --- reading ----------------------------------------------------------------
def load_case(path: str) -> Case:
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_CASE_FILE + 1)
    except OSError as e:
        raise CaseError(path, f"cannot read: {e.strerror or e}") from None
    if len(raw) > MAX_CASE_FILE:
        raise CaseError(path, f"larger than {MAX_CASE_FILE // (1024 * 1024)} MiB")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise CaseError(path, f"not UTF-8 (byte {e.start})", raw[:e.start].count(b"\n") + 1) from None
    return parse_case(text, path)


def parse_case(text: str, path: str = "<case>") -> Case:
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        line = getattr(e, "lineno", None) or _line_of(str(e))
        raise CaseError(path, f"not valid TOML: {str(e).split(' (at')[0]}", line) from None
    except RecursionError:
        raise CaseError(path, "nested too deeply") from None
    return _case_from_document(doc, path)


def _line_of(message: str) -> Optional[int]:
    marker = "(at line "
    if marker in message:
        try:
            return int(message.split(marker, 1)[1].split(",", 1)[0])
        except ValueError:
            return None
    return None


def _case_from_document(doc: Dict[str, Any], path: str) -> Case:
    r = _Reader(path)
    fmt = doc.get("format")
    if fmt != FORMAT:
        raise CaseError(path, f"format must be {FORMAT!r} (found {fmt!r})")
    unknown = set(doc) - {"format", "name", "target", "description", "valid", "program", "packets",
                          "pcap", "syscalls", "properties", "equivalent", "provenance"}
    if unknown:
        raise CaseError(path, f"unknown keys {', '.join(sorted(unknown))}")
    name = r.string(doc, "name", default=os.path.splitext(os.path.basename(path))[0])
    target = r.string(doc, "target", default="socket")
    if target not in TARGETS:
        raise CaseError(path, f"target must be one of {', '.join(TARGETS)} (found {target!r})")
    program = r.program(doc.get("program"), "program")
    packets = tuple(r.packet(p, i) for i, p in enumerate(r.table_list(doc, "packets")))
    pcaps = tuple(r.pcap(p, i) for i, p in enumerate(r.table_list(doc, "pcap")))
    syscalls = tuple(r.syscall(s, i) for i, s in enumerate(r.table_list(doc, "syscalls")))
    props = tuple(r.prop(p, i) for i, p in enumerate(r.table_list(doc, "properties")))
    equivalent = None
    if "equivalent" in doc:
        table = r.table(doc["equivalent"], "equivalent")
        relation = r.string(table, "relation", default="equivalent")
        if relation not in ("equivalent", "subsumes"):
            raise CaseError(path, f"equivalent.relation must be 'equivalent' or 'subsumes' (found {relation!r})")
        expect = r.expectation(table, "equivalent")
        partner = {k: v for k, v in table.items() if k not in ("relation", "expect")}
        equivalent = EquivalenceCase(r.program(partner, "equivalent"), relation, expect)
    provenance = r.table(doc.get("provenance", {}), "provenance")
    valid = doc.get("valid", True)
    if not isinstance(valid, bool):
        raise CaseError(path, f"valid must be true or false (found {valid!r})")
    if (syscalls and target != "seccomp") or (target == "seccomp" and (packets or pcaps)):
        raise CaseError(path, "[[syscalls]] go with target = \"seccomp\", [[packets]]/[[pcap]] with the others")
    return Case(path, name, target, program, r.string(doc, "description", default=""), packets, pcaps,
                syscalls, props, equivalent, dict(provenance), valid)


class _Reader:
    """Typed field access that names the offending key."""

    def __init__(self, path: str):
        self.path = path

    def fail(self, message):
        raise CaseError(self.path, message)

    def table(self, value, where) -> Dict[str, Any]:
        if not isinstance(value, dict):
            self.fail(f"[{where}] must be a table")
        return value

    def table_list(self, doc, key):
        value = doc.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            self.fail(f"[[{key}]] must be an array of tables")
        if len(value) > MAX_ENTRIES[key]:
            self.fail(f"{len(value)} [[{key}]] entries; a case holds at most {MAX_ENTRIES[key]} "
                      "(split the rest into more cases)")
        return value

    def string(self, table, key, default=None, where=None):
        value = table.get(key, default)
        if value is None and default is None:
            return None
        if not isinstance(value, str):
            self.fail(f"{where + '.' if where else ''}{key} must be a string (found {value!r})")
        return value

    def integer(self, table, key, where, lo=0, hi=0xFFFFFFFF, default=None):
        value = table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            self.fail(f"{where}.{key} must be an integer in {lo}..{hi:#x} (found {value!r})")
        return value

    def program(self, table, where) -> ProgramSource:
        if table is None:
            self.fail(f"[{where}] is missing: a case needs a program")
        table = self.table(table, where)
        unknown = set(table) - _PROGRAM_KEYS
        if unknown:
            self.fail(f"[{where}] has unknown keys {', '.join(sorted(unknown))}")
        given = [k for k in ("expr", "text", "file") if k in table]
        if len(given) != 1:
            self.fail(f"[{where}] needs exactly one of expr, text, file (found {', '.join(given) or 'none'})")
        optimize = table.get("optimize", True)
        if not isinstance(optimize, bool):
            self.fail(f"{where}.optimize must be true or false")
        return ProgramSource(self.string(table, "expr", where=where), self.string(table, "linktype", "EN10MB", where),
                             optimize, self.string(table, "text", where=where),
                             self.string(table, "format", where=where), self.string(table, "file", where=where))

    def packet(self, table, i) -> PacketCase:
        where = f"packets[{i}]"
        hex_text = self.string(table, "hex", where=where)
        if hex_text is None:
            self.fail(f"{where}.hex is missing")
        try:
            data = bytes.fromhex("".join(hex_text.split()).replace(":", ""))
        except ValueError:
            self.fail(f"{where}.hex is not hex bytes: {hex_text[:40]!r}")
        context = self.table(table.get("context", {}), f"{where}.context")
        wirelen = table.get("wirelen")
        if wirelen is not None:
            self.integer(table, "wirelen", where)
        return PacketCase(data, self.integer(table, "verdict", where), self.string(table, "label", where=where),
                          dict(context), wirelen)

    def pcap(self, table, i) -> PcapCase:
        where = f"pcap[{i}]"
        file = self.string(table, "file", where=where)
        if file is None:
            self.fail(f"{where}.file is missing")
        verdicts = table.get("verdicts")
        accepted = table.get("accepted")
        if verdicts is None and accepted is None:
            self.fail(f"{where} needs verdicts = [...] or accepted = N")
        if verdicts is not None and (not isinstance(verdicts, list) or not all(
                isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 0xFFFFFFFF for v in verdicts)):
            self.fail(f"{where}.verdicts must be a list of u32 verdicts")
        if accepted is not None:
            self.integer(table, "accepted", where, hi=1 << 62)
        return PcapCase(file, tuple(verdicts) if verdicts is not None else None, accepted)

    def syscall(self, table, i) -> SyscallCase:
        where = f"syscalls[{i}]"
        nr, arch = table.get("nr"), table.get("arch")
        for key, value in (("nr", nr), ("arch", arch)):
            if not isinstance(value, (int, str)) or isinstance(value, bool):
                self.fail(f"{where}.{key} must be a number or a name (found {value!r})")
        args = table.get("args", [])
        if not isinstance(args, list) or len(args) > 6 or not all(
                isinstance(a, int) and not isinstance(a, bool) and 0 <= a < 1 << 64 for a in args):
            self.fail(f"{where}.args must be up to 6 u64 numbers")
        ip = table.get("ip", 0)
        if not isinstance(ip, int) or isinstance(ip, bool) or not 0 <= ip < 1 << 64:
            self.fail(f"{where}.ip must be a u64")
        return SyscallCase(nr, arch, self.integer(table, "verdict", where), tuple(args), ip,
                           self.string(table, "label", where=where))

    def expectation(self, table, where):
        expect = self.string(table, "expect", default="proved", where=where)
        if expect not in ("proved", "refuted"):
            self.fail(f"{where}.expect must be 'proved' or 'refuted' (found {expect!r})")
        return expect

    def prop(self, table, i) -> PropertyCase:
        where = f"properties[{i}]"
        text = self.string(table, "property", where=where)
        if text is None:
            self.fail(f"{where}.property is missing")
        return PropertyCase(text, self.expectation(table, where), self.string(table, "arch", where=where))


# --- writing ----------------------------------------------------------------
def dump_case(case: Case) -> str:
    """The case as TOML, in a stable order (round-trips through load)."""
    out = [f'format = {_q(FORMAT)}', f"name = {_q(case.name)}", f"target = {_q(case.target)}"]
    if case.description:
        out.append(f"description = {_q(case.description)}")
    if not case.valid:
        out.append("valid = false")
    out += ["", "[program]"] + _program_lines(case.program)
    for p in case.packets:
        out += ["", "[[packets]]", f"hex = {_q(p.data.hex())}", f"verdict = {p.verdict:#x}"]
        if p.label:
            out.append(f"label = {_q(p.label)}")
        if p.context:
            out.append("context = { " + ", ".join(f"{k} = {_value(v)}" for k, v in p.context.items()) + " }")
        if p.wirelen is not None:
            out.append(f"wirelen = {p.wirelen}")
    for p in case.pcaps:
        out += ["", "[[pcap]]", f"file = {_q(p.file)}"]
        if p.verdicts is not None:
            out.append("verdicts = [" + ", ".join(f"{v:#x}" for v in p.verdicts) + "]")
        if p.accepted is not None:
            out.append(f"accepted = {p.accepted}")
    for s in case.syscalls:
        out += ["", "[[syscalls]]", f"nr = {_value(s.nr)}", f"arch = {_value(s.arch)}"]
        if s.args:
            out.append("args = [" + ", ".join(f"{a:#x}" for a in s.args) + "]")
        if s.instruction_pointer:
            out.append(f"ip = {s.instruction_pointer:#x}")
        out.append(f"verdict = {s.verdict:#x}")
        if s.label:
            out.append(f"label = {_q(s.label)}")
    for prop in case.properties:
        out += ["", "[[properties]]", f"property = {_q(prop.property)}", f"expect = {_q(prop.expect)}"]
        if prop.arch:
            out.append(f"arch = {_q(prop.arch)}")
    if case.equivalent is not None:
        out += ["", "[equivalent]"] + _program_lines(case.equivalent.partner)
        out += [f"relation = {_q(case.equivalent.relation)}", f"expect = {_q(case.equivalent.expect)}"]
    if case.provenance:
        out += ["", "[provenance]"] + [f"{k} = {_value(v)}" for k, v in case.provenance.items()]
    return "\n".join(out) + "\n"


def _program_lines(src: ProgramSource) -> List[str]:
    lines = []
    if src.expr is not None:
        lines.append(f"expr = {_q(src.expr)}")
        if src.linktype != "EN10MB":
            lines.append(f"linktype = {_q(src.linktype)}")
        if not src.optimize:
            lines.append("optimize = false")
    elif src.text is not None:
        lines.append(f"text = {_q(src.text)}")
    else:
        lines.append(f"file = {_q(src.file)}")
    if src.format:
        lines.append(f"format = {_q(src.format)}")
    return lines


def _value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v) if v < 10 else f"{v:#x}"
    if isinstance(v, str):
        return _q(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    raise TypeError(f"cannot write {v!r} in a case file")


def _q(text: str) -> str:
    """A TOML basic string (escapes quotes, backslashes and control characters)."""
    out = ['"']
    for ch in text:
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)
