"""Progress displays: steps with stages, and a spinner, on a terminal only."""

from __future__ import annotations

import io

from rich.console import Console

from riskmodel.progress import StepProgress, spinner, terminal_progress


def _terminal() -> tuple[Console, io.StringIO]:
    stream = io.StringIO()
    return Console(file=stream, force_terminal=True, width=120), stream


def test_steps_show_the_current_stage_and_count() -> None:
    console, stream = _terminal()
    display = terminal_progress(console)
    assert display is not None
    with display:
        steps = StepProgress(display, "training", total=2)
        steps.stage("default: fitting")
        steps.step()
    assert "training: default: fitting" in stream.getvalue() and "1/2" in stream.getvalue()


def test_without_a_display_steps_do_nothing() -> None:
    steps = StepProgress(None, "training", total=2)
    steps.stage("default: fitting")
    steps.step()
    assert steps.task is None


def test_a_spinner_writes_nothing_without_a_terminal() -> None:
    stream = io.StringIO()
    with spinner("generating", Console(file=stream, force_terminal=False)):
        pass
    assert stream.getvalue() == ""


def test_a_spinner_shows_its_description_on_a_terminal() -> None:
    console, stream = _terminal()
    with spinner("generating 10 customers", console):
        pass
    assert "generating 10 customers" in stream.getvalue()
