"""Deployment settings of the scoring service, read from environment variables by the entry points.

The library never reads ``os.environ`` itself: ``serving/service.py`` and ``riskmodel serve``
pass the environment to :meth:`ServiceSettings.from_env`, and ``riskmodel serve`` writes
the settings back with :meth:`ServiceSettings.to_env` for the server process.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from riskmodel.store import DEFAULT_DB_URL

DEFAULT_LEDGER = "data/sample"
DEFAULT_KEY_FILE = ".riskmodel/api_keys"
DEFAULT_MAX_BODY_BYTES = 1 << 20  # 1 MiB

ENV_LEDGER = "RISKMODEL_LEDGER"
ENV_DB = "RISKMODEL_DB_URL"
ENV_TRACKING = "MLFLOW_TRACKING_URI"
ENV_KEYS = "RISKMODEL_API_KEYS"
ENV_KEY_FILE = "RISKMODEL_API_KEY_FILE"
ENV_AUTH = "RISKMODEL_AUTH"
ENV_MAX_BODY = "RISKMODEL_MAX_BODY_BYTES"
ENV_CONSOLE = "RISKMODEL_CONSOLE_DIR"


@dataclass(frozen=True)
class ServiceSettings:
    """Where the service reads its ledger, models and keys from, and where it writes the audit trail.

    Parameters
    ----------
    ledger
        Ledger folder (CSV or Parquet) or SQLAlchemy URL, loaded once at start.
    tracking_uri
        MLflow tracking URI holding the ``champion`` models; ``None`` lets MLflow choose.
    db_url
        Results database (scores, alerts, audit): SQLAlchemy URL or SQLite file path.
    api_keys
        Keys given inline (``RISKMODEL_API_KEYS``, comma-separated).
    key_file
        File with one key per line (``#`` starts a comment); read when present.
    auth
        Whether API calls need a key (on unless ``RISKMODEL_AUTH=off``).
    max_body_bytes
        Larger request bodies are refused with 413.
    console_dir
        Folder of the web console's static files; ``None`` serves no console.
    """

    ledger: str = DEFAULT_LEDGER
    tracking_uri: str | None = None
    db_url: str = DEFAULT_DB_URL
    api_keys: tuple[str, ...] = ()
    key_file: Path = Path(DEFAULT_KEY_FILE)
    auth: bool = True
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    console_dir: Path | None = None

    def __post_init__(self) -> None:
        if self.max_body_bytes < 1024:
            raise ValueError(f"max_body_bytes must be at least 1024; got {self.max_body_bytes}")

    @classmethod
    def from_env(cls, env: Mapping[str, str], console_dir: Path | None = None) -> ServiceSettings:
        """Settings from environment variables (``RISKMODEL_*``, ``MLFLOW_TRACKING_URI``), defaults for the rest."""
        auth = env.get(ENV_AUTH, "on").strip().lower()
        if auth not in ("on", "off"):
            raise ValueError(f"{ENV_AUTH} must be 'on' or 'off'; got {auth!r}")
        max_body = env.get(ENV_MAX_BODY, str(DEFAULT_MAX_BODY_BYTES))
        if not max_body.isdigit():
            raise ValueError(f"{ENV_MAX_BODY} must be a whole number of bytes; got {max_body!r}")
        console = env.get(ENV_CONSOLE)
        return cls(
            ledger=env.get(ENV_LEDGER) or DEFAULT_LEDGER,
            tracking_uri=env.get(ENV_TRACKING) or None,
            db_url=env.get(ENV_DB) or DEFAULT_DB_URL,
            api_keys=tuple(key.strip() for key in env.get(ENV_KEYS, "").split(",") if key.strip()),
            key_file=Path(env.get(ENV_KEY_FILE) or DEFAULT_KEY_FILE),
            auth=auth == "on",
            max_body_bytes=int(max_body),
            console_dir=Path(console) if console else console_dir,
        )

    def to_env(self) -> dict[str, str]:
        """The environment variables that give these settings back through :meth:`from_env`."""
        env = {
            ENV_LEDGER: self.ledger,
            ENV_DB: self.db_url,
            ENV_KEY_FILE: str(self.key_file),
            ENV_AUTH: "on" if self.auth else "off",
            ENV_MAX_BODY: str(self.max_body_bytes),
        }
        if self.tracking_uri:
            env[ENV_TRACKING] = self.tracking_uri
        if self.api_keys:
            env[ENV_KEYS] = ",".join(self.api_keys)
        if self.console_dir is not None:
            env[ENV_CONSOLE] = str(self.console_dir)
        return env
