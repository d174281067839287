"""A cycle is the period (a quarter, a year) that objectives are set for and graded in."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from enum import Enum
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from okrledger.domain.errors import DomainError, InvalidValue
from okrledger.domain.goalposts import ReasonRequired
from okrledger.domain.values import non_blank

ENUMS: tuple[type[Enum], ...] = ()


class Cycle(Aggregate):
    """Create with `Cycle.start(...)`, which validates before anything is recorded."""

    @classmethod
    def start(cls, *, id: UUID, name: str, starts_on: date, ends_on: date) -> Cycle:
        cleaned = non_blank(name, field="name", max_length=100)
        check_cycle_dates(starts_on, ends_on)
        return cls(id=id, name=cleaned, starts_on=starts_on, ends_on=ends_on)

    @event("CycleStarted")
    def __init__(self, id: UUID, name: str, starts_on: date, ends_on: date) -> None:
        self.name = name
        self.starts_on = starts_on
        self.ends_on = ends_on
        self.closed = False

    def has_started(self, now: datetime) -> bool:
        """From the start of `starts_on` (UTC) on."""
        return now >= datetime.combine(self.starts_on, time(), tzinfo=UTC)

    def close(self) -> None:
        """Freeze the cycle: its objectives can be graded and given retrospectives, nothing
        else. Settling its open objectives is each objective's own event (`Objective.settle`)."""
        if self.closed:
            raise CycleAlreadyClosed(f"Cycle '{self.name}' is already closed")
        self._close()

    @event("CycleClosed")
    def _close(self) -> None:
        self.closed = True

    def reopen(self, reason: str | None) -> None:
        """An exception to the close, so it needs a reason (kept as the event's reason).

        Objectives the close settled stay closed until someone activates them again.
        """
        if not self.closed:
            raise CycleNotClosed(f"Cycle '{self.name}' is not closed")
        if reason is None or not reason.strip():
            raise ReasonRequired(
                f"Reopening cycle '{self.name}' is an exception to its close; give a reason",
                field="reason",
            )
        self._reopen()

    @event("CycleReopened")
    def _reopen(self) -> None:
        self.closed = False


def check_cycle_dates(starts_on: date, ends_on: date) -> None:
    for field, value in (("starts_on", starts_on), ("ends_on", ends_on)):
        # datetime is a subclass of date; a cycle is made of whole days.
        if isinstance(value, datetime) or not isinstance(value, date):
            raise InvalidCycleDates(f"{field} must be a calendar date, got {value!r}", field=field)
    if ends_on <= starts_on:
        raise InvalidCycleDates(
            f"A cycle must end after it starts: {ends_on} is not after {starts_on}",
            field="ends_on",
        )


class CycleError(DomainError):
    """A cycle command was refused; nothing was changed."""


class InvalidCycleDates(CycleError, InvalidValue):
    """The cycle's dates are not dates, or not in order."""


class CycleAlreadyClosed(CycleError):
    """Closing happens once."""

    code = "INVALID_STATE"


class CycleNotClosed(CycleError):
    """Only a closed cycle can be reopened."""

    code = "INVALID_STATE"
