"""A refusal's `field` names the input field a client sent, never an internal name."""

from __future__ import annotations

import pytest

from okrledger.domain.errors import InvalidValue
from okrledger.graphql.errors import user_error
from okrledger.services.errors import AlreadyClaimed


@pytest.mark.parametrize(
    ("scope", "field"),
    [("kpi key", "key"), ("cycle name", "name"), ("kpi reading", "readingId")],
)
def test_a_taken_unique_key_names_its_input_field(scope: str, field: str) -> None:
    assert user_error(AlreadyClaimed(scope, "conversion")).field == field


@pytest.mark.parametrize(
    ("domain", "field"),
    [
        ("observed_at", "observedAt"),
        ("key_result_id", "keyResultId"),
        ("soft_max_key_results", "softMaxKeyResults"),
        ("max_active_objectives", "maxActiveObjectives"),
    ],
)
def test_python_field_names_become_the_camel_case_input_names(domain: str, field: str) -> None:
    assert user_error(InvalidValue("bad", field=domain)).field == field


def test_a_value_from_the_token_names_no_input_field() -> None:
    assert user_error(InvalidValue("client is too long", field="client")).field is None
