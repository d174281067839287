"""A KPI's bucketed history and its readings over the API, as corrected or as known then."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, NamedTuple

import pytest

from tests.e2e.kpi_steps import KPI, correct_reading, kpi_input, record_readings
from tests.e2e.read_steps import nodes, read, refused
from tests.e2e.server import Api

# Monday 2 March 2026 is the first day of an ISO week.
READINGS = [
    ("10", "2026-03-02T09:15:00Z"),
    ("20", "2026-03-02T09:45:00Z"),
    ("30", "2026-03-02T14:00:00Z"),
    ("40", "2026-03-04T08:00:00Z"),
    ("50", "2026-03-10T12:00:00Z"),
    ("60", "2026-04-01T00:30:00Z"),
]

HISTORY = """query($id: UUID!, $from: DateTime!, $to: DateTime!, $bucket: KpiBucket!,
                   $aggregate: KpiAggregate!, $asKnownAt: AsOfInput) {
  kpi(id: $id) {
    history(from: $from, to: $to, bucket: $bucket, aggregate: $aggregate, asKnownAt: $asKnownAt) {
      start end value count
    }
  }
}"""

READINGS_QUERY = """query($id: UUID!, $from: DateTime, $to: DateTime, $first: Int!,
                          $after: String, $asKnownAt: AsOfInput) {
  kpi(id: $id) {
    readings(from: $from, to: $to, first: $first, after: $after, asKnownAt: $asKnownAt) {
      edges { cursor node { readingId value originalValue observedAt recordedAt source
                            correctedAt correctionCount
                            corrections { value previousValue reason recordedAt position } } }
      pageInfo { hasNextPage endCursor }
    }
  }
}"""

WHOLE_RANGE = {"from": "2026-03-01T00:00:00Z", "to": "2026-05-01T00:00:00Z"}


class Recorded(NamedTuple):
    kpi_id: str
    reading_ids: list[str]
    # Tenant log positions: after the KPI was defined, after its readings were recorded.
    defined: int
    recorded: int


async def kpi_with_readings(api: Api) -> Recorded:
    """A KPI with READINGS, the reading ids in order."""
    defined = await api.mutate("defineKpi", kpi_input(), KPI)
    kpi_id = defined["kpi"]["id"]
    batch = await record_readings(
        api, kpi_id, [{"value": v, "observedAt": at} for v, at in READINGS]
    )
    return Recorded(kpi_id, batch["recorded"], defined["position"], batch["position"])


async def history(api: Api, kpi_id: str, **variables: Any) -> list[tuple[str, str, Decimal, int]]:
    data = await read(api, HISTORY, id=kpi_id, **{**WHOLE_RANGE, **variables})
    return [
        (p["start"][:16], p["end"][:16], Decimal(p["value"]), p["count"])
        for p in data["kpi"]["history"]
    ]


@pytest.mark.parametrize(
    ("aggregate", "march", "april"),
    [
        ("AVG", "30", "60"),
        ("MIN", "10", "60"),
        ("MAX", "50", "60"),
        ("LAST", "50", "60"),
        ("COUNT", "5", "1"),
    ],
)
async def test_monthly_history_aggregates_the_months_readings(
    editor: Api, aggregate: str, march: str, april: str
) -> None:
    kpi_id, *_ = await kpi_with_readings(editor)

    points = await history(editor, kpi_id, bucket="MONTH", aggregate=aggregate)

    assert points == [
        ("2026-03-01T00:00", "2026-04-01T00:00", Decimal(march), 5),
        ("2026-04-01T00:00", "2026-05-01T00:00", Decimal(april), 1),
    ]


async def test_weekly_history_starts_weeks_on_monday(editor: Api) -> None:
    kpi_id, *_ = await kpi_with_readings(editor)

    points = await history(editor, kpi_id, bucket="WEEK", aggregate="MAX")

    assert points == [
        ("2026-03-02T00:00", "2026-03-09T00:00", Decimal(40), 4),
        ("2026-03-09T00:00", "2026-03-16T00:00", Decimal(50), 1),
        ("2026-03-30T00:00", "2026-04-06T00:00", Decimal(60), 1),
    ]


async def test_daily_history_leaves_out_days_without_readings(editor: Api) -> None:
    kpi_id, *_ = await kpi_with_readings(editor)

    points = await history(editor, kpi_id, bucket="DAY", aggregate="AVG")

    assert points == [
        ("2026-03-02T00:00", "2026-03-03T00:00", Decimal(20), 3),
        ("2026-03-04T00:00", "2026-03-05T00:00", Decimal(40), 1),
        ("2026-03-10T00:00", "2026-03-11T00:00", Decimal(50), 1),
        ("2026-04-01T00:00", "2026-04-02T00:00", Decimal(60), 1),
    ]


async def test_hourly_history_holds_only_the_readings_in_a_partial_range(editor: Api) -> None:
    kpi_id, *_ = await kpi_with_readings(editor)

    points = await history(
        editor,
        kpi_id,
        bucket="HOUR",
        aggregate="AVG",
        **{"from": "2026-03-02T09:30:00Z", "to": "2026-03-02T15:00:00Z"},
    )

    assert points == [
        ("2026-03-02T09:00", "2026-03-02T10:00", Decimal(20), 1),
        ("2026-03-02T14:00", "2026-03-02T15:00", Decimal(30), 1),
    ]


async def test_history_uses_the_corrected_value(editor: Api) -> None:
    kpi_id, reading_ids, _, _ = await kpi_with_readings(editor)
    await correct_reading(editor, kpi_id, reading_ids[0], "5")  # 10 -> 5

    low = await history(editor, kpi_id, bucket="MONTH", aggregate="MIN")
    mean = await history(editor, kpi_id, bucket="MONTH", aggregate="AVG")

    assert [p[2] for p in low] == [Decimal(5), Decimal(60)]
    assert [p[2] for p in mean] == [Decimal(29), Decimal(60)]  # (5+20+30+40+50) / 5


async def test_history_as_known_before_a_correction_shows_the_original(editor: Api) -> None:
    kpi_id, reading_ids, _, recorded_at = await kpi_with_readings(editor)
    await correct_reading(editor, kpi_id, reading_ids[0], "5")

    points = await history(
        editor, kpi_id, bucket="MONTH", aggregate="MIN", asKnownAt={"position": recorded_at}
    )

    assert [p[2] for p in points] == [Decimal(10), Decimal(60)]


async def test_history_as_known_before_the_readings_is_empty(editor: Api) -> None:
    kpi_id, _, defined, _ = await kpi_with_readings(editor)

    points = await history(
        editor, kpi_id, bucket="DAY", aggregate="COUNT", asKnownAt={"position": defined}
    )

    assert points == []


async def test_readings_show_the_corrected_value_the_original_and_the_correction(
    editor: Api,
) -> None:
    kpi_id, reading_ids, _, _ = await kpi_with_readings(editor)
    corrected = await correct_reading(editor, kpi_id, reading_ids[0], "5", reason="Double count")

    data = await read(editor, READINGS_QUERY, id=kpi_id, first=2)

    first, second = nodes(data["kpi"]["readings"])
    assert (first["readingId"], first["value"], first["originalValue"]) == (
        reading_ids[0],
        "5",
        "10",
    )
    assert first["observedAt"].startswith("2026-03-02T09:15:00")
    assert first["correctedAt"] is not None and first["correctionCount"] == 1
    [correction] = first["corrections"]
    assert (correction["value"], correction["previousValue"], correction["reason"]) == (
        "5",
        "10",
        "Double count",
    )
    assert correction["position"] == corrected["position"]
    assert (second["value"], second["originalValue"], second["corrections"]) == ("20", "20", [])


async def test_readings_as_known_before_a_correction_show_the_original(editor: Api) -> None:
    kpi_id, reading_ids, _, recorded_at = await kpi_with_readings(editor)
    await correct_reading(editor, kpi_id, reading_ids[0], "5")

    data = await read(
        editor, READINGS_QUERY, id=kpi_id, first=1, asKnownAt={"position": recorded_at}
    )

    [first] = nodes(data["kpi"]["readings"])
    assert (first["value"], first["originalValue"]) == ("10", "10")
    assert first["correctedAt"] is None and first["corrections"] == []


async def test_readings_are_paged_oldest_observed_first_within_the_range(editor: Api) -> None:
    kpi_id, *_ = await kpi_with_readings(editor)
    march = {"from": "2026-03-02T09:30:00Z", "to": "2026-04-01T00:00:00Z"}

    page = await read(editor, READINGS_QUERY, id=kpi_id, first=2, **march)
    after = page["kpi"]["readings"]["pageInfo"]
    rest = await read(editor, READINGS_QUERY, id=kpi_id, first=2, after=after["endCursor"], **march)

    assert [n["value"] for n in nodes(page["kpi"]["readings"])] == ["20", "30"]
    assert after["hasNextPage"] is True
    assert [n["value"] for n in nodes(rest["kpi"]["readings"])] == ["40", "50"]
    assert rest["kpi"]["readings"]["pageInfo"]["hasNextPage"] is False


@pytest.mark.parametrize("field", ["history", "readings"])
async def test_a_range_that_ends_before_it_starts_is_a_validation_error(
    editor: Api, field: str
) -> None:
    kpi_id, *_ = await kpi_with_readings(editor)
    backwards = {"from": "2026-04-01T00:00:00Z", "to": "2026-03-01T00:00:00Z"}

    if field == "history":
        error = await refused(
            editor, HISTORY, id=kpi_id, bucket="DAY", aggregate="AVG", **backwards
        )
    else:
        error = await refused(editor, READINGS_QUERY, id=kpi_id, first=10, **backwards)

    assert error["extensions"]["code"] == "VALIDATION"
    assert error["extensions"]["field"] == "to"
    assert error["path"] == ["kpi", field]
