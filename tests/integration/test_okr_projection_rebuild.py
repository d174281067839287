"""The OKR read models kept inline equal a rebuild from the events, row for row; the
versioned rows answer "as of position p" exactly as a replay stopped at p; and a
crashed rebuild leaves the live tables alone."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from contextlib import suppress
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from okrledger.domain.errors import DomainError
from okrledger.domain.objective import Confidence, MetricKind, Objective
from okrledger.infra.db import Database
from okrledger.infra.event_store import PostgresEventStore
from okrledger.infra.projector import InlineProjections
from okrledger.infra.rebuild import drop_schema, rebuild, replay_until
from okrledger.projections import catalog, okr_queries
from okrledger.projections.cycle_objectives import ReadModelCycleObjectives
from okrledger.projections.pages import AsOf
from okrledger.services import cycles, key_results, objectives, tenant_settings
from okrledger.services.handling import Handler
from okrledger.services.ports import CommandContext

from .read_models import owner, read_model_rows

TABLES = {
    "okr_cycles": "cycle_id, valid_from_position",
    "okr_objectives": "objective_id, valid_from_position",
    "okr_key_results": "objective_id, key_result_id, valid_from_position",
    "change_log": "position",
}
NOW = datetime.now(UTC)
KPIS = [uuid.uuid4() for _ in range(2)]

# One command: (what, three small numbers picking its targets and values).
steps = st.tuples(
    st.sampled_from(
        ["cycle", "close_cycle", "reopen_cycle", "revise", "owner", "activate", "grade"]
        + ["close", "archive"]
        + ["restore", "remove_kr", "link", "unlink", "follow", "policy"]
        + ["objective", "align", "revise_kr", "check_in"] * 2
        + ["add_kr"] * 3
    ),
    st.integers(0, 5),
    st.integers(0, 5),
    st.integers(0, 30),
)


class Program:
    """Runs drawn steps through the services; refusals are part of the story."""

    def __init__(self, handler: Handler, tenant: str) -> None:
        self.handler = handler
        self.tenant = tenant
        self.cycles: list[uuid.UUID] = []
        self.objectives: list[uuid.UUID] = []
        self.key_results: dict[uuid.UUID, list[uuid.UUID]] = {}

    def ctx(self, a: int) -> CommandContext:
        return CommandContext(self.tenant, ["alice", "bob"][a % 2], str(uuid.uuid4()))

    def pick(self, items: Sequence[uuid.UUID], i: int) -> uuid.UUID | None:
        return items[i % len(items)] if items else None

    async def run(self, step: tuple[str, int, int, int]) -> None:
        with suppress(DomainError):
            await self._run(*step)

    async def _run(self, what: str, a: int, b: int, n: int) -> None:
        h, ctx = self.handler, self.ctx(a + n)
        cycle = self.pick(self.cycles, a)
        objective = self.pick(self.objectives, a)
        other = self.pick(self.objectives, b)
        krs = self.key_results.get(objective, []) if objective else []
        kr = self.pick(krs, b)
        cmd: Any  # each branch builds its own command
        if what == "cycle":
            starts = date.today() + timedelta(days=(n - 15) * 10)
            name = f"C{len(self.cycles)}-{uuid.uuid4().hex[:4]}"
            done = await cycles.start_cycle(
                cycles.StartCycle(name, starts, starts + timedelta(days=90)), ctx, h
            )
            self.cycles.append(done.aggregate.id)
        elif what == "close_cycle" and cycle:
            assert isinstance(h, LiveHandler)
            await cycles.close_cycle(cycles.CloseCycle(cycle), ctx, h, h.cycle_objectives)
        elif what == "reopen_cycle" and cycle:
            reason = CommandContext(self.tenant, "admin", str(uuid.uuid4()), reason=f"late {n}")
            await cycles.reopen_cycle(cycles.ReopenCycle(cycle), reason, h)
        elif what == "objective" and cycle:
            parent = other if b % 3 else None
            cmd = objectives.SetObjective(f"Goal {n}", cycle, f"owner{b}", parent_id=parent)
            self.objectives.append((await objectives.set_objective(cmd, ctx, h)).aggregate.id)
        elif what == "revise" and objective:
            cmd = objectives.ReviseObjective(objective, title=f"Goal {n}", description=f"d{b}")
            await objectives.revise_objective(cmd, ctx, h)
        elif what == "owner" and objective:
            cmd = objectives.AssignObjectiveOwner(objective, f"owner{n}", f"team{b}" if b else None)
            await objectives.assign_objective_owner(cmd, ctx, h)
        elif what == "align" and objective:
            cmd = objectives.AlignObjective(objective, other if b % 4 else None)
            await objectives.align_objective(cmd, ctx, h)
        elif what == "activate" and objective:
            await objectives.activate_objective(objectives.ActivateObjective(objective), ctx, h)
        elif what == "grade" and objective:
            cmd = objectives.GradeObjective(objective, Decimal(n % 11) / 10, f"retro {b}")
            await objectives.grade_objective(cmd, ctx, h)
        elif what == "close" and objective:
            await objectives.close_objective(objectives.CloseObjective(objective), ctx, h)
        elif what == "archive" and objective:
            await objectives.archive_objective(objectives.ArchiveObjective(objective), ctx, h)
        elif what == "restore" and objective:
            await objectives.restore_objective(objectives.RestoreObjective(objective), ctx, h)
        elif what == "add_kr" and objective:
            metric = [MetricKind.NUMBER, MetricKind.PERCENT, MetricKind.BOOLEAN][b % 3]
            target = Decimal(n + 1) if metric is not MetricKind.BOOLEAN else None
            start = Decimal(0) if metric is not MetricKind.BOOLEAN else None
            new = uuid.uuid4()
            cmd = key_results.AddKeyResult(
                objective,
                f"KR {n}",
                metric,
                start,
                target,
                weight=Decimal(b + 1),
                key_result_id=new,
            )
            await key_results.add_key_result(cmd, ctx, h)
            self.key_results.setdefault(objective, []).append(new)
        elif what == "revise_kr" and objective and kr:
            cmd = key_results.ReviseKeyResult(
                objective, kr, title=f"KR {b}", target=Decimal(n + 2) if n % 2 else None
            )
            await key_results.revise_key_result(cmd, ctx, h)
        elif what == "remove_kr" and objective and kr:
            await key_results.remove_key_result(key_results.RemoveKeyResult(objective, kr), ctx, h)
        elif what == "check_in" and objective and kr:
            cmd = key_results.CheckInKeyResult(
                objective, kr, Decimal(n % 2 if b == 0 else n), list(Confidence)[b % 3], f"n{n}"
            )
            await key_results.check_in_key_result(cmd, ctx, h)
        elif what in ("link", "unlink", "follow") and objective and kr:
            await self._kpi_step(what, objective, kr, ctx, n)
        elif what == "policy":
            cmd = tenant_settings.SetOKRPolicy(
                1 + n % 10,
                allow_percent_stretch=bool(b % 2),
                soft_max_key_results=None if b % 3 else 1,
            )
            await tenant_settings.set_okr_policy(cmd, ctx, h)

    async def _kpi_step(
        self, what: str, objective: uuid.UUID, kr: uuid.UUID, ctx: CommandContext, n: int
    ) -> None:
        kpi = KPIS[n % 2]

        async def decide(o: Objective) -> None:
            if what == "link":
                o.link_key_result_to_kpi(kr, kpi)
            elif what == "unlink":
                o.unlink_key_result_from_kpi(kr)
            else:
                observed = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(hours=n)
                o.follow_kpi_reading(
                    key_result_id=kr,
                    kpi_id=kpi,
                    reading_id=uuid.uuid4(),
                    value=Decimal(n),
                    observed_at=observed,
                )

        await self.handler.update(ctx, Objective, objective, decide)


class LiveHandler(Handler):
    """Projections kept inline, and the read model a cycle's close finds open objectives in."""

    def __init__(self, database: Database) -> None:
        super().__init__(
            PostgresEventStore(database, hooks=[InlineProjections(catalog.projections())])
        )
        self.cycle_objectives = ReadModelCycleObjectives(
            lambda tenant: database.transaction(tenant, readonly=True)
        )


