"""Progress of a corpus run on standard error.

On a terminal one live line is rewritten in place; into a file or a CI
log a line is printed every few seconds instead (a live line there would
be one enormous line).  Failures are always printed as they happen.
"""

from __future__ import annotations

import sys
import time
from typing import Optional, TextIO

from .results import PASSED, CaseResult, printable

#: seconds between progress lines when standard error is not a terminal
PERIOD = 5.0


class Progress:
    def __init__(self, total: int, stream: Optional[TextIO] = None, quiet: bool = False,
                 live: Optional[bool] = None, period: float = PERIOD):
        self.total = total
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.live = self._isatty() if live is None else live
        self.period = period
        self.done = 0
        self.failed = 0
        self.started = time.monotonic()
        self.last = self.started
        self._dirty = False

    def _isatty(self) -> bool:
        try:
            return self.stream.isatty()
        except (AttributeError, ValueError):
            return False

    def _line(self, name: str = "") -> str:
        elapsed = time.monotonic() - self.started
        text = f"corpus: {self.done}/{self.total} cases, {self.failed} failed, {elapsed:.1f} s"
        return f"{text}  {name}" if name else text

    def update(self, result: CaseResult) -> None:
        self.done += 1
        if result.status != PASSED:
            self.failed += 1
        if self.quiet:
            return
        if result.status != PASSED:
            self._clear()
            self.stream.write(printable(f"{result.status.upper()}: {result.name} ({result.path})") + "\n")
        now = time.monotonic()
        if self.live:
            line = printable(self._line(result.name))[:_width() - 1]
            self.stream.write("\r\033[K" + line)
            self._dirty = True
        elif now - self.last >= self.period:
            self.stream.write(self._line() + "\n")
            self.last = now
        self.stream.flush()

    def _clear(self) -> None:
        if self._dirty:
            self.stream.write("\r\033[K")
            self._dirty = False

    def finish(self, note: str = "") -> None:
        if self.quiet:
            return
        self._clear()
        self.stream.write(self._line() + (f" ({note})" if note else "") + "\n")
        self.stream.flush()


def _width() -> int:
    import shutil
    return shutil.get_terminal_size((100, 20)).columns
