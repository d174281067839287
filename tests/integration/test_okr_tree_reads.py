"""Reading the OKR tree the projections keep: roll-up, pace, point in time, lists."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from okrledger.domain.objective import Confidence, MetricKind, ObjectiveStatus
from okrledger.domain.progress import PaceStatus
from okrledger.infra.db import Database
from okrledger.infra.event_store import PostgresEventStore
from okrledger.infra.projector import InlineProjections
from okrledger.projections import catalog, okr_queries
from okrledger.projections.base import Rows
from okrledger.projections.pages import AsOf
from okrledger.services import cycles, key_results, objectives
from okrledger.services.handling import Handler
from okrledger.services.ports import CommandContext


@pytest.fixture
def handler(database: Database) -> Handler:
    return Handler(PostgresEventStore(database, hooks=[InlineProjections(catalog.projections())]))


def ctx(tenant: str, actor: str = "alice") -> CommandContext:
    return CommandContext(tenant, actor, str(uuid.uuid4()))


async def a_cycle(handler: Handler, tenant: str, starts: date = date(2026, 10, 1)) -> uuid.UUID:
    cmd = cycles.StartCycle(f"Q-{uuid.uuid4().hex[:4]}", starts, starts + timedelta(days=91))
    return (await cycles.start_cycle(cmd, ctx(tenant), handler)).aggregate.id


async def an_objective(
    handler: Handler,
    tenant: str,
    cycle_id: uuid.UUID,
    title: str,
    parent: uuid.UUID | None = None,
    owner: str = "support",
    *,
    active: bool = False,
) -> uuid.UUID:
    cmd = objectives.SetObjective(title, cycle_id, owner, parent_id=parent)
    objective_id = (await objectives.set_objective(cmd, ctx(tenant), handler)).aggregate.id
    if active:  # only active (and closed) children count towards their parent
        activate = objectives.ActivateObjective(objective_id)
        await objectives.activate_objective(activate, ctx(tenant), handler)
    return objective_id


async def a_key_result(
    handler: Handler, tenant: str, objective_id: uuid.UUID, target: int, current: int
) -> uuid.UUID:
    kr = uuid.uuid4()
    cmd = key_results.AddKeyResult(
        objective_id,
        f"KR {target}",
        MetricKind.NUMBER,
        Decimal(0),
        Decimal(target),
        key_result_id=kr,
    )
    await key_results.add_key_result(cmd, ctx(tenant), handler)
    if current:
        check_in = key_results.CheckInKeyResult(
            objective_id, kr, Decimal(current), Confidence.ON_TRACK, "steady"
        )
        await key_results.check_in_key_result(check_in, ctx(tenant, "bob"), handler)
    return kr


class CountingRows:
    """A Rows that counts the queries sent through it."""

    def __init__(self, rows: Rows) -> None:
        self.rows = rows
        self.queries = 0

    async def execute(self, query: str, *args: Any) -> str:
        self.queries += 1
        return await self.rows.execute(query, *args)

    async def executemany(self, command: str, args: Any) -> None:
        self.queries += 1
        await self.rows.executemany(command, args)

    async def fetch(self, query: str, *args: Any) -> Sequence[Any]:
        self.queries += 1
        return await self.rows.fetch(query, *args)

    async def fetchrow(self, query: str, *args: Any) -> Any:
        self.queries += 1
        return await self.rows.fetchrow(query, *args)

    async def fetchval(self, query: str, *args: Any) -> Any:
        self.queries += 1
        return await self.rows.fetchval(query, *args)


async def test_a_parent_shows_its_own_progress_and_the_mean_progress_of_its_children(
    handler: Handler, database: Database, tenant: str
) -> None:
    cycle = await a_cycle(handler, tenant)
    company = await an_objective(handler, tenant, cycle, "Grow the business")
    await a_key_result(handler, tenant, company, target=10, current=2)  # 0.2
    seo = await an_objective(handler, tenant, cycle, "SEO", parent=company, active=True)
    await a_key_result(handler, tenant, seo, target=10, current=6)  # 0.6
    ads = await an_objective(handler, tenant, cycle, "Ads", parent=company, active=True)
    await a_key_result(handler, tenant, ads, target=10, current=10)  # 1.0

    async with database.transaction(tenant, readonly=True) as rows:
        tree = await okr_queries.cycle_tree(rows, cycle)

    assert tree is not None
    top = tree.roots()[0]
    assert top.objective.title == "Grow the business"
    assert top.objective.progress == Decimal("0.2")
    assert top.children_progress == Decimal("0.8")
    assert top.rolled_up_progress == Decimal("0.5")
    assert top.child_ids == (seo, ads)
    assert [o.objective.title for o in tree.objectives] == ["Grow the business", "SEO", "Ads"]


async def test_the_whole_tree_of_a_cycle_is_read_in_two_queries(
    handler: Handler, database: Database, tenant: str
) -> None:
    cycle = await a_cycle(handler, tenant)
    parent = None
    for level in range(6):
        parent = await an_objective(handler, tenant, cycle, f"Level {level}", parent=parent)
        await a_key_result(handler, tenant, parent, target=4, current=level % 4)

    async with database.transaction(tenant, readonly=True) as connection:
        rows = CountingRows(connection)
        tree = await okr_queries.cycle_tree(rows, cycle, now=datetime.now(UTC))

    assert tree is not None and len(tree.objectives) == 6
    assert sum(len(o.key_results) for o in tree.objectives) == 6
    assert rows.queries == 2


async def test_a_key_result_shows_its_values_confidence_and_last_check_in(
    handler: Handler, database: Database, tenant: str
) -> None:
    cycle = await a_cycle(handler, tenant)
    objective = await an_objective(handler, tenant, cycle, "Delight customers")
    kr = await a_key_result(handler, tenant, objective, target=20, current=5)

    async with database.transaction(tenant, readonly=True) as rows:
        view = await okr_queries.objective_view(rows, objective)

    assert view is not None
    (shown,) = view.key_results
    assert (shown.id, shown.start, shown.target, shown.current) == (
        kr,
        Decimal(0),
        Decimal(20),
        Decimal(5),
    )
    assert shown.progress == Decimal("0.25")
    assert shown.confidence is Confidence.ON_TRACK
    assert (shown.last_check_in_by, shown.note) == ("bob", "steady")
    assert shown.last_check_in_at is not None
    assert view.objective.progress == Decimal("0.25")
    assert view.objective.version == 3


async def test_pace_compares_rolled_up_progress_with_the_time_elapsed_in_the_cycle(
    handler: Handler, database: Database, tenant: str
) -> None:
    cycle = await a_cycle(handler, tenant, starts=date(2026, 1, 1))
    objective = await an_objective(handler, tenant, cycle, "Ship it")
    await a_key_result(handler, tenant, objective, target=10, current=1)

    async with database.transaction(tenant, readonly=True) as rows:
        early = await okr_queries.objective_view(
            rows, objective, now=datetime(2026, 1, 2, tzinfo=UTC)
        )
        late = await okr_queries.objective_view(
            rows, objective, now=datetime(2026, 3, 25, tzinfo=UTC)
        )

    assert early is not None and early.pace is PaceStatus.ON_TRACK
    assert late is not None and late.pace is PaceStatus.OFF_TRACK


async def test_the_tree_as_of_a_position_or_time_shows_what_it_was_then(
    handler: Handler, database: Database, tenant: str
) -> None:
    cycle = await a_cycle(handler, tenant)
    objective = await an_objective(handler, tenant, cycle, "Old title")
    kr = await a_key_result(handler, tenant, objective, target=10, current=3)
    then = await handler.store.head(tenant)
    async with database.transaction(tenant, readonly=True) as rows:
        moment = await rows.fetchval("SELECT max(recorded_at) FROM events")
    revise = objectives.ReviseObjective(objective, title="New title")
    await objectives.revise_objective(revise, ctx(tenant), handler)
    check_in = key_results.CheckInKeyResult(objective, kr, Decimal(9), Confidence.AT_RISK)
    await key_results.check_in_key_result(check_in, ctx(tenant), handler)

    async with database.transaction(tenant, readonly=True) as rows:
        now = await okr_queries.objective_view(rows, objective)
        by_position = await okr_queries.objective_view(rows, objective, as_of=AsOf(position=then))
        by_time = await okr_queries.objective_view(rows, objective, as_of=AsOf(time=moment))
        before_it_existed = await okr_queries.cycle_tree(rows, cycle, as_of=AsOf(position=1))
        tree_then = await okr_queries.cycle_tree(rows, cycle, as_of=AsOf(position=then))

    assert now is not None and now.objective.title == "New title"
    assert now.key_results[0].current == 9
    for past in (by_position, by_time):
        assert past is not None
        assert past.objective.title == "Old title"
        assert past.key_results[0].current == 3
        assert past.objective.progress == Decimal("0.3")
    assert before_it_existed is not None and before_it_existed.objectives == ()
    assert tree_then is not None and tree_then.now == moment  # pace judged as it was then


async def test_archived_objectives_leave_the_tree_and_the_roll_up(
    handler: Handler, database: Database, tenant: str
) -> None:
    cycle = await a_cycle(handler, tenant)
    parent = await an_objective(handler, tenant, cycle, "Parent")
    kept = await an_objective(handler, tenant, cycle, "Kept", parent=parent, active=True)
    await a_key_result(handler, tenant, kept, target=10, current=4)
    gone = await an_objective(handler, tenant, cycle, "Gone", parent=parent, active=True)
    await a_key_result(handler, tenant, gone, target=10, current=10)
    await objectives.archive_objective(objectives.ArchiveObjective(gone), ctx(tenant), handler)

    async with database.transaction(tenant, readonly=True) as rows:
        tree = await okr_queries.cycle_tree(rows, cycle)
        everything = await okr_queries.cycle_tree(rows, cycle, include_archived=True)

    assert tree is not None and everything is not None
    assert [o.objective.title for o in tree.objectives] == ["Parent", "Kept"]
    assert tree.roots()[0].rolled_up_progress == Decimal("0.4")
    assert ObjectiveStatus.ARCHIVED in {o.objective.status for o in everything.objectives}


async def test_objectives_are_listed_by_owner_and_status_a_page_at_a_time(
    handler: Handler, database: Database, tenant: str
) -> None:
    cycle = await a_cycle(handler, tenant)
    mine = [await an_objective(handler, tenant, cycle, f"Mine {i}", owner="ana") for i in range(5)]
    await an_objective(handler, tenant, cycle, "Theirs", owner="ben")
    await objectives.activate_objective(objectives.ActivateObjective(mine[0]), ctx(tenant), handler)

    async with database.transaction(tenant, readonly=True) as rows:
        first = await okr_queries.objectives(rows, owner="ana", first=2)
        second = await okr_queries.objectives(rows, owner="ana", first=2, after=first.end_cursor)
        third = await okr_queries.objectives(rows, owner="ana", first=2, after=second.end_cursor)
        drafts = await okr_queries.objectives(
            rows, cycle_id=cycle, statuses=[ObjectiveStatus.DRAFT], first=10
        )
        cycle_list = await okr_queries.cycles(rows)

    pages = [first, second, third]
    assert [[o.id for o in p.items] for p in pages] == [mine[0:2], mine[2:4], mine[4:]]
    assert [p.has_next_page for p in pages] == [True, True, False]
    assert [o.title for o in drafts.items] == ["Mine 1", "Mine 2", "Mine 3", "Mine 4", "Theirs"]
    assert [c.id for c in cycle_list] == [cycle]
