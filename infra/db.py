"""The asyncpg pool and the unit of work: the only way the application talks to PostgreSQL.

Every transaction sets the tenant with `set_config(..., true)`, which is
transaction-local, so a connection back in the pool carries no tenant and the
Row-Level Security policies show nothing until the next unit of work sets one.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractContextManager, asynccontextmanager, nullcontext, suppress
from typing import Any, cast
from urllib.parse import quote, urlsplit, urlunsplit
from weakref import WeakValueDictionary

import asyncpg

from okrledger.services.errors import Unavailable

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
    advisory locks are transaction-scoped, and LISTEN uses its own connections.
    asyncpg still rolls back an unfinished transaction before calling this.
    """


class Database:
    """A pool of connections as the application role, handing out tenant-scoped transactions.

    Nothing waits for a connection for ever: past `acquire_timeout` seconds the caller gets
    `Unavailable` (answered as a retryable UNAVAILABLE), never a hang. With `per_tenant`, one
    tenant holds at most that many connections at once; its other callers queue on the
    tenant's own semaphore, holding nothing, so a tenant saturating its own work leaves the
    rest of the pool to the other tenants. Nothing here ever asks for a second connection
    while holding one (a cap per tenant would turn that into a wait on itself).
    """

    def __init__(
        self, pool: asyncpg.Pool, *, acquire_timeout: float = 5.0, per_tenant: int | None = None
    ) -> None:
        self.pool = pool
        self.trace: SpanFactory | None = None
        self.acquire_timeout = acquire_timeout
        self.per_tenant = per_tenant
        self._tenant_slots: WeakValueDictionary[str, asyncio.Semaphore] = WeakValueDictionary()

    @classmethod
    async def connect(
        cls,
        dsn: str,
        *,
        min_size: int = 2,
        max_size: int = 10,
        acquire_timeout: float = 5.0,
        per_tenant: int | None = None,
    ) -> Database:
        pool = await asyncpg.create_pool(
            dsn,
            min_size=min_size,
            max_size=max_size,
            server_settings={"application_name": "okrledger"},
            reset=_keep_session,
        )
        return cls(pool, acquire_timeout=acquire_timeout, per_tenant=per_tenant)

    async def close(self) -> None:
        await self.pool.close()

    @asynccontextmanager
    async def connection(self, tenant_id: str | None = None) -> AsyncIterator[asyncpg.Connection]:
        """A pooled connection, counted against `tenant_id`'s share when one is named.

        Raises Unavailable when none comes free within `acquire_timeout` seconds.
        """
        slots = None if tenant_id is None else self._slots(tenant_id)
        try:
            async with asyncio.timeout(self.acquire_timeout):
                if slots is not None:
                    await slots.acquire()
                try:
                    proxy = await self.pool.acquire()
                except BaseException:
                    if slots is not None:
                        slots.release()
                    raise
        except TimeoutError:
            raise Unavailable(
                f"no database connection came free within {self.acquire_timeout:g} s",
                retry_after=self.acquire_timeout,
            ) from None
        try:
            yield cast(asyncpg.Connection, proxy)
        finally:
            try:
                await self.pool.release(proxy)
            finally:
                if slots is not None:
                    slots.release()

    def _slots(self, tenant_id: str) -> asyncio.Semaphore | None:
        if self.per_tenant is None:
            return None
        slots = self._tenant_slots.get(tenant_id)
        if slots is None:
            slots = self._tenant_slots[tenant_id] = asyncio.Semaphore(self.per_tenant)
        return slots

    @asynccontextmanager
    async def transaction(
        self, tenant_id: str, *, readonly: bool = False
    ) -> AsyncIterator[asyncpg.Connection]:
        """A transaction with the tenant set for Row-Level Security; commits on success."""
        check_tenant_id(tenant_id)
        with self.span(tenant_id, readonly=readonly):
            async with self.connection(tenant_id) as connection:
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
        async with self.connection() as connection:
            return [row[0] for row in await connection.fetch("SELECT tenant_ids()")]

    async def fetchval(self, query: str, *args: Any) -> Any:
        """A tenant-less read (e.g. schema state); RLS shows no tenant rows here."""
        async with self.connection() as connection:
            return await connection.fetchval(query, *args)
