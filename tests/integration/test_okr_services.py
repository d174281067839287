"""OKR commands through services/ on a real PostgreSQL: rules, concurrency,
idempotency, metadata and tenant walls."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date
from decimal import Decimal

import pytest

from okrledger.domain.alignment import AlignmentCycle, ParentObjectiveNotFound
from okrledger.domain.errors import NotFound
from okrledger.domain.objective import (
    Confidence,
    CycleIsClosed,
    InvalidKeyResult,
    MetricKind,
    Objective,
    ObjectiveStatus,
    TooManyKeyResults,
)
from okrledger.domain.progress import objective_progress
from okrledger.infra.event_store import PostgresEventStore
from okrledger.services import cycles, key_results, objectives, tenant_settings
from okrledger.services.errors import AlreadyClaimed, VersionConflict
from okrledger.services.handling import Handler
from okrledger.services.ports import CommandContext


@pytest.fixture
def handler(store: PostgresEventStore) -> Handler:
    return Handler(store)


class Listed:
    """The open objectives of a cycle, as a read model would list them (this store keeps none)."""

    def __init__(self, objective_ids: list[uuid.UUID]) -> None:
        self.objective_ids = objective_ids

    async def open_in(self, tenant_id: str, cycle_id: uuid.UUID) -> list[uuid.UUID]:
        return self.objective_ids


def ctx(tenant: str, reason: str | None = None, actor: str = "alice") -> CommandContext:
    return CommandContext(tenant, actor, str(uuid.uuid4()), reason=reason)


async def a_cycle(handler: Handler, tenant: str, name: str = "2026-Q4") -> uuid.UUID:
    cmd = cycles.StartCycle(name, date(2026, 10, 1), date(2026, 12, 31))
    return (await cycles.start_cycle(cmd, ctx(tenant), handler)).aggregate.id


async def an_objective(
    handler: Handler, tenant: str, cycle_id: uuid.UUID, title: str = "Delight customers"
) -> uuid.UUID:
    cmd = objectives.SetObjective(title, cycle_id, owner="support")
    return (await objectives.set_objective(cmd, ctx(tenant), handler)).aggregate.id


async def test_the_seo_example_is_set_checked_in_aligned_graded_and_read_back(
    handler: Handler, store: PostgresEventStore, tenant: str
) -> None:
    cycle_id = await a_cycle(handler, tenant)
    company = await an_objective(handler, tenant, cycle_id, "Grow the business")
    seo = await an_objective(handler, tenant, cycle_id, "Boost company website's SEO performance")
    blog, backlinks = uuid.uuid4(), uuid.uuid4()
    await key_results.add_key_result(
        key_results.AddKeyResult(
            seo,
            "Double monthly blog output from 4 to 8",
            MetricKind.NUMBER,
            Decimal(4),
            Decimal(8),
            key_result_id=blog,
        ),
        ctx(tenant),
        handler,
    )
    await key_results.add_key_result(
        key_results.AddKeyResult(
            seo,
            "Gain 15 backlinks in the next six months",
            MetricKind.NUMBER,
            Decimal(0),
            Decimal(15),
            key_result_id=backlinks,
        ),
        ctx(tenant),
        handler,
    )
    await objectives.activate_objective(objectives.ActivateObjective(seo), ctx(tenant), handler)
    await key_results.check_in_key_result(
        key_results.CheckInKeyResult(seo, blog, Decimal(6), Confidence.ON_TRACK, "two more posts"),
        ctx(tenant, actor="bob"),
        handler,
    )
    await key_results.check_in_key_result(
        key_results.CheckInKeyResult(seo, backlinks, Decimal(3), Confidence.AT_RISK),
        ctx(tenant, actor="bob"),
        handler,
    )
    await objectives.align_objective(
        objectives.AlignObjective(seo, company),
        ctx(tenant, reason="marketing supports growth"),
        handler,
    )
    graded = await objectives.grade_objective(
        objectives.GradeObjective(seo, Decimal("0.6"), "backlinks were slow"),
        ctx(tenant, reason="end of quarter"),
        handler,
    )

    seo_now = await store.load(tenant, seo)
    assert isinstance(seo_now, Objective)
    assert seo_now.parent_id == company
    assert seo_now.score == Decimal("0.6")
    assert seo_now.key_results[blog].current == Decimal(6)
    assert objective_progress(list(seo_now.key_results.values())) == Decimal("0.35")
    history = await store.read_stream(tenant, seo)
    assert [e.event_type for e in history] == [
        "ObjectiveSet",
        "KeyResultAdded",
        "KeyResultAdded",
        "ObjectiveActivated",
        "KeyResultCheckedIn",
        "KeyResultCheckedIn",
        "ObjectiveAligned",
        "ObjectiveGraded",
    ]
    assert [e.actor for e in history][4:6] == ["bob", "bob"]
    assert history[-2].reason == "marketing supports growth"
    assert history[-1].reason == "end of quarter"
    assert graded.version == 8
    assert graded.position == history[-1].position


async def test_an_expected_version_that_is_stale_gets_a_conflict_and_changes_nothing(
    handler: Handler, store: PostgresEventStore, tenant: str
) -> None:
    objective_id = await an_objective(handler, tenant, await a_cycle(handler, tenant))
    await objectives.revise_objective(
        objectives.ReviseObjective(objective_id, title="Delight every customer"),
        ctx(tenant),
        handler,
    )

    with pytest.raises(VersionConflict) as refused:
        await objectives.revise_objective(
            objectives.ReviseObjective(objective_id, title="Stale edit", expected_version=1),
            ctx(tenant),
            handler,
        )

    assert refused.value.actual == 2
    current = await store.load(tenant, objective_id)
    assert isinstance(current, Objective)
    assert (current.title, current.version) == ("Delight every customer", 2)


async def test_concurrent_check_ins_without_expected_version_all_land_by_retrying(
    handler: Handler, store: PostgresEventStore, tenant: str
) -> None:
    objective_id = await an_objective(handler, tenant, await a_cycle(handler, tenant))
    kr = uuid.uuid4()
    await key_results.add_key_result(
        key_results.AddKeyResult(
            objective_id,
            "Answer tickets",
            MetricKind.NUMBER,
            Decimal(0),
            Decimal(100),
            key_result_id=kr,
        ),
        ctx(tenant),
        handler,
    )
    await objectives.activate_objective(
        objectives.ActivateObjective(objective_id), ctx(tenant), handler
    )

    await asyncio.gather(
        *(
            key_results.check_in_key_result(
                key_results.CheckInKeyResult(objective_id, kr, Decimal(v), Confidence.ON_TRACK),
                ctx(tenant),
                handler,
            )
            for v in range(1, 4)
        )
    )

    history = await store.read_stream(tenant, objective_id)
    assert [e.event_type for e in history].count("KeyResultCheckedIn") == 3


async def test_a_repeated_command_id_returns_the_first_outcome_and_appends_nothing(
    handler: Handler, store: PostgresEventStore, tenant: str
) -> None:
    objective_id = await an_objective(handler, tenant, await a_cycle(handler, tenant))
    retry = ctx(tenant)
    cmd = objectives.ReviseObjective(objective_id, title="Retried title")
    first = await objectives.revise_objective(cmd, retry, handler)

    again = await objectives.revise_objective(cmd, retry, handler)

    assert (again.version, again.position, again.duplicate) == (first.version, first.position, True)
    assert again.aggregate.title == "Retried title"
    assert len(await store.read_stream(tenant, objective_id)) == 2


async def test_a_repeated_creating_command_id_returns_the_first_outcome_and_appends_nothing(
    handler: Handler, store: PostgresEventStore, tenant: str
) -> None:
    cycle_id = await a_cycle(handler, tenant)
    retry = ctx(tenant)
    cmd = objectives.SetObjective("Delight customers", cycle_id, owner="support")
    first = await objectives.set_objective(cmd, retry, handler)
    head = await store.head(tenant)

    again = await objectives.set_objective(cmd, retry, handler)

    assert (again.aggregate.id, again.version, again.duplicate) == (first.aggregate.id, 1, True)
    assert await store.head(tenant) == head


async def test_a_cycle_name_is_unique_within_a_tenant_but_not_across_tenants(
    handler: Handler, tenant: str, other_tenant: str
) -> None:
    await a_cycle(handler, tenant, "2026-Q4")

    with pytest.raises(AlreadyClaimed):
        await a_cycle(handler, tenant, "2026-q4")
    await a_cycle(handler, other_tenant, "2026-Q4")


async def test_a_closed_cycle_refuses_revisions_but_allows_grading(
    handler: Handler, tenant: str
) -> None:
    cycle_id = await a_cycle(handler, tenant)
    objective_id = await an_objective(handler, tenant, cycle_id)
    await objectives.activate_objective(
        objectives.ActivateObjective(objective_id), ctx(tenant), handler
    )
    await cycles.close_cycle(
        cycles.CloseCycle(cycle_id), ctx(tenant), handler, Listed([objective_id])
    )

    with pytest.raises(CycleIsClosed):
        await objectives.revise_objective(
            objectives.ReviseObjective(objective_id, title="Too late"), ctx(tenant), handler
        )
    graded = await objectives.grade_objective(
        objectives.GradeObjective(objective_id, Decimal("0.7")), ctx(tenant), handler
    )
    assert graded.aggregate.score == Decimal("0.7")


async def test_a_close_retried_with_its_command_id_settles_what_a_failure_left_open(
    handler: Handler, tenant: str
) -> None:
    cycle_id = await a_cycle(handler, tenant)
    first = await an_objective(handler, tenant, cycle_id, "A")
    second = await an_objective(handler, tenant, cycle_id, "B")
    closing = ctx(tenant)
    # The first attempt found only one of them (as if it had failed before the second).
    await cycles.close_cycle(cycles.CloseCycle(cycle_id), closing, handler, Listed([first]))

    retried = await cycles.close_cycle(
        cycles.CloseCycle(cycle_id), closing, handler, Listed([first, second])
    )

    assert retried.duplicate
    for objective_id in (first, second):
        settled = await handler.get(tenant, Objective, objective_id)
        assert (settled.status, settled.version) == (ObjectiveStatus.CLOSED, 2)


async def test_a_close_retried_after_a_reopen_settles_nothing(
    handler: Handler, tenant: str
) -> None:
    cycle_id = await a_cycle(handler, tenant)
    closing = ctx(tenant)
    await cycles.close_cycle(cycles.CloseCycle(cycle_id), closing, handler, Listed([]))
    await cycles.reopen_cycle(cycles.ReopenCycle(cycle_id), ctx(tenant, "late"), handler)
    later = await an_objective(handler, tenant, cycle_id, "Set after the reopen")

    await cycles.close_cycle(cycles.CloseCycle(cycle_id), closing, handler, Listed([later]))

    assert (await handler.get(tenant, Objective, later)).status is ObjectiveStatus.DRAFT


async def test_another_tenants_objective_is_not_found_for_alignment_or_commands(
    handler: Handler, tenant: str, other_tenant: str
) -> None:
    theirs = await an_objective(handler, other_tenant, await a_cycle(handler, other_tenant))
    ours = await an_objective(handler, tenant, await a_cycle(handler, tenant))

    with pytest.raises(ParentObjectiveNotFound):
        await objectives.align_objective(
            objectives.AlignObjective(ours, theirs), ctx(tenant), handler
        )
    with pytest.raises(NotFound):
        await objectives.revise_objective(
            objectives.ReviseObjective(theirs, title="Hijacked"), ctx(tenant), handler
        )
    with pytest.raises(NotFound):
        await objectives.set_objective(
            objectives.SetObjective("Sneaky", cycle_id=uuid.uuid4(), owner="x"),
            ctx(tenant),
            handler,
        )


async def test_two_concurrent_opposite_alignments_never_form_a_loop(
    handler: Handler, store: PostgresEventStore, tenant: str
) -> None:
    cycle_id = await a_cycle(handler, tenant)
    first = await an_objective(handler, tenant, cycle_id, "A")
    second = await an_objective(handler, tenant, cycle_id, "B")

    results = await asyncio.gather(
        objectives.align_objective(objectives.AlignObjective(first, second), ctx(tenant), handler),
        objectives.align_objective(objectives.AlignObjective(second, first), ctx(tenant), handler),
        return_exceptions=True,
    )

    assert sum(isinstance(r, AlignmentCycle) for r in results) == 1
    a, b = await store.load(tenant, first), await store.load(tenant, second)
    assert isinstance(a, Objective) and isinstance(b, Objective)
    assert not (a.parent_id == second and b.parent_id == first)


async def test_the_tenant_policy_raises_the_key_result_limit_up_to_ten(
    handler: Handler, tenant: str
) -> None:
    objective_id = await an_objective(handler, tenant, await a_cycle(handler, tenant))

    async def add(n: int) -> None:
        await key_results.add_key_result(
            key_results.AddKeyResult(
                objective_id, f"KR {n}", MetricKind.NUMBER, Decimal(0), Decimal(10)
            ),
            ctx(tenant),
            handler,
        )

    for n in range(5):
        await add(n)
    with pytest.raises(TooManyKeyResults):
        await add(5)

    await tenant_settings.set_okr_policy(tenant_settings.SetOKRPolicy(7), ctx(tenant), handler)
    await add(5)
    await add(6)
    with pytest.raises(TooManyKeyResults):
        await add(7)


async def test_a_percent_check_in_above_a_hundred_follows_the_tenants_stretch_policy(
    handler: Handler, tenant: str
) -> None:
    objective_id = await an_objective(handler, tenant, await a_cycle(handler, tenant))
    kr = uuid.uuid4()
    await key_results.add_key_result(
        key_results.AddKeyResult(
            objective_id, "Uptime", MetricKind.PERCENT, Decimal(90), Decimal(99), key_result_id=kr
        ),
        ctx(tenant),
        handler,
    )

    async def check_in(value: str) -> int:
        cmd = key_results.CheckInKeyResult(objective_id, kr, Decimal(value), Confidence.ON_TRACK)
        return (await key_results.check_in_key_result(cmd, ctx(tenant), handler)).version

    with pytest.raises(InvalidKeyResult):
        await check_in("120")
    version = await check_in("95")
    await tenant_settings.set_okr_policy(
        tenant_settings.SetOKRPolicy(5, allow_percent_stretch=True), ctx(tenant), handler
    )
    assert await check_in("120") == version + 1


async def test_archived_objectives_accept_nothing_until_restored(
    handler: Handler, store: PostgresEventStore, tenant: str
) -> None:
    objective_id = await an_objective(handler, tenant, await a_cycle(handler, tenant))
    await objectives.activate_objective(
        objectives.ActivateObjective(objective_id), ctx(tenant), handler
    )
    await objectives.archive_objective(
        objectives.ArchiveObjective(objective_id), ctx(tenant, reason="merged"), handler
    )

    with pytest.raises(Exception, match="archived"):
        await objectives.assign_objective_owner(
            objectives.AssignObjectiveOwner(objective_id, "sales"), ctx(tenant), handler
        )
    restored = await objectives.restore_objective(
        objectives.RestoreObjective(objective_id), ctx(tenant), handler
    )
    assert restored.aggregate.status is ObjectiveStatus.ACTIVE
