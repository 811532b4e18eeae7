"""Golden listings made by the real ``tcpdump -y EN10MB -d/-dd/-ddd``.

tests/golden/regenerate.py made them from tests/data/expressions.txt.

libpcap's optimizer sometimes leaves a stale ``k`` on ``tax`` (e.g. for
``ip[2:2] - ((ip[0]&0xf)<<2) > 100``): ``-dd``/``-ddd`` show it, ``-d``
cannot.  So the ``-d`` listing is compared with the *canonical* form of the
program the other two carry, and writing it needs ``canonical=True``.
"""

from __future__ import annotations

import random
import shutil
import subprocess

import pytest

from bpfcheck.errors import FormatError
from bpfcheck.formats import detect, format_program, parse

from fmt_support import first_difference, golden_text, tcpdump_goldens

GOLDENS = tcpdump_goldens()
IDS = [ident for ident, _ in GOLDENS]


def test_every_expression_has_goldens():
    expressions = {expr for _, expr in GOLDENS}
    assert len(expressions) >= 160
    assert any(ident.endswith("-O") for ident in IDS), "no unoptimized listings"


def _tcpdump_listing(program):
    """What ``tcpdump -d`` shows of a program: the canonical listing."""
    try:
        return format_program(program, "tcpdump")
    except FormatError:
        return format_program(program, "tcpdump", canonical=True)


@pytest.mark.parametrize("ident, expr", GOLDENS, ids=IDS)
def test_three_listings_agree(ident, expr):
    d, dd, ddd = (golden_text(ident, s) for s in ("d", "dd", "ddd"))
    from_dd = parse(dd, "c")
    from_ddd = parse(ddd, "ddd")
    assert from_dd == from_ddd, (
        f"{expr!r}: -dd and -ddd differ at {first_difference(from_dd, from_ddd)}")
    from_d = parse(d, "tcpdump")
    canonical = parse(_tcpdump_listing(from_dd), "tcpdump")
    assert from_d == canonical, (
        f"{expr!r}: -d and -dd differ at {first_difference(from_d, canonical)}")
    for text, fmt in ((d, "tcpdump"), (dd, "c"), (ddd, "ddd")):
        assert detect(text) == fmt, f"{expr!r}: tcpdump {fmt} output detected as {detect(text)}"


@pytest.mark.parametrize("ident, expr", GOLDENS, ids=IDS)
def test_writers_reproduce_tcpdump_byte_for_byte(ident, expr):
    program = parse(golden_text(ident, "dd"), "c")
    for suffix, ours in (("d", _tcpdump_listing(program)),
                         ("dd", format_program(program, "c")),
                         ("ddd", format_program(program, "ddd"))):
        theirs = golden_text(ident, suffix)
        if ours != theirs:
            a, b = ours.splitlines(True), theirs.splitlines(True)
            line = next((n for n in range(max(len(a), len(b)))
                         if a[n:n + 1] != b[n:n + 1]), 0)
            # -ddd has the count on its first line; the others start at instruction 0.
            insn = line - 1 if suffix == "ddd" else line
            pytest.fail(f"{expr!r} -{suffix}: instruction {insn} differs: "
                        f"ours {a[line:line + 1]!r}, tcpdump {b[line:line + 1]!r}")


@pytest.mark.parametrize("ident, expr", GOLDENS, ids=IDS)
def test_every_format_round_trips_golden_programs(ident, expr):
    program = parse(golden_text(ident, "dd"), "c")
    for fmt in ("c", "ddd", "xt_bpf", "asm", "tcpdump"):
        try:
            text = format_program(program, fmt)
        except FormatError as exc:
            # Only the stale k on tax that libpcap leaves behind is refused.
            assert program[exc.pc][0] == 0x07, f"{expr!r} {fmt}: {exc}"
            text = format_program(program, fmt, canonical=True)
            back = parse(text)
            assert len(back) == len(program)
            continue
        back = parse(text)
        assert back == program, f"{expr!r} via {fmt}: {first_difference(back, program)}"


_SAMPLE = random.Random(20240601).sample(GOLDENS, 12)


@pytest.mark.skipif(shutil.which("tcpdump") is None, reason="tcpdump is not installed")
@pytest.mark.parametrize("ident, expr", _SAMPLE, ids=[i for i, _ in _SAMPLE])
def test_live_tcpdump_agrees(ident, expr):
    """Run the installed tcpdump now: our writers must print what it prints."""
    unoptimized = ["-O"] if ident.endswith("-O") else []
    out = {}
    for flag in ("-d", "-dd", "-ddd"):
        done = subprocess.run(["tcpdump", "-y", "EN10MB", flag, *unoptimized, "--", expr],
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, f"tcpdump {flag} {expr!r}: {done.stderr}"
        out[flag] = done.stdout
    program = parse(out["-dd"], "c")
    assert parse(out["-ddd"], "ddd") == program, expr
    assert _tcpdump_listing(program) == out["-d"], f"{expr!r}: -d differs from ours"
    assert format_program(program, "c") == out["-dd"], f"{expr!r}: -dd differs from ours"
    assert format_program(program, "ddd") == out["-ddd"], f"{expr!r}: -ddd differs from ours"
