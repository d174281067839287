"""KPIs: defining them, tuning target and bands, retiring them, and their readings.

A KPI stream grows without bound, so its commands load it through snapshots
(one every SNAPSHOT_EVERY events) and the aggregate's state stays small; the
reading ids and values it cannot hold live in the event store's claims,
written in the same transaction as the readings.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

from okrledger.domain.errors import NotFound
from okrledger.domain.kpi import KPI, Cadence, KPIReadingsRefused, Reading, ReadingRow
from okrledger.domain.kpi_health import Bands, Direction
from okrledger.services.errors import AlreadyClaimed
from okrledger.services.handling import Handler, Outcome
from okrledger.services.ports import Claim, Claimed, CommandContext

KPI_KEY = "kpi key"
READING_ID = "kpi reading"
# A command decodes at most this many events after its snapshot; a KPI's state is small, so
# a snapshot costs about what one reading does, and one is written every this many events.
SNAPSHOT_EVERY = 20
_BATCH: Any = KPI.KPIReadingsRecorded  # made by @event at runtime; mypy cannot see it

# Called right after readings are appended (the KPI-link policy, services/kpi_links.py).
FollowReadings = Callable[[CommandContext, UUID, Sequence[Reading]], Awaitable[None]]
# (the correcting command, the KPI, the reading, its corrected value)
FollowCorrection = Callable[[CommandContext, UUID, UUID, Decimal], Awaitable[None]]


@dataclass(frozen=True)
class BandsInput:
    green: Decimal
    yellow: Decimal


@dataclass(frozen=True)
class DefineKPI:
    name: str
    key: str
    unit: str
    direction: Direction
    area: str
    cadence: Cadence
    target: Decimal | None = None
    bands: BandsInput | None = None
    kpi_id: UUID | None = None


@dataclass(frozen=True)
class ReviseKPI:
    kpi_id: UUID
    name: str | None = None
    unit: str | None = None
    direction: Direction | None = None
    area: str | None = None
    cadence: Cadence | None = None
    expected_version: int | None = None


@dataclass(frozen=True)
class SetKPITarget:
    kpi_id: UUID
    target: Decimal | None
    expected_version: int | None = None


@dataclass(frozen=True)
class SetKPIBands:
    kpi_id: UUID
    bands: BandsInput | None
    expected_version: int | None = None


@dataclass(frozen=True)
class RetireKPI:
    kpi_id: UUID
    expected_version: int | None = None


@dataclass(frozen=True)
class RecordKPIReading:
    kpi_id: UUID
    value: Decimal
    observed_at: datetime
    source: str | None = None
    reading_id: UUID | None = None
    expected_version: int | None = None
    run_id: str | None = None


@dataclass(frozen=True)
class ReadingInput:
    value: Decimal
    observed_at: datetime
    source: str | None = None
    reading_id: UUID | None = None
    run_id: str | None = None


@dataclass(frozen=True)
class RecordKPIReadings:
    kpi_id: UUID
    readings: Sequence[ReadingInput]
    expected_version: int | None = None


@dataclass(frozen=True)
class CorrectKPIReading:
    kpi_id: UUID
    reading_id: UUID
    value: Decimal
    reason: str
    expected_version: int | None = None


@dataclass(frozen=True)
class RecordedReadings:
    """The KPI after the command; `recorded` are new, `repeated` were already held."""

    outcome: Outcome[KPI]
    recorded: list[UUID]
    repeated: list[UUID]


async def define_kpi(cmd: DefineKPI, context: CommandContext, handler: Handler) -> Outcome[KPI]:
    """Define a KPI; its key (e.g. "conversion-rate") is unique within the tenant."""

    def build() -> KPI:
        return KPI.define(
            id=cmd.kpi_id or uuid4(),
            name=cmd.name,
            key=cmd.key,
            unit=cmd.unit,
            direction=cmd.direction,
            area=cmd.area,
            cadence=cmd.cadence,
            target=cmd.target,
            bands=_bands(cmd.bands, cmd.direction),
        )

    return await handler.create(context, KPI, build, claims=[Claim(KPI_KEY, cmd.key.strip())])


async def revise_kpi(cmd: ReviseKPI, context: CommandContext, handler: Handler) -> Outcome[KPI]:
    """Change a KPI's name, unit, direction, area or cadence; only changes are recorded."""

    async def decide(kpi: KPI) -> None:
        kpi.revise(
            name=cmd.name,
            unit=cmd.unit,
            direction=cmd.direction,
            area=cmd.area,
            cadence=cmd.cadence,
        )

    return await _update(cmd.kpi_id, decide, context, handler, cmd.expected_version)


