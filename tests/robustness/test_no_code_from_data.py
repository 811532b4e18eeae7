"""Issue 8, point 5: nothing is executed from data.  No eval, no pickle;
the HTML report escapes everything that came from an input; the pcap
reader bounds every length field.

* a scan of bpfcheck's source: no ``eval``, no unpickling or unmarshalling,
  no shell; ``compile``/``exec`` only where marked ``# generated-code:``
  (the fast path, whose source is built from integers and fixed templates
  -- checked here on generated programs);
* behaviour: programs, properties, case files, profiles and file names
  that are Python or shell code are refused or treated as data, with
  ``eval`` and the unpicklers booby-trapped and a canary file that any
  execution would create;
* the HTML report with a hostile comment, expression and file name parsed
  as HTML: no element or attribute from the input (tests/report
  test_report_escaping.py checks case names, labels, properties,
  provenance and JUnit);
* every length field of a capture bounded, measured with tracemalloc.

multiprocessing's pipes pickle objects between bpfcheck's own processes
(workers it forked); nothing read from a file or a socket is unpickled.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import html.parser
import io
import keyword
import os
import re
import pickle
import struct
import tokenize
import tracemalloc
import types

import pytest
from hypothesis import HealthCheck, given, settings

from robust_hostile import IDB, SHB, block, pcap_header
from hypothesis import strategies as st

import bpfcheck
from bpfcheck.cli import main
from bpfcheck.errors import BpfcheckError
from bpfcheck.pcapio import CaptureError, read_packets

PACKAGE = os.path.dirname(bpfcheck.__file__)
MARKER = "# generated-code:"

#: imports that turn bytes into code or objects
FORBIDDEN_MODULES = {"pickle", "cPickle", "_pickle", "marshal", "shelve", "dill", "cloudpickle", "jsonpickle",
                     "yaml", "code", "codeop", "runpy"}
#: calls that run data: builtins, and attributes by module
FORBIDDEN_CALLS = {"eval", "exec", "compile", "__import__", "execfile", "input"}
FORBIDDEN_ATTRIBUTES = {("os", "system"), ("os", "popen"), ("os", "execv"), ("os", "execvp"), ("os", "execl"),
                        ("os", "execlp"), ("os", "spawnv"), ("subprocess", "getoutput"),
                        ("subprocess", "getstatusoutput")}
#: dynamic imports of names from fixed tables, each reviewed
DYNAMIC_IMPORTS = {"_lazy.py", os.path.join("cli", "__init__.py"), os.path.join("strategies", "invalid.py")}


def _sources():
    for directory, _, files in os.walk(PACKAGE):
        for name in sorted(files):
            if name.endswith(".py"):
                path = os.path.join(directory, name)
                with open(path, encoding="utf-8") as f:
                    yield os.path.relpath(path, PACKAGE), f.read()


def test_no_code_is_run_from_data_in_the_source():
    problems, dynamic = [], set()
    for rel, source in _sources():
        lines = source.splitlines()
        for node in ast.walk(ast.parse(source)):
            where = f"{rel}:{getattr(node, 'lineno', '?')}"
            if isinstance(node, ast.Import):
                problems += [f"{where}: import {a.name}" for a in node.names
                             if a.name.split(".")[0] in FORBIDDEN_MODULES]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                if node.module.split(".")[0] in FORBIDDEN_MODULES:
                    problems.append(f"{where}: from {node.module} import ...")
            elif isinstance(node, ast.Call):
                func = node.func
                if isinstance(func, ast.Name) and func.id in FORBIDDEN_CALLS:
                    # compile/exec of generated code: marked on the exec line
                    marked = func.id in ("compile", "exec") and MARKER in source and (
                        func.id == "compile" or MARKER in lines[node.lineno - 1])
                    if not marked:
                        problems.append(f"{where}: {func.id}(...)")
                elif isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
                    if (func.value.id, func.attr) in FORBIDDEN_ATTRIBUTES:
                        problems.append(f"{where}: {func.value.id}.{func.attr}(...)")
                    if func.attr == "import_module":
                        dynamic.add(rel)
                    if func.attr in ("load", "loads") and func.value.id in FORBIDDEN_MODULES:
                        problems.append(f"{where}: {func.value.id}.{func.attr}(...)")
                for kw in node.keywords:
                    if kw.arg == "shell" and not (isinstance(kw.value, ast.Constant) and kw.value.value is False):
                        problems.append(f"{where}: a shell")
    assert not problems, "\n".join(problems)
    assert dynamic <= DYNAMIC_IMPORTS, f"new dynamic imports to review: {sorted(dynamic - DYNAMIC_IMPORTS)}"


def test_the_scan_would_see_what_it_forbids(tmp_path):
    """The scanner on a module that does each forbidden thing."""
    bad = ("import pickle\nfrom marshal import loads\nx = eval('1')\nexec('y = 1')\n"
           "import os\nos.system('true')\nimport subprocess\nsubprocess.run('true', shell=True)\n")
    found = []
    for node in ast.walk(ast.parse(bad)):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name in FORBIDDEN_MODULES]
        elif isinstance(node, ast.ImportFrom) and node.module in FORBIDDEN_MODULES:
            found.append(node.module)
        elif isinstance(node, ast.Call):
            if isinstance(node.func, ast.Name) and node.func.id in FORBIDDEN_CALLS:
                found.append(node.func.id)
            elif isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name) and \
                    (node.func.value.id, node.func.attr) in FORBIDDEN_ATTRIBUTES:
                found.append("os.system")
            found += ["shell" for kw in node.keywords if kw.arg == "shell"]
    assert sorted(found) == sorted(["pickle", "marshal", "eval", "exec", "os.system", "shell"])


# --- generated code is built from integers only ----------------------------------------------------
#: builtins generated code could misuse if it ever named them
DANGEROUS = set(dir(builtins)) - {"len"}


@settings(max_examples=60, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_generated_code_holds_no_text_from_the_program(data):
    """Whatever a program holds, the fast path's source is numbers,
    operators, fixed helper names and keywords: no string literal, no name
    a program could choose; and it runs with no builtins but ``len``."""
    from bpfcheck.fast.compiled import _namespace, compile_program
    from bpfcheck.strategies import programs
    target = data.draw(st.sampled_from(["socket", "seccomp", "pcap"]))
    program = data.draw(programs(target=target, max_len=24))
    compiled = compile_program(program, target)
    if compiled.source is None:
        return
    helpers = set(_namespace())
    previous = None
    for tok in tokenize.generate_tokens(io.StringIO(compiled.source).readline):
        assert tok.type != tokenize.STRING, (tok, compiled.source)
        if tok.type == tokenize.NAME and not (previous is not None and previous.string == "."):
            name = tok.string
            assert keyword.iskeyword(name) or name in helpers or (
                re.fullmatch(r"_?[a-z]{1,6}[0-9]*", name) and name not in DANGEROUS), (name, compiled.source)
        previous = tok
    assert _namespace()["__builtins__"] == {"len": len}


# --- behaviour: data that is code stays data ----------------------------------------------------------
CANARY = "bpfcheck-canary"


def _source_of(arg) -> str:
    if isinstance(arg, types.CodeType):
        return " ".join([arg.co_filename] + [_source_of(c) for c in arg.co_consts])
    return repr(arg)


@pytest.fixture
def trapped(tmp_path, monkeypatch):
    """eval, exec and compile raise if the payloads below (each naming
    the canary) reach them, the unpicklers if anything does; the canary is
    a file any executed payload would create.  (The standard library's own
    eval and exec -- namedtuple, dataclasses -- go through untouched.)"""
    def guard(real):
        def guarded(*args, **kwargs):
            if any(CANARY in _source_of(a) for a in args):
                raise AssertionError(f"data reached {real.__name__}: {args[0]!r:.200}")
            return real(*args, **kwargs)
        return guarded

    def unpickle(*args, **kwargs):
        raise AssertionError("something was unpickled")
    for name in ("eval", "exec", "compile"):
        monkeypatch.setattr(builtins, name, guard(getattr(builtins, name)))
    # (marshal is left alone: the import system reads .pyc files with it)
    for name in ("loads", "load", "Unpickler"):
        monkeypatch.setattr(pickle, name, unpickle)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _payloads(canary: str):
    return [f"__import__('os').system('touch {canary}')",
            f"$(touch {canary})", f"`touch {canary}`", f"; touch {canary} #",
            f"{{{{ __import__('os').system('touch {canary}') }}}}",
            f"\" + __import__('os').system('touch {canary}') + \""]


def _cli(argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def test_programs_properties_and_expressions_that_are_code_stay_data(trapped):
    canary = str(trapped / CANARY)
    (trapped / "f.asm").write_text("ldh [12]\njeq #0x800, ok, drop\nok: ret #65535\ndrop: ret #0\n")
    runs = []
    for payload in _payloads(canary):
        (trapped / "p.txt").write_text(payload + "\n")
        runs.append(["validate", "p.txt"])
        runs.append(["prove", "f.asm", payload])
        runs.append(["prove", "f.asm", f'accepted -> matches("{payload}")'])
        runs.append(["compile", payload])
        runs.append(["run", "f.asm", "--pcap", payload])
        runs.append(["run", "f.asm", "--packet", payload])
        runs.append(["validate", payload])
    for argv in runs:
        code, out, err = _cli(argv)
        assert code in (1, 2), (argv, code, out, err)
        assert "internal error" not in err, (argv, err)
    assert not os.path.exists(canary)


def test_case_files_and_profiles_that_are_code_stay_data(trapped):
    canary = str(trapped / CANARY)
    corpus = trapped / "corpus"
    corpus.mkdir()
    for i, payload in enumerate(_payloads(canary)):
        quoted = payload.replace("\\", "\\\\").replace('"', '\\"')
        (corpus / f"c{i}.toml").write_text(
            f'format = "bpfcheck-case/1"\nname = "{quoted}"\ndescription = "{quoted}"\n'
            f'[program]\nexpr = "tcp and {quoted}"\n[[properties]]\nproperty = "{quoted}"\n'
            f'[provenance]\nlink = "{quoted}"\nnote = "{quoted}"\n')
        (corpus / f"f{i}.toml").write_text(f'format = "bpfcheck-case/1"\n[program]\nfile = "{quoted}"\n')
        (trapped / f"p{i}.json").write_text(
            '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["%s"], "action": "%s"}]}'
            % (quoted, quoted))
        code, out, err = _cli(["seccomp", "compile", f"p{i}.json"])
        assert code == 2 and "internal error" not in err, (out, err)
    code, out, err = _cli(["corpus", "run", str(corpus), "-j", "1", "-q", "--html", str(trapped / "report")])
    assert code == 1 and "internal error" not in err, err
    assert not os.path.exists(canary)


# --- the HTML report ---------------------------------------------------------------------------------
EVIL = "<script>alert(1)</script>"
ATTR = "\"'><img src=x onerror=alert(2)>"

#: every tag the report itself writes
REPORT_TAGS = {"html", "head", "meta", "title", "style", "body", "header", "main", "section", "footer", "nav",
               "h1", "h2", "h3", "h4", "p", "a", "table", "thead", "tbody", "tr", "th", "td", "ul", "ol", "li",
               "pre", "code", "span", "div", "details", "summary", "svg", "g", "path", "rect", "text", "line",
               "polygon", "circle", "title", "defs", "marker", "tspan", "small", "strong", "em", "b", "i",
               "br", "hr", "dl", "dt", "dd", "polyline", "ellipse", "caption", "colgroup", "col", "abbr", "kbd",
               "figure", "figcaption", "time", "mark", "sup", "sub", "label", "input", "button", "svg:title"}


class _Collector(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags, self.attrs = set(), []

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.attrs += [(tag, k, v or "") for k, v in attrs]


def test_the_report_escapes_a_hostile_comment_expression_and_file_name(tmp_path):
    corpus = tmp_path / "corpus"
    programs = corpus / "programs"
    programs.mkdir(parents=True)
    hostile_name = f"{ATTR}{EVIL}.asm".replace("/", "")
    (programs / hostile_name).write_text(f"; {EVIL} {ATTR}\nldh [12] /* {EVIL} */\n"
                                         f"jeq #0x800, ok, drop ; {ATTR}\nok: ret #65535\ndrop: ret #0\n")
    quoted = hostile_name.replace("\\", "\\\\").replace('"', '\\"')
    (corpus / f"{ATTR}.toml".replace("/", "")).write_text(
        f'format = "bpfcheck-case/1"\n[program]\nfile = "programs/{quoted}"\n'
        f'[[packets]]\nhex = "000000000000000000000000080045"\nverdict = 1\n')
    evil_expr = f"tcp port 80 and {EVIL}".replace('"', "")
    (corpus / "expr.toml").write_text(f'format = "bpfcheck-case/1"\n[program]\nexpr = "{evil_expr}"\n')
    (corpus / "text.toml").write_text(
        'format = "bpfcheck-case/1"\n[program]\ntext = """\n'
        f'; {EVIL}\nret #0 ; {ATTR}\n"""\n[[properties]]\nproperty = "not accepted"\n')
    out = tmp_path / "report"
    code, _, err = _cli(["corpus", "run", str(corpus), "--html", str(out), "-j", "1", "-q"])
    assert code == 1, err
    pages = {}
    for directory, _, files in os.walk(out):
        for f in files:
            if f.endswith(".html"):
                with open(os.path.join(directory, f), encoding="utf-8") as fh:
                    pages[f] = fh.read()
    assert len(pages) == 4, sorted(pages)
    for name, page in pages.items():
        collector = _Collector()
        collector.feed(page)
        assert collector.tags <= REPORT_TAGS, (name, collector.tags - REPORT_TAGS)
        for tag, attr, value in collector.attrs:
            # hostile text may be an attribute's value (a label, a title): it
            # is data there; it must never become an attribute or a link
            assert not attr.startswith("on"), (name, tag, attr, value)
            if attr in ("href", "src", "action", "xlink:href", "formaction"):
                assert not value.lower().lstrip().startswith(("javascript:", "http:", "https:", "//", "data:")), \
                    (name, tag, attr, value)
    text = "\n".join(pages.values())
    assert "&lt;script&gt;" in text        # the hostile text is shown, as text
    assert "tcp port 80 and &lt;script&gt;" in text


