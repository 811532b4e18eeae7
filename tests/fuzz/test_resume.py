"""Seeds, chunks and resuming: the same seed draws the same cases, and a
campaign picks up where the last one stopped."""

from __future__ import annotations

import json
import os

from bpfcheck.fuzz import FuzzConfig, run_campaign
from bpfcheck.fuzz.cases import draw_chunk
from bpfcheck.fuzz.state import STATE_DIR, State
from bpfcheck.fuzz.stats import Stats

from oracle_marks import needs_libpcap


def drawn(seed, chunk, count=6, skip=0):
    cases = []
    draw_chunk(seed, chunk, count, ("socket", "pcap", "seccomp"), 12, cases.append, skip)
    return cases


def test_a_seed_and_chunk_always_draw_the_same_cases():
    a, b = drawn(5, 3), drawn(5, 3)
    assert [(c.target, c.program, c.packets, c.syscalls, c.seed) for c in a] == \
           [(c.target, c.program, c.packets, c.syscalls, c.seed) for c in b]
    assert [c.program for c in drawn(5, 4)] != [c.program for c in a]
    resumed = drawn(5, 3, skip=4)                    # a resumed chunk skips what was done
    assert [c.index for c in resumed] == [4, 5] and resumed[0].program == a[4].program


def test_state_hands_out_chunks_and_reclaims_abandoned_ones(tmp_path):
    state = State(str(tmp_path))
    seed, size, resumed = state.begin(42, 10)
    assert (seed, size, resumed) == (42, 10, False)
    assert [state.take(), state.take()] == [(0, 0), (1, 0)]
    state.progress(1, 7)
    state.finish(0)
    state.save(Stats(cases=17), 3.0, 0, release=True)
    # a new campaign on the same corpus: the same series, chunk 1 from case 7
    again = State(str(tmp_path))
    assert again.begin(None, 99) == (42, 10, True)
    assert again.take() == (1, 7) and again.take() == (2, 0)
    doc = json.loads((tmp_path / STATE_DIR / "state.json").read_text())
    assert doc["totals"]["cases"] == 17 and doc["runs"] == 2
    # another seed starts a new series
    other = State(str(tmp_path))
    assert other.begin(7, 10) == (7, 10, False) and other.take() == (0, 0)


def test_a_damaged_state_file_starts_afresh(tmp_path):
    (tmp_path / STATE_DIR).mkdir()
    (tmp_path / STATE_DIR / "state.json").write_text("{not json")
    state = State(str(tmp_path))
    assert state.begin(3, 10) == (3, 10, False)
    assert "unreadable" in " ".join(state.notes)


@needs_libpcap
def test_campaigns_are_reproducible_and_resume(tmp_path):
    def config(**kw):
        base = dict(against=("pcap",), targets=("pcap",), cases=12, seed=9, inputs=32, chunk=6,
                    solver_share=0.0, progress=False)
        base.update(kw)
        return FuzzConfig(**base)
    a = run_campaign(config())
    b = run_campaign(config())
    assert a.stats.to_dict() == b.stats.to_dict() and a.stats.cases == 12
    corpus = str(tmp_path / "corpus")
    first = run_campaign(config(corpus=corpus, cases=6))
    second = run_campaign(config(corpus=corpus, cases=6, seed=None))
    assert second.resumed and second.seed == 9
    assert first.stats.comparisons + second.stats.comparisons == a.stats.comparisons
    assert second.totals["cases"] == 12
    assert os.path.isfile(os.path.join(corpus, STATE_DIR, "state.json"))
