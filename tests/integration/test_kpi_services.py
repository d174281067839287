"""KPI commands through services/ on a real PostgreSQL: definitions, readings singly
and in batches, corrections, retirement, and key results that follow a linked KPI."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from okrledger.domain.errors import NotFound
from okrledger.domain.kpi import KPI, Cadence, KPIIsRetired, KPIReadingsRefused, ReadingIdTaken
from okrledger.domain.kpi_health import Direction, Health, InvalidBands
from okrledger.domain.objective import KeyResultNotLinkable, MetricKind, Objective
from okrledger.infra.db import Database
from okrledger.infra.event_store import PostgresEventStore
from okrledger.infra.kpi_links import PostgresKPILinks, PostgresReadingLog
from okrledger.infra.projector import InlineProjections
from okrledger.infra.rebuild import rebuild
from okrledger.projections import catalog
from okrledger.projections.kpi_links import KPILinksProjection
from okrledger.services import cycles, key_results, kpi_links, kpis, objectives
from okrledger.services.errors import AlreadyClaimed
from okrledger.services.handling import Handler
from okrledger.services.kpis import BandsInput, ReadingInput
from okrledger.services.ports import CommandContext

HIGHER = Direction.HIGHER_IS_BETTER
LOWER = Direction.LOWER_IS_BETTER
CONVERSION_BANDS = BandsInput(Decimal(3), Decimal(2))


@pytest.fixture
def live_store(database: Database) -> PostgresEventStore:
    return PostgresEventStore(database, hooks=[InlineProjections([KPILinksProjection()])])


@pytest.fixture
def handler(live_store: PostgresEventStore) -> Handler:
    return Handler(live_store)


@pytest.fixture
def policy(handler: Handler, database: Database) -> kpi_links.KPILinkPolicy:
    return kpi_links.KPILinkPolicy(handler, PostgresKPILinks(database))


@pytest.fixture
def log(live_store: PostgresEventStore, database: Database) -> PostgresReadingLog:
    return PostgresReadingLog(live_store, database)


def ctx(tenant: str, actor: str = "alice") -> CommandContext:
    return CommandContext(tenant, actor, str(uuid.uuid4()))


def now() -> datetime:
    return datetime.now(UTC)


async def a_kpi(
    handler: Handler,
    tenant: str,
    key: str = "conversion-rate",
    direction: Direction = HIGHER,
    bands: BandsInput | None = CONVERSION_BANDS,
) -> uuid.UUID:
    cmd = kpis.DefineKPI(
        key.replace("-", " ").capitalize(), key, "%", direction, "sales", Cadence.DAILY, None, bands
    )
    return (await kpis.define_kpi(cmd, ctx(tenant), handler)).aggregate.id


async def read(
    handler: Handler,
    tenant: str,
    kpi_id: uuid.UUID,
    value: str,
    *,
    ago: timedelta = timedelta(0),
    at: datetime | None = None,
    reading_id: uuid.UUID | None = None,
    policy: kpi_links.KPILinkPolicy | None = None,
    context: CommandContext | None = None,
) -> kpis.RecordedReadings:
    cmd = kpis.RecordKPIReading(kpi_id, Decimal(value), (at or now()) - ago, "crm", reading_id)
    context = context or ctx(tenant, "crm-sync")
    return await kpis.record_kpi_reading(cmd, context, handler, follow=policy)


async def a_linked_key_result(
    handler: Handler, tenant: str, kpi_id: uuid.UUID
) -> tuple[uuid.UUID, uuid.UUID]:
    today = date.today()
    cycle = await cycles.start_cycle(
        cycles.StartCycle(
            f"c-{uuid.uuid4().hex[:8]}", today - timedelta(days=30), today + timedelta(days=60)
        ),
        ctx(tenant),
        handler,
    )
    objective = await objectives.set_objective(
        objectives.SetObjective("Sell more online", cycle.aggregate.id, owner="sales"),
        ctx(tenant),
        handler,
    )
    objective_id, kr_id = objective.aggregate.id, uuid.uuid4()
    await key_results.add_key_result(
        key_results.AddKeyResult(
            objective_id,
            "Lift conversion from 2% to 4%",
            MetricKind.PERCENT,
            Decimal(2),
            Decimal(4),
            key_result_id=kr_id,
        ),
        ctx(tenant),
        handler,
    )
    await kpi_links.link_key_result_to_kpi(
        kpi_links.LinkKeyResultToKPI(objective_id, kr_id, kpi_id), ctx(tenant), handler
    )
    return objective_id, kr_id


async def current(
    handler: Handler, tenant: str, objective_id: uuid.UUID, kr_id: uuid.UUID
) -> Decimal:
    objective = await handler.get(tenant, Objective, objective_id)
    return objective.key_results[kr_id].current


# -- definitions -------------------------------------------------------------------------


async def test_the_seed_kpis_are_defined_with_bands_and_fed_readings(
    handler: Handler, tenant: str
) -> None:
    seeds = [
        ("conversion-rate", HIGHER, BandsInput(Decimal(3), Decimal(2)), "1.8", Health.RED),
        ("cac", LOWER, BandsInput(Decimal(120), Decimal(180)), "150", Health.YELLOW),
        ("nps", HIGHER, BandsInput(Decimal(40), Decimal(20)), "45", Health.GREEN),
        ("bounce-rate", LOWER, BandsInput(Decimal(40), Decimal(60)), "72.5", Health.RED),
        ("average-order-value", HIGHER, BandsInput(Decimal(80), Decimal(60)), "64", Health.YELLOW),
    ]
    for key, direction, bands, value, health in seeds:
        kpi_id = await a_kpi(handler, tenant, key, direction, bands)
        await read(handler, tenant, kpi_id, value)
        kpi = await handler.get(tenant, KPI, kpi_id)
        assert (kpi.key, kpi.latest_value, kpi.health) == (key, Decimal(value), health)


async def test_a_kpi_key_is_unique_within_a_tenant(handler: Handler, tenant: str) -> None:
    await a_kpi(handler, tenant, "nps")
    with pytest.raises(AlreadyClaimed):
        await a_kpi(handler, tenant, "nps")


async def test_the_same_kpi_key_can_exist_in_two_tenants(
    handler: Handler, tenant: str, other_tenant: str
) -> None:
    await a_kpi(handler, tenant, "nps")
    await a_kpi(handler, other_tenant, "nps")


async def test_bands_against_the_direction_are_refused_and_nothing_is_recorded(
    handler: Handler, tenant: str
) -> None:
    with pytest.raises(InvalidBands):
        await a_kpi(handler, tenant, "cac", LOWER, BandsInput(Decimal(180), Decimal(120)))
    assert await handler.store.head(tenant) == 0


async def test_target_bands_revision_and_retirement_are_recorded_in_the_history(
    handler: Handler, live_store: PostgresEventStore, tenant: str
) -> None:
    kpi_id = await a_kpi(handler, tenant, "cac", LOWER, None)
    await kpis.set_kpi_target(kpis.SetKPITarget(kpi_id, Decimal(100)), ctx(tenant), handler)
    await kpis.set_kpi_bands(
        kpis.SetKPIBands(kpi_id, BandsInput(Decimal(120), Decimal(180))), ctx(tenant), handler
    )
    await kpis.revise_kpi(kpis.ReviseKPI(kpi_id, area="marketing"), ctx(tenant), handler)
    await kpis.retire_kpi(kpis.RetireKPI(kpi_id), ctx(tenant), handler)

    history = await live_store.read_stream(tenant, kpi_id)
    assert [e.event_type for e in history] == [
        "KPIDefined",
        "KPITargetSet",
        "KPIBandsSet",
        "KPIRevised",
        "KPIRetired",
    ]


# -- readings --------------------------------------------------------------------------


async def test_a_reading_sent_again_with_its_id_appends_nothing(
    handler: Handler, live_store: PostgresEventStore, tenant: str
) -> None:
    kpi_id = await a_kpi(handler, tenant)
    reading_id, at = uuid.uuid4(), now()
    await read(handler, tenant, kpi_id, "2.5", at=at, reading_id=reading_id)
    head = await live_store.head(tenant)

    again = await read(handler, tenant, kpi_id, "2.50", at=at, reading_id=reading_id)

    assert (again.recorded, again.repeated) == ([], [reading_id])
    assert await live_store.head(tenant) == head
    assert (await handler.get(tenant, KPI, kpi_id)).latest_value == Decimal("2.5")


async def test_concurrent_retries_of_one_reading_record_it_once(
    handler: Handler, live_store: PostgresEventStore, tenant: str
) -> None:
    kpi_id = await a_kpi(handler, tenant)
    reading_id, at = uuid.uuid4(), now()

    await asyncio.gather(
        *(read(handler, tenant, kpi_id, "2.5", at=at, reading_id=reading_id) for _ in range(5))
    )

    history = await live_store.read_stream(tenant, kpi_id)
    assert [e.event_type for e in history].count("KPIReadingRecorded") == 1


async def test_a_retired_kpi_refuses_readings(handler: Handler, tenant: str) -> None:
    kpi_id = await a_kpi(handler, tenant)
    await kpis.retire_kpi(kpis.RetireKPI(kpi_id), ctx(tenant), handler)
    with pytest.raises(KPIIsRetired):
        await read(handler, tenant, kpi_id, "2.5")


async def test_a_reading_id_of_another_kpi_is_refused(handler: Handler, tenant: str) -> None:
    first, second = await a_kpi(handler, tenant, "nps"), await a_kpi(handler, tenant, "cac")
    reading_id = uuid.uuid4()
    await read(handler, tenant, first, "40", reading_id=reading_id)
    with pytest.raises(ReadingIdTaken):
        await read(handler, tenant, second, "40", reading_id=reading_id)


async def test_a_batch_is_recorded_whole_in_one_append(
    handler: Handler, live_store: PostgresEventStore, tenant: str
) -> None:
    kpi_id = await a_kpi(handler, tenant, bands=None)
    batch = [ReadingInput(Decimal(i) / 100, now() - timedelta(hours=5000 - i)) for i in range(5000)]

    result = await kpis.record_kpi_readings(
        kpis.RecordKPIReadings(kpi_id, batch), ctx(tenant), handler
    )

    assert len(result.recorded) == 5000
    kpi = await handler.get(tenant, KPI, kpi_id)
    assert (kpi.readings, kpi.latest_value) == (5000, Decimal("49.99"))


async def test_a_batch_with_one_bad_reading_records_none_and_says_which(
    handler: Handler, live_store: PostgresEventStore, tenant: str
) -> None:
    kpi_id = await a_kpi(handler, tenant)
    head = await live_store.head(tenant)
    batch = [
        ReadingInput(Decimal(1), now()),
        ReadingInput(Decimal("NaN"), now()),
        ReadingInput(Decimal(2), now() + timedelta(hours=1)),
    ]

    with pytest.raises(KPIReadingsRefused) as refused:
        await kpis.record_kpi_readings(kpis.RecordKPIReadings(kpi_id, batch), ctx(tenant), handler)

    assert [(r.index, r.error.field) for r in refused.value.refusals] == [
        (1, "value"),
        (2, "observed_at"),
    ]
    assert await live_store.head(tenant) == head


async def test_a_correction_keeps_the_original_reading_in_the_history(
    handler: Handler, live_store: PostgresEventStore, tenant: str
) -> None:
    kpi_id = await a_kpi(handler, tenant)
    reading_id = uuid.uuid4()
    await read(handler, tenant, kpi_id, "3.4", reading_id=reading_id)

    await kpis.correct_kpi_reading(
        kpis.CorrectKPIReading(kpi_id, reading_id, Decimal("1.7"), "bot traffic counted"),
        ctx(tenant, "analyst"),
        handler,
    )

    history = await live_store.read_stream(tenant, kpi_id)
    assert [e.event_type for e in history] == [
        "KPIDefined",
        "KPIReadingRecorded",
        "KPIHealthChanged",  # none -> green
        "KPIReadingCorrected",
        "KPIHealthChanged",  # green -> red
    ]
    assert history[3].actor == "analyst"
    kpi = await handler.get(tenant, KPI, kpi_id)
    assert (kpi.latest_value, kpi.health) == (Decimal("1.7"), Health.RED)


async def test_correcting_a_reading_the_kpi_does_not_hold_is_not_found(
    handler: Handler, tenant: str
) -> None:
    first, second = await a_kpi(handler, tenant, "nps"), await a_kpi(handler, tenant, "cac")
    reading_id = uuid.uuid4()
    await read(handler, tenant, first, "40", reading_id=reading_id)
    with pytest.raises(NotFound):
        await kpis.correct_kpi_reading(
            kpis.CorrectKPIReading(second, reading_id, Decimal(1), "typo"), ctx(tenant), handler
        )


# -- key results following a KPI ----------------------------------------------------------


async def test_a_linked_key_result_moves_with_the_kpi_and_its_history_names_the_reading(
    handler: Handler, live_store: PostgresEventStore, policy: kpi_links.KPILinkPolicy, tenant: str
) -> None:
    kpi_id = await a_kpi(handler, tenant)
    objective_id, kr_id = await a_linked_key_result(handler, tenant, kpi_id)
    reading_id = uuid.uuid4()
    sync = ctx(tenant, "crm-sync")

    await read(handler, tenant, kpi_id, "2.7", reading_id=reading_id, policy=policy, context=sync)

    assert await current(handler, tenant, objective_id, kr_id) == Decimal("2.7")
    followed = (await live_store.read_stream(tenant, objective_id))[-1]
    assert followed.event_type == "KeyResultValueFollowedKPI"
    assert reading_id.hex in followed.payload
    assert followed.actor == kpi_links.POLICY_ACTOR
    assert followed.correlation_id == sync.command_id
    assert followed.reason == f"KPI reading {reading_id}"


async def test_the_key_result_follows_the_newest_reading_of_a_batch(
    handler: Handler, policy: kpi_links.KPILinkPolicy, tenant: str
) -> None:
    kpi_id = await a_kpi(handler, tenant)
    objective_id, kr_id = await a_linked_key_result(handler, tenant, kpi_id)
    batch = [
        ReadingInput(Decimal("2.2"), now() - timedelta(days=3)),
        ReadingInput(Decimal("3.1"), now() - timedelta(days=1)),
        ReadingInput(Decimal("2.9"), now() - timedelta(days=2)),
    ]

    await kpis.record_kpi_readings(
        kpis.RecordKPIReadings(kpi_id, batch), ctx(tenant), handler, follow=policy
    )

    assert await current(handler, tenant, objective_id, kr_id) == Decimal("3.1")


async def test_readings_observed_before_the_cycle_leave_the_key_result_alone(
    handler: Handler, policy: kpi_links.KPILinkPolicy, tenant: str
) -> None:
    kpi_id = await a_kpi(handler, tenant)
    objective_id, kr_id = await a_linked_key_result(handler, tenant, kpi_id)

    await read(handler, tenant, kpi_id, "3.5", ago=timedelta(days=45), policy=policy)

    assert await current(handler, tenant, objective_id, kr_id) == Decimal(2)


async def test_a_back_filled_reading_does_not_pull_the_key_result_back(
    handler: Handler, policy: kpi_links.KPILinkPolicy, tenant: str
) -> None:
    kpi_id = await a_kpi(handler, tenant)
    objective_id, kr_id = await a_linked_key_result(handler, tenant, kpi_id)
    await read(handler, tenant, kpi_id, "3.5", policy=policy)

    await read(handler, tenant, kpi_id, "2.1", ago=timedelta(days=5), policy=policy)

    assert await current(handler, tenant, objective_id, kr_id) == Decimal("3.5")


async def test_linking_takes_the_kpis_latest_reading_at_once(handler: Handler, tenant: str) -> None:
    kpi_id = await a_kpi(handler, tenant)
    await read(handler, tenant, kpi_id, "2.8")

    objective_id, kr_id = await a_linked_key_result(handler, tenant, kpi_id)

    assert await current(handler, tenant, objective_id, kr_id) == Decimal("2.8")


async def test_an_unlinked_key_result_stops_following(
    handler: Handler, policy: kpi_links.KPILinkPolicy, tenant: str
) -> None:
    kpi_id = await a_kpi(handler, tenant)
    objective_id, kr_id = await a_linked_key_result(handler, tenant, kpi_id)
    await kpi_links.unlink_key_result_from_kpi(
        kpi_links.UnlinkKeyResultFromKPI(objective_id, kr_id), ctx(tenant), handler
    )

    await read(handler, tenant, kpi_id, "3.3", policy=policy)

    assert await current(handler, tenant, objective_id, kr_id) == Decimal(2)


async def test_replaying_readings_through_the_policy_changes_nothing(
    handler: Handler,
    live_store: PostgresEventStore,
    policy: kpi_links.KPILinkPolicy,
    log: PostgresReadingLog,
    tenant: str,
) -> None:
    kpi_id = await a_kpi(handler, tenant)
    objective_id, _ = await a_linked_key_result(handler, tenant, kpi_id)
    for days, value in ((2, "2.4"), (1, "2.6")):
        await read(handler, tenant, kpi_id, value, ago=timedelta(days=days), policy=policy)
    before = await live_store.read_stream(tenant, objective_id)

    page = await log.readings_after(tenant, 0, limit=100)
    assert len(page.readings) == 2
    for logged in page.readings:
        await policy(ctx(tenant), logged.kpi_id, [logged.reading])

    assert await live_store.read_stream(tenant, objective_id) == before


async def test_catch_up_applies_readings_the_policy_missed_and_only_once(
    handler: Handler,
    live_store: PostgresEventStore,
    policy: kpi_links.KPILinkPolicy,
    log: PostgresReadingLog,
    tenant: str,
) -> None:
    kpi_id = await a_kpi(handler, tenant)
    objective_id, kr_id = await a_linked_key_result(handler, tenant, kpi_id)
    # The process "dies" after the reading's append: no policy runs.
    sync = ctx(tenant, "crm-sync")
    await read(handler, tenant, kpi_id, "3.2", context=sync)
    assert await current(handler, tenant, objective_id, kr_id) == Decimal(2)

    seen = await kpi_links.catch_up_kpi_links(tenant, policy, log, batch=2)

    assert seen == 1
    assert await current(handler, tenant, objective_id, kr_id) == Decimal("3.2")
    followed = (await live_store.read_stream(tenant, objective_id))[-1]
    assert followed.correlation_id == sync.command_id
    assert await log.position(tenant) == await live_store.head(tenant)
    before = await live_store.read_stream(tenant, objective_id)
    assert await kpi_links.catch_up_kpi_links(tenant, policy, log) == 0
    assert await live_store.read_stream(tenant, objective_id) == before


async def test_only_numeric_key_results_can_be_linked(handler: Handler, tenant: str) -> None:
    kpi_id = await a_kpi(handler, tenant)
    objective_id, _ = await a_linked_key_result(handler, tenant, kpi_id)
    milestone = uuid.uuid4()
    await key_results.add_key_result(
        key_results.AddKeyResult(
            objective_id, "Launch checkout", MetricKind.MILESTONE, key_result_id=milestone
        ),
        ctx(tenant),
        handler,
    )
    with pytest.raises(KeyResultNotLinkable):
        await kpi_links.link_key_result_to_kpi(
            kpi_links.LinkKeyResultToKPI(objective_id, milestone, kpi_id), ctx(tenant), handler
        )


async def test_a_kpi_of_another_tenant_cannot_be_linked(
    handler: Handler, tenant: str, other_tenant: str
) -> None:
    foreign = await a_kpi(handler, other_tenant)
    with pytest.raises(NotFound):
        await a_linked_key_result(handler, tenant, foreign)


async def test_a_retired_kpi_cannot_be_linked(handler: Handler, tenant: str) -> None:
    kpi_id = await a_kpi(handler, tenant)
    await kpis.retire_kpi(kpis.RetireKPI(kpi_id), ctx(tenant), handler)
    with pytest.raises(KPIIsRetired):
        await a_linked_key_result(handler, tenant, kpi_id)


async def test_the_rebuilt_link_table_equals_the_inline_one(
    handler: Handler, database: Database, owner_dsn: str, tenant: str
) -> None:
    kpi_id = await a_kpi(handler, tenant)
    for _ in range(3):
        await a_linked_key_result(handler, tenant, kpi_id)
    links = PostgresKPILinks(database)
    inline = await links.following(tenant, kpi_id)

    await rebuild(owner_dsn, [KPILinksProjection()], tenant_id=tenant)

    assert len(inline) == 3
    assert await links.following(tenant, kpi_id) == inline


async def test_the_change_log_shows_which_reading_moved_a_key_result_and_each_correction(
    database: Database, tenant: str
) -> None:
    audited = PostgresEventStore(database, hooks=[InlineProjections(catalog.projections())])
    handler = Handler(audited)
    policy = kpi_links.KPILinkPolicy(handler, PostgresKPILinks(database))
    kpi_id = await a_kpi(handler, tenant)
    objective_id, _ = await a_linked_key_result(handler, tenant, kpi_id)
    reading_id = uuid.uuid4()
    await read(handler, tenant, kpi_id, "2.6", reading_id=reading_id, policy=policy)
    await kpis.correct_kpi_reading(
        kpis.CorrectKPIReading(kpi_id, reading_id, Decimal("2.4"), "refunds netted out"),
        ctx(tenant, "analyst"),
        handler,
    )

    async with database.transaction(tenant, readonly=True) as connection:
        rows = await connection.fetch(
            "SELECT stream_id, actor, summary FROM change_log WHERE tenant_id = $1"
            " AND event_type IN ('KeyResultValueFollowedKPI', 'KPIReadingCorrected')"
            " ORDER BY position",
            tenant,
        )
    assert [(r["stream_id"], r["actor"]) for r in rows] == [
        (objective_id, kpi_links.POLICY_ACTOR),
        (kpi_id, "analyst"),
    ]
    assert f"by reading {reading_id}" in rows[0]["summary"]
    assert "from 2.6 to 2.4: refunds netted out" in rows[1]["summary"]


async def test_concurrent_readings_leave_the_key_result_at_the_newest_one(
    handler: Handler, policy: kpi_links.KPILinkPolicy, tenant: str
) -> None:
    kpi_id = await a_kpi(handler, tenant)
    objective_id, kr_id = await a_linked_key_result(handler, tenant, kpi_id)
    hours = [5, 1, 8, 3, 2, 7, 4, 6]

    await asyncio.gather(
        *(
            read(handler, tenant, kpi_id, f"2.{h}", ago=timedelta(hours=h), policy=policy)
            for h in hours
        )
    )

    assert await current(handler, tenant, objective_id, kr_id) == Decimal("2.1")
    assert (await handler.get(tenant, KPI, kpi_id)).latest_value == Decimal("2.1")


async def test_a_retried_recording_command_appends_nothing_and_still_moves_the_key_result(
    handler: Handler,
    live_store: PostgresEventStore,
    policy: kpi_links.KPILinkPolicy,
    tenant: str,
) -> None:
    kpi_id = await a_kpi(handler, tenant)
    objective_id, kr_id = await a_linked_key_result(handler, tenant, kpi_id)
    sync, reading_id = ctx(tenant, "crm-sync"), uuid.uuid4()
    # The first attempt dies after its append, before the policy ran.
    await read(handler, tenant, kpi_id, "3.6", reading_id=reading_id, context=sync)
    head = await live_store.head(tenant)

    retried = await read(
        handler, tenant, kpi_id, "3.6", reading_id=reading_id, context=sync, policy=policy
    )

    assert retried.outcome.duplicate
    assert await current(handler, tenant, objective_id, kr_id) == Decimal("3.6")
    kpi_history = await live_store.read_stream(tenant, kpi_id)
    assert [e.position for e in kpi_history if e.position > head] == []


async def test_correcting_the_reading_a_key_result_follows_moves_the_key_result(
    handler: Handler,
    live_store: PostgresEventStore,
    database: Database,
    policy: kpi_links.KPILinkPolicy,
    tenant: str,
) -> None:
    kpi_id = await a_kpi(handler, tenant)
    objective_id, kr_id = await a_linked_key_result(handler, tenant, kpi_id)
    older, newest = uuid.uuid4(), uuid.uuid4()
    await read(
        handler, tenant, kpi_id, "2.9", reading_id=older, ago=timedelta(hours=2), policy=policy
    )
    await read(handler, tenant, kpi_id, "3.4", reading_id=newest, policy=policy)

    # Correcting an older reading leaves the key result on the newest one...
    await kpis.correct_kpi_reading(
        kpis.CorrectKPIReading(kpi_id, older, Decimal("2.7"), "duplicate orders removed"),
        ctx(tenant, "analyst"),
        handler,
        follow=policy.corrected,
    )
    assert await current(handler, tenant, objective_id, kr_id) == Decimal("3.4")
    # ...correcting the newest one moves it, and says which correction did.
    fix = ctx(tenant, "analyst")
    await kpis.correct_kpi_reading(
        kpis.CorrectKPIReading(kpi_id, newest, Decimal("3.1"), "refunds netted out"),
        fix,
        handler,
        follow=policy.corrected,
    )
    assert await current(handler, tenant, objective_id, kr_id) == Decimal("3.1")
    moved = (await live_store.read_stream(tenant, objective_id))[-1]
    assert (moved.event_type, moved.correlation_id) == ("KeyResultValueFollowedKPI", fix.command_id)
    assert moved.reason == f"KPI reading {newest} corrected"

    # A later catch-up replaying the original reading does not undo the correction.
    await kpi_links.catch_up_kpi_links(tenant, policy, PostgresReadingLog(live_store, database))
    assert await current(handler, tenant, objective_id, kr_id) == Decimal("3.1")