async def set_kpi_target(
    cmd: SetKPITarget, context: CommandContext, handler: Handler
) -> Outcome[KPI]:
    """Set (or, with None, remove) the value a KPI aims for; with readings, give a reason."""

    async def decide(kpi: KPI) -> None:
        kpi.set_target(cmd.target, reason=context.reason)

    return await _update(cmd.kpi_id, decide, context, handler, cmd.expected_version)


async def set_kpi_bands(
    cmd: SetKPIBands, context: CommandContext, handler: Handler
) -> Outcome[KPI]:
    """Set (or, with None, remove) a KPI's green/yellow thresholds; its health follows.

    Once the KPI has readings, a change needs the context's reason.
    """

    async def decide(kpi: KPI) -> None:
        kpi.set_bands(_bands(cmd.bands, kpi.direction), reason=context.reason)

    return await _update(cmd.kpi_id, decide, context, handler, cmd.expected_version)


async def retire_kpi(cmd: RetireKPI, context: CommandContext, handler: Handler) -> Outcome[KPI]:
    """Retire a KPI: it takes no more readings; its history stays."""

    async def decide(kpi: KPI) -> None:
        kpi.retire()

    return await _update(cmd.kpi_id, decide, context, handler, cmd.expected_version)


async def record_kpi_reading(
    cmd: RecordKPIReading,
    context: CommandContext,
    handler: Handler,
    *,
    follow: FollowReadings | None = None,
    now: datetime | None = None,
) -> RecordedReadings:
    """Record one reading; the same reading sent again with its id is a no-op, another
    reading with an id already used is refused (ReadingIdReused)."""
    batch = RecordKPIReadings(
        cmd.kpi_id,
        [ReadingInput(cmd.value, cmd.observed_at, cmd.source, cmd.reading_id, cmd.run_id)],
        cmd.expected_version,
    )
    try:
        return await record_kpi_readings(batch, context, handler, follow=follow, now=now)
    except KPIReadingsRefused as refused:
        raise refused.refusals[0].error from None


async def record_kpi_readings(
    cmd: RecordKPIReadings,
    context: CommandContext,
    handler: Handler,
    *,
    follow: FollowReadings | None = None,
    now: datetime | None = None,
) -> RecordedReadings:
    """Record up to 5,000 readings at once: all of them or, with per-item errors, none.

    Readings recorded before are skipped (integrators retry); a reading id that
    already names another reading (value, time, source or KPI) refuses that reading.
    Key results linked to the KPI follow the new readings through `follow`.
    """
    readings = _new_readings(cmd.readings)
    accepted: list[Reading] = []
    rows: list[ReadingRow] = []
    # A batch is appended first and its reading ids looked up only when the append finds
    # one of them claimed (a retry, or an id of another KPI): then it is decided again,
    # knowing. One reading with the caller's own id is looked up first, which costs less
    # than a failed append; an id made here just now cannot have been recorded.
    lookup = len(readings) == 1 and cmd.readings[0].reading_id is not None

    async def decide(kpi: KPI) -> None:
        held = _Held()
        if lookup:
            claimed = await handler.store.claimed(context.tenant_id, READING_ID, _keys(readings))
            held = _Held.of(claimed, kpi.id)
        accepted[:] = kpi.record_readings(
            readings,
            now=now or datetime.now(UTC),
            recorded=held.unknown,
            held=held.readings,
            taken=held.taken,
            client=context.client,
        )
        rows[:] = [row for e in kpi.pending_events if isinstance(e, _BATCH) for row in e.readings]

    def claims(kpi: KPI) -> list[Claim]:
        if rows:  # the batch event's text, as it is stored
            return [
                Claim(
                    READING_ID,
                    row["reading_id"],  # type: ignore[arg-type]
                    {
                        "value": row["value"],
                        "observed_at": row["observed_at"],
                        "source": row["source"],
                    },
                )
                for row in rows
            ]
        return [
            Claim(
                READING_ID,
                str(r.reading_id),
                {
                    "value": str(r.value),
                    "observed_at": r.observed_at.isoformat(),
                    "source": r.source,
                },
            )
            for r in accepted
        ]

    def update() -> Awaitable[Outcome[KPI]]:
        return handler.update(
            context,
            KPI,
            cmd.kpi_id,
            decide,
            expected_version=cmd.expected_version,
            claims=claims,
            # A batch is one event of thousands of readings: the next command loads from a
            # snapshot taken after it instead of decoding it again.
            snapshot_every=1 if len(readings) > 1 else SNAPSHOT_EVERY,
        )

    try:
        outcome = await update()
    except AlreadyClaimed as error:
        if error.scope != READING_ID:
            raise
        # Claimed since (or before the batch looked): decided again, knowing by what.
        lookup = True
        outcome = await update()
    if outcome.duplicate:  # a retried command: what was recorded then is in the claims
        held = await handler.store.claimed(context.tenant_id, READING_ID, _keys(readings))
        accepted = [_reading(c) for c in held.values() if c.stream_id == cmd.kpi_id]
    if follow is not None and accepted:
        await follow(context, cmd.kpi_id, accepted)
    new = {r.reading_id for r in accepted} if not outcome.duplicate else set()
    return RecordedReadings(
        outcome,
        recorded=[r.reading_id for r in readings if r.reading_id in new],
        repeated=[r.reading_id for r in readings if r.reading_id not in new],
    )


