"""Rows as PostgreSQL's COPY text format, for bulk loads the server parses in one pass.

Each value is written as the text its column type reads back to the same value:
Decimals as written (every digit and the scale), datetimes in ISO 8601 with their
offset, UUIDs in canonical form. A JSON column takes the JSON text as a `str`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

_NULL = "\\N"
_SPECIAL = ("\\", "\t", "\n", "\r")


def _escaped(value: str) -> str:
    return (
        value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    )


def _str(value: str) -> str:
    for special in _SPECIAL:
        if special in value:
            return _escaped(value)
    return value


def _bool(value: bool) -> str:
    return "t" if value else "f"


def _iso(value: date) -> str:
    return value.isoformat()


_BY_TYPE: dict[type, Callable[[Any], str]] = {
    str: _str,
    bool: _bool,
    int: int.__repr__,
    float: float.__repr__,
    Decimal: Decimal.__str__,
    datetime: _iso,
    date: _iso,
}


def _converter(kind: type) -> Callable[[Any], str]:
    for base in kind.__mro__:
        if base in _BY_TYPE:
            return _BY_TYPE[base]
        if base is UUID:
            return str
    raise TypeError(f"cannot copy {kind.__name__} into a table")


def encode(records: Iterable[Sequence[Any]]) -> bytes:
    """The COPY text form of `records`, one line each, fields in the order given."""
    converters = dict(_BY_TYPE)
    # Versions of a thing share most of their values (the same objects): convert each once.
    done: dict[int, str] = {}
    lines = []
    for record in records:
        fields = []
        for value in record:
            if value is None:
                fields.append(_NULL)
                continue
            key = id(value)
            text = done.get(key)
            if text is None:
                kind = type(value)
                convert = converters.get(kind)
                if convert is None:
                    convert = converters[kind] = _converter(kind)
                text = done[key] = convert(value)
            fields.append(text)
        lines.append("\t".join(fields))
    lines.append("")
    return "\n".join(lines).encode()
