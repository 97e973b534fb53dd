"""Locks shared by the processes of one machine."""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path

from riskmodel.locks import machine_lock


def _hold(name: str, held: Path, release: Path) -> None:
    with machine_lock("test", name):
        held.touch()
        while not release.exists():
            time.sleep(0.01)


def test_a_second_process_waits_until_the_holder_lets_go(tmp_path: Path) -> None:
    name, held, release = str(tmp_path), tmp_path / "held", tmp_path / "release"
    holder = multiprocessing.get_context("spawn").Process(target=_hold, args=(name, held, release))
    holder.start()
    try:
        while not held.exists():
            time.sleep(0.01)
        order = []
        release_later = multiprocessing.get_context("spawn").Process(target=_touch_after, args=(release, 0.3))
        release_later.start()
        with machine_lock("test", name):
            order.append("got it")
            assert release.exists()  # only after the holder was told to let go
        release_later.join()
    finally:
        release.touch()
        holder.join(timeout=10)
    assert order == ["got it"] and holder.exitcode == 0


def test_other_names_do_not_wait(tmp_path: Path) -> None:
    with machine_lock("test", str(tmp_path / "a")), machine_lock("test", str(tmp_path / "b")):
        pass


def _touch_after(path: Path, seconds: float) -> None:
    time.sleep(seconds)
    path.touch()