@pytest.fixture
def live_handler(database: Database) -> Handler:
    return LiveHandler(database)


async def play(handler: Handler, tenant: str, program: Sequence[tuple[str, int, int, int]]) -> None:
    runner = Program(handler, tenant)
    for step in [("cycle", 0, 0, 10), ("objective", 0, 0, 1), ("add_kr", 0, 0, 9), *program]:
        await runner.run(step)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(programs=st.lists(st.lists(steps, min_size=15, max_size=40), min_size=2, max_size=3))
async def test_read_models_kept_inline_equal_a_rebuild_from_the_events_row_for_row(
    live_handler: Handler, owner_dsn: str, programs: list[list[tuple[str, int, int, int]]]
) -> None:
    tenants = [f"h-{uuid.uuid4().hex[:12]}" for _ in programs]
    for tenant, program in zip(tenants, programs, strict=True):
        await play(live_handler, tenant, program)
    inline = [await read_model_rows(owner_dsn, t, TABLES) for t in tenants]

    for tenant in tenants:
        await rebuild(owner_dsn, catalog.projections(), tenant_id=tenant)

    assert [await read_model_rows(owner_dsn, t, TABLES) for t in tenants] == inline
    assert all(rows["okr_objectives"] and rows["change_log"] for rows in inline)