def _new_readings(inputs: Sequence[ReadingInput]) -> list[Reading]:
    """The readings of a command; those without an id get a random (version 4) one."""
    missing = sum(1 for r in inputs if r.reading_id is None)
    blob = os.urandom(16 * missing)  # one system call, not one per reading
    fresh = iter([UUID(bytes=blob[i : i + 16], version=4) for i in range(0, len(blob), 16)])
    return [
        Reading(
            r.reading_id or next(fresh),
            r.value,
            r.observed_at,
            r.source,
            r.run_id,
        )
        for r in inputs
    ]


def _keys(readings: Sequence[Reading]) -> list[str]:
    return [str(r.reading_id) for r in readings]


@dataclass(frozen=True)
class _Held:
    """What holds a command's reading ids: this KPI's readings as their claims keep them;
    ids of this KPI claimed before claims kept a source (their reading is not known
    whole, so a reading sent again is skipped unjudged, as it was then); other KPIs' ids."""

    readings: dict[UUID, Reading] = field(default_factory=dict)
    unknown: set[UUID] = field(default_factory=set)
    taken: set[UUID] = field(default_factory=set)

    @classmethod
    def of(cls, claimed: Mapping[str, Claimed], kpi_id: UUID) -> _Held:
        held = cls()
        for key, claim in claimed.items():
            if claim.stream_id != kpi_id:
                held.taken.add(UUID(key))
            elif "source" in claim.data:
                held.readings[UUID(key)] = _reading(claim)
            else:
                held.unknown.add(UUID(key))
        return held


async def correct_kpi_reading(
    cmd: CorrectKPIReading,
    context: CommandContext,
    handler: Handler,
    *,
    follow: FollowCorrection | None = None,
) -> Outcome[KPI]:
    """Correct a reading's value, with a reason; the original stays in the history.

    Key results following exactly that reading move with it through `follow`.
    """
    held = await handler.store.claimed(context.tenant_id, READING_ID, [str(cmd.reading_id)])
    claim = held.get(str(cmd.reading_id))
    if claim is None or claim.stream_id != cmd.kpi_id:
        raise NotFound(f"KPI {cmd.kpi_id} has no reading {cmd.reading_id}", field="reading_id")
    original = _reading(claim)

    async def decide(kpi: KPI) -> None:
        kpi.correct_reading(
            reading_id=cmd.reading_id,
            value=cmd.value,
            reason=cmd.reason,
            observed_at=original.observed_at,
            original_value=Decimal(original.value),
        )

    outcome = await handler.update(
        context,
        KPI,
        cmd.kpi_id,
        decide,
        expected_version=cmd.expected_version,
        snapshot_every=SNAPSHOT_EVERY,
    )
    if follow is not None:
        await follow(context, cmd.kpi_id, cmd.reading_id, Decimal(cmd.value))
    return outcome


async def get_kpi(handler: Handler, tenant_id: str, kpi_id: UUID) -> KPI:
    kpi = await handler.find(tenant_id, KPI, kpi_id)
    if kpi is None:
        raise NotFound(f"KPI {kpi_id} not found", field="kpi_id")
    return kpi


async def _update(
    kpi_id: UUID,
    decide: Callable[[KPI], Awaitable[None]],
    context: CommandContext,
    handler: Handler,
    expected_version: int | None,
) -> Outcome[KPI]:
    return await handler.update(
        context,
        KPI,
        kpi_id,
        decide,
        expected_version=expected_version,
        snapshot_every=SNAPSHOT_EVERY,
    )


def _bands(bands: BandsInput | None, direction: Direction) -> Bands | None:
    return None if bands is None else Bands.checked(bands.green, bands.yellow, direction)


def _reading(claim: Claimed) -> Reading:
    return Reading(
        UUID(claim.key),
        Decimal(claim.data["value"]),
        datetime.fromisoformat(claim.data["observed_at"]),
        claim.data.get("source"),
    )
