"""Small KPI steps over the API, and the selections the KPI tests read back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

from tests.e2e.server import Api

KPI = (
    "... on KpiPayload { version position kpi { id key name unit direction area cadence target "
    "bands { green yellow } health retired readingCount "
    "latestReading { readingId value observedAt } version updatedAt } }"
)


def kpi_input(**extra: Any) -> dict[str, Any]:
    return {
        "name": "Conversion rate",
        "key": f"conversion-{uuid4().hex[:8]}",
        "unit": "%",
        "direction": "HIGHER_IS_BETTER",
        "area": "Growth",
        "cadence": "DAILY",
        **extra,
    }


async def define_kpi(api: Api, **extra: Any) -> dict[str, Any]:
    result = await api.mutate("defineKpi", kpi_input(**extra), KPI)
    assert result["__typename"] == "DefineKpiPayload", result
    kpi: dict[str, Any] = result["kpi"]
    return kpi


def observed(minutes_ago: int = 60) -> str:
    return (datetime.now(UTC) - timedelta(minutes=minutes_ago)).isoformat()


async def record_reading(api: Api, kpi_id: str, value: str, **extra: Any) -> dict[str, Any]:
    result = await api.mutate(
        "recordKpiReading",
        {"kpiId": kpi_id, "value": value, "observedAt": observed(), **extra},
        KPI + " ... on RecordKpiReadingPayload { readingId recorded }",
    )
    assert result["__typename"] == "RecordKpiReadingPayload", result
    return result
