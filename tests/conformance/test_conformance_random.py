"""Random programs: the reference VM against the kernel (AF_UNIX, exact
verdicts), libpcap and the AF_PACKET taps; and, on every program and on
mutants of it, bpfcheck's ``validate`` against the kernel's checker and
libpcap's ``bpf_validate``.

Programs come from the public ``bpfcheck.strategies.programs(target)``
(valid by construction), packets from ``packets()`` and from the frame
corpus (``frames.sample_frames``), all under derandomized Hypothesis
settings, so CI sees the same examples on every run.

* ``SKF_AD_CPU``: the kernel socket is pinned; the Context says which CPU.
* ``SKF_AD_RANDOM``: exact verdicts cannot be assembled from several runs,
  so programs that load it are compared by delivered length, and only on
  packets whose run never reaches the random load (the verdict cannot
  depend on a value it never read).
* A program the strategy produces that the kernel refuses is not run;
  bpfcheck's ``validate`` must refuse it too (and the strategy's bug is
  pinned in test_conformance_regressions.py).
* Validation: each drawn program, four random mutants of it (bit flips,
  random and 16-bit codes, broken jumps, no final ret, M[] reads, shifts
  >= 32, div #0, M[16], extension-area offsets, lengths 0/4096/4097) and
  one single-fault mutant whose error class and pc are known — the fuzz
  stays away from the translation limits, which
  test_conformance_translation.py measures.  ENOMEM from the kernel counts
  as "passed the checker": net.core.optmem_max bounds the converted
  filter's size per socket, which is not a validation rule.
"""

from __future__ import annotations

import collections

import pytest
from hypothesis import given, seed
from hypothesis import strategies as st

from bpfcheck import Context, Machine, isa
from bpfcheck.frames import sample_frames
from bpfcheck.oracles import _exact
from bpfcheck.oracles.kernel import KernelRejected
from bpfcheck.strategies import packets, programs
from bpfcheck.vm import delivered as delivered_length

from conformance_support import (libpcap_mismatches, SCALE, Mismatch, bpfcheck_verdict, describe_validation, hsettings,
                                 pattern, random_mutant, report, show_program, single_fault)
from conformance_validation import (SOCKET_CLASSES, check_pcap_validation,
                                    check_socket_validation)

RANDOM_K = isa.SKF_AD_OFF + isa.SKF_AD_RANDOM

#: packets the strategy's own draws are mixed with: the frame corpus (whole,
#: cut, garbage) and patterned buffers of the lengths filters load around
POOL = sample_frames(0, 300) + [pattern(n, salt=n) for n in
                                (0, 1, 2, 3, 4, 5, 12, 13, 14, 15, 16, 20, 21, 22, 23, 24, 33, 34, 35,
                                 38, 53, 54, 55, 60, 64, 65, 128, 1500, 9000)]
DRAWN_PACKETS = 3
POOL_PACKETS = 17                      # 20 packets per program in all

SHARDS = 4
PROGRAMS_PER_SHARD = 260               # 1,040 programs in all (a few are refused, see above)
MUTANTS = 4                            # random mutants per program, plus one single-fault mutant


def _random_pcs(program):
    return {pc for pc, (code, _, _, k) in enumerate(program)
            if code & 0xE7 == 0x20 and k == RANDOM_K}


def check_against_kernel(kernel, program, inputs, stats) -> bool:
    """Runs ``inputs`` through ``program`` on both; returns whether the
    kernel took the program (bpfcheck's validate must say the same)."""
    ours_valid = bpfcheck_verdict(program, "socket")
    try:
        kernel.attach(program)
    except KernelRejected as exc:
        stats["refused by the kernel"] += 1
        if ours_valid is not None:
            stats[f"refused by the kernel: {type(ours_valid).__name__}"] += 1
        assert ours_valid is not None, (
            f"the kernel refuses a program bpfcheck accepts: {exc.reason}\n" + show_program(program))
        return False
    assert ours_valid is None, (f"the kernel accepts a program bpfcheck rejects: "
                                f"{describe_validation(ours_valid)}\n" + show_program(program))
    machine = Machine(program, "socket")
    ctx = Context(cpu=kernel.cpu)
    mismatches = []
    random_pcs = _random_pcs(program)
    if not random_pcs:
        theirs = kernel.verdicts(inputs)
        for i, (packet, verdict) in enumerate(zip(inputs, theirs)):
            ours = machine.run(packet, ctx)
            if ours != verdict:
                mismatches.append(Mismatch(f"#{i}", packet, ctx, ours, verdict))
        stats["compared"] += len(inputs)
    else:
        got = kernel.run_many(inputs)
        for i, (packet, length) in enumerate(zip(inputs, got)):
            run = machine.trace(packet, ctx)
            if random_pcs & set(run.path):
                stats["skipped: verdict may depend on SKF_AD_RANDOM"] += 1
                continue
            ours = delivered_length(run.verdict, len(packet))
            stats["compared (delivered length)"] += 1
            if ours != length:
                mismatches.append(Mismatch(f"#{i}", packet, ctx, ours, length,
                                           "delivered bytes; None = dropped"))
    stats["programs"] += 1
    assert not mismatches, report("random program: reference VM vs kernel (AF_UNIX)", program,
                                  mismatches)
    return True


