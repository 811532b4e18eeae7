"""The hostile-input suite: one row per case, each run through the real CLI.

A row names the case, its category, the command line (file names are
relative to a scratch directory the files are written into), what goes on
standard input, and what must come out: the exit code (2 for bad input, 1
for a well-formed program the target rejects or a corpus case that cannot
run) and, optionally, a pattern the one-line message must contain (for
text, the line it names).  :mod:`test_hostile_cli` runs every row.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence, Union

FileData = Union[bytes, str, Callable[[str], None]]     # a callable writes the file at that path itself


@dataclass
class H:
    name: str
    category: str
    args: Sequence[str]
    files: Dict[str, FileData] = field(default_factory=dict)
    stdin: Optional[bytes] = None
    exit: int = 2
    match: Optional[str] = None          # a regular expression the message must contain
    json: bool = False                   # the message is the one JSON object on stdout


CASES: List[H] = []


def case(*args, **kw) -> None:
    CASES.append(H(*args, **kw))


U32 = 1 << 32
RET0 = b"\x06\x00\x00\x00\x00\x00\x00\x00"
MiB = 1024 * 1024

# --- raw struct sock_filter bytes -------------------------------------------------------
case("truncated raw program (7 bytes)", "raw", ["validate", "p.bpf"], {"p.bpf": RET0[:7]})
case("raw program with a byte left over", "raw", ["validate", "p.bpf"], {"p.bpf": RET0 * 3 + b"\x06"})
case("one byte", "raw", ["validate", "p.bpf"], {"p.bpf": b"\0"})
case("raw forced on a text file", "raw", ["validate", "--format", "raw", "p.txt"], {"p.txt": b"ret #0\n"},
     match="8-byte")
case("4097 raw instructions", "raw", ["validate", "p.bpf"], {"p.bpf": RET0 * 4097}, exit=1, match="4097")
case("empty raw program", "raw", ["validate", "--format", "raw", "p.bpf"], {"p.bpf": b""}, exit=1)
case("raw opcode 0xffff everywhere", "raw", ["validate", "p.bpf"], {"p.bpf": b"\xff" * 64}, exit=1)
case("raw program over 8 MiB", "raw", ["validate", "p.bpf"], {"p.bpf": RET0 * (MiB + 1)}, match="8 MiB")
case("raw program on stdin over 8 MiB", "raw", ["validate", "-"], stdin=RET0 * (MiB + 1), match="8 MiB")
case("raw seccomp filter jumping past its end", "raw", ["validate", "--target", "seccomp", "p.bpf"],
     {"p.bpf": struct.pack("<HBBI", 0x15, 200, 0, 1) + RET0}, exit=1)

# --- constants beyond 32 bits (and other fields beyond theirs), in every text format --------
for fmt, text in [
    ("tcpdump", f"(000) ld       #0x{U32:x}\n(001) ret      #0\n"),
    ("c", f"{{ 0x6, 0, 0, 0x{U32:x} }},\n"),
    ("ddd", f"1\n6 0 0 {U32}\n"),
    ("asm", f"ret #{U32}\n"),
    ("xt_bpf", f"1,6 0 0 {U32}\n"),
]:
    case(f"k = 2^32 in {fmt}", "constants", ["validate", "--format", fmt, "p.txt"], {"p.txt": text},
         match=r"line \d+")
    case(f"k = 2^32 in {fmt}, format detected", "constants", ["fmt", "--to", "c", "-"], stdin=text.encode(),
         match=r"line \d+")
for fmt, text in [
    ("tcpdump", "(000) ret      #" + "9" * 5000 + "\n"),
    ("c", "{ 0x6, 0, 0, 0" + "7" * 5000 + " },\n"),
    ("ddd", "1\n6 0 0 " + "9" * 5000 + "\n"),
    ("asm", "ret #0b" + "1" * 5000 + "\n"),
    ("xt_bpf", "1,6 0 0 " + "9" * 5000 + "\n"),
]:
    case(f"a 5000-digit constant in {fmt}", "constants", ["validate", "--format", fmt, "p.txt"],
         {"p.txt": text}, match=r"line \d+")
case("k = -2^31-1 in tcpdump", "constants", ["validate", "p.txt"],
     {"p.txt": f"(000) ret      #-{(1 << 31) + 1}\n"}, match="line 1")
case("k = -2^31-1 in asm", "constants", ["validate", "p.txt"], {"p.txt": f"ret #-{(1 << 31) + 1}\n"},
     match="line 1")
case("binary literal of 40 bits in asm", "constants", ["validate", "p.txt"], {"p.txt": "ret #0b" + "1" * 40 + "\n"},
     match="line 1")
case("code 0x10000 in c", "constants", ["validate", "p.txt"], {"p.txt": "{ 0x10000, 0, 0, 0 },\n"}, match="line 1")
case("code 65536 in ddd", "constants", ["validate", "p.txt"], {"p.txt": "1\n65536 0 0 0\n"}, match="line 2")
case("code 65536 in xt_bpf", "constants", ["validate", "p.txt"], {"p.txt": "1,65536 0 0 0\n"}, match="line 1")
case("unimp 0x10000 in tcpdump", "constants", ["validate", "p.txt"], {"p.txt": "(000) unimp    0x10000\n"},
     match="line 1")
case("jt = 256 in c", "constants", ["validate", "p.txt"], {"p.txt": "{ 0x15, 256, 0, 0 },\n"}, match="line 1")
case("jf = 256 in ddd", "constants", ["validate", "p.txt"], {"p.txt": "1\n21 0 256 0\n"}, match="line 2")
case("jt = 2^40 in xt_bpf", "constants", ["validate", "p.txt"], {"p.txt": f"1,21 {1 << 40} 0 0\n"}, match="line 1")
case("tcpdump jump target behind the jump", "constants", ["validate", "p.txt"],
     {"p.txt": "(000) ret      #0\n(001) jeq      #0x1             jt 0\tjf 2\n(002) ret #0\n"}, match="line 2")
case("tcpdump ja target 2^40", "constants", ["validate", "p.txt"], {"p.txt": f"(000) ja       {1 << 40}\n"},
     match="line 1")
case("ddd count 2^40", "constants", ["validate", "p.txt"], {"p.txt": f"{1 << 40}\n6 0 0 0\n"}, match="line 1")
case("asm M[2^32]", "constants", ["validate", "p.txt"], {"p.txt": f"ld M[{U32}]\nret a\n"}, match="line 1")
case("asm cell M[16] (well-formed, refused)", "constants", ["validate", "p.txt"], {"p.txt": "ld M[16]\nret a\n"},
     exit=1)

# --- encodings and odd characters -------------------------------------------------------------
case("NUL byte inside asm text", "encoding", ["validate", "p.txt"], {"p.txt": b"ret #0\n\0\n"}, match="line 2")
case("NUL byte inside text, format given", "encoding", ["validate", "--format", "asm", "p.txt"],
     {"p.txt": b"ldh [12]\nret\0#0\n"}, match="line 2")
case("invalid UTF-8 in asm", "encoding", ["validate", "--format", "asm", "p.txt"],
     {"p.txt": b"ret #0\n\xff\xfe\n"}, match="line 2")
case("invalid UTF-8, format detected", "encoding", ["validate", "p.txt"], {"p.txt": b"ret #0\n\xc3\x28\n"},
     match="line 2")
case("lone surrogate bytes", "encoding", ["validate", "--format", "c", "p.txt"],
     {"p.txt": b"{ 0x6, 0, 0, 0 },\n\xed\xa0\x80\n"}, match="line 2")
case("two byte-order marks", "encoding", ["validate", "p.txt"], {"p.txt": "\ufeff\ufeffret #0\n"}, match="line 1")
case("form feed in asm", "encoding", ["validate", "p.txt"], {"p.txt": "ldh [12]\n\x0cret #0\n"}, match="line 2")
case("unicode line separator", "encoding", ["validate", "p.txt"], {"p.txt": "ret #0\u2028ret #0\n"}, match="line 1")
case("right-to-left override", "encoding", ["validate", "p.txt"], {"p.txt": "ret #\u202e0\n"}, match="line 1")
case("escape sequences in a mnemonic", "encoding", ["validate", "--format", "tcpdump", "p.txt"],
     {"p.txt": "(000) \x1b[31mret #0\n"}, match="line 1")
case("arabic-indic digits in ddd", "encoding", ["validate", "--format", "ddd", "p.txt"],
     {"p.txt": "1\n6 0 0 \u0663\n"}, match="line 2")
case("arabic-indic digits in xt_bpf", "encoding", ["validate", "p.txt"], {"p.txt": "1,6 0 0 \u0663\n"},
     match="line 1")
case("arabic-indic instruction number in tcpdump", "encoding", ["validate", "--format", "tcpdump", "p.txt"],
     {"p.txt": "(\u0660\u0660\u0660) ret #0\n"}, match="line 1")
case("carriage returns only, tcpdump", "encoding", ["validate", "p.txt"],
     {"p.txt": "(000) ret      #0\r(001) ret      #0\r"}, match="line 1")
case("text that is no format at all", "encoding", ["validate", "p.txt"], {"p.txt": "hello, world\n"},
     match="line 1")

# --- structure of a program text ---------------------------------------------------------------
case("asm label loop (ja to itself)", "structure", ["validate", "p.txt"], {"p.txt": "top: ja top\n"}, exit=1)
case("asm two-label loop", "structure", ["validate", "p.txt"], {"p.txt": "aa: ja bb\nbb: ja aa\n"}, exit=1)
case("asm label loop, proved", "structure", ["prove", "p.txt", "accepted"], {"p.txt": "top: ja top\n"}, exit=1)
case("asm conditional jump backward", "structure", ["validate", "p.txt"],
     {"p.txt": "top: ldh [12]\njeq #1, top, top\n"}, match="line 2")
case("asm undefined label", "structure", ["validate", "p.txt"], {"p.txt": "ja nowhere\n"}, match="line 1")
case("asm duplicate label", "structure", ["validate", "p.txt"], {"p.txt": "aa: ret #0\naa: ret #1\n"},
     match="line 2")
case("asm label without an instruction", "structure", ["validate", "p.txt"], {"p.txt": "ret #0\nend:\n"},
     match="line 2")
case("asm 50000 labels on one instruction", "structure", ["validate", "p.txt"],
     {"p.txt": "".join(f"l{i}: " for i in range(50000)) + "ret #5000000000\n"}, match="line 1: .*32 bits")
case("asm unterminated comment", "structure", ["validate", "p.txt"], {"p.txt": "ret #0 /* " + "*" * 10000 + "\n"},
     match="line 1")
case("asm ldxb with another mask", "structure", ["validate", "p.txt"], {"p.txt": "ldxb 4*([14]&0xe)\nret #0\n"},
     match="line 1")
case("asm jneq with three operands", "structure", ["validate", "p.txt"],
     {"p.txt": "ldh [12]\njneq #1, aa, bb\naa: ret #0\nbb: ret #1\n"}, match="line 2")
case("c unterminated comment", "structure", ["validate", "p.txt"], {"p.txt": "{ 0x6, 0, 0, 0 }, /*\n"},
     match="line 1")
case("c 100000 opening braces", "structure", ["validate", "p.txt"], {"p.txt": "{" * 100000}, match="line 1")
case("c symbolic BPF_STMT macro", "structure", ["validate", "p.txt"],
     {"p.txt": "static struct sock_filter f[] = {\nBPF_STMT(BPF_RET|BPF_K, 0),\n};\n"}, match="line 2")
case("tcpdump instructions out of order", "structure", ["validate", "p.txt"],
     {"p.txt": "(000) ret      #0\n(002) ret      #0\n"}, match="line 2")
case("tcpdump a 5000-digit instruction number", "structure", ["validate", "p.txt"],
     {"p.txt": "(" + "9" * 5000 + ") ret #0\n"}, match="line 1")
case("ddd count larger than the instructions", "structure", ["validate", "p.txt"], {"p.txt": "3\n6 0 0 0\n"},
     match="line 1")
case("ddd instructions beyond the count", "structure", ["validate", "p.txt"], {"p.txt": "1\n6 0 0 0\n6 0 0 0\n"},
     match="line 3")
case("xt_bpf count mismatch", "structure", ["validate", "p.txt"], {"p.txt": "5,6 0 0 0\n"}, match="line 1")
case("xt_bpf empty fields", "structure", ["validate", "p.txt"], {"p.txt": "2,,,,\n"}, match="line 1")
case("program of comments only", "structure", ["validate", "p.txt"], {"p.txt": "; nothing here\n"}, exit=1)

# --- sizes ---------------------------------------------------------------------------------------
for fmt in ("tcpdump", "c", "ddd", "asm", "xt_bpf"):
    case(f"4097 instructions in {fmt}", "size", ["validate", "p.txt"], {"p.txt": ("fmt", fmt, 4097)}, exit=1,
         match="4097")
case("a 10 MB text file", "size", ["validate", "p.txt"], {"p.txt": b"ret #0\n" * (10 * MiB // 7)}, match="8 MiB")
case("a 10 MB text file on stdin", "size", ["fmt", "--to", "c", "-"], stdin=b"ret #0\n" * (10 * MiB // 7),
     match="8 MiB")
case("20000 instructions analysed", "size", ["analyze", "p.txt"], {"p.txt": ("fmt", "xt_bpf", 20000)}, exit=1)
case("5000 instructions proved", "size", ["prove", "p.txt", "accepted"], {"p.txt": ("fmt", "ddd", 5000)}, exit=1)
case("5000 instructions, equivalence", "size", ["equiv", "p.txt", "p.txt"], {"p.txt": ("fmt", "c", 5000)}, exit=1)
case("4097 instructions as seccomp", "size", ["seccomp", "audit", "--no-kernel", "--json", "p.bpf"],
     {"p.bpf": struct.pack("<HBBI", 6, 0, 0, 0x7FFF0000) * 4097}, exit=1, json=True, match="4097")
case("/dev/zero as a program", "size", ["validate", "/dev/zero"], match="8 MiB")
case("a 600 KB asm listing (no target takes one)", "size", ["validate", "p.txt"],
     {"p.txt": "ret #0\n" * (600 * 1024 // 7)}, match=r"line \d+: .*512 KiB")
case("a 600 KB listing on stdin, format given", "size", ["fmt", "--format", "c", "--to", "asm", "-"],
     stdin=b"{ 0x6, 0, 0, 0x00000000 },\n" * (600 * 1024 // 28), match="512 KiB")

# --- properties -----------------------------------------------------------------------------------
P = ["prove", "p.txt"]
PROG = {"p.txt": "ldh [12]\njneq #0x800, drop\nret #65535\ndrop: ret #0\n"}
for name, prop in [
    ("10000 nested parentheses", "(" * 10000 + "accepted" + ")" * 10000),
    ("10000 nested nots", "not " * 10000 + "accepted"),
    ("10000 complements", "~" * 10000 + "verdict == 0"),
    ("a chain of 5000 additions", "verdict == " + " + ".join(["1"] * 5000)),
    ("a chain of 300 implications", " -> ".join(["accepted"] * 300)),
    ("a property of 100001 characters", "accepted" + " " * 99993),
    ("a literal with a leading zero", "verdict == 010"),
    ("a 5000-digit literal", "verdict == " + "9" * 5000),
    ("a literal beyond 64 bits", f"verdict == {1 << 64}"),
    ("args with a 5000-digit index", "args[" + "9" * 5000 + "] == 0"),
    ("pkt with size 3", "pkt[12:3] == 0"),
    ("pkt with a 0-prefixed size", "pkt[12:02] == 0"),
    ("reaches beyond the program", "reaches(4096)"),
    ("reaches a negative pc", "reaches(-1)"),
    ("an unknown name", "verdikt == 0"),
    ("a type error", "verdict and 3"),
    ("an unterminated string", 'matches("tcp'),
    ("a bad tcpdump expression", 'accepted -> matches("tcp port 99999")'),
    ("an empty property", ""),
    ("a control character", "accepted\x01"),
    ("an empty set", "verdict in {}"),
    ("seccomp names on a socket filter", "nr == execve"),
]:
    case(f"property: {name}", "property", P + [prop], PROG, match="property|port")
case("property file arch unknown", "property", ["prove", "--target", "seccomp", "--arch", "vax", "p.txt",
                                                "nr == execve -> action == KILL_PROCESS"],
     {"p.txt": "ret #0x7fff0000\n"}, match="architecture")
case("audit --check with a bad property", "property", ["seccomp", "audit", "--no-kernel", "p.txt", "--check", "(" * 500],
     {"p.txt": "ret #0x7fff0000\n"}, match="property")


# --- corpus case files --------------------------------------------------------------------------------
def _case(body: str) -> str:
    return 'format = "bpfcheck-case/1"\n' + body


CORPUS = ["corpus", "run", "-q", "--json", "-j", "1", "corpus"]
for name, body, expect in [
    ("a program file escaping the corpus", '[program]\nfile = "../../etc/passwd"\n', "inside the corpus"),
    ("an absolute program file", '[program]\nfile = "/etc/passwd"\n', "inside the corpus"),
    ("a capture escaping the corpus", '[program]\ntext = "ret #0"\n[[pcap]]\nfile = "../x.pcap"\naccepted = 0\n',
     "inside the corpus"),
    ("a program file that is the directory", '[program]\nfile = "."\n', "directory"),
    ("a capture that is the case itself", '[program]\ntext = "ret #0"\n[[pcap]]\nfile = "c.toml"\naccepted = 0\n',
     "not a pcap"),
    ("inline text with k = 2^32", '[program]\ntext = "ret #4294967296"\n', "32 bits"),
    ("a wrong format name", '[program]\ntext = "ret #0"\nformat = "bogus"\n', "unknown format"),
    ("a packet that is not hex", '[program]\ntext = "ret #0"\n[[packets]]\nhex = "zz"\nverdict = 0\n', "hex"),
    ("a negative verdict", '[program]\ntext = "ret #0"\n[[packets]]\nhex = "00"\nverdict = -1\n', "verdict"),
    ("a context field that does not exist",
     '[program]\ntext = "ret #0"\n[[packets]]\nhex = "00"\nverdict = 0\ncontext = { bogus = 1 }\n', "context"),
    ("a context value out of range",
     '[program]\ntext = "ret #0"\n[[packets]]\nhex = "00"\nverdict = 0\ncontext = { ifindex = 99999999999999 }\n',
     "ifindex"),
    ("a syscall number beyond 32 bits",
     'target = "seccomp"\n[program]\ntext = "ret #0x7fff0000"\n[[syscalls]]\nnr = 99999999999999\narch = 1\n'
     'verdict = 0\n', "32-bit"),
    ("an unknown syscall name",
     'target = "seccomp"\n[program]\ntext = "ret #0x7fff0000"\n[[syscalls]]\nnr = "nosuch"\narch = "x86_64"\n'
     'verdict = 0\n', "nosuch"),
    ("a property with a leading zero", '[program]\ntext = "ret #0"\n[[properties]]\nproperty = "verdict == 010"\n',
     "leading zero"),
    ("a property chain of 5000 additions",
     '[program]\ntext = "ret #0"\n[[properties]]\nproperty = "verdict == ' + " + ".join(["1"] * 5000) + '"\n',
     "chained"),
    ("an equivalent partner that does not parse", '[program]\ntext = "ret #0"\n[equivalent]\ntext = "ret #x"\n',
     "after 'ret #'"),
    ("a bad expression", '[program]\nexpr = "tcp port 99999"\n', "port"),
    ("a link type that does not exist", '[program]\nexpr = "tcp"\nlinktype = "NOPE"\n', "link type"),
    ("10000 nested arrays", "x = " + "[" * 10000 + "]" * 10000 + "\n", "nested too deeply"),
    ("2000 nested inline tables", "x = " + "{a=" * 2000 + "1" + "}" * 2000 + "\n", "nested too deeply"),
    ("a duplicate key", 'format = "again"\n', "TOML"),
    ("valid given as a string", 'valid = "no"\n[program]\ntext = "ret #0"\n', "valid"),
    ("an unknown top-level key", 'frobnicate = 1\n[program]\ntext = "ret #0"\n', "unknown keys"),
    ("two program sources", '[program]\ntext = "ret #0"\nexpr = "tcp"\n', "exactly one"),
    ("257 properties", '[program]\ntext = "ret #0"\n' + '[[properties]]\nproperty = "accepted"\n' * 257,
     "at most 256"),
    ("65537 packets", 'packets = [' + '{hex="", verdict=0},' * 65537 + ']\n[program]\ntext = "ret #0"\n',
     "at most 65536"),
]:
    case(f"case file: {name}", "corpus", CORPUS, {"corpus/c.toml": _case(body)}, exit=1, json=True, match=expect)
case("case file: not UTF-8", "corpus", CORPUS, {"corpus/c.toml": b'format = "bpfcheck-case/1"\nname = "\xff"\n'},
     exit=1, json=True, match="UTF-8")
case("case file: over 4 MiB", "corpus", CORPUS,
     {"corpus/c.toml": _case("# " + "x" * (4 * MiB) + "\n[program]\ntext = \"ret #0\"\n")}, exit=1, json=True,
     match="MiB")
case("case file read by cover: bad TOML", "corpus", ["cover", "p.txt", "--case", "c.toml"],
     {"p.txt": "ret #0\n", "c.toml": 'format = "bpfcheck-case/1"\n[program\n'}, match="TOML")
case("case file read by cover: wrong types", "corpus", ["cover", "p.txt", "--case", "c.toml"],
     {"p.txt": "ret #0\n", "c.toml": _case("[program]\ntext = 5\n")}, match="string")

# --- OCI / Docker seccomp profiles --------------------------------------------------------------------
ALLOW = "SCMP_ACT_ALLOW"


def _profile(syscalls=None, **top) -> str:
    doc = {"defaultAction": ALLOW, **top}
    if syscalls is not None:
        doc["syscalls"] = syscalls
    return json.dumps(doc)


def _rule(**kw) -> dict:
    return {"names": ["execve"], "action": "SCMP_ACT_ERRNO", **kw}


OCI = ["seccomp", "compile", "p.json"]
for name, text, expect in [
    ("a million syscall entries (over 8 MiB)",
     '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[' + ",".join(['{"names":["read"],"action":"SCMP_ACT_ERRNO"}']
                                                                 * 1000000) + "]}", "8 MiB"),
    ("20000 distinct rules", _profile([{"names": ["read"], "action": "SCMP_ACT_ERRNO",
                                        "args": [{"index": 0, "op": "SCMP_CMP_EQ", "value": i}]}
                                       for i in range(20000)]), "distinct rules"),
    ("defaultAction of the wrong type", json.dumps({"defaultAction": 5}), "action"),
    ("a list instead of an object", "[1, 2]", "object"),
    ("syscalls as an object", _profile({"a": 1}), "syscalls"),
    ("names as a string", _profile([{"names": "execve", "action": "SCMP_ACT_ERRNO"}]), "names"),
    ("name as a number", _profile([{"name": 5, "action": "SCMP_ACT_ERRNO"}]), "names"),
    ("includes as a list", _profile([_rule(includes=[1])]), "includes"),
    ("includes.arches as a string", _profile([_rule(includes={"arches": "amd64"})]), "arches"),
    ("includes.arches as a number", _profile([_rule(includes={"arches": 5})]), "arches"),
    ("excludes as a string", _profile([_rule(excludes="x")]), "excludes"),
    ("archMap of numbers", _profile(archMap=[1]), "archMap"),
    ("archMap as an object", _profile(archMap={"a": 1}), "archMap"),
    ("subArchitectures as a number",
     _profile(archMap=[{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": 5}]), "subArchitectures"),
    ("architectures as a string", _profile(architectures="SCMP_ARCH_X86"), "architectures"),
    ("an unknown architecture", _profile(architectures=["SCMP_ARCH_VAX"]), "architecture"),
    ("args as an object", _profile([_rule(args={"a": 1})]), "args"),
    ("args as a number", _profile([_rule(args=5)]), "args"),
    ("an argument index of true", _profile([_rule(args=[{"index": True, "op": "SCMP_CMP_EQ", "value": 1}])]), "index"),
    ("an argument index of 6", _profile([_rule(args=[{"index": 6, "op": "SCMP_CMP_EQ", "value": 1}])]), "index"),
    ("an unknown comparison", _profile([_rule(args=[{"index": 0, "op": "SCMP_CMP_XOR", "value": 1}])]), "op"),
    ("a float value", _profile([_rule(args=[{"index": 0, "op": "SCMP_CMP_EQ", "value": 1.5}])]), "64-bit"),
    ("a value of 2^64", _profile([_rule(args=[{"index": 0, "op": "SCMP_CMP_EQ", "value": 1 << 64}])]), "64-bit"),
    ("a negative value", _profile([_rule(args=[{"index": 0, "op": "SCMP_CMP_EQ", "value": -1}])]), "64-bit"),
    ("errnoRet of 70000", _profile([_rule(errnoRet=70000)]), "errnoRet"),
    ("errnoRet NaN", '{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":NaN}', "errnoRet"),
    ("a 5000-digit number", '{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":' + "9" * 5000 + "}", "JSON"),
    ("100000 nested arrays", "[" * 100000 + "]" * 100000, "nested too deeply"),
    ("100000 nested objects", '{"a":' * 100000 + "1" + "}" * 100000, "nested too deeply"),
    ("invalid UTF-8", b'{"defaultAction":"\xff"}', "JSON"),
    ("an empty file", "", "JSON"),
]:
    case(f"OCI profile: {name}", "oci", OCI, {"p.json": text}, match=expect)
case("OCI profile in seccomp explain", "oci", ["seccomp", "explain", "p.json"],
     {"p.json": _profile([_rule(includes=[1])])}, match="includes")
case("OCI profile in seccomp audit", "oci", ["seccomp", "audit", "--no-kernel", "p.json"],
     {"p.json": _profile(archMap=[1])}, match="archMap")


# --- captures -----------------------------------------------------------------------------------------------
def pcap_header(snaplen=262144, linktype=1, magic=0xA1B2C3D4, version=(2, 4)) -> bytes:
    return struct.pack("<IHHiIII", magic, version[0], version[1], 0, 0, snaplen, linktype)


def pcap_record(data: bytes, caplen=None, wirelen=None) -> bytes:
    caplen = len(data) if caplen is None else caplen
    return struct.pack("<IIII", 0, 0, caplen, len(data) if wirelen is None else wirelen) + data


def block(btype: int, body: bytes, length=None) -> bytes:
    body += b"\0" * (-len(body) % 4)
    total = 12 + len(body) if length is None else length
    return struct.pack("<II", btype, total) + body + struct.pack("<I", total)


SHB = block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
IDB = block(1, struct.pack("<HHI", 1, 0, 262144))


def epb(data: bytes, caplen=None, wirelen=None, interface=0) -> bytes:
    caplen = len(data) if caplen is None else caplen
    return block(6, struct.pack("<IIIII", interface, 0, 0, caplen, len(data) if wirelen is None else wirelen) + data)


def sparse_pcap(path: str) -> None:
    """A 2 GiB file (sparse: nothing is stored) whose first record claims
    almost 4 GiB of data."""
    with open(path, "wb") as f:
        f.write(pcap_header() + pcap_record(b"", caplen=0xFFFFFFF0))
        f.truncate(2 << 30)


def sparse_pcapng(path: str) -> None:
    """A 2 GiB sparse pcapng file: one unknown block claims nearly all of it."""
    with open(path, "wb") as f:
        f.write(SHB + IDB + struct.pack("<II", 0xBAD0, 0xFFFFFFFC))
        f.truncate(2 << 30)


RUN = ["run", "f.txt", "--pcap", "c.pcap", "-q"]
FILTER = {"f.txt": "ret #65535\n"}
for name, data, expect in [
    ("a caplen of 0xffffffff", pcap_header() + pcap_record(b"", caplen=0xFFFFFFFF), "larger than the limit"),
    ("a 'negative' caplen (0x80000000)", pcap_header() + pcap_record(b"", caplen=0x80000000), "larger than the limit"),
    ("a caplen just over 256 KiB", pcap_header() + pcap_record(b"", caplen=262145), "larger than the limit"),
    ("a record cut short", pcap_header() + pcap_record(b"x" * 99, caplen=100), "truncated"),
    ("a record header cut short", pcap_header() + b"\0" * 7, "truncated"),
    ("a file header cut short", pcap_header()[:20], "truncated"),
    ("an unknown magic", b"GIF89a" + bytes(40), "not a pcap"),
    ("pcap version 1.0", pcap_header(version=(1, 0)), "version"),
    ("an empty capture", b"", "empty"),
    ("pcapng block length 0xffffffff", SHB + struct.pack("<II", 1, 0xFFFFFFFF), "block"),
    ("pcapng block length below its header", SHB + struct.pack("<III", 0x99, 8, 8), "smaller"),
    ("pcapng packet caplen 0xffffffff", SHB + IDB + epb(b"abcd", caplen=0xFFFFFFFF), "larger than the limit"),
    ("pcapng packet before any interface", SHB + epb(b"abc"), "Interface Description"),
    ("pcapng packet on interface 2^31", SHB + IDB + epb(b"abc", interface=1 << 31), "interface"),
    ("pcapng bad byte-order magic", SHB[:8] + b"\x1a\x2b\x3c\x4e" + SHB[12:], "byte-order"),
]:
    case(f"capture: {name}", "capture", RUN, {**FILTER, "c.pcap": data}, match=expect)
case("capture: a 2 GiB sparse pcap claiming 4 GiB", "capture", RUN, {**FILTER, "c.pcap": sparse_pcap},
     match="larger than the limit")
case("capture: a 2 GiB sparse pcapng with one huge block", "capture", RUN, {**FILTER, "c.pcap": sparse_pcapng},
     match="truncated|larger|end")
case("capture: cover over a hostile capture", "capture", ["cover", "f.txt", "--pcap", "c.pcap"],
     {**FILTER, "c.pcap": pcap_header() + pcap_record(b"", caplen=0xFFFFFFFF)}, match="larger than the limit")
case("capture: --write over a hostile capture", "capture", RUN + ["--write", "out.pcap"],
     {**FILTER, "c.pcap": pcap_header() + pcap_record(b"x" * 20) + pcap_record(b"", caplen=0xFFFFFFFF)},
     match="record 2")

# --- command-line arguments ----------------------------------------------------------------------------------
for name, args, expect in [
    ("a packet that is not hex", ["run", "f.txt", "--packet", "zz"], "hex"),
    ("an unknown context field", ["run", "f.txt", "--packet", "00", "--ctx", "bogus=1"], "ctx"),
    ("a context value of 5000 digits", ["run", "f.txt", "--packet", "00", "--ctx", "mark=" + "9" * 5000], "ctx"),
    ("a seccomp input with 7 arguments",
     ["run", "f.txt", "--target", "seccomp", "--seccomp", "nr=1,args=1:2:3:4:5:6:7"], "6 args"),
    ("a timeout of NaN", ["prove", "f.txt", "accepted", "--timeout", "nan"], "timeout"),
    ("a negative timeout", ["analyze", "f.txt", "--timeout", "-1"], "timeout"),
    ("a timeout of zero in seccomp explain", ["seccomp", "explain", "f.txt", "--timeout", "0"], "timeout"),
    ("a memory cap of 0 MB", ["prove", "f.txt", "accepted", "--max-memory", "0"], "max-memory"),
    ("output into a directory", ["fmt", "f.txt", "--to", "c", "-o", "."], "cannot write"),
    ("output into a missing directory", ["fmt", "f.txt", "--to", "c", "-o", "no/such/dir/x"], "cannot write"),
    ("seccomp compile output into a directory", ["seccomp", "compile", "p.json", "-o", "."], "cannot write"),
    ("JUnit into a directory", ["corpus", "run", "corpus", "--junit", "."], "directory"),
    ("HTML report onto a file", ["corpus", "run", "corpus", "--html", "f.txt"], "not a directory"),
    ("a negative snaplen", ["compile", "tcp", "--snaplen", "-1"], "snaplen"),
    ("a link type of 2^40", ["compile", "tcp", "--linktype", str(1 << 40)], "DLT number"),
    ("a witness in an unknown link type", ["prove", "f.txt", "not accepted", "--linktype", "NOPE", "--witness",
                                           "w.pcap"], "link type"),
    ("a process that does not exist", ["seccomp", "dump", "--pid", "999999999"], "process"),
    ("an unknown subcommand", ["frobnicate"], "invalid choice"),
]:
    case(f"argument: {name}", "arguments", args,
         {**FILTER, "p.json": _profile([]), "corpus/c.toml": _case('[program]\ntext = "ret #0"\n')}, match=expect)
