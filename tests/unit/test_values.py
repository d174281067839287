"""Measured values: finite Decimals small enough for PostgreSQL's numeric and decimal arithmetic."""

from __future__ import annotations

from decimal import Decimal

import pytest

from okrledger.domain.errors import InvalidValue
from okrledger.domain.values import MAX_REASON_LENGTH, check_reason, finite_decimal


@pytest.mark.parametrize(
    "value", ["1e18", "-1e18", "1e999999999", "-1E+400", "1e-19", "1e-999999999"]
)
def test_a_value_too_large_or_too_fine_is_refused_naming_its_field(value: str) -> None:
    with pytest.raises(InvalidValue) as refusal:
        finite_decimal(value, field="target")

    assert refusal.value.field == "target"


@pytest.mark.parametrize(
    "value",
    [
        "999999999999999999",
        "-999999999999999999.5",
        "0.000000000000000001",
        "1.50000000000000000000000",
    ],
)
def test_values_within_eighteen_digits_either_side_of_the_point_are_kept_as_given(
    value: str,
) -> None:
    assert finite_decimal(value, field="value") == Decimal(value)


def test_negative_zero_becomes_zero() -> None:
    assert str(finite_decimal("-0.0", field="value")) == "0"


def test_a_reason_of_up_to_two_thousand_characters_is_accepted() -> None:
    check_reason(None)
    check_reason("r" * MAX_REASON_LENGTH)


def test_a_longer_reason_is_refused_naming_the_field_and_the_cap() -> None:
    with pytest.raises(InvalidValue, match="at most 2000 characters") as refused:
        check_reason("r" * (MAX_REASON_LENGTH + 1))

    assert refused.value.field == "reason"