# --- captures: every length field bounded ----------------------------------------------------------------
PCAP = pcap_header()
BIG = 0xFFFFFFF0


class _Stream(io.RawIOBase):
    """A pipe-like stream: ``head``, then ``zeros`` zero bytes (``None``:
    for ever, a producer that never stops), then ``tail``.  Nothing of it
    is held in memory: a reader that trusts a length reads on."""

    def __init__(self, head: bytes, zeros=None, tail: bytes = b""):
        self.head, self.zeros, self.tail, self.pos = head, zeros, tail, 0

    def readable(self):
        return True

    def readinto(self, buffer):
        n, out = len(buffer), bytearray()
        while len(out) < n:
            pos = self.pos + len(out)
            if pos < len(self.head):
                out += self.head[pos:pos + n - len(out)]
            elif self.zeros is None or pos < len(self.head) + self.zeros:
                left = n - len(out) if self.zeros is None else min(n - len(out), len(self.head) + self.zeros - pos)
                out += bytes(left)
            else:
                rest = self.tail[pos - len(self.head) - self.zeros:][:n - len(out)]
                if not rest:
                    break
                out += rest
        buffer[:len(out)] = out
        self.pos += len(out)
        return len(out)


LENGTHS = {
    "pcap caplen": PCAP + struct.pack("<IIII", 0, 0, BIG, BIG),
    "pcap caplen over snaplen": PCAP + struct.pack("<IIII", 0, 0, 262145, 262145),
    "pcapng block length": SHB + struct.pack("<II", 0xBAD0, BIG),
    "pcapng section header length": struct.pack("<II", 0x0A0D0D0A, BIG) + struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1),
    "pcapng packet caplen": SHB + IDB + block(6, struct.pack("<IIIII", 0, 0, 0, BIG, BIG) + b"abcd"),
    "pcapng simple packet length": SHB + IDB + block(3, struct.pack("<I", BIG) + b"abcd"),
    "pcapng option length": SHB + block(1, struct.pack("<HHI", 1, 0, 262144) + struct.pack("<HH", 9, 0xFFF0)),
    "pcapng trailing length": SHB + IDB + struct.pack("<II", 6, 40) + bytes(28) + struct.pack("<I", 44),
}


