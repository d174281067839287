"""Cursors and as-of moments: what the read side accepts and refuses."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest

from okrledger.domain.errors import InvalidValue
from okrledger.projections.pages import (
    AsOf,
    InvalidCursor,
    check_page_size,
    decode_cursor,
    encode_cursor,
    page_of,
)


def test_a_cursor_decodes_to_the_key_it_was_made_from() -> None:
    assert decode_cursor("change", encode_cursor("change", 42)) == 42


@pytest.mark.parametrize("bad", ["", "###", encode_cursor("objective", 1), "Y2hhbmdlOng="])
def test_a_cursor_of_another_list_or_garbage_is_refused(bad: str) -> None:
    with pytest.raises(InvalidCursor):
        decode_cursor("change", bad)


def test_a_page_says_whether_more_follow_and_where_to_resume() -> None:
    page = page_of([1, 2, 3], 2, "n", lambda n: n)
    assert page.items == (1, 2)
    assert page.has_next_page
    assert decode_cursor("n", page.end_cursor) == 2


def test_each_item_of_a_page_has_its_own_cursor_the_last_being_the_end() -> None:
    page = page_of([5, 7, 9], 2, "n", lambda n: n)

    assert [decode_cursor("n", c) for c in page.cursors] == [5, 7]
    assert page.cursors[-1] == page.end_cursor


@pytest.mark.parametrize("first", [0, -1, 501])
def test_page_sizes_outside_the_limit_are_refused(first: int) -> None:
    with pytest.raises(InvalidValue):
        check_page_size(first)


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"position": 3, "time": datetime.now(UTC)}, {"position": -1}, {"time": datetime.now()}],
)
def test_as_of_takes_exactly_one_valid_moment(kwargs: dict[str, object]) -> None:
    with pytest.raises(InvalidValue):
        AsOf(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "key", [str(2**63), "9" * 30, "-1"], ids=["2**63", "30 digits", "negative"]
)
def test_a_cursor_whose_number_is_not_a_bigint_position_is_refused_naming_after(key: str) -> None:
    cursor = base64.urlsafe_b64encode(f"change:{key}".encode()).decode()

    with pytest.raises(InvalidCursor) as refused:
        decode_cursor("change", cursor)

    assert refused.value.field == "after"


def test_a_cursor_longer_than_any_issued_is_refused_without_decoding_it() -> None:
    with pytest.raises(InvalidCursor, match="at most 200 characters"):
        decode_cursor("change", "A" * 10_000)
