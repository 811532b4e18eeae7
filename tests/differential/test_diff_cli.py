"""``bpfcheck diff``: exit codes, text and JSON, captures and generated inputs."""

from __future__ import annotations

import json

import pytest

from bpfcheck.cli import main
from bpfcheck.differential.inputs import drawn_inputs, generated_inputs
from bpfcheck.pcapio import PcapWriter
from bpfcheck.program import Program

from oracle_marks import needs_kernel, needs_libpcap

SHIFT = "ldx #33\nld #1\nlsh x\nret a\n"
PORT_80 = "tcp port 80"


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def shift_file(tmp_path):
    path = tmp_path / "shift.asm"
    path.write_text(SHIFT)
    return str(path)


@needs_libpcap
def test_dialect_only_exits_0_and_lists_the_rule(capsys, shift_file):
    code, out, _ = run(capsys, "diff", shift_file, "--against", "pcap", "--target", "socket",
                       "--random", "20", "--no-solver")
    assert code == 0
    # one line per rule, whatever the values; the first example's values after it
    assert "dialect, 20 inputs: instruction 2 shifts by X >= 32: the kernel shifts by X & 31" in out
    assert "(instruction 2 shifts by X = 33: the kernel shifts by X & 31 = 1, libpcap gives 0)" in out
    assert "same: 20 inputs compared; 0 disagreements, 20 dialect differences" in out


@needs_libpcap
def test_strict_counts_dialect(capsys, shift_file):
    code, out, _ = run(capsys, "diff", shift_file, "--against", "pcap", "--target", "socket",
                       "--random", "5", "--no-solver", "--strict", "--json")
    doc = json.loads(out)
    assert code == 1 and doc["status"] == "different" and doc["dialect"] == 5
    first = doc["differences"][0]
    assert first["kind"] == "dialect" and first["verdicts"] == {"bpfcheck": 2, "libpcap": 0}
    assert set(first["input"]) >= {"index", "packet"}


@needs_libpcap
def test_same_rules_same_verdicts(capsys):
    code, out, _ = run(capsys, "diff", "--expr", PORT_80, "--against", "pcap", "--random", "200", "--json")
    doc = json.loads(out)
    assert code == 0 and doc["status"] == "same" and doc["inputs"] == 200 and doc["differences"] == []
    assert doc["target"] == "pcap"          # the implementation's own rules by default


@needs_kernel
def test_capture_against_the_kernel(capsys, tmp_path):
    # a capture's frames carry a device and a link-layer header; the kernel's
    # AF_UNIX datagrams do not: ld [ifidx] differs, as documented
    capture = tmp_path / "two.pcap"
    with PcapWriter(str(capture), linktype=1) as writer:
        writer.write(bytes(range(60)))
        writer.write(bytes(14) + b"\x45" + bytes(45))
    program = tmp_path / "ifidx.asm"
    program.write_text("ld #5\nld #ifidx\nret #99\n")
    code, out, _ = run(capsys, "diff", str(program), "--against", "kernel", "--pcap", str(capture), "--json")
    doc = json.loads(out)
    assert code == 0 and doc["inputs"] == 2 and doc["dialect"] == 2 and doc["disagreements"] == 0
    d = doc["differences"][0]
    assert d["verdicts"] == {"bpfcheck": 99, "kernel": 5}
    assert "no device" in " ".join(d["reasons"])


@needs_kernel
def test_validation_difference(capsys, tmp_path):
    program = tmp_path / "mem.asm"
    program.write_text("ld M[0]\nret a\n")
    code, out, _ = run(capsys, "diff", str(program), "--against", "kernel", "--target", "pcap",
                       "--random", "3", "--json")
    doc = json.loads(out)
    assert code == 0 and doc["dialect"] == 1
    d = doc["differences"][0]
    assert d["input"] is None and d["accepted"] == {"bpfcheck": True, "kernel": False}


def test_seccomp_against_libpcap_is_a_usage_error(capsys, tmp_path):
    program = tmp_path / "allow.asm"
    program.write_text("ret #0x7fff0000\n")
    code, _, err = run(capsys, "diff", str(program), "--against", "pcap", "--target", "seccomp")
    assert code == 2 and "libpcap cannot run seccomp filters" in err


def test_generated_inputs_are_reproducible_and_distinct():
    program = Program([(0x28, 0, 0, 12), (0x15, 0, 1, 0x800), (0x06, 0, 0, 1), (0x06, 0, 0, 0)])
    a = drawn_inputs(program, "socket", 50, seed=3)
    b = drawn_inputs(program, "socket", 50, seed=3)
    assert a == b and len(set(a)) == 50
    made = generated_inputs(program, "socket", 10, seed=3)
    # the solver's inputs come first: one takes the jeq's true branch
    assert any(i.value[12:14] == b"\x08\x00" for i in made[:3])


@needs_kernel
def test_a_wrong_semantics_table_is_a_disagreement(capsys, shift_file, monkeypatch):
    # Plant libpcap's shift (X >= 32 gives 0) in the socket rules: the kernel
    # shifts by X & 31, nothing documented explains the difference, exit 1.
    from bpfcheck import semantics
    monkeypatch.setitem(semantics.TABLES["socket"], 0x6C, semantics.TABLES["pcap"][0x6C])
    code, out, _ = run(capsys, "diff", shift_file, "--against", "kernel", "--random", "5", "--no-solver")
    assert code == 1
    assert "disagreement: #0" in out and "bpfcheck 0x0, kernel 0x2" in out
    assert "different: 5 inputs compared; 5 disagreements, 0 dialect differences" in out
