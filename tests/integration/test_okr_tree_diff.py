"""The OKR tree diff over real histories: the diff between two moments, applied to the
tree at the first, gives the tree at the second."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from contextlib import suppress
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from okrledger.domain.errors import DomainError
from okrledger.domain.objective import Confidence, MetricKind
from okrledger.infra.db import Database
from okrledger.infra.event_store import PostgresEventStore
from okrledger.infra.projector import InlineProjections
from okrledger.projections import catalog, okr_queries
from okrledger.projections.okr_diff import TreeSnapshot, apply_diff, diff_trees
from okrledger.projections.pages import AsOf
from okrledger.services import cycles, key_results, objectives
from okrledger.services.handling import Handler
from okrledger.services.ports import CommandContext

# One command: (what, two small numbers picking its targets, one picking its values).
steps = st.tuples(
    st.sampled_from(
        ["objective", "align", "retitle", "archive", "restore", "remove_kr", "revise_kr"]
        + ["add_kr", "check_in"] * 3
    ),
    st.integers(0, 5),
    st.integers(0, 5),
    st.integers(0, 30),
)


class History:
    """Runs drawn steps on one cycle through the services; refusals are part of the story."""

    def __init__(self, handler: Handler, tenant: str, cycle_id: uuid.UUID) -> None:
        self.handler = handler
        self.tenant = tenant
        self.cycle_id = cycle_id
        self.objectives: list[uuid.UUID] = []
        self.key_results: dict[uuid.UUID, list[uuid.UUID]] = {}

    async def run(self, what: str, a: int, b: int, n: int) -> None:
        with suppress(DomainError):
            await self._run(what, a, b, n, CommandContext(self.tenant, "alice", str(uuid.uuid4())))

    async def _run(self, what: str, a: int, b: int, n: int, ctx: CommandContext) -> None:
        h = self.handler
        objective = self.objectives[a % len(self.objectives)] if self.objectives else None
        other = self.objectives[b % len(self.objectives)] if self.objectives else None
        krs = self.key_results.get(objective, []) if objective else []
        kr = krs[b % len(krs)] if krs else None
        cmd: Any  # each branch builds its own command
        if what == "objective" or objective is None:
            parent = other if b % 3 else None
            cmd = objectives.SetObjective(f"Goal {n}", self.cycle_id, "ana", parent_id=parent)
            self.objectives.append((await objectives.set_objective(cmd, ctx, h)).aggregate.id)
        elif what == "align":
            cmd = objectives.AlignObjective(objective, other if b % 4 else None)
            await objectives.align_objective(cmd, ctx, h)
        elif what == "retitle":
            cmd = objectives.ReviseObjective(objective, title=f"Goal {n}")
            await objectives.revise_objective(cmd, ctx, h)
        elif what == "archive":
            await objectives.archive_objective(objectives.ArchiveObjective(objective), ctx, h)
        elif what == "restore":
            await objectives.restore_objective(objectives.RestoreObjective(objective), ctx, h)
        elif what == "add_kr" or kr is None:
            metric = [MetricKind.NUMBER, MetricKind.PERCENT, MetricKind.BOOLEAN][b % 3]
            boolean = metric is MetricKind.BOOLEAN
            new = uuid.uuid4()
            cmd = key_results.AddKeyResult(
                objective,
                f"KR {n}",
                metric,
                None if boolean else Decimal(0),
                None if boolean else Decimal(n + 1),
                weight=Decimal(b + 1),
                key_result_id=new,
            )
            await key_results.add_key_result(cmd, ctx, h)
            self.key_results.setdefault(objective, []).append(new)
        elif what == "revise_kr":
            cmd = key_results.ReviseKeyResult(
                objective,
                kr,
                title=f"KR {b}" if n % 3 == 0 else None,
                start=Decimal(n % 4) if n % 3 == 1 else None,
                target=Decimal(n + 5) if n % 2 else None,
                weight=Decimal(1 + n % 3) if n % 5 == 0 else None,
            )
            await key_results.revise_key_result(cmd, ctx, h)
        elif what == "remove_kr":
            await key_results.remove_key_result(key_results.RemoveKeyResult(objective, kr), ctx, h)
        elif what == "check_in":
            cmd = key_results.CheckInKeyResult(
                objective, kr, Decimal(n % 2 if b == 0 else n), list(Confidence)[b % 3]
            )
            await key_results.check_in_key_result(cmd, ctx, h)


@pytest.fixture
def handler(database: Database) -> Handler:
    return Handler(PostgresEventStore(database, hooks=[InlineProjections(catalog.projections())]))


async def play(
    handler: Handler, tenant: str, program: Sequence[tuple[str, int, int, int]]
) -> uuid.UUID:
    starts = date.today() - timedelta(days=30)
    started = await cycles.start_cycle(
        cycles.StartCycle("Q", starts, starts + timedelta(days=90)),
        CommandContext(tenant, "alice", str(uuid.uuid4())),
        handler,
    )
    history = History(handler, tenant, started.aggregate.id)
    # A company objective with two aligned team objectives, each with key results.
    prologue = [("objective", 0, 0, 1), ("objective", 0, 1, 2), ("objective", 0, 1, 3)]
    prologue += [("add_kr", a, b, 9) for a in range(3) for b in range(2)]
    for step in [*prologue, *program]:
        await history.run(*step)
    return started.aggregate.id


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(program=st.lists(steps, min_size=10, max_size=30), data=st.data())
async def test_the_diff_applied_to_the_tree_at_the_first_moment_gives_the_tree_at_the_second(
    handler: Handler, database: Database, program: list[tuple[str, int, int, int]], data: Any
) -> None:
    tenant = f"d-{uuid.uuid4().hex[:12]}"
    cycle_id = await play(handler, tenant, program)
    head = await handler.store.head(tenant)
    first = data.draw(st.integers(0, head), label="first")
    second = data.draw(st.integers(first, head), label="second")

    async with database.transaction(tenant, readonly=True) as rows:
        trees = [
            TreeSnapshot.of(await okr_queries.cycle_tree(rows, cycle_id, as_of=AsOf(position=p)))
            for p in (first, second)
        ]

    before, after = trees
    assert apply_diff(before, diff_trees(before, after)) == after
