"""Date and DateTime inputs within the years okrledger can hold: from 1970 up to 9998.

Outside them a moment is a typo or an attack, and Python's datetime overflows on the way
to UTC (9999-12-31T23:59:59-12:00 is year 10000). The scalars keep strawberry's names,
descriptions and ISO formats, so the SDL is unchanged; a refused value is a coercion
error that names the input field, before any resolver runs.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from strawberry.schema.types.base_scalars import wrap_parser
from strawberry.types.scalar import ScalarDefinition

EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9999, 1, 1, tzinfo=UTC)  # exclusive
_RANGE = f"between {EARLIEST.date()} and {LATEST.year - 1}-12-31"


def _in_range(moment: datetime) -> datetime:
    try:
        utc = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    except OverflowError:
        raise ValueError(f"it must be {_RANGE}") from None
    if not EARLIEST <= utc < LATEST:
        raise ValueError(f"it must be {_RANGE}")
    return moment


def parse_datetime(text: str) -> datetime:
    return _in_range(datetime.fromisoformat(text))


def parse_date(text: str) -> date:
    day = date.fromisoformat(text)
    _in_range(datetime(day.year, day.month, day.day, tzinfo=UTC))
    return day


DATE = ScalarDefinition(
    name="Date",
    description="Date (isoformat)",
    specified_by_url=None,
    serialize=date.isoformat,
    parse_value=wrap_parser(parse_date, "Date"),
    parse_literal=None,
    origin=date,
)

DATETIME = ScalarDefinition(
    name="DateTime",
    description="Date with time (isoformat)",
    specified_by_url=None,
    serialize=datetime.isoformat,
    parse_value=wrap_parser(parse_datetime, "DateTime"),
    parse_literal=None,
    origin=datetime,
)

SCALAR_OVERRIDES: dict[object, ScalarDefinition] = {date: DATE, datetime: DATETIME}
