"""Value rules shared by every aggregate: measured values are finite Decimals of sane size."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation, localcontext

from okrledger.domain.errors import InvalidValue

# Far beyond any measured value or amount of money, and well inside what PostgreSQL's
# numeric and Python's decimal arithmetic (28 significant digits) handle without overflow.
MAX_INTEGER_DIGITS = 18
MAX_DECIMAL_PLACES = 18


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
    if number.adjusted() >= MAX_INTEGER_DIGITS:
        raise InvalidValue(
            f"{field} must have at most {MAX_INTEGER_DIGITS} digits before the decimal point",
            field=field,
        )
    if _decimal_places(number) > MAX_DECIMAL_PLACES:
        raise InvalidValue(
            f"{field} must have at most {MAX_DECIMAL_PLACES} decimal places", field=field
        )
    return number


def _decimal_places(number: Decimal) -> int:
    """Places after the point that are not trailing zeros ("1.50" has 1)."""
    _, digits, exponent = number.as_tuple()
    assert isinstance(exponent, int)  # finite
    text = "".join(map(str, digits))
    trailing_zeros = len(text) - len(text.rstrip("0"))
    return max(0, -exponent - trailing_zeros)


def non_blank(text: str, *, field: str, max_length: int = 500) -> str:
    """Trimmed text with something visible in it, at most `max_length` characters."""
    cleaned = text.strip()
    if not any(character.isprintable() and not character.isspace() for character in cleaned):
        raise InvalidValue(f"{field} must not be empty", field=field)
    if len(cleaned) > max_length:
        raise InvalidValue(f"{field} must be at most {max_length} characters", field=field)
    return cleaned


# Why a change was made, as recorded with its events: room for a paragraph, not a document.
MAX_REASON_LENGTH = 2000


def check_reason(reason: str | None) -> None:
    """A command's reason, when given, is at most MAX_REASON_LENGTH characters."""
    if reason is not None and len(reason) > MAX_REASON_LENGTH:
        raise InvalidValue(
            f"reason must be at most {MAX_REASON_LENGTH} characters (got {len(reason)})",
            field="reason",
        )


# Progress, pace, grades, shares and contributions are fractions of 0..1: shown to this
# many places (rounded half-even, like the banker's rounding of Decimal itself).
FRACTION_PLACES = 4
_FRACTION_STEP = Decimal(1).scaleb(-FRACTION_PLACES)


# Where the canonical text is made: at output only. finite_decimal keeps a value as it was
# given ("1.50", "7E+4"), so new events store the writer's own digits, like the ones stored
# before; normalising at input would give the same fact two texts in the log (before and
# after the change) while every reader still had to normalise the old ones, and the hash
# chain is over stored bytes, which are never rewritten. So every way out (the GraphQL
# Decimal scalar, public event bodies, history text, exports) goes through `plain`.
def plain(number: Decimal | int) -> str:
    """The one canonical text of a number, wherever it is shown: plain notation, never an
    exponent, no superfluous zeros ("1200000", "70000", "0", "0.5", "-3.25").

    str(Decimal) keeps whatever exponent arithmetic or JSON decoding left ("1.20E+6",
    "7E+4", "0E-28"); format "f" never uses an exponent, and only zeros after the point
    are stripped, so the value is unchanged and integers keep their zeros.
    """
    text = format(number, "f") if isinstance(number, Decimal) else str(number)
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def fraction(number: Decimal) -> Decimal:
    """A fraction (progress, pace, grade, share, contribution) to FRACTION_PLACES places."""
    with localcontext() as context:
        context.prec = 60  # enough for any finite_decimal; quantize must not overflow
        rounded = number.quantize(_FRACTION_STEP, rounding=ROUND_HALF_EVEN)
    return Decimal(plain(rounded))


def fractions_adding_up(parts: Sequence[Decimal]) -> list[Decimal]:
    """Parts of a sum, each shown as a fraction, that still add up (in order) to exactly
    `fraction(sum(parts))`: each is the rounded running sum less the one before it."""
    shown: list[Decimal] = []
    with localcontext() as context:
        context.prec = 120  # running sums of 28-digit parts, without rounding
        total, before = Decimal(0), Decimal(0)
        for part in parts:
            total += part
            rounded = fraction(total)
            shown.append(Decimal(plain(rounded - before)))
            before = rounded
    return shown
