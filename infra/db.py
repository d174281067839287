"""The asyncpg pool and the unit of work: the only way the application talks to PostgreSQL.

Every transaction sets the tenant with `set_config(..., true)`, which is
transaction-local, so a connection back in the pool carries no tenant and the
Row-Level Security policies show nothing until the next unit of work sets one.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractContextManager, asynccontextmanager, nullcontext, suppress
from typing import Any, cast
from urllib.parse import quote, urlsplit, urlunsplit

import asyncpg

APP_ROLE = "okrledger_app"
TENANT_SETTING = "okrledger.tenant_id"
_TENANT_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")


class InvalidTenant(ValueError):
    """A tenant id must be a lowercase slug (letters, digits, '-', '_'), at most 63 characters."""


def check_tenant_id(tenant_id: str) -> str:
    # fullmatch: `$` would also match before a trailing newline ("demo\n").
    if not _TENANT_ID.fullmatch(tenant_id):
        raise InvalidTenant(f"invalid tenant id {tenant_id!r}: use a lowercase slug")
    return tenant_id


async def set_tenant(connection: asyncpg.Connection, tenant_id: str) -> None:
    """Set the tenant for Row-Level Security until the current transaction ends."""
    await connection.execute(
        "SELECT set_config($1, $2, true)", TENANT_SETTING, check_tenant_id(tenant_id)
    )


def app_dsn(owner_dsn: str, password: str | None = None) -> str:
    """The owner's DSN with the user swapped for the application role."""
    parts = urlsplit(owner_dsn)
    host = parts.netloc.rpartition("@")[2]
    credentials = APP_ROLE if password is None else f"{APP_ROLE}:{quote(password, safe='')}"
    return urlunsplit(parts._replace(netloc=f"{credentials}@{host}"))


Connection = asyncpg.Connection  # re-exported for infra modules only

# Opens a trace span (name, attributes) around a transaction; set only when tracing is on.
SpanFactory = Callable[[str, Mapping[str, str | bool | int]], AbstractContextManager[object]]


async def _keep_session(connection: asyncpg.Connection) -> None:
    """Skip asyncpg's RESET ALL round trip on every release.

    Nothing here changes session state: the tenant is set transaction-locally,
    advisory locks are released where taken, and LISTEN uses its own connections.
    asyncpg still rolls back an unfinished transaction before calling this.
    """


class Database:
    """A pool of connections as the application role, handing out tenant-scoped transactions."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool
        self.trace: SpanFactory | None = None

    @classmethod
    async def connect(cls, dsn: str, *, min_size: int = 2, max_size: int = 10) -> Database:
        pool = await asyncpg.create_pool(
            dsn,
            min_size=min_size,
            max_size=max_size,
            server_settings={"application_name": "okrledger"},
            reset=_keep_session,
        )
        return cls(pool)

    async def close(self) -> None:
        await self.pool.close()

    @asynccontextmanager
    async def transaction(
        self, tenant_id: str, *, readonly: bool = False
    ) -> AsyncIterator[asyncpg.Connection]:
        """A transaction with the tenant set for Row-Level Security; commits on success."""
        check_tenant_id(tenant_id)
        with self.span(tenant_id, readonly=readonly):
            async with self.pool.acquire() as proxy:
                connection = cast(asyncpg.Connection, proxy)
                # BEGIN and the tenant in one round trip (a simple query may hold both; the
                # tenant id is a checked slug, safe as a literal), then COMMIT or ROLLBACK.
                begin = "BEGIN READ ONLY" if readonly else "BEGIN"
                await connection.execute(
                    f"{begin}; SELECT set_config('{TENANT_SETTING}', '{tenant_id}', true)"
                )
                try:
                    yield connection
                except BaseException:
                    if not connection.is_closed():
                        with suppress(asyncpg.PostgresError, asyncpg.InterfaceError, OSError):
                            await connection.execute("ROLLBACK")
                    raise
                await connection.execute("COMMIT")

    def span(self, tenant_id: str, *, readonly: bool) -> AbstractContextManager[object]:
        """The trace span of one unit of database work (nothing while tracing is off)."""
        if self.trace is None:
            return nullcontext()
        return self.trace(
            "db.read" if readonly else "db.write",
            {"db.system.name": "postgresql", "okrledger.tenant_id": tenant_id},
        )

    async def ping(self) -> bool:
        try:
            async with self.pool.acquire(timeout=2) as connection:
                return bool(await connection.fetchval("SELECT true", timeout=2))
        except (OSError, asyncpg.PostgresError, TimeoutError):
            return False

    async def tenant_ids(self) -> list[str]:
        """Every tenant with events (ids only: no tenant's data is visible here)."""
        async with self.pool.acquire() as connection:
            return [row[0] for row in await connection.fetch("SELECT tenant_ids()")]

    async def fetchval(self, query: str, *args: Any) -> Any:
        """A tenant-less read (e.g. schema state); RLS shows no tenant rows here."""
        async with self.pool.acquire() as connection:
            return await connection.fetchval(query, *args)
