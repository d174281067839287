"""Commands without an expected version win against their contenders by retrying."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date
from decimal import Decimal
from typing import Any

from okrledger.domain.objective import Confidence, MetricKind
from okrledger.infra.db import Database
from okrledger.infra.event_store import PostgresEventStore
from okrledger.services import cycles, key_results, objectives
from okrledger.services.errors import VersionConflict
from okrledger.services.handling import Handler
from okrledger.services.ports import Appended, CommandContext

CONTENDERS = 16


def ctx(tenant: str) -> CommandContext:
    return CommandContext(tenant, "alice", str(uuid.uuid4()))


async def a_key_result(handler: Handler, tenant: str) -> tuple[uuid.UUID, uuid.UUID, int]:
    """An objective with one key result: their ids and the objective's version."""
    cycle = cycles.StartCycle("2026-Q4", date(2026, 10, 1), date(2026, 12, 31))
    cycle_id = (await cycles.start_cycle(cycle, ctx(tenant), handler)).aggregate.id
    objective = objectives.SetObjective("Delight customers", cycle_id, owner="support")
    objective_id = (await objectives.set_objective(objective, ctx(tenant), handler)).aggregate.id
    kr = uuid.uuid4()
    add = key_results.AddKeyResult(
        objective_id,
        "Answer tickets",
        MetricKind.NUMBER,
        Decimal(0),
        Decimal(100),
        key_result_id=kr,
    )
    added = await key_results.add_key_result(add, ctx(tenant), handler)
    return objective_id, kr, added.version


async def test_sixteen_simultaneous_check_ins_on_one_key_result_are_all_recorded(
    store: PostgresEventStore, tenant: str
) -> None:
    handler = Handler(store)
    objective_id, kr, _ = await a_key_result(handler, tenant)

    await asyncio.gather(
        *(
            key_results.check_in_key_result(
                key_results.CheckInKeyResult(objective_id, kr, Decimal(v), Confidence.ON_TRACK),
                ctx(tenant),
                handler,
            )
            for v in range(CONTENDERS)
        )
    )

    history = await store.read_stream(tenant, objective_id)
    assert [e.event_type for e in history].count("KeyResultCheckedIn") == CONTENDERS


class CountingConflicts(PostgresEventStore):
    """The real store, counting the appends that lost a race on their stream's version."""

    conflicts = 0

    async def append(self, *args: Any, **kwargs: Any) -> Appended:
        try:
            return await super().append(*args, **kwargs)
        except VersionConflict:
            self.conflicts += 1
            raise


async def test_simultaneous_updates_of_one_stream_in_one_process_take_turns_without_conflicts(
    database: Database, tenant: str
) -> None:
    store = CountingConflicts(database)
    handler = Handler(store)
    objective_id, kr, version = await a_key_result(handler, tenant)

    outcomes = await asyncio.gather(
        *(
            key_results.check_in_key_result(
                key_results.CheckInKeyResult(objective_id, kr, Decimal(v), Confidence.ON_TRACK),
                ctx(tenant),
                handler,
            )
            for v in range(CONTENDERS)
        )
    )

    first = version + 1
    assert sorted(o.version for o in outcomes) == list(range(first, first + CONTENDERS))
    assert store.conflicts == 0
