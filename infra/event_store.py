"""The event store on asyncpg: one append-only log per tenant.

Positions are assigned under the tenant's row in `tenant_heads`, locked until
commit, so within a tenant they are gap-free and in commit order; tenants
append in parallel. Optimistic concurrency is the primary key
(tenant_id, stream_id, version): a second writer at the same version fails.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any, cast
from uuid import UUID, uuid4

import asyncpg
import orjson
from eventsourcing.domain import Aggregate, CanMutateAggregate, Snapshot
from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic

from okrledger.infra.codec import mapper
from okrledger.infra.db import Database, check_tenant_id
from okrledger.projections.recorded import RecordedEvent
from okrledger.services.errors import AlreadyClaimed, VersionConflict
from okrledger.services.ports import Appended, Claim, Claimed, CommandContext, Loaded

# Runs inside the append transaction, after the events are inserted (inline projections).
AppendHook = Callable[[asyncpg.Connection, Sequence[RecordedEvent]], Awaitable[None]]
# Told the stored event type names of each append once it has committed (metrics).
AppendObserver = Callable[[Sequence[str]], None]

_COLUMNS = (
    "tenant_id, stream_id, version, position, event_id, stream_type, event_type, topic,"
    " payload::text AS payload, occurred_at, recorded_at, actor, command_id, correlation_id,"
    " reason"
)

_APPEND = """
SELECT event_position, event_recorded_at FROM append_events(
    $1, $2, $3, $4, $5, $6, $7, $8::int[], $9::uuid[], $10::text[], $11::text[], $12::text[],
    $13::timestamptz[])
