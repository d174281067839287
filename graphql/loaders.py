"""Per-request DataLoaders, one class per key: nested reads batch instead of running N+1.

Each batch reads in its own read-only transaction in the caller's tenant.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from uuid import UUID

from strawberry.dataloader import DataLoader

from okrledger.graphql.types.objective import Objective, OkrGraph
from okrledger.projections import kpi_queries, okr_queries
from okrledger.projections.base import Rows
from okrledger.projections.kpi_queries import CorrectionView

Read = Callable[[], AbstractAsyncContextManager[Rows]]


class OkrGraphByCycleLoader(DataLoader[UUID, OkrGraph | None]):
    """A cycle's current tree, archived objectives included (two queries per cycle)."""

    def __init__(self, read: Read, now: datetime | None = None) -> None:
        super().__init__(self._load)
        self.read = read
        self.now = now

    async def _load(self, cycle_ids: list[UUID]) -> list[OkrGraph | None]:
        graphs: list[OkrGraph | None] = []
        async with self.read() as rows:
            for cycle_id in cycle_ids:
                tree = await okr_queries.cycle_tree(
                    rows, cycle_id, now=self.now, include_archived=True
                )
                graphs.append(None if tree is None else OkrGraph(tree))
        return graphs


class ObjectiveByIdLoader(DataLoader[UUID, Objective | None]):
    """Objectives as they are now, through their cycles' trees (one query, then per cycle)."""

    def __init__(self, read: Read, graphs: OkrGraphByCycleLoader) -> None:
        super().__init__(self._load)
        self.read = read
        self.graphs = graphs

    async def _load(self, objective_ids: list[UUID]) -> list[Objective | None]:
        async with self.read() as rows:
            cycles = await okr_queries.cycles_of_objectives(rows, objective_ids)
        wanted = sorted(set(cycles.values()))
        graphs = dict(zip(wanted, await self.graphs.load_many(wanted), strict=True))
        found: list[Objective | None] = []
        for objective_id in objective_ids:
            cycle_id = cycles.get(objective_id)
            graph = None if cycle_id is None else graphs[cycle_id]
            found.append(None if graph is None else graph.objective(objective_id))
        return found


class CorrectionsByReadingLoader(DataLoader[tuple[UUID, UUID], list[CorrectionView]]):
    """The corrections of readings, keyed by (KPI id, reading id): one query per KPI."""

    def __init__(self, read: Read) -> None:
        super().__init__(self._load)
        self.read = read

    async def _load(self, keys: list[tuple[UUID, UUID]]) -> list[list[CorrectionView]]:
        by_kpi: dict[UUID, list[UUID]] = {}
        for kpi_id, reading_id in keys:
            by_kpi.setdefault(kpi_id, []).append(reading_id)
        found: dict[tuple[UUID, UUID], list[CorrectionView]] = {}
        async with self.read() as rows:
            for kpi_id, reading_ids in by_kpi.items():
                of_kpi = await kpi_queries.corrections_of(rows, kpi_id, reading_ids)
                found.update(((kpi_id, r), c) for r, c in of_kpi.items())
        return [found[key] for key in keys]


class Loaders:
    """The loaders of one request (their caches live as long as it does)."""

    def __init__(self, read: Read, now: datetime | None = None) -> None:
        self.graphs = OkrGraphByCycleLoader(read, now)
        self.objectives = ObjectiveByIdLoader(read, self.graphs)
        self.corrections = CorrectionsByReadingLoader(read)
