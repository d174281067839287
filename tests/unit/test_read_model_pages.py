"""Cursors and as-of moments: what the read side accepts and refuses."""

from __future__ import annotations

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
