"""Where a differential run's inputs come from: generated for a program,
or read from a capture.

Generated inputs are drawn with the public strategies
(:func:`~bpfcheck.strategies.packets` aimed at the program's load
boundaries, :func:`~bpfcheck.strategies.seccomp_data`) under a fixed seed,
after the solver's inputs for every branch it can reach
(:mod:`.solver`): the same program and seed give the same inputs.
"""

from __future__ import annotations

from typing import Iterator, List, Optional

from ..context import Context
from ..errors import UsageError
from ..program import Program
from .values import Input

#: packets drawn per Hypothesis example (drawing is cheaper in batches)
BATCH = 16


class _Enough(BaseException):
    """Ends a Hypothesis run early (a BaseException passes through it)."""


def drawn_inputs(program: Program, target: str, n: int, seed: int = 0,
                 context: Optional[Context] = None) -> List[Input]:
    """``n`` inputs drawn with the strategies (reproducible for ``seed``).
    Socket packets run with ``context`` (an AF_UNIX datagram by default);
    a quarter of libpcap's are captures cut short (wire length > bytes)."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as fix_seed
    from hypothesis import strategies as st

    from ..strategies import packets, seccomp_data
    if n <= 0:
        return []
    if target == "seccomp":
        one = seccomp_data().map(lambda d: Input(d))
    elif target == "pcap":
        one = st.tuples(packets(for_program=program, max_size=256),
                        st.one_of(st.just(0), st.just(0), st.just(0), st.integers(1, 1500))).map(
            lambda pair: Input(pair[0], Context(len=len(pair[0]) + pair[1]) if pair[1] else None))
    else:
        base = context or Context()
        one = packets(for_program=program, max_size=256).map(lambda p: Input(p, base))
    found: List[Input] = []
    seen = set()

    @settings(max_examples=4 * n, database=None, phases=[Phase.generate], deadline=None,
              suppress_health_check=list(HealthCheck), print_blob=False)
    @fix_seed(seed)
    @given(st.lists(one, min_size=BATCH, max_size=BATCH))
    def draw(batch):
        for inp in batch:              # the first examples Hypothesis tries repeat themselves
            if inp not in seen:
                seen.add(inp)
                found.append(inp)
        if len(found) >= n:
            raise _Enough()

    try:
        draw()
    except _Enough:
        pass
    return found[:n]


def generated_inputs(program: Program, target: str, n: int, seed: int = 0,
                     context: Optional[Context] = None, solver_budget: float = 5.0) -> List[Input]:
    """``n`` inputs: first the solver's (one per reachable branch, within
    ``solver_budget`` seconds; 0 turns it off), then drawn ones."""
    made: List[Input] = []
    if solver_budget > 0 and n > 0:
        from .solver import edge_inputs
        made = edge_inputs(program, target, context=context if target == "socket" else None,
                           budget=solver_budget).inputs[:n]
    return made + drawn_inputs(program, target, n - len(made), seed, context)


def capture_inputs(path: str, target: str) -> Iterator[Input]:
    """Each record of a pcap/pcapng capture as ``bpfcheck run --pcap``
    runs it: for sockets, with the metadata a packet socket on that link
    type would see (:func:`~bpfcheck.capture.context_for_frame`); for
    libpcap, with the record's wire length."""
    from ..capture import context_for_frame
    from ..pcapio import read_packets
    if target == "seccomp":
        raise UsageError("a capture holds packets: compare seccomp filters with --random N")
    for record in read_packets(path):
        if target == "pcap":
            ctx = Context(len=record.wirelen) if record.wirelen != len(record.data) else None
        else:
            ctx = context_for_frame(record.data, record.linktype, record.wirelen)
        yield Input(record.data, ctx)