async def test_closing_settling_grading_and_reopening_rebuild_to_the_same_read_models(
    live_handler: Handler, owner_dsn: str, tenant: str
) -> None:
    program = [
        ("activate", 0, 0, 0),
        ("check_in", 0, 0, 3),
        ("objective", 0, 0, 2),
        ("close_cycle", 0, 0, 0),
        ("grade", 0, 0, 7),
        ("check_in", 0, 0, 4),  # refused: the cycle is closed
        ("reopen_cycle", 0, 0, 1),
        ("activate", 0, 0, 0),
        ("check_in", 0, 0, 5),
        ("close_cycle", 0, 0, 0),
    ]
    await play(live_handler, tenant, program)
    inline = await read_model_rows(owner_dsn, tenant, TABLES)

    await rebuild(owner_dsn, catalog.projections(), tenant_id=tenant)

    assert await read_model_rows(owner_dsn, tenant, TABLES) == inline
    async with owner(owner_dsn, tenant) as live:
        # The owner may be a superuser, whom Row-Level Security does not filter.
        statuses = await live.fetch(
            "SELECT status FROM okr_objectives WHERE tenant_id = $1 AND valid_to_position IS NULL",
            tenant,
        )
        settled = await live.fetchval(
            """SELECT count(*) FROM change_log
               WHERE tenant_id = $1 AND event_type = 'ObjectiveSettled'""",
            tenant,
        )
    assert [r["status"] for r in statuses] == ["CLOSED", "CLOSED"]
    assert settled == 3  # both at the first close, the one activated again at the second


async def tree_at(connection: Any, cycle_id: uuid.UUID, as_of: AsOf | None) -> Any:
    tree = await okr_queries.cycle_tree(
        connection, cycle_id, as_of=as_of, now=NOW, include_archived=True
    )
    return None if tree is None else (tree.cycle, tree.objectives)


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(program=st.lists(steps, min_size=15, max_size=40), cut=st.floats(0, 1))
async def test_the_tree_as_of_a_position_equals_a_replay_stopped_at_that_position(
    live_handler: Handler, owner_dsn: str, program: list[tuple[str, int, int, int]], cut: float
) -> None:
    tenant = f"p-{uuid.uuid4().hex[:12]}"
    await play(live_handler, tenant, program)
    head = await live_handler.store.head(tenant)
    position = round(head * cut)
    schema = f"as_of_{uuid.uuid4().hex[:8]}"
    try:
        await replay_until(
            owner_dsn, catalog.projections(), schema, tenant_id=tenant, until_position=position
        )
        async with owner(owner_dsn, tenant) as live:
            cycle_ids = [r["cycle_id"] for r in await live.fetch("SELECT cycle_id FROM okr_cycles")]
            versioned = [await tree_at(live, c, AsOf(position=position)) for c in cycle_ids]
            listed = await okr_queries.cycles(live, as_of=AsOf(position=position))
        async with owner(owner_dsn, tenant, schema) as replayed:
            replay = [await tree_at(replayed, c, None) for c in cycle_ids]
            replay_listed = await okr_queries.cycles(replayed)
    finally:
        await drop_schema(owner_dsn, schema)

    assert versioned == replay
    assert listed == replay_listed


async def test_a_crash_mid_rebuild_leaves_the_okr_read_models_untouched_and_restartable(
    live_handler: Handler, owner_dsn: str, tenant: str
) -> None:
    program = [("add_kr", 0, 0, 9), ("check_in", 0, 1, 4), ("objective", 0, 1, 2)] * 4
    await play(live_handler, tenant, program)
    inline = await read_model_rows(owner_dsn, tenant, TABLES)

    with pytest.raises(RuntimeError, match="on purpose"):
        await rebuild(owner_dsn, catalog.projections(), tenant_id=tenant, fail_after=1)
    assert await read_model_rows(owner_dsn, tenant, TABLES) == inline

    await rebuild(owner_dsn, catalog.projections(), tenant_id=tenant)
    assert await read_model_rows(owner_dsn, tenant, TABLES) == inline
