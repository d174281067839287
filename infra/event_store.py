"""The event store on asyncpg: one append-only log per tenant.

Positions are assigned under the tenant's row in `tenant_heads`, locked until
commit, so within a tenant they are gap-free and in commit order; tenants
append in parallel. Optimistic concurrency is the primary key
(tenant_id, stream_id, version): a second writer at the same version fails.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast
from uuid import UUID, uuid4

import asyncpg
import orjson
from eventsourcing.domain import Aggregate, CanMutateAggregate, Snapshot
from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic

from okrledger.infra.announce import Announcer
from okrledger.infra.codec import mapper
from okrledger.infra.db import Database, check_tenant_id, set_tenant
from okrledger.infra.group_commit import GroupCommit
from okrledger.projections.recorded import RecordedEvent
from okrledger.services.errors import (
    AlreadyClaimed,
    IdempotencyKeyReused,
    Unavailable,
    VersionConflict,
)
from okrledger.services.handling import retry_pause
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

_APPEND_COMMAND = """
SELECT item, event_position, event_recorded_at, refused, refused_scope, refused_key
FROM append_command($1, $2, $3, $4, $5, $6, $7, $8, $9::int[], $10::uuid[], $11::text[],
                    $12::text[], $13::text[], $14::timestamptz[], $15::text[], $16::text[],
                    $17::text[], $18, $19, $20, $21)
