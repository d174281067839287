"""The goal change history the auditor reads: sentences, field changes, filters, order."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from okrledger.domain.objective import Confidence, MetricKind
from okrledger.infra.db import Database
from okrledger.infra.event_store import PostgresEventStore
from okrledger.infra.projector import InlineProjections
from okrledger.projections import catalog, history_queries
from okrledger.projections.change_log import FieldChange
from okrledger.projections.history_queries import HistoryFilter
from okrledger.projections.pages import InvalidCursor
from okrledger.services import cycles, key_results, objectives
from okrledger.services.handling import Handler
from okrledger.services.ports import CommandContext


@pytest.fixture
def handler(database: Database) -> Handler:
    return Handler(PostgresEventStore(database, hooks=[InlineProjections(catalog.projections())]))


def ctx(tenant: str, actor: str = "alice", reason: str | None = None) -> CommandContext:
    return CommandContext(tenant, actor, str(uuid.uuid4()), reason=reason)


async def backlinks(handler: Handler, tenant: str, starts: date) -> tuple[uuid.UUID, uuid.UUID]:
    cmd = cycles.StartCycle(f"Q-{uuid.uuid4().hex[:4]}", starts, starts + timedelta(days=91))
    cycle = (await cycles.start_cycle(cmd, ctx(tenant), handler)).aggregate.id
    set_seo = objectives.SetObjective("Boost SEO", cycle, "marketing")
    seo = (await objectives.set_objective(set_seo, ctx(tenant), handler)).aggregate.id
    kr = uuid.uuid4()
    add = key_results.AddKeyResult(
        seo, "Gain backlinks", MetricKind.NUMBER, Decimal(0), Decimal(15), key_result_id=kr
    )
    await key_results.add_key_result(add, ctx(tenant), handler)
    return seo, kr


async def test_a_target_change_reads_as_a_sentence_with_from_and_to(
    handler: Handler, database: Database, tenant: str
) -> None:
    seo, kr = await backlinks(handler, tenant, date.today() - timedelta(days=10))
    revise = key_results.ReviseKeyResult(seo, kr, target=Decimal(20))
    await key_results.revise_key_result(revise, ctx(tenant, "bob", "board asked"), handler)

    async with database.transaction(tenant, readonly=True) as rows:
        page = await history_queries.stream_history(rows, seo, first=1)

    (entry,) = page.items
    assert entry.summary == "Target of 'Gain backlinks' changed from 15 to 20"
    assert entry.changes == (FieldChange("target", "15", "20", goalpost_moved=True),)
    assert (entry.actor, entry.reason, entry.event_type) == (
        "bob",
        "board asked",
        "KeyResultRevised",
    )
    assert (entry.stream_id, entry.stream_type, entry.version) == (seo, "Objective", 3)


async def test_a_target_change_before_the_cycle_starts_is_not_a_moved_goalpost(
    handler: Handler, database: Database, tenant: str
) -> None:
    seo, kr = await backlinks(handler, tenant, date.today() + timedelta(days=30))
    revise = key_results.ReviseKeyResult(seo, kr, title="Earn backlinks", start=Decimal(2))
    await key_results.revise_key_result(revise, ctx(tenant), handler)

    async with database.transaction(tenant, readonly=True) as rows:
        (entry,) = (await history_queries.stream_history(rows, seo, first=1)).items

    assert entry.changes == (
        FieldChange("title", "Gain backlinks", "Earn backlinks"),
        FieldChange("start", "0", "2"),
    )
    assert entry.summary == (
        "Key result 'Gain backlinks' renamed to 'Earn backlinks'; "
        "Start of 'Gain backlinks' changed from 0 to 2"
    )


async def test_a_streams_history_pages_newest_first_and_oldest_first(
    handler: Handler, database: Database, tenant: str
) -> None:
    seo, kr = await backlinks(handler, tenant, date(2026, 1, 1))
    for value in (3, 6, 9):
        check_in = key_results.CheckInKeyResult(seo, kr, Decimal(value), Confidence.AT_RISK)
        await key_results.check_in_key_result(check_in, ctx(tenant), handler)

    async with database.transaction(tenant, readonly=True) as rows:
        newest = await history_queries.stream_history(rows, seo, first=2)
        older = await history_queries.stream_history(rows, seo, first=2, after=newest.end_cursor)
        oldest = await history_queries.stream_history(rows, seo, newest_first=False, first=10)

    assert [e.version for e in newest.items + older.items] == [5, 4, 3, 2]
    assert newest.has_next_page and older.has_next_page
    assert [e.version for e in oldest.items] == [1, 2, 3, 4, 5]
    assert not oldest.has_next_page
    assert oldest.items[-1].summary == "'Gain backlinks' checked in at 9 (was 6), at risk"
    assert oldest.items[0].summary.startswith("Objective 'Boost SEO' set for cycle 'Q-")


async def test_the_audit_log_filters_by_actor_event_type_and_time_range(
    handler: Handler, database: Database, tenant: str
) -> None:
    seo, kr = await backlinks(handler, tenant, date(2026, 1, 1))
    middle = datetime.now(UTC)
    check_in = key_results.CheckInKeyResult(seo, kr, Decimal(4), Confidence.ON_TRACK)
    await key_results.check_in_key_result(check_in, ctx(tenant, "carol"), handler)
    owner = objectives.AssignObjectiveOwner(seo, "growth")
    await objectives.assign_objective_owner(owner, ctx(tenant, "carol"), handler)

    async with database.transaction(tenant, readonly=True) as rows:
        by_carol = await history_queries.history(rows, HistoryFilter(actors=["carol"]))
        check_ins = await history_queries.history(
            rows, HistoryFilter(event_types=["KeyResultCheckedIn", "CycleStarted"])
        )
        before = await history_queries.history(rows, HistoryFilter(until=middle))
        since = await history_queries.history(rows, HistoryFilter(since=middle))

    assert [e.event_type for e in by_carol.items] == [
        "ObjectiveOwnerAssigned",
        "KeyResultCheckedIn",
    ]
    assert [e.event_type for e in check_ins.items] == ["KeyResultCheckedIn", "CycleStarted"]
    assert [e.position for e in before.items] == [3, 2, 1]
    assert [e.position for e in since.items] == [5, 4]
    assert by_carol.items[0].changes == (FieldChange("owner", "marketing", "growth"),)


async def test_a_cursor_from_another_list_is_refused(database: Database, tenant: str) -> None:
    async with database.transaction(tenant, readonly=True) as rows:
        with pytest.raises(InvalidCursor):
            await history_queries.history(rows, after="bm90LWEtY3Vyc29y")
