"""Events stored before provenance existed (version 1) still decode, and replay, as before."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import orjson
from eventsourcing.persistence import StoredEvent

from okrledger.domain.kpi import KPI, Cadence, Reading
from okrledger.domain.kpi_health import Direction
from okrledger.domain.objective import Confidence, MetricKind, Objective
from okrledger.infra.codec import mapper

NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)
PROVENANCE = ("observed_at", "source", "run_id", "client")


def as_version_1(stored: StoredEvent, *fields: str) -> StoredEvent:
    """The stored event as it was written before `fields` (and the class version) existed."""
    state = orjson.loads(stored.state)
    assert state.pop("class_version") == 2
    for name in fields:
        del state[name]
    return StoredEvent(
        stored.originator_id, stored.originator_version, stored.topic, orjson.dumps(state)
    )


def test_a_version_1_check_in_decodes_without_provenance_and_replays() -> None:
    objective = Objective.set(
        id=uuid4(), title="Win", description="", cycle_id=uuid4(), owner="a", cycle_closed=False
    )
    key_result_id = uuid4()
    objective.add_key_result(
        key_result_id=key_result_id,
        title="Calls",
        metric=MetricKind.NUMBER,
        start=0,
        target=10,
        cycle_closed=False,
    )
    objective.check_in_key_result(
        key_result_id=key_result_id,
        value=4,
        confidence=Confidence.ON_TRACK,
        source="crm",
        now=NOW,
    )
    *earlier, checked_in = [mapper().to_stored_event(e) for e in objective.collect_events()]

    old = mapper().to_domain_event(as_version_1(checked_in, *PROVENANCE))

    assert [getattr(old, name) for name in PROVENANCE] == [None, None, None, None]
    replayed = None
    for event in [*map(mapper().to_domain_event, earlier), old]:
        replayed = event.mutate(replayed)  # type: ignore[attr-defined]
    assert isinstance(replayed, Objective)
    assert replayed.key_result(key_result_id).current == 4


def test_a_version_1_reading_decodes_without_run_or_client() -> None:
    kpi = KPI.define(
        id=uuid4(),
        name="Conversion",
        key="conversion",
        unit="%",
        direction=Direction.HIGHER_IS_BETTER,
        area="sales",
        cadence=Cadence.DAILY,
    )
    kpi.record_readings([Reading(uuid4(), 3, NOW, "crm", "run-1")], now=NOW, client="app")
    recorded = mapper().to_stored_event(kpi.collect_events()[-1])

    old = mapper().to_domain_event(as_version_1(recorded, "run_id", "client"))

    assert (old.source, old.run_id, old.client) == ("crm", None, None)  # type: ignore[attr-defined]