def _shard(shard: int):
    @pytest.mark.kernel
    @pytest.mark.libpcap
    def test(kernel, pcap):
        stats = collections.Counter()

        @hsettings(PROGRAMS_PER_SHARD, shrink=False)
        @seed(0xC0FFEE + shard)
        @given(program=programs("socket", max_len=24),
               drawn=st.lists(packets(), min_size=DRAWN_PACKETS, max_size=DRAWN_PACKETS),
               picks=st.lists(st.integers(0, len(POOL) - 1), min_size=POOL_PACKETS,
                              max_size=POOL_PACKETS),
               rnd=st.randoms(use_true_random=False))
        def check(program, drawn, picks, rnd):
            accepted = check_against_kernel(kernel, program, list(drawn) + [POOL[i] for i in picks],
                                            stats)
            mutants = [random_mutant(program, rnd) for _ in range(MUTANTS)]
            if accepted:             # only a program the kernel takes can carry exactly one fault
                fault = single_fault(program, rnd)
                if fault is not None:
                    mutants.append(fault)
            check_pcap_validation(pcap, program, stats)
            for mutant in mutants:
                check_socket_validation(mutant.program, stats, mutant)
                check_pcap_validation(pcap, mutant.program, stats)

        check()
        print(f"shard {shard}:", dict(sorted(stats.items())))
        if SCALE >= 1:
            assert stats["programs"] >= PROGRAMS_PER_SHARD * 0.97, stats
            assert stats["compared"] >= stats["programs"] * 20 * 0.9, stats
            validated = sum(v for k, v in stats.items() if k.startswith("socket:"))
            assert validated >= PROGRAMS_PER_SHARD * (MUTANTS + 1), stats
            missing = {c for c in SOCKET_CLASSES if stats[f"socket: {c}"] == 0}
            assert not missing, f"ValidationError classes never exercised: {missing}\n{stats}"
    test.__name__ = f"test_random_programs_vs_kernel_shard_{shard}"
    test.__doc__ = (f"Random programs x 20 packets, reference VM vs kernel, and validation of "
                    f"each and its mutants; shard {shard + 1} of {SHARDS} "
                    f"({PROGRAMS_PER_SHARD} programs each).")
    return test


for _i in range(SHARDS):
    globals()[f"test_random_programs_vs_kernel_shard_{_i}"] = _shard(_i)
del _i


# --- libpcap --------------------------------------------------------------------------------------
@pytest.mark.libpcap
def test_random_programs_vs_libpcap(pcap):
    """programs("pcap") (libpcap's dialect: no extensions, zeroed M[],
    shifts by X >= 32 give 0) on the same kind of packets, each also as a
    capture cut short (wire length beyond the captured bytes)."""
    stats = collections.Counter()

    @hsettings(150, shrink=False)
    @given(program=programs("pcap", max_len=24),
           drawn=st.lists(packets(), min_size=4, max_size=4),
           picks=st.lists(st.integers(0, len(POOL) - 1), min_size=6, max_size=6),
           extra=st.integers(0, 3000))
    def check(program, drawn, picks, extra):
        pkts = list(drawn) + [POOL[i] for i in picks]
        inputs = [(p, len(p)) for p in pkts] + [(p, len(p) + extra) for p in pkts]
        mismatches = libpcap_mismatches(pcap, program, inputs)
        stats["programs"] += 1
        stats["compared"] += len(inputs)
        assert not mismatches, report("random program: reference VM vs libpcap", program,
                                      mismatches, theirs="libpcap")

    check()
    if SCALE >= 1:
        assert stats["programs"] >= 145, stats


# --- AF_PACKET ------------------------------------------------------------------------------------
TAP_FRAMES = [f for f in sample_frames(0, 300) if 14 <= len(f) <= 65550]


@pytest.mark.kernel
@pytest.mark.netns
def test_random_programs_vs_packet_taps(netns):
    """Random programs on frames through lo's taps: with a device, a link
    header, stripped VLAN tags and real metadata in the Context."""
    stats = collections.Counter()

    @hsettings(80, shrink=False)
    @given(program=programs("socket", max_len=24),
           picks=st.lists(st.integers(0, len(TAP_FRAMES) - 1), min_size=8, max_size=8))
    def check(program, picks):
        frames = [TAP_FRAMES[i] for i in picks]
        try:
            results = netns.run(program, frames)
        except KernelRejected as exc:
            assert bpfcheck_verdict(program, "socket") is not None, (
                f"the kernel refuses a program bpfcheck accepts: {exc.reason}\n" + show_program(program))
            return
        machine = Machine(program, "socket")
        mismatches = []
        for i, copies in enumerate(results):
            for obs in copies:
                if obs.verdict is None:              # SKF_AD_RANDOM: no exact verdict
                    stats["skipped: SKF_AD_RANDOM"] += 1
                    continue
                ours = machine.run(obs.frame, obs.context)
                stats["compared"] += 1
                if ours != obs.verdict:
                    mismatches.append(Mismatch(f"frame #{i} ({'out' if obs.outgoing else 'in'})",
                                               obs.frame, obs.context, ours, obs.verdict))
        stats["programs"] += 1
        assert not mismatches, report("random program: reference VM vs kernel (AF_PACKET)", program,
                                      mismatches)

    check()
    if SCALE >= 1:
        assert stats["compared"] >= 1000, stats


def test_random_loads_are_recognised():
    # the skip rule above relies on this: every SKF_AD_RANDOM load, any size
    for size in (0x20, 0x28, 0x30):
        program = [(size, 0, 0, RANDOM_K), (0x16, 0, 0, 0)]
        assert _random_pcs(program) == {0}
        assert _exact.reads_random(program)
