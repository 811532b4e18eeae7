"""The shrinker: jumps keep their targets, programs and inputs get minimal."""

from __future__ import annotations

from bpfcheck import Context, Program, SeccompData, run
from bpfcheck.differential.values import Input
from bpfcheck.fuzz.shrink import _cut, _retarget, shrink
from bpfcheck.validate import is_valid

RET_A = (0x16, 0, 0, 0)


def test_deleting_an_instruction_keeps_every_jump_target():
    program = Program([(0x15, 1, 3, 7), (0x04, 0, 0, 1), (0x04, 0, 0, 2), (0x05, 0, 0, 1),
                       (0x04, 0, 0, 3), RET_A])
    # delete pc 2: the jeq's false branch (pc 4) and the ja's target (pc 5) keep pointing there
    out = Program(_retarget(list(program), 2))
    assert out == Program([(0x15, 1, 2, 7), (0x04, 0, 0, 1), (0x05, 0, 0, 1), (0x04, 0, 0, 3), RET_A])
    # delete a jump target itself: jumps land on its successor
    out = Program(_retarget(list(program), 4))
    assert out[0] == (0x15, 1, 3, 7) and out[3] == (0x05, 0, 0, 0)


def test_cutting_sends_later_jumps_to_the_new_ret():
    program = Program([(0x15, 3, 0, 7), (0x04, 0, 0, 1), (0x04, 0, 0, 2), RET_A, (0x06, 0, 0, 9)])
    out = _cut(program, 2, (0x06, 0, 0, 0))
    assert out == Program([(0x15, 1, 0, 7), (0x04, 0, 0, 1), (0x06, 0, 0, 0)]) and is_valid(out)


def test_shrinks_program_and_packet_to_the_core():
    # "fails" when the program adds 5 to a byte loaded from offset 3 and the
    # packet has 0x10 there: everything else is noise
    noise = [(0x01, 0, 0, 9), (0x87, 0, 0, 0), (0x02, 0, 0, 4), (0x44, 0, 0, 0x300)]
    core = [(0x30, 0, 0, 3), (0x04, 0, 0, 5)]
    program = Program(noise + core + [(0x15, 0, 1, 0x15), (0x06, 0, 0, 0x15), RET_A])
    packet = bytes(range(0x0D, 0x0D + 40))

    def fails(p, inp):
        return is_valid(p) and run(p, inp.value) == 0x15 and any(i[0] == 0x30 for i in p)

    assert fails(program, Input(packet))
    result = shrink(program, Input(packet), fails, seconds=10)
    assert result.complete
    assert len(result.program) <= 3, result.program
    assert result.input.value == bytes(3) + b"\x10"


def test_shrinks_wire_length_and_seccomp_arguments():
    program = Program([(0x80, 0, 0, 0), RET_A])

    def fails_len(p, inp):      # only the input may change here
        return p == program and run(p, inp.value, inp.context, target="pcap") > 100
    result = shrink(program, Input(b"abcd", Context(len=5000)), fails_len, seconds=5)
    assert len(result.input.value) == 0 and 100 < result.input.wirelen <= 5000

    program = Program([(0x20, 0, 0, 0), (0x15, 0, 1, 59), (0x06, 0, 0, 1), (0x06, 0, 0, 2)])

    def fails_nr(p, inp):
        return p == program and run(p, inp.value, target="seccomp") == 1
    data = SeccompData(59, 0xC000003E, 0x1234, (1, 2, 3, 4, 5, 6))
    result = shrink(program, Input(data), fails_nr, seconds=5)
    assert result.input.value == SeccompData(59, 0)


def test_budget_stops_shrinking():
    calls = []

    def slow(p, inp):
        calls.append(1)
        return len(p) > 20
    result = shrink(Program([(0x04, 0, 0, 1)] * 30 + [RET_A]), None, slow, seconds=10, max_evaluations=5)
    assert len(calls) <= 6 and not result.complete
