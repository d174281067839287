"""Appends that arrive together for one tenant share a transaction, and each command still
gets its own answer: written, a version conflict, a taken claim or its first outcome."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from decimal import Decimal

import asyncpg
import pytest
from eventsourcing.domain import Aggregate, event

from okrledger.infra.db import Database
from okrledger.infra.event_store import PostgresEventStore
from okrledger.projections.recorded import RecordedEvent
from okrledger.services.errors import AlreadyClaimed, VersionConflict
from okrledger.services.ports import Appended, Claim, CommandContext

WRITERS = 24


class Counter(Aggregate):
    @event("CounterOpened")
    def __init__(self, name: str) -> None:
        self.name = name

    @event("CounterMoved")
    def move(self, by: Decimal) -> None:
        pass


def context(tenant: str, command_id: str | None = None) -> CommandContext:
    return CommandContext(tenant, "alice", command_id or str(uuid.uuid4()))


async def transactions_of(database: Database, tenant: str) -> int:
    """How many transactions wrote the tenant's events (each event records its xid)."""
    async with database.transaction(tenant, readonly=True) as connection:
        return int(
            await connection.fetchval(
                "SELECT count(DISTINCT xid) FROM events WHERE tenant_id = $1", tenant
            )
        )


async def test_concurrent_appends_in_one_tenant_share_transactions_and_keep_positions_gap_free(
    store: PostgresEventStore, database: Database, tenant: str
) -> None:
    counters = [Counter(name=f"c{n}") for n in range(WRITERS)]

    outcomes = await asyncio.gather(
        *(store.append(context(tenant), c.collect_events()) for c in counters)
    )

    assert sorted(o.position for o in outcomes) == list(range(1, WRITERS + 1))
    assert all(o.version == 1 and not o.duplicate for o in outcomes)
    assert await transactions_of(database, tenant) < WRITERS
    for counter, outcome in zip(counters, outcomes, strict=True):
        recorded = await store.read_stream(tenant, counter.id)
        assert [r.position for r in recorded] == [outcome.position]


async def test_a_lost_race_in_a_batch_refuses_that_command_only(
    store: PostgresEventStore, tenant: str
) -> None:
    contested = Counter(name="contested")
    await store.append(context(tenant), contested.collect_events())
    copies = []
    for _ in range(2):
        copy = await store.load(tenant, contested.id)
        assert isinstance(copy, Counter)
        copy.move(Decimal(1))
        copies.append(copy)
    others = [Counter(name=f"other{n}") for n in range(6)]

    answers = await asyncio.gather(
        *(store.append(context(tenant), c.collect_events()) for c in copies),
        *(store.append(context(tenant), c.collect_events()) for c in others),
        return_exceptions=True,
    )

    contest, rest = answers[:2], answers[2:]
    assert sum(isinstance(a, Appended) for a in contest) == 1
    assert sum(isinstance(a, VersionConflict) for a in contest) == 1
    assert all(isinstance(a, Appended) for a in rest)
    assert [r.version for r in await store.read_stream(tenant, contested.id)] == [1, 2]
    positions = sorted(a.position for a in answers if isinstance(a, Appended))
    assert positions == list(range(2, 2 + len(positions)))


async def test_a_taken_claim_in_a_batch_refuses_that_command_and_leaves_nothing_of_it(
    store: PostgresEventStore, tenant: str
) -> None:
    first, second = Counter(name="first"), Counter(name="second")
    bystander = Counter(name="bystander")

    answers = await asyncio.gather(
        store.append(
            context(tenant), first.collect_events(), claims=[Claim("counter-name", "sales")]
        ),
        store.append(
            context(tenant), second.collect_events(), claims=[Claim("counter-name", "sales")]
        ),
        store.append(context(tenant), bystander.collect_events()),
        return_exceptions=True,
    )

    assert isinstance(answers[0], Appended)
    assert isinstance(answers[1], AlreadyClaimed)
    assert isinstance(answers[2], Appended)
    assert await store.load(tenant, second.id) is None
    held = await store.claimed(tenant, "counter-name", ["sales"])
    assert held["sales"].stream_id == first.id


async def test_the_same_command_twice_in_a_batch_is_written_once_and_both_get_its_outcome(
    store: PostgresEventStore, tenant: str
) -> None:
    command_id = str(uuid.uuid4())
    one, two = Counter(name="one"), Counter(name="two")

    answers = await asyncio.gather(
        store.append(context(tenant, command_id), one.collect_events()),
        store.append(context(tenant, command_id), two.collect_events()),
    )

    assert {a.stream_id for a in answers} == {one.id}
    assert sorted(a.duplicate for a in answers) == [False, True]
    assert await store.load(tenant, two.id) is None


async def test_a_hook_failing_on_one_command_fails_that_command_and_writes_the_others(
    database: Database, tenant: str
) -> None:
    poisoned = Counter(name="poisoned")

    async def refuse_poisoned(
        connection: asyncpg.Connection, records: Sequence[RecordedEvent]
    ) -> None:
        if any(r.stream_id == poisoned.id for r in records):
            raise RuntimeError("this hook refuses the poisoned counter")

    store = PostgresEventStore(database, hooks=[refuse_poisoned])
    healthy = [Counter(name=f"healthy{n}") for n in range(5)]

    answers = await asyncio.gather(
        store.append(context(tenant), poisoned.collect_events()),
        *(store.append(context(tenant), c.collect_events()) for c in healthy),
        return_exceptions=True,
    )

    assert isinstance(answers[0], RuntimeError)
    assert all(isinstance(a, Appended) for a in answers[1:])
    assert await store.load(tenant, poisoned.id) is None
    for counter in healthy:
        assert await store.load(tenant, counter.id) is not None


async def test_appends_in_different_tenants_are_not_held_back_by_each_other(
    store: PostgresEventStore, tenant: str, other_tenant: str
) -> None:
    mine = [Counter(name=f"m{n}") for n in range(4)]
    theirs = [Counter(name=f"t{n}") for n in range(4)]

    answers = await asyncio.gather(
        *(store.append(context(tenant), c.collect_events()) for c in mine),
        *(store.append(context(other_tenant), c.collect_events()) for c in theirs),
    )

    assert sorted(a.position for a in answers[:4]) == [1, 2, 3, 4]
    assert sorted(a.position for a in answers[4:]) == [1, 2, 3, 4]
    assert await store.load(other_tenant, mine[0].id) is None


@pytest.mark.parametrize("cancel_after", [0, 1])
async def test_a_caller_that_gives_up_leaves_the_others_answered(
    store: PostgresEventStore, tenant: str, cancel_after: int
) -> None:
    counters = [Counter(name=f"c{n}") for n in range(6)]
    tasks = [
        asyncio.create_task(store.append(context(tenant), c.collect_events())) for c in counters
    ]
    for _ in range(cancel_after):
        await asyncio.sleep(0)
    tasks[0].cancel()

    answers = await asyncio.gather(*tasks, return_exceptions=True)

    assert isinstance(answers[0], asyncio.CancelledError | Appended)
    assert all(isinstance(a, Appended) for a in answers[1:])
    # Written or not, never half: the head counts the five others and, if its batch had
    # begun, the one whose caller left.
    written_anyway = await store.load(tenant, counters[0].id) is not None
    assert await store.head(tenant) == 5 + written_anyway
