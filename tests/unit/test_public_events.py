"""The public event contract: every event has a stable name, a clean body, current docs."""

from __future__ import annotations

import importlib
import pkgutil
import re
import time
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import register_topic

import okrledger.domain
from okrledger.domain.cycle import Cycle
from okrledger.domain.kpi import KPI, Cadence, Reading
from okrledger.domain.kpi_health import Direction
from okrledger.domain.objective import MetricKind, Objective
from okrledger.infra.codec import mapper
from okrledger.infra.event_docs import DOC, render
from okrledger.infra.webhook_signature import signature_header
from okrledger.projections.public_events import PUBLIC_TYPES, body, cloud_event, public_type
from okrledger.projections.recorded import RecordedEvent


def domain_event_classes() -> set[type[Any]]:
    found: set[type[Any]] = set()
    for info in pkgutil.iter_modules(okrledger.domain.__path__):
        module = importlib.import_module(f"okrledger.domain.{info.name}")
        for aggregate in vars(module).values():
            if not (isinstance(aggregate, type) and issubclass(aggregate, Aggregate)):
                continue
            if aggregate is Aggregate or aggregate.__module__ != module.__name__:
                continue
            for attribute in vars(aggregate).values():
                if (
                    isinstance(attribute, type)
                    and issubclass(attribute, Aggregate.Event)
                    and attribute.__qualname__.startswith(f"{aggregate.__name__}.")
                    and attribute.__name__ not in ("Event", "Created", "Snapshot")
                ):
                    found.add(attribute)
    return found


def test_every_domain_event_has_a_public_type() -> None:
    assert domain_event_classes() - set(PUBLIC_TYPES) == set()


def test_public_types_are_unique_dotted_and_versioned() -> None:
    names = list(PUBLIC_TYPES.values())
    assert len(names) == len(set(names))
    assert all(re.fullmatch(r"[a-z_]+(\.[a-z_]+)+\.v[0-9]+", name) for name in names)


def test_a_renamed_class_keeps_its_public_name() -> None:
    # An event stored under a class's old name decodes, via the topic register, to the
    # renamed class, and so to the same public type.
    cycle = Cycle.start(
        id=uuid.uuid4(), name="2026-Q4", starts_on=date(2026, 10, 1), ends_on=date(2026, 12, 31)
    )
    stored_event = cycle.collect_events()[0]
    stored = mapper().to_stored_event(stored_event)
    old_topic = "okrledger.domain.periods:Period.PeriodBegun"
    register_topic(old_topic, type(stored_event))
    renamed = StoredEvent(stored.originator_id, stored.originator_version, old_topic, stored.state)

    decoded = mapper().to_domain_event(renamed)

    assert public_type(decoded) == "okr.cycle.started.v1"


def test_a_cloud_event_has_the_envelope_and_a_clean_camel_case_body() -> None:
    objective = Objective.set(
        id=uuid.uuid4(),
        title="Boost SEO",
        description="",
        cycle_id=uuid.uuid4(),
        owner="marketing",
        cycle_closed=False,
    )
    key_result_id = uuid.uuid4()
    objective.add_key_result(
        key_result_id=key_result_id,
        title="Gain 15 backlinks",
        metric=MetricKind.NUMBER,
        start=0,
        target=Decimal("15.0"),
        cycle_closed=False,
    )
    added = objective.collect_events()[1]
    recorded_at = datetime(2026, 11, 23, 10, 15, tzinfo=UTC)
    record = RecordedEvent(
        "acme",
        objective.id,
        2,
        42,
        uuid.uuid4(),
        "Objective",
        "KeyResultAdded",
        "t",
        "{}",
        recorded_at,
        recorded_at,
        "alice",
        "c1",
        None,
        None,
    )

    cloud = cloud_event(record, added)

    assert cloud["specversion"] == "1.0"
    assert cloud["type"] == "okr.key_result.added.v1"
    assert cloud["source"] == "/tenants/acme"
    assert cloud["subject"] == str(objective.id)
    assert cloud["time"] == "2026-11-23T10:15:00Z"
    assert (cloud["position"], cloud["streamversion"]) == (42, 2)
    assert cloud["data"] == {
        "keyResultId": str(key_result_id),
        "title": "Gain 15 backlinks",
        "metric": "NUMBER",
        "currency": None,
        "start": "0",
        "target": "15",  # as given: "15.0"; shown without the superfluous zero
        "unit": "",
        "weight": "1",
    }


def test_docs_events_md_is_generated_from_the_contract() -> None:
    assert DOC.read_text() == render(), "docs/events.md is stale: run `make docs`"


def test_the_signature_check_in_docs_events_md_accepts_real_signatures_and_refuses_forgeries() -> (
    None
):
    code = DOC.read_text().split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict[str, Any] = {}
    exec(code, namespace)  # the reader's snippet, exactly as documented
    verify = namespace["verify"]
    body = b'{"type": "okr.objective.set.v1"}'
    now = int(time.time())
    header = signature_header(["old-secret", "new-secret"], now, body)

    assert verify(b"new-secret", header, body)
    assert verify(b"old-secret", header, body)
    assert not verify(b"new-secret", header, body + b" ")
    assert not verify(b"other", header, body)
    assert not verify(b"new-secret", signature_header(["new-secret"], now - 3600, body), body)


def test_stored_decimals_decode_unchanged_and_leave_in_plain_notation() -> None:
    # Given a KPI whose target and readings were written with exponents
    kpi = KPI.define(
        id=uuid.uuid4(),
        name="Signups",
        key="signups",
        unit="",
        direction=Direction.HIGHER_IS_BETTER,
        area="growth",
        cadence=Cadence.DAILY,
        target=Decimal("1.20E+6"),
    )
    now = datetime(2026, 11, 23, 10, 15, tzinfo=UTC)
    kpi.record_readings(
        [
            Reading(uuid.uuid4(), Decimal("7E+4"), datetime(2026, 11, 22, tzinfo=UTC)),
            Reading(uuid.uuid4(), Decimal("0E-28"), datetime(2026, 11, 23, tzinfo=UTC)),
        ],
        now=now,
    )
    defined, batch = kpi.collect_events()[:2]

    # When they are stored and read back
    codec = mapper()
    stored = [codec.to_stored_event(e) for e in (defined, batch)]
    decoded_defined, decoded_batch = (codec.to_domain_event(s) for s in stored)

    # Then the stored text is what was written, and every body shows the plain form
    assert getattr(decoded_defined, "target") == Decimal("1.20E+6")  # noqa: B009
    assert b"1.20E+6" in stored[0].state
    assert body(decoded_defined)["target"] == "1200000"
    assert [r["value"] for r in body(decoded_batch)["readings"]] == ["70000", "0"]
    assert body(decoded_batch)["latestValue"] == "0"
