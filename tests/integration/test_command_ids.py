"""A command id is bound to the command it was first used for, on a real PostgreSQL:
a retry of that command answers its first outcome; the id used for another command
(another kind of change, target or input) is refused and changes nothing, also when
both arrive at once."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date, timedelta
from typing import Any

import pytest
from eventsourcing.domain import Aggregate, event

from okrledger.domain.objective import Objective
from okrledger.infra.event_store import PostgresEventStore
from okrledger.services import cycles, objectives
from okrledger.services.errors import IdempotencyKeyReused
from okrledger.services.fingerprints import command_fingerprint
from okrledger.services.handling import Handler
from okrledger.services.ports import CommandContext


class NoneOpen:
    """A cycle with no open objectives to settle (the refusal comes before any settling)."""

    async def open_in(self, tenant_id: str, cycle_id: uuid.UUID) -> list[uuid.UUID]:
        return []


@pytest.fixture
def handler(store: PostgresEventStore) -> Handler:
    return Handler(store)


def bound(tenant: str, command_id: str, command: Any) -> CommandContext:
    """A client's command: its id and its fingerprint, as the API makes them."""
    fingerprint = command_fingerprint(type(command).__name__, command)
    return CommandContext(tenant, "alice", command_id, fingerprint=fingerprint)


def unbound(tenant: str, command_id: str | None = None) -> CommandContext:
    return CommandContext(tenant, "alice", command_id or str(uuid.uuid4()))


async def a_cycle(handler: Handler, tenant: str) -> uuid.UUID:
    today = date.today()
    cmd = cycles.StartCycle("Now", today - timedelta(days=30), today + timedelta(days=60))
    return (await cycles.start_cycle(cmd, unbound(tenant), handler)).aggregate.id


async def an_objective(handler: Handler, tenant: str, cycle_id: uuid.UUID, title: str) -> uuid.UUID:
    cmd = objectives.SetObjective(title, cycle_id, owner="support")
    return (await objectives.set_objective(cmd, unbound(tenant), handler)).aggregate.id


async def title_of(handler: Handler, tenant: str, objective_id: uuid.UUID) -> str:
    return (await handler.get(tenant, Objective, objective_id)).title


async def test_a_retry_of_the_same_command_answers_its_first_outcome(
    handler: Handler, store: PostgresEventStore, tenant: str
) -> None:
    objective_id = await an_objective(handler, tenant, await a_cycle(handler, tenant), "A")
    cmd = objectives.ReviseObjective(objective_id, title="Retried")
    first = await objectives.revise_objective(cmd, bound(tenant, "x", cmd), handler)

    again = await objectives.revise_objective(cmd, bound(tenant, "x", cmd), handler)

    assert (again.version, again.position, again.duplicate) == (first.version, first.position, True)
    assert len(await store.read_stream(tenant, objective_id)) == 2


async def test_an_id_used_to_set_one_objective_is_refused_for_revising_another(
    handler: Handler, store: PostgresEventStore, tenant: str
) -> None:
    cycle_id = await a_cycle(handler, tenant)
    other = await an_objective(handler, tenant, cycle_id, "B")
    create = objectives.SetObjective("A", cycle_id, owner="support")
    await objectives.set_objective(create, bound(tenant, "x", create), handler)
    head = await store.head(tenant)

    revise = objectives.ReviseObjective(other, title="B, revised")
    with pytest.raises(IdempotencyKeyReused) as refused:
        await objectives.revise_objective(revise, bound(tenant, "x", revise), handler)

    assert (refused.value.code, refused.value.field) == ("IDEMPOTENCY_KEY_REUSED", "commandId")
    assert await title_of(handler, tenant, other) == "B"
    assert await store.head(tenant) == head


async def test_an_id_used_to_revise_one_objective_is_refused_for_revising_another(
    handler: Handler, tenant: str
) -> None:
    cycle_id = await a_cycle(handler, tenant)
    first, second = [await an_objective(handler, tenant, cycle_id, t) for t in ("A", "B")]
    one = objectives.ReviseObjective(first, title="Same title")
    await objectives.revise_objective(one, bound(tenant, "x", one), handler)

    two = objectives.ReviseObjective(second, title="Same title")
    with pytest.raises(IdempotencyKeyReused):
        await objectives.revise_objective(two, bound(tenant, "x", two), handler)

    assert await title_of(handler, tenant, second) == "B"


async def test_an_id_used_again_with_other_input_is_refused(handler: Handler, tenant: str) -> None:
    objective_id = await an_objective(handler, tenant, await a_cycle(handler, tenant), "A")
    one = objectives.ReviseObjective(objective_id, title="First")
    await objectives.revise_objective(one, bound(tenant, "x", one), handler)

    two = objectives.ReviseObjective(objective_id, title="Second")
    with pytest.raises(IdempotencyKeyReused):
        await objectives.revise_objective(two, bound(tenant, "x", two), handler)

    assert await title_of(handler, tenant, objective_id) == "First"


