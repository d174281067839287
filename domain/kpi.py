"""A KPI: a continuously tracked indicator, its health bands and its readings.

A KPI stream grows to hundreds of thousands of readings, so the aggregate keeps
a small decision state (the latest reading, its health, a count), never the
readings themselves; with snapshots (services/kpis.py takes one every
`SNAPSHOT_EVERY` events) loading it costs the same at any length. What the
aggregate cannot know without every reading (has this reading id been seen,
what did reading X say) the caller looks up and passes in.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any, NamedTuple, cast
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from okrledger.domain.errors import DomainError, InvalidValue
from okrledger.domain.goalposts import require_reason
from okrledger.domain.kpi_health import Bands, Direction, Health, KPIError, health_of
from okrledger.domain.provenance import provenance_text
from okrledger.domain.values import finite_decimal, non_blank


class Cadence(Enum):
    HOURLY = "HOURLY"
    DAILY = "DAILY"
    WEEKLY = "WEEKLY"
    MONTHLY = "MONTHLY"


ENUMS: tuple[type[Enum], ...] = (Direction, Cadence, Health)

Amount = Decimal | int | str
MAX_BATCH = 5000
FUTURE_TOLERANCE = timedelta(minutes=5)
_KEY = re.compile(r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$")


class Reading(NamedTuple):
    """A tuple, not a dataclass: a batch makes thousands, and a tuple is made in one step."""

    reading_id: UUID
    value: Amount
    observed_at: datetime
    source: str | None = None
    run_id: str | None = None

    def same_reading(self, other: Reading) -> bool:
        """The same observation: value (by value), instant and source; which run sent it
        is not part of it (a later run may send the same reading again)."""
        return (
            Decimal(self.value) == Decimal(other.value)
            and self.observed_at == other.observed_at
            and self.source == other.source
        )


@dataclass(frozen=True)
class ReadingRefusal:
    index: int
    reading_id: UUID
    error: DomainError


# A reading as a KPIReadingsRecorded event holds it: text, as the public contract and the
# event's hash see it. Thousands share one event, so they are stored already as text
# (reading id, value, observed time in UTC ISO-8601, source, run id).
ReadingRow = dict[str, str | None]


def reading_row(reading: Reading) -> ReadingRow:
    return {
        "reading_id": str(reading.reading_id),
        "value": str(reading.value),
        "observed_at": reading.observed_at.isoformat().replace("+00:00", "Z"),
        "source": reading.source,
        "run_id": reading.run_id,
    }


def row_reading(row: ReadingRow) -> Reading:
    """A reading of a KPIReadingsRecorded event, typed again (value as a Decimal)."""
    observed_at, value = row["observed_at"], row["value"]
    assert observed_at is not None and value is not None
    return Reading(
        UUID(row["reading_id"]),
        Decimal(value),
        datetime.fromisoformat(observed_at),
        row["source"],
        row["run_id"],
    )


class KPI(Aggregate):
    """Create with `KPI.define(...)`, which validates before anything is recorded."""

    @classmethod
    def define(
        cls,
        *,
        id: UUID,
        name: str,
        key: str,
        unit: str,
        direction: Direction,
        area: str,
        cadence: Cadence,
        target: Amount | None = None,
        bands: Bands | None = None,
    ) -> KPI:
        if bands is not None:
            bands.check(direction)
        return cls(
            id=id,
            name=non_blank(name, field="name", max_length=200),
            key=check_key(key),
            unit=_text(unit, field="unit", max_length=20),
            direction=direction,
            area=non_blank(area, field="area", max_length=100),
            cadence=cadence,
            target=None if target is None else finite_decimal(target, field="target"),
            green=None if bands is None else bands.green,
            yellow=None if bands is None else bands.yellow,
        )

    @event("KPIDefined")
    def __init__(
        self,
        id: UUID,
        name: str,
        key: str,
        unit: str,
        direction: Direction,
        area: str,
        cadence: Cadence,
        target: Decimal | None,
        green: Decimal | None,
        yellow: Decimal | None,
    ) -> None:
        self.name = name
        self.key = key
        self.unit = unit
        self.direction = direction
        self.area = area
        self.cadence = cadence
        self.target = target
        self.green = green
        self.yellow = yellow
        self.retired = False
        self.readings = 0
        self.latest_reading_id: UUID | None = None
        self.latest_value: Decimal | None = None
        self.latest_observed_at: datetime | None = None
        self.health: Health | None = None

    @property
    def bands(self) -> Bands | None:
        if self.green is None or self.yellow is None:
            return None
        return Bands(self.green, self.yellow)

    # -- definition --------------------------------------------------------------

    def revise(
        self,
        *,
        name: str | None = None,
        unit: str | None = None,
        direction: Direction | None = None,
        area: str | None = None,
        cadence: Cadence | None = None,
    ) -> None:
        """Only the fields given and different from now are recorded; `unit=""` removes it."""
        self._check_not_retired()
        new_name = None if name is None else non_blank(name, field="name", max_length=200)
        new_unit = None if unit is None else _text(unit, field="unit", max_length=20)
        new_area = None if area is None else non_blank(area, field="area", max_length=100)
        name_change = None if new_name == self.name else new_name
        unit_change = None if new_unit == self.unit else new_unit
        direction_change = None if direction is self.direction else direction
        area_change = None if new_area == self.area else new_area
        cadence_change = None if cadence is self.cadence else cadence
        if direction_change is not None and self.bands is not None:
            raise DirectionContradictsBands(
                f"KPI '{self.name}' has bands set for {self.direction.name.lower()}; "
                "clear its bands before turning its direction",
                field="direction",
            )
        changes = (name_change, unit_change, direction_change, area_change, cadence_change)
        if any(change is not None for change in changes):
            self._revise(
                name=name_change,
                unit=unit_change,
                direction=direction_change,
                area=area_change,
                cadence=cadence_change,
            )

    @event("KPIRevised")
    def _revise(
        self,
        name: str | None,
        unit: str | None,
        direction: Direction | None,
        area: str | None,
        cadence: Cadence | None,
    ) -> None:
        self.name = self.name if name is None else name
        self.unit = self.unit if unit is None else unit
        self.direction = self.direction if direction is None else direction
        self.area = self.area if area is None else area
        self.cadence = self.cadence if cadence is None else cadence

    def set_target(self, target: Amount | None, *, reason: str | None = None) -> None:
        """`None` removes the target; once the KPI has readings a change needs a reason."""
        self._check_not_retired()
        value = None if target is None else finite_decimal(target, field="target")
        if value != self.target:
            self._check_goalpost(reason, moved=f"Changing the target of KPI '{self.name}'")
            self._set_target(target=value)

    @event("KPITargetSet")
    def _set_target(self, target: Decimal | None) -> None:
        self.target = target

    def set_bands(self, bands: Bands | None, *, reason: str | None = None) -> None:
        """`None` removes the bands (and the health); with readings, a change needs a reason."""
        self._check_not_retired()
        if bands is not None:
            bands.check(self.direction)
        if bands == self.bands:
            return
        self._check_goalpost(reason, moved=f"Changing the bands of KPI '{self.name}'")
        self._set_bands(
            green=None if bands is None else bands.green,
            yellow=None if bands is None else bands.yellow,
        )
        self._judge_health(reading_id=None)

    @event("KPIBandsSet")
    def _set_bands(self, green: Decimal | None, yellow: Decimal | None) -> None:
        self.green = green
        self.yellow = yellow

    def retire(self) -> None:
        self._check_not_retired()
        self._retire()

    @event("KPIRetired")
    def _retire(self) -> None:
        self.retired = True

    # -- readings ----------------------------------------------------------------

    def record_readings(
        self,
        readings: Sequence[Reading],
        *,
        now: datetime,
        recorded: Collection[UUID] = frozenset(),
        held: Mapping[UUID, Reading] | None = None,
        taken: Collection[UUID] = frozenset(),
        client: str | None = None,
    ) -> list[Reading]:
        """Record a batch whole or not at all; returns the readings newly recorded.

        A reading id names one reading. `held` are readings this KPI already holds:
        one sent again is skipped when it is the same reading and refused
        (ReadingIdReused) when it is not; so is a second, different reading with an
        id the batch already used. `recorded` are ids this KPI holds whose readings
        are not known (skipped, unjudged), `taken` those another KPI holds (refused).
        Every refused reading is reported in one KPIReadingsRefused. `client` is the
        calling application.
        """
        self._check_not_retired()
        if not readings:
            raise InvalidValue("A batch needs at least one reading", field="readings")
        if len(readings) > MAX_BATCH:
            raise InvalidValue(
                f"A batch holds at most {MAX_BATCH} readings, got {len(readings)}",
                field="readings",
            )
        accepted: list[Reading] = []
        refusals: list[ReadingRefusal] = []
        seen = set(recorded)
        known: dict[UUID, Reading] = dict(held or {})
        for index, reading in enumerate(readings):
            try:
                checked = _checked_reading(reading, now=now, taken=taken)
                if (earlier := known.get(checked.reading_id)) is not None:
                    _check_same_reading(earlier, checked)
            except DomainError as error:
                refusals.append(ReadingRefusal(index, reading.reading_id, error))
                continue
            if checked.reading_id not in seen and checked.reading_id not in known:
                known[checked.reading_id] = checked
                accepted.append(checked)
        if refusals:
            raise KPIReadingsRefused(refusals)
        from_client = provenance_text(client, field="client")
        if len(accepted) == 1:
            (reading,) = accepted
            assert isinstance(reading.value, Decimal)
            self._record_reading(
                reading_id=reading.reading_id,
                value=reading.value,
                observed_at=reading.observed_at,
                source=reading.source,
                run_id=reading.run_id,
                client=from_client,
            )
            self._judge_health(reading_id=reading.reading_id)
        elif accepted:
            self._record_batch(accepted, from_client)
        return accepted

    def _record_batch(self, accepted: Sequence[Reading], client: str | None) -> None:
        """One event for the batch, then each health change as reading by reading would."""
        latest: Reading | None = None
        latest_at, health = self.latest_observed_at, self.health
        changes: list[tuple[Health | None, Health | None, UUID]] = []
        bands, direction = self.bands, self.direction
        for reading in accepted:
            if latest_at is None or reading.observed_at > latest_at:
                latest, latest_at = reading, reading.observed_at
                judged = health_of(cast(Decimal, reading.value), bands, direction)
                if judged is not health:
                    changes.append((health, judged, reading.reading_id))
                    health = judged
        self._record_readings(
            readings=[reading_row(r) for r in accepted],
            client=client,
            latest_reading_id=None if latest is None else latest.reading_id,
            latest_value=None if latest is None else cast(Decimal, latest.value),
            latest_observed_at=None if latest is None else latest.observed_at,
        )
        for from_health, to_health, reading_id in changes:
            self._change_health(from_health=from_health, to_health=to_health, reading_id=reading_id)

    class KPIReadingRecorded(Aggregate.Event):
        """Version 2 adds `run_id` and `client`; readings recorded before have neither."""

        reading_id: UUID
        value: Decimal
        observed_at: datetime
        source: str | None
        run_id: str | None
        client: str | None

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state.update(run_id=None, client=None)

    @event(KPIReadingRecorded)
    def _record_reading(
        self,
        reading_id: UUID,
        value: Decimal,
        observed_at: datetime,
        source: str | None,
        run_id: str | None,
        client: str | None,
    ) -> None:
        self.readings += 1
        # Ties keep the earlier reading: a key result following this KPI judges the same way.
        if self.latest_observed_at is None or observed_at > self.latest_observed_at:
            self.latest_reading_id = reading_id
            self.latest_value = value
            self.latest_observed_at = observed_at

    class KPIReadingsRecorded(Aggregate.Event):
        """A batch of readings in one event (each a ReadingRow), recorded whole.

        `latest_*` is the batch's own newest observed reading, when it is newer than the
        KPI's latest before it (ties keep the earlier); otherwise all three are null.
        """

        readings: list[ReadingRow]
        client: str | None
        latest_reading_id: UUID | None
        latest_value: Decimal | None
        latest_observed_at: datetime | None

    @event(KPIReadingsRecorded)
    def _record_readings(
        self,
        readings: list[ReadingRow],
        client: str | None,
        latest_reading_id: UUID | None,
        latest_value: Decimal | None,
        latest_observed_at: datetime | None,
    ) -> None:
        self.readings += len(readings)
        if latest_observed_at is not None:
            self.latest_reading_id = latest_reading_id
            self.latest_value = latest_value
            self.latest_observed_at = latest_observed_at

    def correct_reading(
        self,
        *,
        reading_id: UUID,
        value: Amount,
        reason: str,
        observed_at: datetime,
        original_value: Decimal,
    ) -> None:
        """Correct a reading this KPI holds; the caller supplies what it originally said."""
        new_value = finite_decimal(value, field="value")
        why = non_blank(reason, field="reason", max_length=2000)
        self._correct_reading(
            reading_id=reading_id,
            value=new_value,
            original_value=original_value,
            observed_at=observed_at,
            reason=why,
        )
        self._judge_health(reading_id=reading_id)

    @event("KPIReadingCorrected")
    def _correct_reading(
        self,
        reading_id: UUID,
        value: Decimal,
        original_value: Decimal,
        observed_at: datetime,
        reason: str,
    ) -> None:
        if reading_id == self.latest_reading_id:
            self.latest_value = value

    def _judge_health(self, reading_id: UUID | None) -> None:
        health = health_of(self.latest_value, self.bands, self.direction)
        if health is not self.health:
            self._change_health(from_health=self.health, to_health=health, reading_id=reading_id)

    @event("KPIHealthChanged")
    def _change_health(
        self, from_health: Health | None, to_health: Health | None, reading_id: UUID | None
    ) -> None:
        self.health = to_health

    def _check_goalpost(self, reason: str | None, *, moved: str) -> None:
        """Target and bands are goalposts once readings have been judged against them."""
        if self.readings:
            require_reason(reason, moved=moved)

    def _check_not_retired(self) -> None:
        if self.retired:
            raise KPIIsRetired(f"KPI '{self.name}' is retired")


def check_key(key: str) -> str:
    cleaned = key.strip()
    if not _KEY.match(cleaned) or len(cleaned) > 64:
        raise InvalidKPI(
            f"A KPI key is a lowercase slug such as 'conversion-rate', got {key!r}", field="key"
        )
    return cleaned


def _checked_reading(reading: Reading, *, now: datetime, taken: Collection[UUID]) -> Reading:
    if taken and reading.reading_id in taken:
        raise ReadingIdTaken(
            f"Reading id {reading.reading_id} belongs to another KPI", field="reading_id"
        )
    value = finite_decimal(reading.value, field="value")
    observed = reading.observed_at
    if observed.tzinfo is None or observed.utcoffset() is None:
        raise InvalidValue("observed_at must be timezone-aware", field="observed_at")
    observed = observed.astimezone(UTC)
    if observed > now + FUTURE_TOLERANCE:
        raise ReadingInFuture(
            f"observed_at {observed.isoformat()} is more than 5 minutes in the future",
            field="observed_at",
        )
    source = provenance_text(reading.source, field="source")
    run_id = provenance_text(reading.run_id, field="run_id")
    return Reading(reading.reading_id, value, observed, source, run_id)


def _check_same_reading(earlier: Reading, reading: Reading) -> None:
    if not earlier.same_reading(reading):
        raise ReadingIdReused(
            f"Reading id {reading.reading_id} already names another reading (value "
            f"{earlier.value} observed at {earlier.observed_at.isoformat()}"
            f"{f' from {earlier.source}' if earlier.source else ''}); nothing was recorded",
            field="reading_id",
        )


def _text(text: str, *, field: str, max_length: int) -> str:
    cleaned = text.strip()
    if len(cleaned) > max_length:
        raise InvalidValue(f"{field} must be at most {max_length} characters", field=field)
    return cleaned


class InvalidKPI(KPIError, InvalidValue):
    """A KPI's definition breaks a rule."""


class DirectionContradictsBands(KPIError, InvalidValue):
    """Turning the direction would make the bands read backwards."""


class ReadingInFuture(KPIError, InvalidValue):
    """A reading observed more than 5 minutes from now."""


class ReadingIdReused(KPIError, InvalidValue):
    """The reading id already names another reading (other value, time, source or KPI)."""

    code = "READING_ID_REUSED"


class ReadingIdTaken(ReadingIdReused):
    """The reading id was used for another KPI."""


class KPIIsRetired(KPIError):
    """A retired KPI takes no new readings and no changes; its history can still be corrected."""

    code = "INVALID_STATE"


class KPIReadingsRefused(KPIError):
    """At least one reading of a batch is invalid, so none was recorded."""

    def __init__(self, refusals: Sequence[ReadingRefusal]) -> None:
        first = refusals[0]
        super().__init__(
            f"{len(refusals)} reading(s) refused, none recorded; reading {first.index}: "
            f"{first.error.message}",
            field="readings",
        )
        self.refusals = list(refusals)
