from __future__ import annotations

import copy
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any, cast
from uuid import UUID, uuid4

from eventsourcing.domain import CanMutateAggregate
from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    Mapper,
    Transcoding,
    UUIDAsHex,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from okrledger.domain import cycle, objective
from okrledger.domain.errors import DomainError
from okrledger.domain.objective import Confidence, MetricKind, Objective
from okrledger.domain.tenant_policy import TenantPolicy

KEY_RESULTS = [uuid4() for _ in range(3)]
KPIS = [uuid4() for _ in range(2)]
READINGS = [uuid4() for _ in range(3)]
OTHERS = [uuid4() for _ in range(2)]
T0 = datetime(2026, 10, 1, tzinfo=UTC)
BASE_FIELDS = {"originator_id", "originator_version", "timestamp", "originator_topic"}
PLAIN = (str, int, bool, type(None), Decimal, UUID, datetime, date)


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class EnumAsName(Transcoding):
    def __init__(self, enum: type[Enum]) -> None:
        self.type = enum
        self.name = f"enum:{enum.__name__}"
        self._enum = enum

    def encode(self, obj: Enum) -> str:
        return obj.name

    def decode(self, data: str) -> Enum:
        return self._enum[data]


def json_mapper() -> Mapper[UUID]:
    transcoder = JSONTranscoder()
    for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO(), DateAsISO()):
        transcoder.register(transcoding)
    for enum in (*objective.ENUMS, *cycle.ENUMS):
        transcoder.register(EnumAsName(enum))
    return Mapper(transcoder=transcoder)


MAPPER = json_mapper()


def is_plain(value: object) -> bool:
    if isinstance(value, list):
        return all(is_plain(item) for item in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and is_plain(v) for k, v in value.items())
    if isinstance(value, Enum):
        return type(value) in objective.ENUMS and not isinstance(value, str)
    if isinstance(value, datetime):
        return value.utcoffset() == timedelta(0)
    return isinstance(value, PLAIN)


def state(aggregate: Objective) -> dict[str, Any]:
    return {k: v for k, v in vars(aggregate).items() if k != "_pending_events"}


def cmd(name: str, **fields: st.SearchStrategy[Any]) -> st.SearchStrategy[tuple[str, Any]]:
    return st.tuples(st.just(name), st.fixed_dictionaries(fields))


def with_bounds(drawn: dict[str, Any]) -> dict[str, Any]:
    kwargs = {k: v for k, v in drawn.items() if k != "bounds"}
    kwargs["start"], kwargs["target"] = drawn["bounds"]
    return kwargs


def key_result_kwargs(drawn: dict[str, Any]) -> dict[str, Any]:
    currency = "EUR" if drawn["metric"] is MetricKind.CURRENCY else None
    return {**with_bounds(drawn), "currency": currency}


