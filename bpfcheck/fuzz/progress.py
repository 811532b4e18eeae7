"""Live progress on standard error, and the summary at the end.

On a terminal one status line is redrawn in place every second; into a
file or pipe a line is written every ten seconds, so logs stay readable.
Findings are announced on their own lines as they are written.
"""

from __future__ import annotations

import sys
import time
from typing import List, Optional, TextIO

from .stats import Stats


def _rate(n: float, seconds: float) -> str:
    return f"{n / seconds:,.0f}/s" if seconds > 0 else "-"


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600:d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class Progress:
    def __init__(self, enabled: bool = True, stream: Optional[TextIO] = None):
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.tty = enabled and hasattr(self.stream, "isatty") and self.stream.isatty()
        self.every = 1.0 if self.tty else 10.0
        self.last = 0.0
        self.drawn = False

    def line(self, stats: Stats, seconds: float, findings: int) -> str:
        edges = stats.edge_coverage()
        opcodes = ", ".join(f"{t} {c}" for t, c in stats.opcode_coverage().items())
        parts = [_clock(seconds), f"cases {stats.cases:,} ({_rate(stats.cases, seconds)})",
                 f"comparisons {stats.comparisons:,} ({_rate(stats.comparisons, seconds)})"]
        if opcodes:
            parts.append(f"opcodes {opcodes}")
        if edges:
            parts.append(f"edges {edges['random']}% (+solver {edges['with_solver']}%)")
        parts.append(f"disagreements {stats.disagreements}, findings {findings}")
        return "fuzz " + "  ".join(parts)

    def update(self, stats: Stats, seconds: float, findings: int, force: bool = False) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if not force and now - self.last < self.every:
            return
        self.last = now
        text = self.line(stats, seconds, findings)
        if self.tty:
            self.stream.write("\r\x1b[K" + text)
            self.drawn = True
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def say(self, text: str) -> None:
        """A line of its own (a finding), not overwritten by the status."""
        if not self.enabled:
            return
        if self.drawn:
            self.stream.write("\r\x1b[K")
            self.drawn = False
        self.stream.write(text + "\n")
        self.stream.flush()

    def done(self) -> None:
        if self.enabled and self.drawn:
            self.stream.write("\n")
            self.stream.flush()
            self.drawn = False


def summary_lines(result) -> List[str]:
    """The human summary of a :class:`~bpfcheck.fuzz.campaign.CampaignResult`."""
    s: Stats = result.stats
    lines = [f"bpfcheck fuzz: {result.seconds:.1f} s, seed {result.seed}, {result.jobs} worker"
             f"{'s' if result.jobs != 1 else ''}, against {', '.join(result.against)}"
             + (" (interrupted)" if result.interrupted else "") + (" (resumed)" if result.resumed else "")]
    lines.append(f"  cases        {s.cases:,} programs ({_rate(s.cases, result.seconds)})")
    sides = ", ".join(f"{k} {v:,}" for k, v in sorted(s.by_side.items()))
    lines.append(f"  comparisons  {s.comparisons:,} program x input ({_rate(s.comparisons, result.seconds)})"
                 + (f": {sides}" if sides else ""))
    kernel = s.by_side.get("kernel", 0)
    if kernel:
        lines.append(f"               against the kernel alone: {_rate(kernel, result.seconds)}")
    lines.append(f"  validations  {s.validations:,} programs judged by both sides")
    coverage = s.opcode_coverage()
    if coverage:
        lines.append("  opcodes      " + ", ".join(f"{t} {c}" for t, c in coverage.items()))
    edges = s.edge_coverage()
    if edges:
        lines.append(f"  edges        {edges['random']}% of the edges that can run taken by the varied inputs, "
                     f"{edges['with_solver']}% with the solver's ({edges['programs']:,} programs traced in "
                     f"full; {s.solver_inputs:,} solver inputs, {s.solver_seconds:.1f} s)")
    if s.skipped:
        lines.append(f"  skipped      {s.skipped:,} inputs whose kernel verdict depends on SKF_AD_RANDOM")
    lines.append(f"  disagreements {s.disagreements} unexplained"
                 + (f" ({s.duplicates} more of bugs already written down)" if s.duplicates else ""))
    if result.errors:
        lines.append(f"  errors       {s.errors} cases raised inside bpfcheck (a bug), e.g. {result.errors[0]}")
    for note in result.notes:
        lines.append(f"  note         {note}")
    if result.findings:
        lines.append(f"  findings     {len(result.findings)} written:")
        lines += [f"    {p}" for p in result.findings]
    else:
        lines.append("  findings     none")
    if result.totals and result.resumed:
        t = result.totals
        lines.append(f"  all runs     {t.get('cases', 0):,} cases, {t.get('comparisons', 0):,} comparisons, "
                     f"{t.get('seconds', 0):.0f} s, {t.get('findings', 0)} findings")
    return lines
