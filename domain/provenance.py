"""Where a measured value came from, for check-ins and KPI readings alike.

The person is the event's actor and the recorded time the event's own; what a
command adds is the integration that sent the value (`source`), the run of it
that did (`run_id`), the client application the caller's token names (`client`)
and when the value applied (`observed_at`), which may be earlier than recorded.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from okrledger.domain.errors import InvalidValue

FUTURE_TOLERANCE = timedelta(minutes=5)
MAX_LENGTH = 200


def provenance_text(text: str | None, *, field: str) -> str | None:
    """Trimmed, at most 200 characters; blank is the same as none."""
    if text is None:
        return None
    cleaned = text.strip()
    if len(cleaned) > MAX_LENGTH:
        raise InvalidValue(f"{field} must be at most {MAX_LENGTH} characters", field=field)
    return cleaned or None


def observed_time(observed_at: datetime, *, now: datetime, field: str = "observed_at") -> datetime:
    """An aware time no more than 5 minutes ahead of `now`, in UTC."""
    if observed_at.tzinfo is None or observed_at.utcoffset() is None:
        raise InvalidValue(f"{field} must be timezone-aware", field=field)
    observed = observed_at.astimezone(UTC)
    if observed > now + FUTURE_TOLERANCE:
        raise InvalidValue(
            f"{field} {observed.isoformat()} is more than 5 minutes in the future", field=field
        )
    return observed
