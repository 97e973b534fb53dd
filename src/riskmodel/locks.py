"""Locks shared by the processes of one machine (the service's workers, a rescore job beside them)."""

from __future__ import annotations

import fcntl
import hashlib
import tempfile
from collections.abc import Iterator
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
