"""API keys: where they come from, how a request proves one, and the key id the audit trail records.

Keys come from ``RISKMODEL_API_KEYS`` (comma-separated) and from a key file with one key a
line. Only SHA-256 digests are kept in memory after loading; the audit trail and logs see
the key id (a short digest prefix), never the key.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Iterable
from pathlib import Path

from riskmodel.service.settings import ServiceSettings

MIN_KEY_LENGTH = 16
ANONYMOUS = "anonymous"


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def key_id(key: str) -> str:
    """The audit name of a key: ``key-`` and the first 12 hex digits of its SHA-256."""
    return f"key-{_digest(key)[:12]}"


def read_key_file(path: Path) -> tuple[str, ...]:
    """Keys of a key file (one a line; blank lines and ``#`` comments skipped); empty when the file is absent."""
    if not path.is_file():
        return ()
    lines = (line.split("#", 1)[0].strip() for line in path.read_text(encoding="utf-8").splitlines())
    return tuple(line for line in lines if line)


def create_key_file(path: Path) -> str:
    """Write a new random key to ``path`` (created readable by its owner only) and return it."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = secrets.token_urlsafe(32)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(f"# riskmodel API key; send it as 'Authorization: Bearer <key>'\n{key}\n")
    return key


class KeyRing:
    """The accepted keys, held as digests; tells the key id of a request's ``Authorization`` header.

    Parameters
    ----------
    keys
        Accepted keys, each at least ``MIN_KEY_LENGTH`` characters.
    """

    def __init__(self, keys: Iterable[str]) -> None:
        keys = list(keys)
        short = [key_id(key) for key in keys if len(key) < MIN_KEY_LENGTH]
        if short:
            raise ValueError(
                f"API keys must be at least {MIN_KEY_LENGTH} characters; {', '.join(short)} is shorter"
            )
        self._ids = {_digest(key): key_id(key) for key in keys}

    @classmethod
    def from_settings(cls, settings: ServiceSettings) -> KeyRing:
        """Keys from the settings' inline list and key file."""
        return cls([*settings.api_keys, *read_key_file(settings.key_file)])

    def __len__(self) -> int:
        return len(self._ids)

    def identify(self, authorization: str | None) -> str | None:
        """The key id of a ``Bearer <key>`` header value, or ``None`` when it carries no accepted key."""
        if not authorization:
            return None
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        return self._ids.get(_digest(token.strip()))
