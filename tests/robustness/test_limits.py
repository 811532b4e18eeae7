"""Issue 8, point 2: limits.  Programs over 4,096 instructions, constants
beyond 32 bits, multi-megabyte files, deeply nested properties, captures of
gigabytes (streamed, never loaded whole): a clear error or bounded work,
never a hang or a memory blow-up.  Solver time and memory caps give
``unknown`` with the reason (exit code 3).

The command-line side of most of these is in the hostile-input table
(:mod:`robust_hostile`, categories ``size``, ``constants``, ``property``,
``capture``); here they are checked at the library level, closer to the
limit, and for the cases the table cannot hold (a FIFO of gigabytes,
memory use, the solver's caps).
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import threading
import time

import pytest

from bpfcheck.corpus.case import CaseError, MAX_CASE_FILE, MAX_ENTRIES, parse_case
from bpfcheck.errors import ParseError, ValidationError
from bpfcheck.formats import FORMATS, MAX_TEXT, parse
from bpfcheck.loading import MAX_PROGRAM_FILE, program_from_bytes
from bpfcheck.program import Program
from bpfcheck.properties import PropertyError, parse_property
from bpfcheck.properties.parser import MAX_DEPTH, MAX_LENGTH
from bpfcheck.validate import validate
from conftest import bpfcheck_env

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
RET = (0x06, 0, 0, 0x40000)
U32 = 1 << 32


def _timed(fn, *args, seconds: float):
    started = time.monotonic()
    try:
        return fn(*args)
    finally:
        took = time.monotonic() - started
        assert took < seconds, f"{fn.__name__} took {took:.1f} s (limit {seconds} s)"


# --- programs over 4096 instructions ---------------------------------------------------------
@pytest.mark.parametrize("fmt", FORMATS + ("raw",))
@pytest.mark.parametrize("n", [4097, 16000])
def test_a_program_over_4096_instructions_reads_and_is_refused_by_every_target(fmt, n):
    program = Program([RET] * n)
    data = program.to_bytes() if fmt == "raw" else program.format(fmt).encode()
    read = _timed(program_from_bytes, data, None if fmt != "raw" else "raw", seconds=5)
    assert read == program
    for target in ("socket", "seccomp"):          # libpcap's bpf_validate has no length limit
        with pytest.raises(ValidationError) as e:
            validate(read, target)
        assert e.value.pc is None and str(n) in e.value.reason and "4096" in e.value.reason


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_text_past_the_size_limit_is_refused_before_parsing(fmt):
    """A listing past MAX_TEXT is no program any target takes: refused at
    once (naming the line where the limit falls), not parsed for seconds."""
    one = Program([RET]).format(fmt)
    body = Program([RET] * 4096).format(fmt)
    assert len(body) < MAX_TEXT // 2, "the limit leaves room for the longest real listing"
    big = ("; " + "x" * 200 + "\n") * (MAX_TEXT // 200) + one if fmt == "asm" else \
        Program([RET] * (MAX_TEXT // 6)).format(fmt)
    assert len(big) > MAX_TEXT
    with pytest.raises(ParseError) as e:
        _timed(parse, big, fmt, seconds=1)
    assert e.value.line == big.count("\n", 0, MAX_TEXT) + 1 and "KiB" in str(e.value)


def test_program_files_are_read_only_up_to_their_limit():
    """A program file is read with a bound: /dev/zero would never end."""
    from bpfcheck.loading import read_source
    with pytest.raises(ParseError, match=f"{MAX_PROGRAM_FILE >> 20} MiB"):
        _timed(read_source, "/dev/zero", seconds=2)


# --- constants beyond their fields ------------------------------------------------------------
def _with_field(fmt: str, code=0x15, jt=0, jf=0, k=1) -> str:
    """A three-instruction program whose second instruction carries the
    given fields, written in ``fmt`` by hand (the writers refuse bad values)."""
    rows = [(0x28, 0, 0, 12), (code, jt, jf, k), (0x06, 0, 0, 0)]
    if fmt == "c":
        return "".join(f"{{ {c:#x}, {a}, {b}, {d:#x} }},\n" for c, a, b, d in rows)
    if fmt == "ddd":
        return "3\n" + "".join(f"{c} {a} {b} {d}\n" for c, a, b, d in rows)
    if fmt == "xt_bpf":
        return "3," + ",".join(f"{c} {a} {b} {d}" for c, a, b, d in rows) + "\n"
    if fmt == "tcpdump":
        return f"(000) ldh      [12]\n(001) ld       #{k:#x}\n(002) ret      #0\n"
    return f"ldh [12]\nld #{k}\nret #0\n"


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("k", [U32, U32 + 5, 1 << 64, 10 ** 40, 10 ** 4000])
def test_a_constant_beyond_32_bits_names_its_line(fmt, k):
    text = _with_field(fmt, code=0x00, k=k)
    with pytest.raises(ParseError) as e:
        _timed(parse, text, fmt, seconds=1)
    line = 2 if fmt != "ddd" else 3
    if fmt == "xt_bpf":
        line = 1
    assert e.value.line == line, (text[:200], e.value)


@pytest.mark.parametrize("fmt", ["c", "ddd", "xt_bpf"])
@pytest.mark.parametrize("field, value", [("code", 1 << 16), ("jt", 256), ("jf", 1 << 40)])
def test_a_field_beyond_its_width_names_its_line(fmt, field, value):
    text = _with_field(fmt, **{field: value})
    with pytest.raises(ParseError) as e:
        parse(text, fmt)
    assert e.value.line == {"c": 2, "ddd": 3, "xt_bpf": 1}[fmt], e.value


def test_the_largest_values_still_read():
    """The limits are exact: 2**32-1, 255 and 65535 are fine."""
    for fmt in ("c", "ddd", "xt_bpf"):
        assert parse(_with_field(fmt, code=0xFFFF, jt=255, jf=255, k=U32 - 1), fmt)[1] == (0xFFFF, 255, 255, U32 - 1)
    for fmt in ("tcpdump", "asm"):
        assert parse(_with_field(fmt, code=0x00, k=U32 - 1), fmt)[1] == (0x00, 0, 0, U32 - 1)


# --- deeply nested properties -----------------------------------------------------------------
@pytest.mark.parametrize("shape", [
    lambda n: "(" * n + "accepted" + ")" * n,
    lambda n: "not " * n + "accepted",
    lambda n: "~" * n + "verdict == 0",
    lambda n: "verdict == " + "(1 + " * n + "1" + ")" * n,
    lambda n: "verdict in {" * n,
    lambda n: "pkt[" * n + "0" + "]" * n + " == 0",
    lambda n: " -> ".join(["accepted"] * n),
    lambda n: " or ".join(["accepted"] * n),
], ids=["parentheses", "nots", "complements", "nested sums", "sets", "packet indices", "implications", "ors"])
@pytest.mark.parametrize("n", [MAX_DEPTH + 1, 5000, (MAX_LENGTH - 20) // 12])
def test_deep_properties_are_refused_without_recursion_errors(shape, n):
    text = shape(n)
    try:
        tree = _timed(parse_property, text, seconds=2)
    except PropertyError as e:
        assert e.line == 1 and "\n" not in str(e)
        return
    # A flat chain short enough is a property; the prover must take it too.
    assert tree is not None and n <= MAX_DEPTH + 1, text[:80]


def test_a_property_longer_than_the_limit_is_refused_at_once():
    with pytest.raises(PropertyError, match="characters long"):
        _timed(parse_property, "(" * (10 * MAX_LENGTH), seconds=0.5)


def test_deep_properties_in_a_case_file(tmp_path):
    from bpfcheck.corpus.runner import run_case
    deep = "(" * 30000 + "accepted" + ")" * 30000
    path = tmp_path / "deep.toml"
    path.write_text(f'format = "bpfcheck-case/1"\n[program]\ntext = "ret #0"\n[[properties]]\n'
                    f'property = "{deep}"\n')
    result = _timed(run_case, str(path), seconds=5)
    assert result.status == "error"
    (check,) = [c for c in result.checks if c.kind == "property"]
    assert check.status == "error" and "nested more than" in str(check.got)


# --- case files -----------------------------------------------------------------------------------
CASE_HEAD = ('format = "bpfcheck-case/1"\n[program]\n'
             'text = "ldh [12]\\njeq #0x800, ok, drop\\nok: ret #65535\\ndrop: ret #0"\n')


@pytest.mark.parametrize("key, row", [
    ("packets", '[[packets]]\nhex = "00"\nverdict = 0\n'),
    ("properties", '[[properties]]\nproperty = "verdict in {{0, 65535, {i}}}"\n'),
])
def test_a_case_with_too_many_entries_is_refused_before_any_work(key, row):
    """Entries are work (a run each, a solver question each): a case file
    under the size limit may still hold more than is reasonable; it is
    refused, not replayed for minutes."""
    n = MAX_ENTRIES[key] + 1
    text = CASE_HEAD + "".join(row.format(i=i) for i in range(n))
    assert len(text) < MAX_CASE_FILE
    with pytest.raises(CaseError, match=f"{n} \\[\\[{key}\\]\\] entries"):
        _timed(parse_case, text, "many.toml", seconds=5)
    ok = CASE_HEAD + "".join(row.format(i=i) for i in range(min(n - 1, 300)))
    assert parse_case(ok, "ok.toml")


def test_a_case_file_near_the_size_limit_is_bounded_work(tmp_path):
    """3.9 MB of comments and one packet: read in bounded time."""
    from bpfcheck.corpus.case import load_case
    path = tmp_path / "big.toml"
    path.write_text(CASE_HEAD + ("# " + "x" * 1000 + "\n") * (MAX_CASE_FILE // 1010) +
                    '[[packets]]\nhex = "00"\nverdict = 0\n')
    case = _timed(load_case, str(path), seconds=5)
    assert len(case.packets) == 1


# --- captures of gigabytes ------------------------------------------------------------------------
RECORD = 256 * 1024            # libpcap's largest snaplen: the biggest honest record
FILTER = "ldh [12]\njneq #0x800, drop\nret #65535\ndrop: ret #0\n"


def _feed_fifo(path: str, records: int) -> threading.Thread:
    """A capture of ``records`` 256 KiB IPv4 frames written into a FIFO
    (nothing on disk: gigabytes cost only the time to pipe them)."""
    def feed():
        frame = (b"\xff" * 12 + b"\x08\x00").ljust(RECORD, b"\0")
        one = struct.pack("<IIII", 0, 0, RECORD, RECORD) + frame
        try:
            with open(path, "wb") as f:
                f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
                for _ in range(records // 16):
                    f.write(one * 16)
                for _ in range(records % 16):
                    f.write(one)
        except BrokenPipeError:
            pass
    t = threading.Thread(target=feed, daemon=True)
    t.start()
    return t


def _run_measured(args, cwd):
    """(exit code, stdout, peak RSS in MiB) of ``bpfcheck ARGS``."""
    proc = subprocess.Popen([sys.executable, "-m", "bpfcheck", *args], cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=bpfcheck_env())
    out = []
    reader = threading.Thread(target=lambda: out.append(proc.stdout.read()), daemon=True)
    reader.start()
    deadline = time.monotonic() + 120
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"bpfcheck {' '.join(args)} did not end within 120 s")
        time.sleep(0.05)
    proc.returncode = os.waitstatus_to_exitcode(status)
    reader.join(10)
    err = proc.stderr.read().decode()
    assert proc.returncode in (0, 1), err
    return proc.returncode, out[0].decode(), usage.ru_maxrss / 1024


@pytest.mark.parametrize("command, gib", [
    (["run", "f.asm", "--pcap", "c.pcap", "-q", "--json"], 2),
    (["cover", "f.asm", "--pcap", "c.pcap"], 0.5),
    (["diff", "f.asm", "--against", "pcap", "--pcap", "c.pcap", "--json"], 0.5),
], ids=["run", "cover", "diff"])
def test_a_capture_of_gigabytes_is_streamed_in_bounded_memory(tmp_path, command, gib):
    (tmp_path / "f.asm").write_text(FILTER)
    fifo = str(tmp_path / "c.pcap")
    records = int(gib * (1 << 30)) // RECORD
    # the same command on a one-record capture: what it needs anyway
    os.mkfifo(fifo)
    feeder = _feed_fifo(fifo, 1)
    _, _, baseline = _run_measured(command, str(tmp_path))
    feeder.join(10)
    os.unlink(fifo)
    os.mkfifo(fifo)
    feeder = _feed_fifo(fifo, records)
    started = time.monotonic()
    code, out, peak = _run_measured(command, str(tmp_path))
    seconds = time.monotonic() - started
    feeder.join(10)
    if "--json" in command:
        doc = json.loads(out)
        assert doc.get("packets", doc.get("inputs")) == records, doc
    else:
        assert f"{records} inputs" in out, out
    assert peak < baseline + 96, (f"{gib} GiB streamed with a peak of {peak:.0f} MiB "
                                  f"(a one-record capture needs {baseline:.0f} MiB)")
    assert seconds < 60


# --- solver caps --------------------------------------------------------------------------------
def _shift_and_add() -> str:
    """pkt[0:2] * pkt[2:2] computed by shift-and-add: proving it equal to a
    ``mul`` is a multiplier-equivalence question, hard for any SAT solver."""
    lines = ["ldh [0]", "st M[1]", "ldh [2]", "st M[2]", "ld #0", "st M[0]"]
    for i in range(16):
        lines += ["ld M[2]", f"jset #{1 << i}, a{i}, s{i}", f"a{i}: ld M[1]", f"lsh #{i}", "tax", "ld M[0]",
                  "add x", "st M[0]", f"s{i}: ld M[0]"]
    return "\n".join(lines) + "\n"


MITER = _shift_and_add() + "ld M[1]\ntax\nld M[2]\nmul x\ntax\nld M[0]\njeq x, good, bad\ngood: ret #1\nbad: ret #2\n"
SHIFT_ADD = _shift_and_add() + "ret a\n"
MUL = "ldh [0]\ntax\nldh [2]\nmul x\nret a\n"


@pytest.fixture
def hard(tmp_path):
    for name, text in (("miter.asm", MITER), ("shiftadd.asm", SHIFT_ADD), ("mul.asm", MUL)):
        (tmp_path / name).write_text(text)
    return tmp_path


CAPPED = [
    (["prove", "miter.asm", "verdict != 2"], "--timeout", "0.5", "out of time"),
    (["equiv", "shiftadd.asm", "mul.asm"], "--timeout", "0.5", "out of time"),
    (["analyze", "miter.asm"], "--timeout", "0.3", "out of time"),
    (["prove", "miter.asm", "verdict != 2"], "--max-memory", "1", "out of memory"),
    (["equiv", "shiftadd.asm", "mul.asm"], "--max-memory", "1", "out of memory"),
    (["analyze", "miter.asm"], "--max-memory", "1", "out of memory"),
]


@pytest.mark.parametrize("args, flag, value, why", CAPPED,
                         ids=[f"{a[0]} {f}" for a, f, _, _ in CAPPED])
def test_a_solver_cap_gives_unknown_with_the_reason(hard, args, flag, value, why):
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "bpfcheck", *args, flag, value, "--json"], cwd=hard,
                          capture_output=True, text=True, env=bpfcheck_env(), timeout=60)
    seconds = time.monotonic() - started
    assert done.returncode == 3, (done.stdout[-500:], done.stderr[-500:])
    doc = json.loads(done.stdout)
    assert doc["status"] == "unknown", doc
    reasons = [doc.get("reason")] + [u["reason"] for u in doc.get("unknown", [])] + \
        [doc.get("verdicts", {}).get("reason")]
    assert any(r and why in r for r in reasons), doc
    assert "Traceback" not in done.stderr
    assert seconds < 30
    if flag == "--timeout":
        return                   # the text form is checked on the quick (memory) runs
    text = subprocess.run([sys.executable, "-m", "bpfcheck", *args, flag, value], cwd=hard, capture_output=True,
                          text=True, env=bpfcheck_env(), timeout=60)
    assert text.returncode == 3 and why in text.stdout + text.stderr, (text.stdout, text.stderr)


def test_without_a_cap_the_easy_questions_are_still_answered(hard):
    """The caps are what makes the answer unknown, not the programs: the
    same programs with an easy question are decided under the same caps."""
    done = subprocess.run([sys.executable, "-m", "bpfcheck", "prove", "miter.asm", "verdict <= 2", "--timeout",
                           "5", "--max-memory", "512", "--json"], cwd=hard, capture_output=True, text=True,
                          env=bpfcheck_env(), timeout=60)
    assert done.returncode == 0 and json.loads(done.stdout)["status"] == "proved", done.stdout
