"""Value rules shared by every aggregate: measured values are finite Decimals."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from okrledger.domain.errors import InvalidValue


def finite_decimal(value: Decimal | int | str, *, field: str) -> Decimal:
    """Coerce to Decimal, refusing NaN, infinities and anything unparsable."""
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise InvalidValue(f"{field} must be a number, got {value!r}", field=field) from None
    if not number.is_finite():
        raise InvalidValue(f"{field} must be a finite number, got {value}", field=field)
    if number.is_zero():
        return Decimal(0)  # normalises negative zero
    return number


def non_blank(text: str, *, field: str, max_length: int = 500) -> str:
    """Trimmed text that is neither empty nor longer than `max_length` characters."""
    cleaned = text.strip()
    if not cleaned:
        raise InvalidValue(f"{field} must not be empty", field=field)
    if len(cleaned) > max_length:
        raise InvalidValue(f"{field} must be at most {max_length} characters", field=field)
    return cleaned
