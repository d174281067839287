"""How KPI events and the KPI feedback loop read in the change log (the auditor's view).

Every KPI event is in, readings too: one entry per recorded reading, and one per batch
(not one per reading of it: a batch is one command, with one actor and one reason, and
its readings are in the KPI history), so the audit log answers who fed which values in.
Corrections, health changes and every key-result move a reading caused are in as well.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from enum import Enum
from typing import Any

from okrledger.domain.values import plain
from okrledger.projections import versioned
from okrledger.projections.base import Rows
from okrledger.projections.change_log import Describer, Description, FieldChange, Provenance
from okrledger.projections.kpi_history import KPIS, READINGS
from okrledger.projections.recorded import RecordedEvent


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, Enum):
        return value.name
    if isinstance(value, Decimal):
        return plain(value)
    return str(value)


def _set(*pairs: tuple[str, Any]) -> list[FieldChange]:
    return [FieldChange(name, None, _text(value)) for name, value in pairs if value is not None]


async def _kpi(rows: Rows, record: RecordedEvent) -> str:
    """The KPI as named just before the event (the KPI history runs before the change log)."""
    found = await versioned.as_of(
        rows, KPIS, {"tenant_id": record.tenant_id, "kpi_id": record.stream_id}, record.position - 1
    )
    return f"KPI '{found['name']}'" if found is not None else "KPI"


async def kpi_defined(rows: Rows, record: RecordedEvent, e: Any) -> Description:
    return Description(
        f"KPI '{e.name}' ({e.key}) defined",
        _set(
            ("name", e.name),
            ("key", e.key),
            ("unit", e.unit or None),
            ("direction", e.direction),
            ("area", e.area),
            ("cadence", e.cadence),
            ("target", e.target),
            ("bands.green", e.green),
            ("bands.yellow", e.yellow),
        ),
    )


async def kpi_revised(rows: Rows, record: RecordedEvent, e: Any) -> Description:
    changes = _set(
        ("name", e.name),
        ("unit", e.unit),
        ("direction", e.direction),
        ("area", e.area),
        ("cadence", e.cadence),
    )
    return Description(
        f"{await _kpi(rows, record)} revised: {', '.join(c.field for c in changes)}", changes
    )


async def _had_readings(rows: Rows, record: RecordedEvent) -> bool:
    """Target and bands are goalposts once the KPI has readings (domain/goalposts.py)."""
    return bool(
        await rows.fetchval(
            f"""SELECT EXISTS (SELECT 1 FROM {READINGS}
                   WHERE tenant_id = $1 AND kpi_id = $2 AND position < $3)""",
            record.tenant_id,
            record.stream_id,
            record.position,
        )
    )


def _goalposts(changes: list[FieldChange], moved: bool) -> list[FieldChange]:
    return [replace(c, goalpost_moved=moved) for c in changes]


async def kpi_target_set(rows: Rows, record: RecordedEvent, e: Any) -> Description:
    moved = await _had_readings(rows, record)
    if e.target is None:
        return Description(
            f"{await _kpi(rows, record)} target removed",
            _goalposts([FieldChange("target", None, None)], moved),
        )
    return Description(
        f"{await _kpi(rows, record)} target set to {_text(e.target)}",
        _goalposts(_set(("target", e.target)), moved),
    )


async def kpi_bands_set(rows: Rows, record: RecordedEvent, e: Any) -> Description:
    moved = await _had_readings(rows, record)
    if e.green is None:
        return Description(
            f"{await _kpi(rows, record)} bands removed",
            _goalposts([FieldChange("bands", None, None)], moved),
        )
    return Description(
        f"{await _kpi(rows, record)} bands set: green from {_text(e.green)}, "
        f"yellow from {_text(e.yellow)}",
        _goalposts(_set(("bands.green", e.green), ("bands.yellow", e.yellow)), moved),
    )


async def kpi_retired(rows: Rows, record: RecordedEvent, e: Any) -> Description:
    return Description(
        f"{await _kpi(rows, record)} retired", [FieldChange("retired", "false", "true")]
    )


async def kpi_reading_corrected(rows: Rows, record: RecordedEvent, e: Any) -> Description:
    return Description(
        f"{await _kpi(rows, record)}: reading {e.reading_id} of {e.observed_at.isoformat()} "
        f"corrected from "
        f"{_text(e.original_value)} to {_text(e.value)}: {e.reason}",
        [FieldChange("value", _text(e.original_value), _text(e.value))],
    )


async def kpi_health_changed(rows: Rows, record: RecordedEvent, e: Any) -> Description:
    cause = f" by reading {e.reading_id}" if e.reading_id is not None else " by new bands"
    before, after = _text(e.from_health) or "none", _text(e.to_health) or "none"
    return Description(
        f"{await _kpi(rows, record)} health moved from {before} to {after}{cause}",
        [FieldChange("health", _text(e.from_health), _text(e.to_health))],
    )


async def kpi_reading_recorded(rows: Rows, record: RecordedEvent, e: Any) -> Description:
    return Description(
        f"{await _kpi(rows, record)}: reading {e.reading_id} of {e.observed_at.isoformat()} "
        f"recorded: {_text(e.value)}",
        [FieldChange("value", None, _text(e.value))],
        Provenance(e.observed_at, e.source, e.run_id, e.client),
    )


async def kpi_readings_recorded(rows: Rows, record: RecordedEvent, e: Any) -> Description:
    observed = sorted(str(row["observed_at"]) for row in e.readings)
    span = observed[0] if observed[0] == observed[-1] else f"{observed[0]} to {observed[-1]}"
    changes = [FieldChange("readings", None, str(len(e.readings)))]
    if e.latest_value is not None:
        changes.append(FieldChange("latestValue", None, _text(e.latest_value)))
    sources = {row["source"] for row in e.readings}
    runs = {row["run_id"] for row in e.readings}
    return Description(
        f"{await _kpi(rows, record)}: {len(e.readings)} "
        f"reading{'s' if len(e.readings) != 1 else ''} recorded, observed {span}",
        changes,
        Provenance(
            e.latest_observed_at,
            sources.pop() if len(sources) == 1 else None,
            runs.pop() if len(runs) == 1 else None,
            e.client,
        ),
    )


KPI_DESCRIBERS: dict[str, Describer] = {
    "KPIDefined": kpi_defined,
    "KPIRevised": kpi_revised,
    "KPITargetSet": kpi_target_set,
    "KPIBandsSet": kpi_bands_set,
    "KPIRetired": kpi_retired,
    "KPIReadingRecorded": kpi_reading_recorded,
    "KPIReadingsRecorded": kpi_readings_recorded,
    "KPIReadingCorrected": kpi_reading_corrected,
    "KPIHealthChanged": kpi_health_changed,
}
