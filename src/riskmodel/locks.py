"""Locks shared by the processes of one machine (the service's workers, a rescore job beside them), and per-key locks of one process."""

from __future__ import annotations

import fcntl
import hashlib
import tempfile
import threading
from collections.abc import Hashable, Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def machine_lock(kind: str, name: str) -> Iterator[None]:
    """Held by one process (and thread) of the machine at a time for this ``kind`` and ``name``.

    An OS file lock: a waiter wakes as soon as the holder lets go, and a process that dies
    lets go with it.
    """
    digest = hashlib.sha256(name.encode()).hexdigest()[:16]
    path = Path(tempfile.gettempdir()) / f"riskmodel-{kind}-{digest}.lock"
    with path.open("a") as handle:  # each holder its own open file: threads exclude each other too
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class KeyedLock:
    """A lock per key, existing while a thread holds or waits for it: one computation of a value at a time."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[
            Hashable, tuple[threading.Lock, list[int]]
        ] = {}  # key -> (lock, [holders and waiters])

    @contextmanager
    def holding(self, key: Hashable) -> Iterator[None]:
        """Held by one thread at a time for ``key``; other keys are not held up."""
        with self._guard:
            lock, users = self._locks.setdefault(key, (threading.Lock(), [0]))
            users[0] += 1
        try:
            with lock:
                yield
        finally:
            with self._guard:
                users[0] -= 1
                if not users[0]:
                    del self._locks[key]
