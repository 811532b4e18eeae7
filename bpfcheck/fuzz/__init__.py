"""Differential fuzzing: bpfcheck against the kernel and libpcap.

``bpfcheck fuzz`` draws programs and inputs with :mod:`bpfcheck.strategies`,
compares bpfcheck (the reference VM and its fast paths) with the running
kernel and libpcap — verdicts and validators — and shrinks every
disagreement to a minimal program and input, written at once to a corpus
that ``bpfcheck corpus run`` replays.

=====================  ==========================================================
module                 job
=====================  ==========================================================
:mod:`.config`         what a campaign is asked to do (:class:`FuzzConfig`)
:mod:`.cases`          drawing cases with the strategies, chunk by chunk, seeded
:mod:`.inputs`         many cheap inputs per program from the few drawn; mutants
:mod:`.check`          one case on every side; the predicates that shrink findings
:mod:`.shrink`         delta debugging over instructions and bytes
:mod:`.findings`       findings as corpus cases, written atomically under a lock
:mod:`.worker`         one worker's loop
:mod:`.campaign`       workers, signals, the summary (:func:`run_campaign`)
:mod:`.state`          the resumable state beside the corpus
:mod:`.stats`          counters and coverage
:mod:`.progress`       live progress on standard error
:mod:`.hypothesis_tests`  the same checks as ordinary ``@given`` tests
=====================  ==========================================================
"""

from .campaign import CampaignResult, run_campaign
from .config import FuzzConfig
from .findings import Finding
from .shrink import shrink

__all__ = ["CampaignResult", "Finding", "FuzzConfig", "run_campaign", "shrink"]
