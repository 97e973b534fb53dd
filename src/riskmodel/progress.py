"""Progress of long jobs (rescoring, training, sample generation): rich on a terminal, log lines otherwise.

Progress goes to stderr only, and only when stderr is a terminal, so stdout keeps just the
results (the last line of ``riskmodel train`` stays its JSON). Entry points build the display
with :func:`terminal_progress` and hand it down; library code never decides on its own.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

logger = logging.getLogger(__name__)


class _CountColumn(ProgressColumn):
    """``52,000/163,389 customers  4,310 rows/s`` (the unit comes from the task's ``unit`` field)."""

    def render(self, task: Task) -> Text:
        unit = task.fields.get("unit", "")
        if task.total is None:
            return Text("")
        rate = f"  {task.speed:,.0f} rows/s" if task.speed else ""
        return Text(f"{task.completed:,.0f}/{task.total:,.0f} {unit}{rate}")


def terminal_progress(console: Console | None = None) -> Progress | None:
    """A rich progress display on stderr (or ``console``), or None when it is not a terminal."""
    console = console or Console(stderr=True)
    if not console.is_terminal:
        return None
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>5.1f}%"),
        _CountColumn(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=console,
    )


@contextmanager
def spinner(description: str, console: Console | None = None) -> Iterator[None]:
    """A spinner with the elapsed time around a job that reports no steps (nothing without a terminal)."""
    display = terminal_progress(console)
    if display is None:
        yield
        return
    with display:
        display.add_task(description, total=None)
        yield


class StepProgress:
    """Steps of a job (models to train) with the stage of the current step, on a rich display.

    Without a display every call does nothing: the job's own log lines tell the story.
    """

    def __init__(self, display: Progress | None, description: str, total: int) -> None:
        self.display = display
        self.description = description
        self.task = display.add_task(description, total=total, unit="") if display is not None else None

    def stage(self, text: str) -> None:
        """Show ``text`` (``"default: fitting"``) as what happens now."""
        if self.display is not None and self.task is not None:
            self.display.update(self.task, description=f"{self.description}: {text}")

    def step(self) -> None:
        """One step done."""
        if self.display is not None and self.task is not None:
            self.display.advance(self.task)


def _clock_text(seconds: float) -> str:
    seconds = max(int(round(seconds)), 0)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class CountProgress:
    """Rows done out of a total (customers of a rescoring), with the rate and the time left.

    Parameters
    ----------
    display
        A rich display from :func:`terminal_progress` to draw a bar on; ``None`` logs a
        line at most every ``interval_s`` seconds and at the end instead.
    unit
        What is counted, as shown (``"customers"``).
    interval_s
        Seconds between log lines (ignored with a display).
    clock
        Seconds from an arbitrary start (``time.monotonic``; tests pass their own).
    """

    def __init__(
        self,
        display: Progress | None = None,
        unit: str = "customers",
        interval_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.display = display
        self.unit = unit
        self.interval_s = interval_s
        self.clock = clock
        self.total = self.done = self.resumed = 0
        self.started = self.last_report = 0.0
        self.task = None

    def start(self, total: int, done: int = 0) -> None:
        """``total`` rows, of which ``done`` were committed before (a resumed run)."""
        self.total, self.done, self.resumed = total, done, done
        self.started = self.last_report = self.clock()
        if self.display is None:
            logger.info("scoring %s %s (%s already committed)", f"{total:,}", self.unit, f"{done:,}")
            return
        self.display.start()
        self.task = self.display.add_task("scoring", total=total, completed=done, unit=self.unit)

    def advance(self, rows: int) -> None:
        """One more chunk of ``rows`` committed."""
        self.done += rows
        now = self.clock()
        if self.display is not None and self.task is not None:
            self.display.advance(self.task, rows)
        elif now - self.last_report >= self.interval_s or self.done >= self.total:
            logger.info("%s", self.line(now))
            self.last_report = now

    def finish(self) -> None:
        """Stop the display (its last state stays on the terminal)."""
        if self.display is not None:
            self.display.stop()

    def line(self, now: float) -> str:
        """``52,000/163,389 customers (31.8%)  4,310 rows/s  ETA 0:00:26``."""
        share = self.done / self.total if self.total else 1.0
        elapsed = now - self.started
        rate = (self.done - self.resumed) / elapsed if elapsed > 0 else 0.0
        left = (self.total - self.done) / rate if rate > 0 else float("nan")
        eta = _clock_text(left) if left == left else "?"
        return f"{self.done:,}/{self.total:,} {self.unit} ({share:.1%})  {rate:,.0f} rows/s  ETA {eta}"
