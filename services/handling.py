"""Running one command against one aggregate: load, decide, append.

Idempotency: a command id seen before returns its first outcome and changes
nothing, when the command is the same (its context's fingerprint); the id used
for another command is refused (IdempotencyKeyReused) and changes nothing. An
update checks in the same round trip as its stream's load; a creation, which
loads nothing, asks first (and the append catches a concurrent retry either way,
comparing fingerprints in the same statement). Concurrency: without an expected
version a conflict is retried on a fresh load, after a short random pause that grows
with each attempt (so writers colliding on one aggregate spread out instead of
colliding again in lockstep); with one, the conflict is the caller's answer.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Generic, TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate

from okrledger.domain.errors import NotFound
from okrledger.domain.values import check_reason
from okrledger.services.errors import IdempotencyKeyReused, VersionConflict
from okrledger.services.keyed_locks import one_at_a_time, one_writer
from okrledger.services.ports import Appended, Claim, CommandContext, EventStore

A = TypeVar("A", bound=Aggregate)

MAX_ATTEMPTS = 10
RETRY_PAUSE_SECONDS = 0.005
RETRY_PAUSE_CAP_SECONDS = 0.2


@dataclass(frozen=True)
class Outcome(Generic[A]):
    """The aggregate after the command, its version, and the tenant position reached."""

    aggregate: A
    version: int
    position: int
    duplicate: bool = False


def retry_pause(attempt: int) -> float:
    """Full jitter: anywhere from nothing to a cap that doubles with each failed attempt."""
    return random.uniform(0, min(RETRY_PAUSE_CAP_SECONDS, RETRY_PAUSE_SECONDS * 2**attempt))


class Handler:
    """Loads aggregates from the event store and appends what commands decide."""

    def __init__(self, store: EventStore, *, snapshot_every: int = 20) -> None:
        self.store = store
        # Long streams load from a snapshot taken every this many events, so a command
        # decodes at most that many. An objective's state is small and its stream grows
        # with every check-in; decoding events is most of a command's own work, and a
        # snapshot is one more row in the append's transaction.
        self.snapshot_every = snapshot_every

    async def find(self, tenant_id: str, kind: type[A], stream_id: UUID) -> A | None:
        return _of_kind(kind, await self.store.load(tenant_id, stream_id))

    async def get(self, tenant_id: str, kind: type[A], stream_id: UUID) -> A:
        aggregate = await self.find(tenant_id, kind, stream_id)
        if aggregate is None:
            raise _not_found(kind, stream_id)
        return aggregate

    async def create(
        self,
        context: CommandContext,
        kind: type[A],
        build: Callable[[], A],
        *,
        claims: Sequence[Claim] = (),
    ) -> Outcome[A]:
        """Append a new aggregate's creation events (and claim its unique keys)."""
        check_reason(context.reason)
        seen = await self.store.outcome(context.tenant_id, context.command_id)
        if seen is not None:
            return await self._replayed(context, kind, seen)
        aggregate = build()
        appended = await self.store.append(context, aggregate.collect_events(), claims=claims)
        return await self._settle(context, kind, aggregate, appended)

    async def update(
        self,
        context: CommandContext,
        kind: type[A],
        stream_id: UUID,
        decide: Callable[[A], Awaitable[None]],
        *,
        expected_version: int | None = None,
        claims: Callable[[A], Sequence[Claim]] | None = None,
        snapshot_every: int | None = None,
    ) -> Outcome[A]:
        """Run `decide` on the current aggregate and append the events it triggered.

        `decide` may look up other facts (a cycle, a parent objective) before acting;
        on a retry it runs again on a fresh load. Within this process, updates of one
        stream take turns (services/keyed_locks.py), so they do not conflict with each
        other; across processes the conflict and its retry still decide.
        """
        check_reason(context.reason)
        async with one_writer(context.tenant_id, stream_id):
            return await self._update(
                context, kind, stream_id, decide, expected_version, claims, snapshot_every
            )

    @asynccontextmanager
    async def serialized(self, tenant_id: str, *topics: str) -> AsyncIterator[Handler]:
        """A handler whose loads and appends all run in one transaction holding the turn of
        every topic, across processes. This process's turns are taken first, in the order
        given, holding no connection (keyed_locks.py); so is every stream's writer turn the
        returned handler takes, and nothing it does needs a second connection."""
        async with AsyncExitStack() as turns:
            for topic in topics:
                await turns.enter_async_context(one_at_a_time(tenant_id, topic))
            store = await turns.enter_async_context(self.store.serialized(tenant_id, *topics))
            yield Handler(store, snapshot_every=self.snapshot_every)

    async def update_serialized(
        self,
        topic: str,
        context: CommandContext,
        kind: type[A],
        stream_id: UUID,
        decide: Callable[[Handler, A], Awaitable[None]],
        *,
        expected_version: int | None = None,
    ) -> Outcome[A]:
        """`update`, one at a time per (tenant, `topic`) across processes.

        `decide` reads other facts through the handler it is given, whose loads and append
        all run in the one transaction holding the topic's turn (so it never needs a second
        database connection). This process's turn on the topic and the stream's writer turn
        are taken first (keyed_locks.py): nothing waits for a lock while that transaction
        holds a connection, and at most one connection per topic waits for other processes.
        """
        async with (
            one_at_a_time(context.tenant_id, topic),
            one_writer(context.tenant_id, stream_id),
            self.store.serialized(context.tenant_id, topic) as store,
        ):
            within = Handler(store, snapshot_every=self.snapshot_every)

            async def decide_within(aggregate: A) -> None:
                await decide(within, aggregate)

            return await within._update(
                context, kind, stream_id, decide_within, expected_version, None, None
            )

    async def _update(
        self,
        context: CommandContext,
        kind: type[A],
        stream_id: UUID,
        decide: Callable[[A], Awaitable[None]],
        expected_version: int | None,
        claims: Callable[[A], Sequence[Claim]] | None,
        snapshot_every: int | None,
    ) -> Outcome[A]:
        for attempt in range(1, MAX_ATTEMPTS + 1):
            loaded = await self.store.load_for_command(
                context.tenant_id, stream_id, context.command_id
            )
            if loaded.seen is not None:
                return await self._replayed(context, kind, loaded.seen)
            aggregate = _of_kind(kind, loaded.aggregate)
            if aggregate is None:
                raise _not_found(kind, stream_id)
            if expected_version is not None and aggregate.version != expected_version:
                raise VersionConflict(stream_id, expected_version, aggregate.version)
            before = aggregate.version
            await decide(aggregate)
            events = aggregate.collect_events()
            if not events:
                position = await self.store.head(context.tenant_id)
                return Outcome(aggregate, aggregate.version, position)
            snapshot = None
            every = snapshot_every or self.snapshot_every
            if every and aggregate.version // every > before // every:
                snapshot = kind.Snapshot.take(aggregate)
            try:
                appended = await self.store.append(
                    context,
                    events,
                    claims=claims(aggregate) if claims else (),
                    snapshot=snapshot,
                )
            except VersionConflict:
                if expected_version is not None or attempt == MAX_ATTEMPTS:
                    raise
                await asyncio.sleep(retry_pause(attempt))
                continue
            return await self._settle(context, kind, aggregate, appended)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _settle(
        self, context: CommandContext, kind: type[A], aggregate: A, appended: Appended
    ) -> Outcome[A]:
        if appended.duplicate:  # a concurrent retry of the same command won
            return await self._replayed(context, kind, appended)
        return Outcome(aggregate, appended.version, appended.position)

    async def _replayed(
        self, context: CommandContext, kind: type[A], appended: Appended
    ) -> Outcome[A]:
        if _another_command(context, appended):
            raise IdempotencyKeyReused(context.command_id)
        aggregate = await self.store.load(
            context.tenant_id, appended.stream_id, until_version=appended.version
        )
        if not isinstance(aggregate, kind):  # known without fingerprints: another change
            raise IdempotencyKeyReused(context.command_id)
        return Outcome(aggregate, appended.version, appended.position, duplicate=True)


def _another_command(context: CommandContext, seen: Appended) -> bool:
    """Whether the id's first command was another one; unknown (either has no fingerprint)
    counts as the same, as before fingerprints were kept."""
    if context.fingerprint is None or seen.fingerprint is None:
        return False
    return context.fingerprint != seen.fingerprint


def _of_kind(kind: type[A], aggregate: Aggregate | None) -> A | None:
    return aggregate if isinstance(aggregate, kind) else None


def _not_found(kind: type[A], stream_id: UUID) -> NotFound:
    return NotFound(f"{kind.__name__} {stream_id} not found", field="id")