"""


class PostgresEventStore:
    def __init__(
        self, database: Database, *, hooks: Sequence[AppendHook] = (), snapshot_every: int = 200
    ) -> None:
        self._db = database
        self._hooks = list(hooks)
        self._observers: list[AppendObserver] = []
        self.snapshot_every = snapshot_every

    def add_hook(self, hook: AppendHook) -> None:
        self._hooks.append(hook)

    def add_observer(self, observer: AppendObserver) -> None:
        self._observers.append(observer)

    async def append(
        self,
        context: CommandContext,
        events: Sequence[CanMutateAggregate[UUID]],
        *,
        claims: Sequence[Claim] = (),
        snapshot: Snapshot | None = None,
    ) -> Appended:
        """Append one stream's new events atomically, or nothing.

        Raises VersionConflict when another writer got there first and
        AlreadyClaimed when a unique key is taken. A command id seen before
        returns that command's first outcome and appends nothing.
        """
        check_tenant_id(context.tenant_id)
        if not events:
            raise ValueError("nothing to append")
        stream_id = events[0].originator_id
        if any(e.originator_id != stream_id for e in events):
            raise ValueError("one append writes to one stream")
        stored = [mapper().to_stored_event(e) for e in events]
        stream_type = _stream_type(events[0])
        event_ids = [uuid4() for _ in stored]
        event_types = [type(e).__name__ for e in events]
        payloads = [s.state.decode() for s in stored]
        arguments = (
            context.tenant_id,
            stream_id,
            stream_type,
            context.actor,
            context.command_id,
            context.correlation_id,
            context.reason,
            [s.originator_version for s in stored],
            event_ids,
            event_types,
            [s.topic for s in stored],
            payloads,
            [e.timestamp for e in events],
        )
        try:
            with self._db.span(context.tenant_id, readonly=False):
                # With nothing else to write, the append is one statement in its own transaction.
                if not (claims or snapshot or self._hooks):
                    async with self._db.pool.acquire() as single:
                        rows = await single.fetch(_APPEND, *arguments)
                else:
                    # append_events sets the tenant for the transaction itself, first thing.
                    async with self._db.pool.acquire() as proxy, proxy.transaction():
                        connection = cast(asyncpg.Connection, proxy)
                        rows = await connection.fetch(_APPEND, *arguments)
                        if claims:
                            await _insert_claims(connection, context.tenant_id, stream_id, claims)
                        if snapshot is not None:
                            await _insert_snapshot(connection, context.tenant_id, snapshot)
                        if self._hooks:
                            recorded = _recorded(
                                context, stream_type, events, stored, rows, event_ids
                            )
                            for hook in self._hooks:
                                await hook(connection, recorded)
        except asyncpg.UniqueViolationError as error:
            if error.constraint_name == "commands_pkey":
                outcome = await self.outcome(context.tenant_id, context.command_id)
                assert outcome is not None, "a command seen before has an outcome"
                return outcome
            if error.constraint_name == "events_pkey":
                raise VersionConflict(stream_id, stored[0].originator_version - 1) from None
            raise
        for observer in self._observers:
            observer(event_types)
        last = max(row["event_position"] for row in rows)
        new_version = stored[-1].originator_version
        return Appended(stream_id, new_version, last)

    @asynccontextmanager
    async def serialized(self, tenant_id: str, topic: str) -> AsyncIterator[None]:
        """Hold a session advisory lock on (tenant, topic) for the duration of the block."""
        async with self._db.pool.acquire() as connection:
            key = f"{tenant_id}:{topic}"
            await connection.execute("SELECT pg_advisory_lock(hashtextextended($1, 0))", key)
            try:
                yield
            finally:
                await connection.execute("SELECT pg_advisory_unlock(hashtextextended($1, 0))", key)

    async def outcome(self, tenant_id: str, command_id: str) -> Appended | None:
        """The first outcome of a command id, if it was ever handled."""
        check_tenant_id(tenant_id)
        async with self._db.pool.acquire() as connection:
            row = await connection.fetchrow(
                "SELECT stream_id, version, event_position FROM command_outcome($1, $2)",
                tenant_id,
                command_id,
            )
        if row is None:
            return None
        return Appended(row["stream_id"], row["version"], row["event_position"], duplicate=True)

    async def load_for_command(self, tenant_id: str, stream_id: UUID, command_id: str) -> Loaded:
        """The aggregate as `load` gives it, in the same round trip as the idempotency check:
        a command id seen before gets its first outcome instead."""
        check_tenant_id(tenant_id)
        async with self._db.pool.acquire() as connection:
            rows = await connection.fetch(
                """SELECT kind, stream_id, version, event_position, topic, payload
                   FROM load_stream_for_command($1, $2, $3)""",
                tenant_id,
                stream_id,
                command_id,
            )
        if rows and rows[0]["kind"] == "outcome":
            row = rows[0]
            seen = Appended(row["stream_id"], row["version"], row["event_position"], duplicate=True)
            return Loaded(None, seen)
        aggregate: Any = None
        for row in rows:
            domain_object = _to_domain(stream_id, row)
            aggregate = domain_object.mutate(None if row["kind"] == "snapshot" else aggregate)
        return Loaded(cast(Aggregate | None, aggregate), None)

    async def load(
        self,
        tenant_id: str,
        stream_id: UUID,
        *,
        until_version: int | None = None,
        until_time: datetime | None = None,
    ) -> Aggregate | None:
        """The aggregate rebuilt from its latest usable snapshot and the events after it."""
        check_tenant_id(tenant_id)
        async with self._db.pool.acquire() as connection:
            rows = await connection.fetch(
                "SELECT is_snapshot, version, topic, payload FROM load_stream($1, $2, $3, $4)",
                tenant_id,
                stream_id,
                until_version,
                until_time,
            )
        aggregate: Any = None
        for row in rows:
            domain_object = _to_domain(stream_id, row)
            aggregate = domain_object.mutate(None if row["is_snapshot"] else aggregate)
        return cast(Aggregate | None, aggregate)

    async def read_stream(
        self,
        tenant_id: str,
        stream_id: UUID,
        *,
        until_version: int | None = None,
        until_time: datetime | None = None,
    ) -> list[RecordedEvent]:
        async with self._db.transaction(tenant_id, readonly=True) as connection:
            rows = await connection.fetch(
                f"""SELECT {_COLUMNS} FROM events
                    WHERE tenant_id = $1 AND stream_id = $2
                      AND ($3::int IS NULL OR version <= $3)
                      AND ($4::timestamptz IS NULL OR recorded_at <= $4)
                    ORDER BY version""",
                tenant_id,
                stream_id,
                until_version,
                until_time,
            )
        return [RecordedEvent(**dict(row)) for row in rows]

    async def read_log(
        self, tenant_id: str, *, after_position: int = 0, limit: int = 1000
    ) -> list[RecordedEvent]:
        """The tenant's events after a position, in position (= commit) order."""
        async with self._db.transaction(tenant_id, readonly=True) as connection:
            rows = await connection.fetch(
                f"""SELECT {_COLUMNS} FROM events
                    WHERE tenant_id = $1 AND position > $2 ORDER BY position LIMIT $3""",
                tenant_id,
                after_position,
                limit,
            )
        return [RecordedEvent(**dict(row)) for row in rows]

    async def head(self, tenant_id: str) -> int:
        """The tenant's latest position (0 before its first event)."""
        async with self._db.transaction(tenant_id, readonly=True) as connection:
            position = await connection.fetchval(
                "SELECT position FROM tenant_heads WHERE tenant_id = $1", tenant_id
            )
        return int(position or 0)

    async def claimed(self, tenant_id: str, scope: str, keys: Sequence[str]) -> dict[str, Claimed]:
        async with self._db.transaction(tenant_id, readonly=True) as connection:
            # A join, not `key = ANY($3)`: once asyncpg's prepared statement goes generic,
            # PostgreSQL plans ANY over thousands of keys (a batch of readings) as a scan.
            rows = await connection.fetch(
                """SELECT c.key, c.stream_id, c.data::text AS data
                   FROM unnest($3::text[]) AS wanted(key)
                   JOIN claims c ON c.tenant_id = $1 AND c.scope = $2 AND c.key = wanted.key""",
                tenant_id,
                scope,
                list(keys),
            )
        return {
            row["key"]: Claimed(row["key"], row["stream_id"], orjson.loads(row["data"]))
            for row in rows
        }


