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


async def record_readings(api: Api, kpi_id: str, readings: list[dict[str, Any]]) -> dict[str, Any]:
    """Record a batch of {value, observedAt} readings; the payload (with `recorded` ids)."""
    result = await api.mutate(
        "recordKpiReadings",
        {"kpiId": kpi_id, "readings": readings},
        KPI + " ... on RecordKpiReadingsPayload { recorded }",
    )
    assert result["__typename"] == "RecordKpiReadingsPayload", result
    return result


async def correct_reading(
    api: Api, kpi_id: str, reading_id: str, value: str, reason: str = "typo"
) -> dict[str, Any]:
    result = await api.mutate(
        "correctKpiReading",
        {"kpiId": kpi_id, "readingId": reading_id, "value": value, "reason": reason},
        KPI,
    )
    assert result["__typename"] == "CorrectKpiReadingPayload", result
    return result
