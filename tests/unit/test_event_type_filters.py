"""One parser for every type filter: public names and families, unknown ones refused."""

from __future__ import annotations

import pytest

from okrledger.domain.errors import InvalidValue
from okrledger.domain.event_types import check_type_filter, expand, families
from okrledger.projections.public_events import PUBLIC_NAMES, asked_types, event_names


def test_families_are_the_prefixes_of_the_public_types_and_everything() -> None:
    found = families(PUBLIC_NAMES)

    assert {"okr.*", "okr.objective.*", "okr.key_result.*", "kpi.*", "kpi.reading.*"} <= set(found)
    assert found[-1] == "*"
    assert "okr.objective.set.*" not in found


def test_a_family_stands_for_every_type_under_it() -> None:
    asked = asked_types(["okr.objective.*"], field="types")

    assert asked is not None
    assert "okr.objective.set.v1" in asked and "okr.objective.graded.v1" in asked
    assert not any(name.startswith("okr.key_result.") for name in asked)


def test_no_filter_asks_for_every_type() -> None:
    assert asked_types(None, field="types") is None
    assert asked_types([], field="types") is None


@pytest.mark.parametrize("given", ["KpiTargetSet", "KPITargetSet", "kpi.target.set.v2", "okr.x.*"])
def test_an_unknown_name_is_refused_naming_the_field_and_listing_the_valid_ones(
    given: str,
) -> None:
    with pytest.raises(InvalidValue) as refused:
        check_type_filter([given, "kpi.*"], PUBLIC_NAMES, field="eventTypes")

    assert refused.value.field == "eventTypes"
    assert repr(given) in refused.value.message
    assert "kpi.target.set.v1" in refused.value.message
    assert "okr.objective.*" in refused.value.message


def test_a_filter_is_trimmed_and_deduplicated_in_order() -> None:
    assert check_type_filter([" kpi.* ", "kpi.*", "*"], PUBLIC_NAMES, field="types") == (
        "kpi.*",
        "*",
    )


def test_asking_for_readings_also_finds_batches_of_them_in_the_history() -> None:
    assert event_names({"kpi.reading.recorded.v1"}) == ["KPIReadingRecorded", "KPIReadingsRecorded"]


def test_expanding_everything_gives_every_public_type() -> None:
    assert expand(["*"], PUBLIC_NAMES) == PUBLIC_NAMES
