"""Refusals that come from the write path itself rather than from a business rule."""

from __future__ import annotations

from uuid import UUID

from okrledger.domain.errors import DomainError


class VersionConflict(DomainError):
    """Someone else changed the stream first; reload and try again."""

    code = "VERSION_CONFLICT"

    def __init__(self, stream_id: UUID, expected: int | None, actual: int | None = None) -> None:
        detail = f"; it is now at version {actual}" if actual is not None else ""
        super().__init__(
            f"{stream_id} was changed by someone else (expected version {expected}{detail})",
            field="expectedVersion",
        )
        self.stream_id = stream_id
        self.expected = expected
        self.actual = actual


class AlreadyClaimed(DomainError):
    """A unique key (a cycle name, a KPI key) is already taken in this tenant."""

    code = "ALREADY_EXISTS"

    def __init__(self, scope: str, key: str) -> None:
        super().__init__(f"{scope} {key!r} already exists", field=scope)
        self.scope = scope
        self.key = key


class Unavailable(Exception):
    """The service cannot take the request now: no database connection came free in time,
    or a lock stayed taken. Send it again later; a command sent again with its command id
    answers as its first run did if that one landed after all."""

    code = "UNAVAILABLE"

    def __init__(self, message: str, *, retry_after: float = 1.0) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class IdempotencyKeyReused(DomainError):
    """A command id already answered another command (another change, target or input)."""

    code = "IDEMPOTENCY_KEY_REUSED"

    def __init__(self, command_id: str) -> None:
        super().__init__(
            f"command id {command_id!r} was already used for another command; "
            "a retry must repeat the same change with the same input (use a new id for "
            "a new change)",
            field="commandId",
        )
        self.command_id = command_id
