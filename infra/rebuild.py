"""Rebuilding projections from the log without downtime.

Fresh, empty copies of a projection's tables are made in a staging schema and
the log is replayed into them (the projections' SQL finds them first on the
search path); the live tables keep answering meanwhile. The swap happens in
one transaction that locks the live tables (pausing appends that would write
to them), applies whatever was appended during the replay, and moves the new
tables in with the old ones' policies and grants. A crash before the swap
leaves the live tables untouched; the next run starts the staging over.

Runs as the owner, who must be allowed to read every tenant (superuser or
BYPASSRLS) when no single tenant is named.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any

import asyncpg

from okrledger.infra import copy_text
from okrledger.infra.db import check_tenant_id, set_tenant
from okrledger.infra.projector import advance, decode_handled, project
from okrledger.projections.base import Projection, query_indexes
from okrledger.projections.recorded import RecordedEvent

STAGING = "okrledger_rebuild"
_SCHEMA = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
BATCH = 10000

# Called with (events applied so far, events to apply in all).
Progress = Callable[[int, int], None]

_EVENT_COLUMNS = (
    "tenant_id, stream_id, version, position, event_id, stream_type, event_type, topic,"
    " payload::text AS payload, occurred_at, recorded_at, actor, command_id, correlation_id,"
    " reason"
)


class RebuildRefused(RuntimeError):
    """The rebuild cannot run as asked (unknown projection, not enough privilege)."""


@dataclass(frozen=True)
class RebuildReport:
    projections: list[str]
    tenants: int
    events: int


async def rebuild(
    owner_dsn: str,
    projections: Sequence[Projection],
    *,
    tenant_id: str | None = None,
    progress: Progress | None = None,
    fail_after: int | None = None,
) -> RebuildReport:
    """Rebuild `projections` for one tenant or all of them; returns what was replayed.

    `fail_after` aborts after that many events (for testing crash safety).
    """
    if tenant_id is not None:
        check_tenant_id(tenant_id)
    connection, reader = await _connect_two(owner_dsn)
    try:
        tables = [t for p in projections for t in p.tables]
        tenants = await _tenants(connection, tenant_id)
        # Until the swap nothing here needs to survive a crash: the next run starts over.
        await connection.execute("SET synchronous_commit TO off")
        # The first page is read while the staging tables are made.
        pages = [_Pages(reader, projections, tenants[0])] if tenants else []
        try:
            deferred = [name for p in projections for name in query_indexes(p)]
            await _prepare_staging(connection, tables, unlogged=True, without=deferred)
        except BaseException:
            for unread in pages:
                await unread.aclose()
            raise
        await connection.execute(f"SET search_path TO {STAGING}, public")
        total = await _count_events(connection, tenants)
        staging = _Staging(connection)
        reached: dict[str, int] = {}
        applied = 0
        for n, tenant in enumerate(tenants):
            position = 0
            async with aclosing(
                pages[0] if n == 0 else _Pages(reader, projections, tenant)
            ) as page:
                async for records, decoded in page:
                    async with connection.transaction():
                        await _apply(staging, projections, records, decoded)
                    position = records[-1].position
                    applied += len(records)
                    if progress:
                        progress(applied, total)
                    if fail_after is not None and applied >= fail_after:
                        raise RuntimeError(f"rebuild stopped on purpose after {applied} events")
            reached[tenant] = position
        if tenant_id is None:
            # The tables move into public as they are: from here on they must be durable,
            # with every index the live ones have.
            for table in tables:
                await connection.execute(f"ALTER TABLE {STAGING}.{table} SET LOGGED")
            for definition in await _index_definitions(connection, deferred):
                await connection.execute(definition)
        await _swap(staging, projections, tables, reached, whole=tenant_id is None)
        return RebuildReport([p.name for p in projections], len(tenants), applied)
    finally:
        await reader.close()
        await connection.close()


async def _connect_two(dsn: str) -> tuple[asyncpg.Connection, asyncpg.Connection]:
    made = await asyncio.gather(asyncpg.connect(dsn), asyncpg.connect(dsn), return_exceptions=True)
    failed = [m for m in made if isinstance(m, BaseException)]
    if failed:
        for m in made:
            if isinstance(m, asyncpg.Connection):
                await m.close()
        raise failed[0]
    first, second = made
    assert isinstance(first, asyncpg.Connection) and isinstance(second, asyncpg.Connection)
    return first, second


async def replay_until(
    owner_dsn: str,
    projections: Sequence[Projection],
    schema: str,
    *,
    tenant_id: str,
    until_position: int,
) -> int:
    """Fill fresh copies of the projections' tables in `schema` with one tenant's log up to
    `until_position` (included); returns the number of events applied.

    The live tables are not touched: `schema` holds the read models exactly as they
    stood at that position, to read with `SET search_path TO <schema>, public`
    (audits, and the test that versioned point-in-time reads tell the truth).
    Drop it with `drop_schema` when done.
    """
    check_tenant_id(tenant_id)
    if not _SCHEMA.match(schema) or schema == "public":
        raise RebuildRefused(f"not a schema to replay into: {schema!r}")
    connection = await asyncpg.connect(owner_dsn)
    try:
        await _prepare_staging(connection, [t for p in projections for t in p.tables], schema)
        await connection.execute(f"SET search_path TO {schema}, public")
        position, applied = 0, 0
        while records := await _read(connection, tenant_id, position, BATCH, until_position):
            async with connection.transaction():
                await _apply(connection, projections, records, decode_handled(projections, records))
            position = records[-1].position
            applied += len(records)
        return applied
    finally:
        await connection.close()


async def drop_schema(owner_dsn: str, schema: str) -> None:
    if not _SCHEMA.match(schema) or schema == "public":
        raise RebuildRefused(f"not a schema to drop: {schema!r}")
    connection = await asyncpg.connect(owner_dsn)
    try:
        await connection.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    finally:
        await connection.close()


async def _tenants(connection: asyncpg.Connection, tenant_id: str | None) -> list[str]:
    if tenant_id is not None:
        return [tenant_id]
    privileged = await connection.fetchval(
        "SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user"
    )
    if not privileged:
        raise RebuildRefused(
            "rebuilding every tenant needs a superuser or BYPASSRLS owner; name one tenant instead"
        )
    rows = await connection.fetch("SELECT tenant_id FROM tenant_heads ORDER BY tenant_id")
    return [row["tenant_id"] for row in rows]


async def _prepare_staging(
    connection: asyncpg.Connection,
    tables: Sequence[str],
    schema: str = STAGING,
    *,
    unlogged: bool = False,
    without: Sequence[str] = (),
) -> None:
    """Fresh copies of `tables` in `schema`, but for the copies of the live indexes named in
    `without` (see `query_indexes`: a single tenant's rows are copied from the staging tables
    into the live ones, whose indexes are kept as ever, so then they are never needed)."""
    kind = "UNLOGGED TABLE" if unlogged else "TABLE"
    statements = [
        f"DROP SCHEMA IF EXISTS {schema} CASCADE",
        f"CREATE SCHEMA {schema}",
        *(f"CREATE {kind} {schema}.{t} (LIKE public.{t} INCLUDING ALL)" for t in tables),
    ]
    if without:
        # A copy has a name of its own: it is the one of the same table and shape.
        names = ", ".join(_literal(name) for name in without)
        statements.append(
            f"""DO $$DECLARE copy record; BEGIN
                FOR copy IN SELECT s.indexname FROM pg_indexes l JOIN pg_indexes s
                    ON s.schemaname = {_literal(schema)} AND s.tablename = l.tablename
                   AND split_part(s.indexdef, ' USING ', 2) = split_part(l.indexdef, ' USING ', 2)
                   AND (s.indexdef LIKE 'CREATE UNIQUE %') = (l.indexdef LIKE 'CREATE UNIQUE %')
                  WHERE l.schemaname = 'public' AND l.indexname IN ({names})
                LOOP EXECUTE format('DROP INDEX %I.%I', {_literal(schema)}, copy.indexname);
                END LOOP; END$$"""
        )
    # One round trip for the lot.
    await connection.execute(";\n".join(statements))


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


async def _index_definitions(connection: asyncpg.Connection, names: Sequence[str]) -> list[str]:
    """The statements that make the live indexes `names` again, on the staging tables."""
    rows = await connection.fetch(
        """SELECT indexdef FROM pg_indexes
           WHERE schemaname = 'public' AND indexname = ANY($1::text[])""",
        list(names),
    )
    return [row["indexdef"].replace(" ON public.", f" ON {STAGING}.", 1) for row in rows]


async def _count_events(connection: asyncpg.Connection, tenants: Sequence[str]) -> int:
    total = 0
    for tenant in tenants:
        async with connection.transaction(readonly=True):
            await set_tenant(connection, tenant)
            total += await connection.fetchval(
                "SELECT coalesce(max(position), 0) FROM public.events WHERE tenant_id = $1", tenant
            )
    return total


async def _read(
    connection: asyncpg.Connection,
    tenant: str,
    after: int,
    limit: int,
    until: int | None = None,
) -> list[RecordedEvent]:
    async with connection.transaction(readonly=True):
        await set_tenant(connection, tenant)
        rows = await connection.fetch(
            f"""SELECT {_EVENT_COLUMNS} FROM public.events
                WHERE tenant_id = $1 AND position > $2 AND ($4::bigint IS NULL OR position <= $4)
                ORDER BY position LIMIT $3""",
            tenant,
            after,
            limit,
            until,
        )
    return [RecordedEvent(*row) for row in rows]


Page = tuple[list[RecordedEvent], dict[int, Any]]


class _Pages:
    """The tenant's log page by page, decoded; each page is read and decoded (on `reader`,
    a connection of its own) while the caller applies the one before. Reading starts at
    once; `aclose` stops it."""

    def __init__(
        self, reader: asyncpg.Connection, projections: Sequence[Projection], tenant: str
    ) -> None:
        self._reader = reader
        self._projections = projections
        self._tenant = tenant
        self._ahead = asyncio.ensure_future(self._page(0))

    async def _page(self, after: int) -> Page:
        records = await _read(self._reader, self._tenant, after, BATCH)
        return records, decode_handled(self._projections, records)

    def __aiter__(self) -> _Pages:
        return self

    async def __anext__(self) -> Page:
        records, decoded = await self._ahead
        if not records:
            raise StopAsyncIteration
        self._ahead = asyncio.ensure_future(self._page(records[-1].position))
        return records, decoded

    async def aclose(self) -> None:
        self._ahead.cancel()
        await asyncio.gather(self._ahead, return_exceptions=True)


class _Staging:
    """The rebuild's connection as projections see it: rows go into the fresh staging
    tables, which nothing else writes, so new rows are copied in (`FreshRows`)."""

    def __init__(self, connection: asyncpg.Connection) -> None:
        self.connection = connection

    async def execute(self, query: str, *args: Any) -> str:
        return str(await self.connection.execute(query, *args))

    async def executemany(self, command: str, args: Any) -> None:
        await self.connection.executemany(command, args)

    async def fetch(self, query: str, *args: Any) -> list[Any]:
        return list(await self.connection.fetch(query, *args))

    async def fetchrow(self, query: str, *args: Any) -> Any:
        return await self.connection.fetchrow(query, *args)

    async def fetchval(self, query: str, *args: Any) -> Any:
        return await self.connection.fetchval(query, *args)

    async def copy_rows(
        self, table: str, columns: Sequence[str], records: Sequence[Sequence[Any]]
    ) -> None:
        if records:
            await self.connection.copy_to_table(
                table,
                source=_chunks(copy_text.encode(records)),
                columns=list(columns),
                format="text",
            )


async def _chunks(data: bytes) -> AsyncIterator[bytes]:
    yield data  # asyncpg would take bare bytes for a file name


async def _apply(
    rows: asyncpg.Connection | _Staging,
    projections: Sequence[Projection],
    records: Sequence[RecordedEvent],
    decoded: dict[int, Any],
) -> None:
    connection = rows.connection if isinstance(rows, _Staging) else rows
    await set_tenant(connection, records[0].tenant_id)
    await project(rows, projections, records, decoded)


async def _swap(
    staging: _Staging,
    projections: Sequence[Projection],
    tables: Sequence[str],
    reached: dict[str, int],
    *,
    whole: bool,
) -> None:
    connection = staging.connection
    async with connection.transaction():
        await connection.execute("SET LOCAL synchronous_commit TO on")
        live = ", ".join(f"public.{t}" for t in tables)
        await connection.execute(f"LOCK TABLE {live} IN ACCESS EXCLUSIVE MODE")
        # Appends that committed during the replay: apply them to the new tables too.
        for tenant, position in reached.items():
            while records := await _read(connection, tenant, position, BATCH):
                await _apply(staging, projections, records, decode_handled(projections, records))
                position = records[-1].position
            reached[tenant] = position
        if whole:
            for table in tables:
                await _replace_table(connection, table)
        else:
            keys = await _primary_keys(connection, tables)
            for tenant in reached:
                await set_tenant(connection, tenant)
                # One round trip for every table (the tenant id is a checked slug).
                await connection.execute(
                    ";\n".join(_replace_rows(t, keys.get(t, []), tenant) for t in tables)
                )
        for tenant, position in reached.items():
            await set_tenant(connection, tenant)
            await advance(connection, tenant, projections, position)
    # After the commit, so the live tables are locked no longer than the swap itself (a
    # crash in between leaves the schema for the next run to drop).
    await connection.execute("RESET search_path")
    await connection.execute(f"DROP SCHEMA {STAGING} CASCADE")


async def _primary_keys(
    connection: asyncpg.Connection, tables: Sequence[str]
) -> dict[str, list[str]]:
    rows = await connection.fetch(
        """SELECT c.relname,
                  array_agg(a.attname ORDER BY array_position(i.indkey::int2[], a.attnum))
                      AS columns
           FROM pg_index i
           JOIN pg_class c ON c.oid = i.indrelid
           JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
           JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
           WHERE c.relname = ANY($1::text[]) AND i.indisprimary
           GROUP BY c.relname""",
        list(tables),
    )
    return {row["relname"]: list(row["columns"]) for row in rows}


def _replace_rows(table: str, key: Sequence[str], tenant: str) -> str:
    """Statements that make the tenant's live rows those of the staging table, rewriting only
    what differs: a rebuild mostly gives back the rows there were, and rows left alone cost
    no writes."""
    tenant_id = _literal(check_tenant_id(tenant))
    if not key:
        return (
            f"DELETE FROM public.{table} WHERE tenant_id = {tenant_id};\n"
            f"INSERT INTO public.{table} SELECT * FROM {STAGING}.{table}"
        )
    same_key = " AND ".join(f"s.{c} = l.{c}" for c in key)
    # *= compares the stored images of the rows: a numeric's scale counts, NULL equals NULL.
    return f"""DELETE FROM public.{table} l WHERE l.tenant_id = {tenant_id} AND NOT EXISTS (
                   SELECT 1 FROM {STAGING}.{table} s WHERE {same_key} AND s.* *= l.*);
               INSERT INTO public.{table} SELECT s.* FROM {STAGING}.{table} s
               WHERE NOT EXISTS (SELECT 1 FROM public.{table} l
                                 WHERE l.tenant_id = {tenant_id} AND {same_key})"""


async def _replace_table(connection: asyncpg.Connection, table: str) -> None:
    """Move the rebuilt table in, carrying over the live one's RLS policies and grants."""
    policies = await connection.fetch(
        """SELECT policyname, permissive, cmd, roles::text[] AS roles, qual, with_check
           FROM pg_policies WHERE schemaname = 'public' AND tablename = $1""",
        table,
    )
    grants = await connection.fetch(
        """SELECT grantee, string_agg(privilege_type, ', ') AS privileges
           FROM information_schema.role_table_grants
           WHERE table_schema = 'public' AND table_name = $1 AND grantee <> current_user
           GROUP BY grantee""",
        table,
    )
    await connection.execute(f"DROP TABLE public.{table}")
    await connection.execute(f"ALTER TABLE {STAGING}.{table} SET SCHEMA public")
    await connection.execute(f"ALTER TABLE public.{table} ENABLE ROW LEVEL SECURITY")
    await connection.execute(f"ALTER TABLE public.{table} FORCE ROW LEVEL SECURITY")
    for policy in policies:
        roles = ", ".join(policy["roles"])
        using = f" USING ({policy['qual']})" if policy["qual"] else ""
        check = f" WITH CHECK ({policy['with_check']})" if policy["with_check"] else ""
        await connection.execute(
            f"CREATE POLICY {policy['policyname']} ON public.{table} AS {policy['permissive']}"
            f" FOR {policy['cmd']} TO {roles}{using}{check}"
        )
    for grant in grants:
        await connection.execute(
            f'GRANT {grant["privileges"]} ON public.{table} TO "{grant["grantee"]}"'
        )
