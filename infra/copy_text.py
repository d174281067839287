"""Rows as PostgreSQL's COPY text format, for bulk loads the server parses in one pass.

Each value is written as the text its column type reads back to the same value:
Decimals as written (every digit and the scale), datetimes in ISO 8601 with their
offset, UUIDs in canonical form. A JSON column takes the JSON text as a `str`.

The work is done a column at a time with the built-in conversions, not value by
value in Python: a page of a rebuild is tens of thousands of rows.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from datetime import date, datetime
from decimal import Decimal
from itertools import compress, repeat
from typing import Any
from uuid import UUID

NULL = "\\N"
_SPECIAL = ("\\", "\t", "\n", "\r")


def _escaped(value: str) -> str:
    for special in _SPECIAL:
        if special in value:
            return (
                value.replace("\\", "\\\\")
                .replace("\t", "\\t")
                .replace("\n", "\\n")
                .replace("\r", "\\r")
            )
    return value


def _bool(value: bool) -> str:
    return "t" if value else "f"


# Exact types and their text; a subclass goes by the first of these in its MRO.
_TEXT: dict[type, Callable[[Any], str]] = {
    str: _escaped,
    bool: _bool,
    int: int.__repr__,
    float: float.__repr__,
    Decimal: Decimal.__str__,
    datetime: datetime.isoformat,
    date: date.isoformat,
    UUID: str,
}


def _converter(kind: type) -> Callable[[Any], str]:
    for base in kind.__mro__:
        if base is str:
            return lambda value: _escaped(str.__str__(value))
        if base in _TEXT:
            return _TEXT[base]
    raise TypeError(f"cannot copy {kind.__name__} into a table")


def _texts(column: Sequence[Any], seen: dict[int, str]) -> list[str]:
    first = column[0]
    if all(map(operator.is_, column, repeat(first))):
        return [NULL if first is None else _converter(type(first))(first)] * len(column)
    kinds = set(map(type, column))
    nulls = _NONE in kinds
    kinds.discard(_NONE)
    if kinds == {str}:
        values = [value for value in column if value is not None] if nulls else column
        joined = "".join(values)
        if any(special in joined for special in _SPECIAL):
            return [NULL if value is None else _escaped(value) for value in column]
        return [NULL if value is None else value for value in column] if nulls else list(column)
    if kinds == {datetime}:
        # Formatting a datetime is slow, and one recorded time fills several columns of a
        # row and the next version's too: each object is formatted once.
        ids = list(map(id, column))
        new = set(ids).difference(seen)
        if new:
            objects = dict(zip(ids, column, strict=True))
            for key in new:
                value = objects[key]
                seen[key] = NULL if value is None else value.isoformat()
        return list(map(seen.__getitem__, ids))
    if not all(kind in _PLAIN or issubclass(kind, UUID) for kind in kinds):
        # Subclasses (a str-valued enum, say): one value at a time, each by its own type.
        return [NULL if value is None else _converter(type(value))(value) for value in column]
    # str() of these reads back as the same value (a datetime with a space for the T).
    texts = list(map(str, column))
    if nulls:
        for n in compress(range(len(column)), map(operator.is_, column, repeat(None))):
            texts[n] = NULL
    return texts


_NONE = type(None)
_PLAIN = frozenset({bool, int, float, Decimal, datetime, date})


def encode(records: Sequence[Sequence[Any]]) -> bytes:
    """The COPY text form of `records`, one line each, fields in the order given."""
    if not records:
        return b""
    seen: dict[int, str] = {}  # the objects are all alive, in `records`, till the end
    columns = [_texts(column, seen) for column in zip(*records, strict=True)]
    return ("\n".join(map("\t".join, zip(*columns, strict=True))) + "\n").encode()
