"""What a campaign is asked to do, checked once."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Optional, Tuple

from ..errors import UsageError

IMPLEMENTATIONS = ("kernel", "pcap")
TARGETS = ("socket", "pcap", "seccomp")
#: how often each target's programs are drawn (seccomp verdicts cost six kernel runs each)
TARGET_WEIGHTS = {"socket": 3, "pcap": 2, "seccomp": 1}


@dataclass(frozen=True)
class FuzzConfig:
    """``against``: the real implementations compared; ``seconds`` /
    ``cases``: when to stop (cases are programs; neither: run until
    interrupted); ``corpus``: where findings and the resumable state go
    (None: findings are only reported); ``jobs``: worker processes;
    ``seed``: None resumes the corpus' seed, or picks one.

    The rest tunes the campaign: ``inputs`` per program (drawn with the
    strategies, then varied around the program's load boundaries and
    constants), ``max_len`` of programs, ``chunk`` (programs per unit of
    work: the grain of resumption), ``solver_share`` (the most of its time
    a worker spends asking the solver for uncovered branches),
    ``shrink_seconds`` per finding, ``stop_after_findings`` (0: never).
    """

    against: Tuple[str, ...] = IMPLEMENTATIONS
    seconds: Optional[float] = None
    cases: Optional[int] = None
    corpus: Optional[str] = None
    jobs: int = 1
    seed: Optional[int] = None
    targets: Tuple[str, ...] = TARGETS
    inputs: int = 1024
    max_len: int = 24
    chunk: int = 40
    solver_share: float = 0.1
    shrink_seconds: float = 30.0
    stop_after_findings: int = 0
    progress: bool = True
    vm_sample: int = 16

    def __post_init__(self):
        against = tuple(dict.fromkeys(self.against))
        for name in against:
            if name not in IMPLEMENTATIONS:
                raise UsageError(f"--against {name!r}: expected kernel, pcap or both (kernel,pcap)")
        if not against:
            raise UsageError("--against: name at least one implementation (kernel, pcap)")
        object.__setattr__(self, "against", against)
        targets = tuple(t for t in dict.fromkeys(self.targets))
        for t in targets:
            if t not in TARGETS:
                raise UsageError(f"target {t!r}: expected one of {', '.join(TARGETS)}")
        if "kernel" not in against:
            targets = tuple(t for t in targets if t != "seccomp")   # only the kernel runs seccomp
        if not targets:
            raise UsageError("no target left to fuzz (seccomp filters need --against kernel)")
        object.__setattr__(self, "targets", targets)
        if self.seconds is not None and not self.seconds > 0:
            raise UsageError(f"--time {self.seconds}: give a positive number of seconds")
        if self.cases is not None and self.cases < 1:
            raise UsageError(f"--cases {self.cases}: give a positive number of programs")
        if not 1 <= self.jobs <= 256:
            raise UsageError(f"-j {self.jobs}: give 1..256 worker processes")
        if self.seed is not None and not 0 <= self.seed < 1 << 63:
            raise UsageError(f"--seed {self.seed}: give a number in 0..2**63-1")
        if not 1 <= self.inputs <= 100_000:
            raise UsageError(f"inputs={self.inputs}: give 1..100000 inputs per program")
        if not 1 <= self.max_len <= 4096:
            raise UsageError(f"max_len={self.max_len}: programs have 1..4096 instructions")
        if self.corpus is not None:
            object.__setattr__(self, "corpus", os.path.abspath(self.corpus))
