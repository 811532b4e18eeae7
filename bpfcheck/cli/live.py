"""A live status line on standard error, for long work on a terminal.

Shown only when standard error is a terminal (a log or a pipe gets
nothing), only once the work has taken more than ``delay`` seconds, at
most every ``period`` seconds, and cleared before the results are printed
(or an interruption is reported).
"""

from __future__ import annotations

import time
from typing import Callable, Optional, TextIO


class LiveLine:
    DELAY = 1.0
    PERIOD = 0.25

    def __init__(self, stream: Optional[TextIO]):
        self.stream = stream
        try:
            self.live = stream is not None and stream.isatty()
        except (AttributeError, ValueError):
            self.live = False
        self.started = time.monotonic()
        self.due = self.started + self.DELAY
        self.shown = False

    def show(self, text: Callable[[float], str]) -> None:
        """Show ``text(elapsed seconds)`` if it is time to (the text is
        only made then)."""
        if not self.live:
            return
        now = time.monotonic()
        if now < self.due:
            return
        self.due = now + self.PERIOD
        self.stream.write("\r\033[K" + text(now - self.started))
        self.stream.flush()
        self.shown = True

    def clear(self) -> None:
        if self.shown:
            self.stream.write("\r\033[K")
            self.stream.flush()
            self.shown = False