def _recorded(
    context: CommandContext,
    stream_type: str,
    events: Sequence[CanMutateAggregate[UUID]],
    stored: Sequence[StoredEvent],
    rows: Sequence[asyncpg.Record],
    event_ids: Sequence[UUID],
) -> list[RecordedEvent]:
    """The appended events as the log now holds them, in version (= position) order."""
    ordered = sorted(rows, key=lambda row: row["event_position"])
    return [
        RecordedEvent(
            tenant_id=context.tenant_id,
            stream_id=event.originator_id,
            version=item.originator_version,
            position=row["event_position"],
            event_id=event_id,
            stream_type=stream_type,
            event_type=type(event).__name__,
            topic=item.topic,
            payload=item.state.decode(),
            occurred_at=event.timestamp,
            recorded_at=row["event_recorded_at"],
            actor=context.actor,
            command_id=context.command_id,
            correlation_id=context.correlation_id,
            reason=context.reason,
        )
        for event, item, row, event_id in zip(events, stored, ordered, event_ids, strict=True)
    ]


def _stream_type(event: CanMutateAggregate[UUID]) -> str:
    qualname = type(event).__qualname__
    return qualname.split(".")[0] if "." in qualname else type(event).__module__.rsplit(".")[-1]


def _to_domain(stream_id: UUID, row: asyncpg.Record) -> Any:
    stored = StoredEvent(stream_id, row["version"], row["topic"], row["payload"].encode())
    return mapper().to_domain_event(stored)


async def _insert_claims(
    connection: asyncpg.Connection, tenant_id: str, stream_id: UUID, claims: Sequence[Claim]
) -> None:
    taken = await connection.fetch(
        """INSERT INTO claims (tenant_id, scope, key, stream_id, data)
           SELECT $1, c.scope, c.key, $2, c.data::jsonb
           FROM unnest($3::text[], $4::text[], $5::text[]) AS c(scope, key, data)
           ON CONFLICT DO NOTHING RETURNING scope, key""",
        tenant_id,
        stream_id,
        [c.scope for c in claims],
        [c.key for c in claims],
        [orjson.dumps(c.data, default=str).decode() for c in claims],
    )
    if len(taken) != len(claims):
        won = {(r["scope"], r["key"]) for r in taken}
        lost = next(c for c in claims if (c.scope, c.key) not in won)
        raise AlreadyClaimed(lost.scope, lost.key)


async def _insert_snapshot(
    connection: asyncpg.Connection, tenant_id: str, snapshot: Snapshot
) -> None:
    stored = mapper().to_stored_event(snapshot)
    await connection.execute(
        """INSERT INTO snapshots (tenant_id, stream_id, version, topic, payload)
           VALUES ($1, $2, $3, $4, $5::jsonb) ON CONFLICT DO NOTHING""",
        tenant_id,
        snapshot.originator_id,
        snapshot.originator_version,
        get_topic(type(snapshot)),
        stored.state.decode(),
    )
