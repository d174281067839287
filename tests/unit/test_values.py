"""Measured values: finite Decimals small enough for PostgreSQL's numeric and decimal arithmetic."""

from __future__ import annotations

from decimal import Decimal

import pytest

from okrledger.domain.errors import InvalidValue
from okrledger.domain.values import (
    MAX_REASON_LENGTH,
    check_reason,
    finite_decimal,
    fraction,
    plain,
)


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


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        ("1.20E+6", "1200000"),
        ("7E+4", "70000"),
        ("0E-28", "0"),
        ("-0", "0"),
        ("-0.00", "0"),
        ("0.50", "0.5"),
        ("-3.250", "-3.25"),
        ("1E-18", "0.000000000000000001"),
        ("999999999999999999.999999999999999999", "999999999999999999.999999999999999999"),
        ("-123456789012345678", "-123456789012345678"),
        ("1.23456789012345678E+17", "123456789012345678"),
        ("100", "100"),
    ],
)
def test_a_number_is_shown_in_plain_notation_without_superfluous_zeros(
    stored: str, shown: str
) -> None:
    assert plain(Decimal(stored)) == shown
    assert Decimal(plain(Decimal(stored))) == Decimal(stored)


@pytest.mark.parametrize(
    ("computed", "shown"),
    [
        ("0.4363636363636363636363636365", "0.4364"),
        ("0.00005", "0"),  # half-even: to the even neighbour
        ("0.00015", "0.0002"),
        ("0.00025", "0.0002"),
        ("1.0000", "1"),
        ("0E-28", "0"),
        ("0.5", "0.5"),
        ("-0.33333", "-0.3333"),
    ],
)
def test_a_fraction_is_shown_to_four_places_rounded_half_even(computed: str, shown: str) -> None:
    assert plain(fraction(Decimal(computed))) == shown