# Mostly open cycles and plausible values, so that sequences get far; refusals still occur.
closed = st.sampled_from([False, False, False, False, True])
amounts = st.integers(-5, 120).map(Decimal) | st.sampled_from([Decimal("0.5"), Decimal("99.9")])
key_result = st.sampled_from(KEY_RESULTS)
add_key_result = st.tuples(
    st.just("add_key_result"),
    st.fixed_dictionaries(
        {
            "key_result_id": key_result,
            "title": st.sampled_from(["KR", "Other KR"]),
            "metric": st.sampled_from(MetricKind),
            "bounds": st.sampled_from([(None, None), (0, 1), (0, 10), (10, 0), (0, 150), (5, 5)]),
            "unit": st.sampled_from(["", "km"]),
            "weight": st.sampled_from([Decimal(1), Decimal(1), Decimal(2), Decimal(0)]),
            "cycle_closed": closed,
        }
    ).map(key_result_kwargs),
)
lifecycle: st.SearchStrategy[tuple[str, dict[str, Any]]] = st.tuples(
    st.sampled_from(["activate", "close", "archive", "restore", "restore", "restore"]),
    st.just({}),
)
kpi = st.sampled_from([KPIS[0], KPIS[0], KPIS[1]])
link = cmd("link_key_result_to_kpi", key_result_id=key_result, kpi_id=kpi)
commands = st.one_of(
    add_key_result,
    lifecycle,
    link,
    cmd(
        "revise",
        title=st.sampled_from([None, "Win", "Win big", " "]),
        description=st.sampled_from([None, "", "Because"]),
        cycle_closed=closed,
    ),
    cmd("assign_owner", owner=st.sampled_from(["alice", "bob"]), team=st.sampled_from([None, "x"])),
    cmd("align", parent_id=st.sampled_from([None, *OTHERS])),
    cmd(
        "grade",
        score=st.sampled_from([Decimal(0), Decimal("0.7"), Decimal(1), Decimal("1.2")]),
        retrospective=st.sampled_from(["", "Learned"]),
    ),
    cmd(
        "revise_key_result",
        key_result_id=key_result,
        title=st.sampled_from([None, "KR", "Renamed"]),
        bounds=st.sampled_from([(None, None), (None, 5), (0, None), (0, 20), (1, 1)]),
        unit=st.sampled_from([None, "", "m"]),
        weight=st.sampled_from([None, Decimal(3)]),
        cycle_closed=closed,
    ).map(lambda op: (op[0], with_bounds(op[1]))),
    cmd("remove_key_result", key_result_id=key_result, cycle_closed=closed),
    cmd(
        "check_in_key_result",
        key_result_id=key_result,
        value=amounts,
        confidence=st.sampled_from(Confidence),
        note=st.sampled_from(["", "note"]),
    ),
    cmd("unlink_key_result_from_kpi", key_result_id=key_result),
    cmd(
        "follow_kpi_reading",
        key_result_id=key_result,
        kpi_id=kpi,
        reading_id=st.sampled_from(READINGS),
        value=amounts,
        observed_at=st.integers(0, 5).map(lambda h: T0 + timedelta(hours=h)),
    ),
)


def run(aggregate: Objective, name: str, kwargs: dict[str, Any], policy: TenantPolicy) -> None:
    if name == "align":
        tree: dict[UUID, UUID | None] = {aggregate.id: aggregate.parent_id}
        tree.update(dict.fromkeys(OTHERS))
        aggregate.align(kwargs["parent_id"], parent_of=tree)
    elif name in ("add_key_result", "revise_key_result", "check_in_key_result"):
        getattr(aggregate, name)(**kwargs, policy=policy)
    else:
        getattr(aggregate, name)(**kwargs)


@settings(max_examples=300, deadline=None)
@given(
    # Usually a few key results, links and an activation first, or most later commands
    # would find nothing to act on.
    st.tuples(
        st.lists(add_key_result, max_size=5),
        st.lists(st.just(("activate", {})), max_size=1),
        st.lists(link, max_size=2),
        st.lists(commands, max_size=40),
    ).map(lambda parts: [op for part in parts for op in part]),
    st.builds(TenantPolicy, st.integers(1, 10), st.booleans()),
)
def test_replaying_collected_events_rebuilds_an_equal_objective(
    ops: list[tuple[str, dict[str, Any]]], policy: TenantPolicy
) -> None:
    aggregate = Objective.set(
        id=uuid4(),
        title="Win",
        description="",
        cycle_id=uuid4(),
        owner="alice",
        cycle_closed=False,
    )
    for name, kwargs in ops:
        before = copy.deepcopy(state(aggregate))
        pending = len(aggregate.pending_events)
        try:
            run(aggregate, name, kwargs, policy)
        except DomainError:
            # A refusal changes nothing.
            assert state(aggregate) == before
            assert len(aggregate.pending_events) == pending
        assert len(aggregate.key_results) <= policy.max_key_results

    events = aggregate.collect_events()
    for event in events:
        fields = {k: v for k, v in vars(event).items() if k not in BASE_FIELDS}
        assert all(is_plain(v) for v in fields.values()), fields
    stored = [MAPPER.to_stored_event(event) for event in events]
    decoded = [cast("CanMutateAggregate[UUID]", MAPPER.to_domain_event(s)) for s in stored]
    assert decoded == list(events)

    replayed: Any = None
    for event in decoded:
        replayed = event.mutate(replayed)

    assert isinstance(replayed, Objective)
    assert state(replayed) == state(aggregate)
