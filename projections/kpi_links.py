"""Which key results follow which KPI: the lookup the KPI-link policy starts from."""

from __future__ import annotations

from typing import Any

from okrledger.projections.base import Rows
from okrledger.projections.recorded import RecordedEvent

_FORGET = "DELETE FROM kpi_links WHERE tenant_id = $1 AND objective_id = $2 AND key_result_id = $3"


class KPILinksProjection:
    name = "kpi_links"
    handles = frozenset({"KeyResultLinkedToKPI", "KeyResultUnlinkedFromKPI", "KeyResultRemoved"})
    tables: tuple[str, ...] = ("kpi_links",)

    async def apply(self, rows: Rows, record: RecordedEvent, event: Any) -> None:
        await rows.execute(_FORGET, record.tenant_id, record.stream_id, event.key_result_id)
        if record.event_type == "KeyResultLinkedToKPI":
            await rows.execute(
                """INSERT INTO kpi_links (tenant_id, kpi_id, objective_id, key_result_id)
                   VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING""",
                record.tenant_id,
                event.kpi_id,
                record.stream_id,
                event.key_result_id,
            )