"""


class PostgresEventStore:
    def __init__(self, database: Database, *, hooks: Sequence[AppendHook] = ()) -> None:
        self._db = database
        self._hooks = list(hooks)
        self._observers: list[AppendObserver] = []
        self._group_commit: GroupCommit[_Command, _Written] = GroupCommit(self._write)
        self._announcer = Announcer(database)
        # Set on the copy `serialized` hands out: every read and append of that copy runs on
        # this one connection, in the transaction holding the lock; what must wait for the
        # commit (announcements, observers) waits in `_after_commit`.
        self._pinned: asyncpg.Connection | None = None
        self._after_commit: list[Callable[[], None]] = []

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
        returns that command's first outcome and appends nothing, unless it was
        seen with another fingerprint: then IdempotencyKeyReused.
        """
        check_tenant_id(context.tenant_id)
        if not events:
            raise ValueError("nothing to append")
        stream_id = events[0].originator_id
        if any(e.originator_id != stream_id for e in events):
            raise ValueError("one append writes to one stream")
        command = _Command.of(context, events, claims, snapshot)
        if self._pinned is None:
            written = await self._group_commit.submit(context.tenant_id, command)
        else:
            (written,) = await self._write_on(self._pinned, [command])
        if written.refused == "commands_pkey":
            outcome = await self.outcome(context.tenant_id, context.command_id)
            assert outcome is not None, "a command seen before has an outcome"
            return outcome
        if written.refused == "command_reused":
            raise IdempotencyKeyReused(context.command_id)
        if written.refused == "events_pkey":
            raise VersionConflict(stream_id, command.stored[0].originator_version - 1)
        if written.refused == "claim":
            scope, key = written.lost_claim
            raise AlreadyClaimed(scope, key)
        if self._pinned is None:
            self._observe(command.event_types)
        else:
            tenant_id, types = context.tenant_id, command.event_types
            self._after_commit.append(lambda: self._announce(tenant_id, [written]))
            self._after_commit.append(lambda: self._observe(types))
        return Appended(stream_id, command.stored[-1].originator_version, written.positions[-1])

    def _observe(self, event_types: Sequence[str]) -> None:
        for observer in self._observers:
            observer(event_types)

    async def _write(self, commands: Sequence[_Command]) -> list[_Written]:
        """One transaction for commands of one tenant (group_commit.py)."""
        tenant_id = commands[0].context.tenant_id
        with self._db.span(tenant_id, readonly=False):
            async with self._db.connection(tenant_id) as connection:
                if not self._hooks:
                    # Nothing else to write: the pipelined statements are one implicit transaction.
                    written = await self._write_on(connection, commands)
                else:
                    async with connection.transaction():
                        written = await self._write_on(connection, commands)
        self._announce(tenant_id, written)
        return written

    async def _write_on(
        self, connection: asyncpg.Connection, commands: Sequence[_Command]
    ) -> list[_Written]:
        """The commands' events, then the hooks over what was written, on `connection`."""
        arguments = [(n, *c.arguments) for n, c in enumerate(commands)]
        written = _written(commands, await _append_commands(connection, arguments))
        recorded = [
            event
            for command, outcome in zip(commands, written, strict=True)
            if outcome.refused is None
            for event in command.recorded(outcome)
        ]
        if recorded:
            for hook in self._hooks:
                await hook(connection, recorded)
        return written

    def _announce(self, tenant_id: str, written: Sequence[_Written]) -> None:
        positions = [w.positions[-1] for w in written if w.refused is None]
        if positions:
            self._announcer.announce(tenant_id, max(positions))

    @asynccontextmanager
    async def serialized(self, tenant_id: str, *topics: str) -> AsyncIterator[PostgresEventStore]:
        """A store whose reads and appends run one at a time per (tenant, topic), across
        processes, in one transaction holding every topic's turn at once (all or none, so
        two callers of overlapping topics never wait on each other); Unavailable when the
        turns do not come in time.

        Why this shape: a session advisory lock awaited on a pooled connection pinned that
        connection while it waited, and the lock's holder needed another one to finish;
        forty waiters took the pool and nobody finished. Here nothing waits while holding
        a connection: callers take their process's turn first (services/keyed_locks.py, so
        a process tries with one connection per topic at most), and when another process
        has the lock, this rolls back, gives the connection back and tries again after a
        pause, until `acquire_timeout` has passed. The lock is
        transaction-scoped (`pg_try_advisory_xact_lock`, which never waits) and taken in
        the transaction that does the work, on the one connection every load and the
        append then use: the work never needs a second connection, and the lock ends with
        the transaction even if the process dies.
        """
        check_tenant_id(tenant_id)
        keys = sorted(f"{tenant_id}:{topic}" for topic in topics)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._db.acquire_timeout
        for attempt in itertools.count(1):
            pinned: PostgresEventStore | None = None
            with self._db.span(tenant_id, readonly=False):
                async with (
                    self._db.connection(tenant_id) as connection,
                    connection.transaction(),
                ):
                    await set_tenant(connection, tenant_id)
                    locked = await connection.fetchval(
                        """SELECT bool_and(pg_try_advisory_xact_lock(hashtextextended(key, 0)))
                           FROM unnest($1::text[]) AS key""",
                        keys,
                    )
                    if locked:
                        pinned = copy.copy(self)
                        pinned._pinned, pinned._after_commit = connection, []
                        yield pinned
            if pinned is not None:
                for committed in pinned._after_commit:
                    committed()
                return
            pause = retry_pause(attempt)
            if loop.time() + pause > deadline:
                raise Unavailable(
                    f"{' and '.join(topics)} changes in this tenant are busy elsewhere; try again",
                    retry_after=1.0,
                )
            await asyncio.sleep(pause)

    @asynccontextmanager
    async def _connection(self, tenant_id: str) -> AsyncIterator[asyncpg.Connection]:
        """The pinned connection of a serialized store, else one from the pool."""
        if self._pinned is not None:
            yield self._pinned
        else:
            async with self._db.connection(tenant_id) as connection:
                yield connection

    @asynccontextmanager
    async def _reading(self, tenant_id: str) -> AsyncIterator[asyncpg.Connection]:
        """The pinned transaction of a serialized store, else a read-only one of the tenant."""
        if self._pinned is not None:
            yield self._pinned
        else:
            async with self._db.transaction(tenant_id, readonly=True) as connection:
                yield connection

    async def outcome(self, tenant_id: str, command_id: str) -> Appended | None:
        """The first outcome of a command id, if it was ever handled."""
        check_tenant_id(tenant_id)
        async with self._connection(tenant_id) as connection:
            row = await connection.fetchrow(
                """SELECT stream_id, version, event_position, fingerprint
                   FROM command_outcome($1, $2)""",
                tenant_id,
                command_id,
            )
        if row is None:
            return None
        return _seen(row)

    async def load_for_command(self, tenant_id: str, stream_id: UUID, command_id: str) -> Loaded:
        """The aggregate as `load` gives it, in the same round trip as the idempotency check:
        a command id seen before gets its first outcome instead."""
        check_tenant_id(tenant_id)
        async with self._connection(tenant_id) as connection:
            rows = await connection.fetch(
                """SELECT kind, stream_id, version, event_position, topic, payload, fingerprint
                   FROM load_stream_for_command($1, $2, $3)""",
                tenant_id,
                stream_id,
                command_id,
            )
        if rows and rows[0]["kind"] == "outcome":
            return Loaded(None, _seen(rows[0]))
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
        async with self._connection(tenant_id) as connection:
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
        async with self._reading(tenant_id) as connection:
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
        async with self._reading(tenant_id) as connection:
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
        async with self._reading(tenant_id) as connection:
            position = await connection.fetchval(
                "SELECT position FROM tenant_heads WHERE tenant_id = $1", tenant_id
            )
        return int(position or 0)

    async def claimed(self, tenant_id: str, scope: str, keys: Sequence[str]) -> dict[str, Claimed]:
        async with self._reading(tenant_id) as connection:
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


