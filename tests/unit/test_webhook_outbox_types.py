"""A webhook's event types choose the stored events it is sent."""

from __future__ import annotations

from okrledger.infra.outbox import event_types_matching


def test_asking_for_single_readings_also_sends_batches_of_readings() -> None:
    chosen = event_types_matching(["kpi.reading.recorded.v1"])

    assert set(chosen) == {"KPIReadingRecorded", "KPIReadingsRecorded"}


def test_asking_for_batches_sends_batches_only() -> None:
    assert event_types_matching(["kpi.readings.recorded.v1"]) == ["KPIReadingsRecorded"]
