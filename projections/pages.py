"""Keyset pagination: a page of items and opaque cursors that name a place in an ordering."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from okrledger.domain.errors import InvalidValue

T = TypeVar("T")

MAX_PAGE = 500


@dataclass(frozen=True)
class Page(Generic[T]):
    items: tuple[T, ...]
    # The cursor of the last item: pass it as `after` for the next page.
    end_cursor: str | None
    has_next_page: bool
    # Each item's own cursor (Relay edges), in the order of `items`.
    cursors: tuple[str, ...] = ()


@dataclass(frozen=True)
class AsOf:
    """A past moment to read at: a tenant log position, or a recorded time (not both)."""

    position: int | None = None
    time: datetime | None = None

    def __post_init__(self) -> None:
        if (self.position is None) == (self.time is None):
            raise InvalidValue("Give either a position or a time to read as of", field="asOf")
        if self.position is not None and self.position < 0:
            raise InvalidValue("A position is 0 or more", field="asOf")
        if self.time is not None and self.time.utcoffset() is None:
            raise InvalidValue("An as-of time must be timezone-aware", field="asOf")


class InvalidCursor(InvalidValue):
    """The cursor was not made by this query (or was altered)."""


def encode_cursor(kind: str, key: int) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{key}".encode()).decode()


# Keys are positions and row numbers: PostgreSQL bigints. A cursor is far shorter than this.
MAX_KEY = 2**63 - 1
MAX_CURSOR_LENGTH = 200


def decode_cursor(
    kind: str, cursor: str | None, *, field: str = "after", max_key: int = MAX_KEY
) -> int | None:
    """The key of a cursor this list issued (0..`max_key`); InvalidCursor otherwise."""
    if cursor is None:
        return None
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise InvalidCursor(
            f"Not a cursor of this list: cursors are at most {MAX_CURSOR_LENGTH} characters",
            field=field,
        )
    try:
        found, _, key = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
        if found != kind:
            raise ValueError(found)
        number = int(key)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidCursor(f"Not a cursor of this list: {cursor!r}", field=field) from None
    if not 0 <= number <= max_key:
        raise InvalidCursor(f"Not a cursor of this list: {cursor!r} is out of range", field=field)
    return number


def check_page_size(first: int) -> int:
    if not 1 <= first <= MAX_PAGE:
        raise InvalidValue(f"A page holds 1 to {MAX_PAGE} items, not {first}", field="first")
    return first


def page_of(items: Sequence[T], first: int, kind: str, key: Callable[[T], int]) -> Page[T]:
    """`items` were fetched with one extra row to tell whether another page follows."""
    shown = tuple(items[:first])
    cursors = tuple(encode_cursor(kind, key(item)) for item in shown)
    return Page(shown, cursors[-1] if cursors else None, len(items) > first, cursors)
