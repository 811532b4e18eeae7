"""Drawing a campaign's cases with the public strategies.

A *chunk* is one Hypothesis run (``@given`` with a seed derived from the
campaign's seed and the chunk number), so the same seed always draws the
same cases, whichever worker runs the chunk and whenever.  Each example
is one case: a target, a valid program (``programs``), a faulty one
(``invalid_programs``), a few inputs aimed at the program
(``packets(for_program=...)`` or ``seccomp_data()``), and a seed for the
cheap variations :mod:`.inputs` derives from them.

The case is handed to a callback inside the Hypothesis run; stopping early
raises a ``BaseException`` subclass, which Hypothesis lets through.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Callable, List, Optional, Sequence

from ..context import SeccompData
from ..program import Program
from ..strategies import InvalidProgram


@dataclass
class FuzzCase:
    chunk: int
    index: int                       # within the chunk
    target: str
    program: Program
    invalid: Optional[InvalidProgram]
    packets: List[bytes]             # drawn for this program (socket, pcap)
    syscalls: List[SeccompData]      # drawn (seccomp)
    seed: int                        # for the derived inputs and mutants


class StopDrawing(BaseException):
    """Raised by a callback to end the chunk now (interrupt, time up)."""


def chunk_seed(seed: int, chunk: int) -> int:
    """A 64-bit seed per chunk, independent across chunks."""
    digest = hashlib.blake2b(f"{seed}:{chunk}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


#: packet sizes the campaign draws: Ethernet jumbo frames are in the pool
MAX_PACKET = 1600


def draw_chunk(seed: int, chunk: int, count: int, targets: Sequence[str], max_len: int,
               handle: Callable[[FuzzCase], None], skip: int = 0,
               weights: Optional[dict] = None) -> int:
    """Draw ``count`` cases of chunk ``chunk`` and hand each to ``handle``
    (the first ``skip`` are drawn but not handed over: a resumed chunk).
    Returns how many were drawn."""
    from hypothesis import HealthCheck, Phase, Verbosity, given, settings
    from hypothesis import seed as fix_seed
    from hypothesis import strategies as st

    from ..strategies import invalid_programs, packets, programs, seccomp_data
    weighted = [t for t in targets for _ in range((weights or {}).get(t, 1))]
    drawn = [0]

    @settings(max_examples=count, database=None, phases=[Phase.generate], deadline=None,
              suppress_health_check=list(HealthCheck), print_blob=False, verbosity=Verbosity.quiet)
    @fix_seed(chunk_seed(seed, chunk))
    @given(st.data())
    def case(data):
        # Draw first, decide after: Hypothesis replays choice sequences and
        # insists that the same choices draw the same way every time.
        target = data.draw(st.sampled_from(weighted), label="target")
        program = data.draw(programs(target, max_len=max_len), label="program")
        # a faulty program every fourth case (each case also damages its own program)
        invalid = None
        if data.draw(st.integers(0, 3), label="with a faulty program") == 0:
            invalid = data.draw(invalid_programs(target, max_len=max_len, labelled=True), label="invalid")
        if target == "seccomp":
            syscalls = data.draw(st.lists(seccomp_data(), min_size=4, max_size=4), label="syscalls")
            pkts = []
        else:
            syscalls = []
            # one scapy-built frame or raw packet, one raw: frames are the
            # costly draw, and the shared pool already holds hundreds
            pkts = list(data.draw(st.tuples(packets(for_program=program, max_size=MAX_PACKET),
                                            packets(for_program=program, max_size=MAX_PACKET,
                                                    structured=False)), label="packets"))
        variation = data.draw(st.integers(0, (1 << 64) - 1), label="variation seed")
        index = drawn[0]
        if index >= count:
            return
        drawn[0] += 1
        if index >= skip:
            handle(FuzzCase(chunk, index, target, program, invalid, pkts, syscalls, variation))

    case()
    return drawn[0]