@dataclass(frozen=True)
class _Written:
    """What the append did for one command: its positions, or why it was refused."""

    positions: list[int]
    recorded_at: list[datetime]
    refused: str | None = None
    lost_claim: tuple[str, str] = ("", "")


@dataclass(frozen=True)
class _Command:
    """One command's append, encoded once, ready to be written in any batch."""

    context: CommandContext
    events: Sequence[CanMutateAggregate[UUID]]
    stored: list[StoredEvent]
    event_ids: list[UUID]
    event_types: list[str]
    payloads: list[str]
    stream_type: str
    arguments: tuple[Any, ...]

    @classmethod
    def of(
        cls,
        context: CommandContext,
        events: Sequence[CanMutateAggregate[UUID]],
        claims: Sequence[Claim],
        snapshot: Snapshot | None,
    ) -> _Command:
        stored = [mapper().to_stored_event(e) for e in events]
        event_ids = [uuid4() for _ in stored]
        event_types = [type(e).__name__ for e in events]
        stream_type = _stream_type(events[0])
        payloads = [s.state.decode() for s in stored]
        snapshot_stored = None if snapshot is None else mapper().to_stored_event(snapshot)
        arguments = (
            context.tenant_id,
            events[0].originator_id,
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
            [c.scope for c in claims],
            [c.key for c in claims],
            [orjson.dumps(c.data, default=str).decode() for c in claims],
            None if snapshot is None else snapshot.originator_version,
            None if snapshot is None else get_topic(type(snapshot)),
            None if snapshot_stored is None else snapshot_stored.state.decode(),
            context.fingerprint,
        )
        return cls(
            context, events, stored, event_ids, event_types, payloads, stream_type, arguments
        )

    def recorded(self, written: _Written) -> list[RecordedEvent]:
        """The appended events as the log now holds them, in version (= position) order."""
        context = self.context
        return [
            RecordedEvent(
                tenant_id=context.tenant_id,
                stream_id=event.originator_id,
                version=item.originator_version,
                position=position,
                event_id=event_id,
                stream_type=self.stream_type,
                event_type=event_type,
                topic=item.topic,
                payload=payload,
                occurred_at=event.timestamp,
                recorded_at=recorded_at,
                actor=context.actor,
                command_id=context.command_id,
                correlation_id=context.correlation_id,
                reason=context.reason,
            )
            for event, item, payload, position, recorded_at, event_id, event_type in zip(
                self.events,
                self.stored,
                self.payloads,
                written.positions,
                written.recorded_at,
                self.event_ids,
                self.event_types,
                strict=True,
            )
        ]


async def _append_commands(
    connection: asyncpg.Connection, arguments: Sequence[tuple[Any, ...]]
) -> Sequence[asyncpg.Record]:
    # fetchmany pipelines the calls (one round trip) but hands the socket one small write
    # per protocol message; a lone command goes as the one message it is.
    if len(arguments) == 1:
        return await connection.fetch(_APPEND_COMMAND, *arguments[0])
    return await connection.fetchmany(_APPEND_COMMAND, arguments)


def _written(commands: Sequence[_Command], rows: Sequence[asyncpg.Record]) -> list[_Written]:
    """Each command's rows from the batch's answer (`item` is its index in the batch)."""
    mine: list[list[asyncpg.Record]] = [[] for _ in commands]
    for row in rows:
        mine[row["item"]].append(row)
    written = []
    for own in mine:
        if own and own[0]["refused"] is not None:
            first = own[0]
            lost = (first["refused_scope"] or "", first["refused_key"] or "")
            written.append(_Written([], [], first["refused"], lost))
        else:
            own.sort(key=lambda row: row["event_position"])
            written.append(
                _Written(
                    [row["event_position"] for row in own],
                    [row["event_recorded_at"] for row in own],
                )
            )
    return written


def _seen(row: asyncpg.Record) -> Appended:
    """A command id's first outcome, with the fingerprint it was first used with."""
    return Appended(
        row["stream_id"],
        row["version"],
        row["event_position"],
        duplicate=True,
        fingerprint=row["fingerprint"],
    )


def _stream_type(event: CanMutateAggregate[UUID]) -> str:
    qualname = type(event).__qualname__
    return qualname.split(".")[0] if "." in qualname else type(event).__module__.rsplit(".")[-1]


def _to_domain(stream_id: UUID, row: asyncpg.Record) -> Any:
    stored = StoredEvent(stream_id, row["version"], row["topic"], row["payload"].encode())
    return mapper().to_domain_event(stored)
