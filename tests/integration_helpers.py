"""Helpers for tests that need a real PostgreSQL server (skipped with a reason when none answers)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

POSTGRES_URL = os.environ.get(
    "RISKMODEL_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """Create a throwaway database on the test server and yield its URL; drop it afterwards."""
    import sqlalchemy as sa

    admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as con:
            con.exec_driver_sql("SELECT 1")
    except sa.exc.OperationalError as err:
        admin.dispose()
        pytest.skip(
            f"no PostgreSQL server at {POSTGRES_URL.split('@')[-1]} ({err.__class__.__name__}); set RISKMODEL_TEST_POSTGRES_URL"
        )
    name = f"riskmodel_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as con:
        con.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield admin.url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as con:
            con.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()
