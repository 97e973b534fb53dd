"""Progress of a rescoring: a bar with rows/s and ETA on a terminal, plain log lines otherwise."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TextIO

logger = logging.getLogger(__name__)


def _clock_text(seconds: float) -> str:
    seconds = max(int(round(seconds)), 0)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class Progress:
    """Customers committed out of the portfolio, with the rate and the time left.

    Parameters
    ----------
    stream
        A terminal to redraw one bar line on; ``None`` logs a line at most every
        ``interval_s`` seconds and at the end instead.
    interval_s
        Seconds between log lines (ignored with a stream).
    clock
        Seconds from an arbitrary start (``time.monotonic``; tests pass their own).
    """

    def __init__(
        self,
        stream: TextIO | None = None,
        interval_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
        width: int = 30,
    ) -> None:
        self.stream = stream
        self.interval_s = interval_s
        self.clock = clock
        self.width = width
        self.total = self.done = self.resumed = 0
        self.started = self.last_report = 0.0

    def start(self, total: int, done: int = 0) -> None:
        """``total`` customers, of which ``done`` were committed before (a resumed run)."""
        self.total, self.done, self.resumed = total, done, done
        self.started = self.last_report = self.clock()
        if self.stream is None:
            logger.info("scoring %s customers (%s already committed)", f"{total:,}", f"{done:,}")

    def advance(self, rows: int) -> None:
        """One more chunk of ``rows`` customers committed."""
        self.done += rows
        now = self.clock()
        if self.stream is not None:
            self.stream.write("\r" + self.line(now))
            self.stream.flush()
        elif now - self.last_report >= self.interval_s or self.done >= self.total:
            logger.info("%s", self.line(now))
            self.last_report = now

    def finish(self) -> None:
        """End the bar's line."""
        if self.stream is not None:
            self.stream.write("\n")
            self.stream.flush()

    def line(self, now: float) -> str:
        """``[#####.....] 52,000/163,389 customers (31.8%)  4,310 rows/s  ETA 0:00:26``."""
        share = self.done / self.total if self.total else 1.0
        filled = int(share * self.width)
        elapsed = now - self.started
        rate = (self.done - self.resumed) / elapsed if elapsed > 0 else 0.0
        left = (self.total - self.done) / rate if rate > 0 else float("nan")
        eta = _clock_text(left) if left == left else "?"
        return (
            f"[{'#' * filled}{'.' * (self.width - filled)}] {self.done:,}/{self.total:,} customers "
            f"({share:.1%})  {rate:,.0f} rows/s  ETA {eta}"
        )
