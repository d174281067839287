"""A cycle's still-open objectives, as the OKR tree holds them: what its close settles."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from uuid import UUID

from okrledger.domain.objective import ObjectiveStatus
from okrledger.projections.base import Rows

OPEN = (ObjectiveStatus.DRAFT.value, ObjectiveStatus.ACTIVE.value)


async def open_objectives(rows: Rows, cycle_id: UUID) -> list[UUID]:
    """Draft and active objectives of the cycle, archived ones included (a restore would
    bring them back open), in the order they were set."""
    found = await rows.fetch(
        """SELECT objective_id FROM okr_objectives
           WHERE tenant_id = current_tenant() AND valid_to_position IS NULL
             AND cycle_id = $1 AND lifecycle = ANY($2::text[])
           ORDER BY created_position""",
        cycle_id,
        list(OPEN),
    )
    # asyncpg's own UUID type would not pass through the event mapper.
    return [UUID(int=r["objective_id"].int) for r in found]


class ReadModelCycleObjectives:
    """The services' `CycleObjectives` port over the read model (inline, so a close that
    has committed finds every objective committed before it)."""

    def __init__(self, read: Callable[[str], AbstractAsyncContextManager[Rows]]) -> None:
        self._read = read

    async def open_in(self, tenant_id: str, cycle_id: UUID) -> list[UUID]:
        async with self._read(tenant_id) as rows:
            return await open_objectives(rows, cycle_id)
