"""The verdict-extracting rewrite (_exact), checked without any kernel."""

import pytest

from bpfcheck import isa
from bpfcheck.oracles import _exact
from bpfcheck.program import Program


def P(*insns):
    return Program(list(insns))


@pytest.mark.parametrize("length,width", [(0, 1), (1, 1), (2, 1), (3, 2), (6, 2), (7, 3),
                                          (14, 3), (15, 4), (63, 6), (64, 6), (65535, 16)])
def test_chunk_width_is_what_a_delivered_length_can_say(length, width):
    assert _exact.chunk_width(length) == width
    assert (1 << width) - 1 <= max(length, 1)


def test_rets_become_chunks_and_ret_a_goes_to_the_tail():
    prog = P((0x28, 0, 0, 12), (0x15, 0, 1, 0x800), (0x06, 0, 0, 0xABCDEF12), (0x16, 0, 0, 0))
    out = _exact.chunk_program(prog, shift=8, width=5, has_device=True)
    assert len(out) == len(prog) + 3
    assert out[:2] == prog[:2]                                  # nothing else moves
    assert out[2] == (0x06, 0, 0, (0xABCDEF12 >> 8) & 31)
    assert out[3] == (0x05, 0, 0, 0)                           # ja tail
    assert list(out[4:]) == [(0x74, 0, 0, 8), (0x54, 0, 0, 31), (0x16, 0, 0, 0)]


def test_device_exits_are_rewritten_only_without_a_device():
    ifidx = (0x30, 0, 0, isa.SKF_AD_OFF + isa.SKF_AD_IFINDEX)    # any size
    prog = P((0x00, 0, 0, 7), ifidx, (0x06, 0, 0, 1))
    assert _exact.chunk_program(prog, 0, 4, has_device=False)[1] == (0x05, 0, 0, 1)
    assert _exact.chunk_program(prog, 0, 4, has_device=True)[1] == ifidx


def test_assemble_and_empty_packets():
    assert _exact.assemble([(0, 3), (2, 1), (4, 0xF)]) == 3 | 4 | 0xF0
    assert _exact.chunk_of(None, 10) == 0 and _exact.chunk_of(4, 10) == 4
    assert _exact.chunk_of(0, 0) == 1                           # delivered empty: bit set
    assert _exact.needs_chunks(0, 0) and not _exact.needs_chunks(None, 0)
    assert not _exact.needs_chunks(9, 10) and _exact.needs_chunks(10, 10)


def test_random_loads_are_refused():
    with pytest.raises(ValueError, match="SKF_AD_RANDOM"):
        _exact.chunk_programs(P((0x20, 0, 0, isa.SKF_AD_OFF + isa.SKF_AD_RANDOM), (0x16, 0, 0, 0)), 4, False)