def _peak(fn):
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


#: an unknown block is skipped, not refused (pcapng allows any size): from a
#: pipe that never ends it is read through for ever, in bounded memory (the
#: next test); from a file its length is checked against the file's
SKIPPED_NOT_REFUSED = {"pcapng block length"}


@pytest.mark.parametrize("data, stream", [(data, stream) for name, data in LENGTHS.items()
                                          for stream in ("bytes", "endless pipe")
                                          if not (stream == "endless pipe" and name in SKIPPED_NOT_REFUSED)],
                         ids=[f"{name}, {stream}" for name in LENGTHS for stream in ("bytes", "endless pipe")
                              if not (stream == "endless pipe" and name in SKIPPED_NOT_REFUSED)])
def test_every_length_field_is_bounded(data, stream):
    """A length field beyond what a capture may hold is an error at once,
    from a file or from a pipe that would go on for ever: never an
    allocation of that size, never a read of that many bytes."""
    source = io.BytesIO(data) if stream == "bytes" else io.BufferedReader(_Stream(data))

    def read():
        with pytest.raises(CaptureError) as e:
            for _ in read_packets(source):
                pass
        assert "\n" not in str(e.value) and isinstance(e.value, BpfcheckError)
    peak = _peak(read)
    assert peak < 16 << 20, f"{peak >> 20} MiB allocated for a length field"


def test_a_huge_unknown_block_is_skipped_in_bounded_memory():
    """pcapng lets unknown blocks be any size: a reader skips them.  From a
    pipe that means reading through them, a piece at a time."""
    size = 64 << 20
    head = SHB + struct.pack("<II", 0xBAD0, size + 12)
    tail = struct.pack("<I", size + 12) + IDB + block(6, struct.pack("<IIIII", 0, 0, 0, 4, 4) + b"abcd")
    records = []
    peak = _peak(lambda: records.extend(read_packets(io.BufferedReader(_Stream(head, size, tail)))))
    assert [r.data for r in records] == [b"abcd"]
    assert peak < 16 << 20, f"{peak >> 20} MiB held to skip a {size >> 20} MiB block"