async def test_one_id_sent_at_once_with_different_inputs_applies_exactly_one(
    handler: Handler, store: PostgresEventStore, tenant: str
) -> None:
    objective_id = await an_objective(handler, tenant, await a_cycle(handler, tenant), "A")
    commands = [objectives.ReviseObjective(objective_id, title=f"Title {n}") for n in range(6)]

    answers = await asyncio.gather(
        *(objectives.revise_objective(c, bound(tenant, "x", c), handler) for c in commands),
        return_exceptions=True,
    )

    applied = [
        (c, a) for c, a in zip(commands, answers, strict=True) if not isinstance(a, Exception)
    ]
    assert len(applied) == 1
    assert all(isinstance(a, IdempotencyKeyReused) for a in answers if isinstance(a, Exception))
    ((winner, _),) = applied
    assert await title_of(handler, tenant, objective_id) == winner.title
    revisions = [e for e in await store.read_stream(tenant, objective_id) if e.version > 1]
    assert len(revisions) == 1


async def test_one_id_sent_at_once_to_create_different_objectives_creates_exactly_one(
    handler: Handler, store: PostgresEventStore, tenant: str
) -> None:
    cycle_id = await a_cycle(handler, tenant)
    head = await store.head(tenant)
    commands = [objectives.SetObjective(f"Goal {n}", cycle_id, owner="ana") for n in range(6)]

    answers = await asyncio.gather(
        *(objectives.set_objective(c, bound(tenant, "x", c), handler) for c in commands),
        return_exceptions=True,
    )

    assert sum(not isinstance(a, Exception) for a in answers) == 1
    assert all(isinstance(a, IdempotencyKeyReused) for a in answers if isinstance(a, Exception))
    assert await store.head(tenant) == head + 1


async def test_one_id_sent_at_once_with_the_same_input_applies_once_and_answers_it_to_all(
    handler: Handler, store: PostgresEventStore, tenant: str
) -> None:
    cycle_id = await a_cycle(handler, tenant)
    head = await store.head(tenant)
    cmd = objectives.SetObjective("Goal", cycle_id, owner="ana", objective_id=uuid.uuid4())

    answers = await asyncio.gather(
        *(objectives.set_objective(cmd, bound(tenant, "x", cmd), handler) for _ in range(6))
    )

    assert {(a.aggregate.id, a.version, a.position) for a in answers} == {
        (cmd.objective_id, 1, head + 1)
    }


class Counter(Aggregate):
    @event("CounterOpened")
    def __init__(self) -> None:
        pass


async def test_the_store_refuses_in_one_statement_an_id_that_lost_a_race_to_another_command(
    store: PostgresEventStore, tenant: str
) -> None:
    # Both appends miss each other's outcome and race in the append itself.
    one, two = Counter(), Counter()
    first = CommandContext(tenant, "alice", "x", fingerprint=b"1" * 32)
    second = CommandContext(tenant, "alice", "x", fingerprint=b"2" * 32)

    answers = await asyncio.gather(
        store.append(first, one.collect_events()),
        store.append(second, two.collect_events()),
        return_exceptions=True,
    )

    assert sorted(type(a).__name__ for a in answers) == ["Appended", "IdempotencyKeyReused"]
    assert [await store.load(tenant, c.id) is None for c in (one, two)].count(True) == 1


async def test_an_id_recorded_without_a_fingerprint_is_replayed_as_before(
    handler: Handler, tenant: str
) -> None:
    objective_id = await an_objective(handler, tenant, await a_cycle(handler, tenant), "A")
    first = objectives.ReviseObjective(objective_id, title="First")
    await objectives.revise_objective(first, unbound(tenant, "x"), handler)

    other = objectives.ReviseObjective(objective_id, title="Second")
    again = await objectives.revise_objective(other, bound(tenant, "x", other), handler)

    assert (again.duplicate, again.aggregate.title) == (True, "First")


async def test_an_id_used_for_another_kind_of_change_is_refused_even_without_fingerprints(
    handler: Handler, tenant: str
) -> None:
    cycle_id = await a_cycle(handler, tenant)
    await objectives.set_objective(
        objectives.SetObjective("A", cycle_id, owner="ana"), unbound(tenant, "x"), handler
    )

    with pytest.raises(IdempotencyKeyReused):
        await cycles.close_cycle(
            cycles.CloseCycle(cycle_id), unbound(tenant, "x"), handler, NoneOpen()
        )
