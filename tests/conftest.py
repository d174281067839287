"""Shared fixtures: one PostgreSQL per test session, a fresh tenant per test.

With DATABASE_URL set, the session creates (and finally drops) a private
database on that server; without it, an embedded PostgreSQL is started in a
temporary directory.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from okrledger.infra.db import Database, app_dsn
from okrledger.infra.embedded_pg import EmbeddedPostgres
from okrledger.infra.event_store import PostgresEventStore
from okrledger.infra.migrations.runner import migrate
from tests.databases import empty_database


@pytest.fixture(scope="session")
def server_dsn() -> Iterator[str]:
    """A DSN, as the owner, of the PostgreSQL server the suite runs against."""
    external = os.environ.get("DATABASE_URL")
    if external:
        yield external
        return
    with (
        tempfile.TemporaryDirectory(prefix="okrl-") as folder,
        EmbeddedPostgres(Path(folder)) as dsn,
    ):
        yield dsn


@pytest.fixture(scope="session")
async def owner_dsn(server_dsn: str) -> AsyncIterator[str]:
    """A fresh database for this session, migrated, as its owner."""
    async with empty_database(server_dsn, "okrledger_test") as dsn:
        await migrate(dsn)
        yield dsn


@pytest.fixture(scope="session")
async def database(owner_dsn: str) -> AsyncIterator[Database]:
    """The application's pool, connected as the non-owner application role."""
    db = await Database.connect(app_dsn(owner_dsn), min_size=1, max_size=12)
    yield db
    await db.close()


@pytest.fixture
def tenant() -> str:
    return f"t-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def other_tenant() -> str:
    return f"o-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def store(database: Database) -> PostgresEventStore:
    return PostgresEventStore(database)
