"""Date and DateTime inputs within the years okrledger can hold: from 1970 up to 9998.

Outside them a moment is a typo or an attack, and Python's datetime overflows on the way
to UTC (9999-12-31T23:59:59-12:00 is year 10000). The scalars keep strawberry's names,
descriptions and ISO formats, so the SDL is unchanged; a refused value is a coercion
error that names the input field, before any resolver runs.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from strawberry.schema.types.base_scalars import DecimalDefinition, wrap_parser
from strawberry.types.scalar import ScalarDefinition

from okrledger.domain.values import plain

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

# Decimals leave in their one canonical text (domain/values.py `plain`): strawberry's str()
# would show "1.20E+6" or "0E-28". Input parsing, name and description stay strawberry's.
DECIMAL = ScalarDefinition(
    name=DecimalDefinition.name,
    description=DecimalDefinition.description,
    specified_by_url=None,
    serialize=plain,
    parse_value=DecimalDefinition.parse_value,
    parse_literal=None,
    origin=Decimal,
)

SCALAR_OVERRIDES: dict[object, ScalarDefinition] = {
    date: DATE,
    datetime: DATETIME,
    Decimal: DECIMAL,
}
