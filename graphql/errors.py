"""Expected refusals as typed results: the `UserError` interface and its concrete types.

`user_error` is the one place a domain refusal becomes a GraphQL error type; every
mutation's result union lists all of them, so SPAs can select `... on UserError`.
"""

from __future__ import annotations

import strawberry

from okrledger.domain.errors import DomainError
from okrledger.services.errors import VersionConflict

# Domain errors name fields in Python; clients sent camelCase input fields. Unique keys are
# claimed under a scope ("kpi key"), which is not what the input calls them.
_FIELD_ALIASES = {"cycle name": "name", "kpi key": "key", "kpi reading": "readingId"}
# Values the domain checks that no input carries: the client comes from the caller's token.
_NOT_INPUTS = frozenset({"client", "now"})


@strawberry.interface(description="A command was refused and nothing was changed.")
class UserError:
    code: str = strawberry.field(
        description="VALIDATION, NOT_FOUND, VERSION_CONFLICT, INVALID_STATE, ALREADY_EXISTS, "
        "REASON_REQUIRED (a ValidationError: moving a goalpost needs a reason), "
        "CYCLE_CLOSED (an InvalidStateError: the objective's cycle is closed, so it can be "
        "graded but not changed), DIRECTION_MISMATCH (linkKeyResultToKpi only), "
        "IDEMPOTENCY_KEY_REUSED (an IdempotencyKeyReusedError: the commandId was used for "
        "another command) or READING_ID_REUSED (an AlreadyExistsError: the readingId holds "
        "another reading)."
    )
    message: str = strawberry.field(description="What went wrong, for a person to read.")
    field: str | None = strawberry.field(
        default=None, description="The input field at fault, when one is."
    )


@strawberry.type(description="An input value is malformed or breaks a rule.")
class ValidationError(UserError):
    pass


@strawberry.type(description="Something the command refers to does not exist in your tenant.")
class NotFoundError(UserError):
    pass


@strawberry.type(
    description="Someone else changed it first (expectedVersion did not match); reload and retry."
)
class VersionConflictError(UserError):
    actual_version: int | None = strawberry.field(
        default=None, description="The version it is at now, when known."
    )


@strawberry.type(description="The command is not allowed in the current state (e.g. archived).")
class InvalidStateError(UserError):
    pass


@strawberry.type(description="A unique name or key is already taken in your tenant.")
class AlreadyExistsError(UserError):
    pass


@strawberry.type(
    description="The commandId was already used for another command (another mutation, target "
    "or input); nothing was changed. A retry repeats the same input; a new change needs a new id."
)
class IdempotencyKeyReusedError(UserError):
    pass


@strawberry.type(
    description="A key result and the KPI meant to drive it want opposite directions (one "
    "rising, the other lower-is-better, or the reverse): the link would move progress the "
    "wrong way. Code DIRECTION_MISMATCH; field kpiId."
)
class DirectionMismatchError(UserError):
    pass


Problem = (
    ValidationError
    | NotFoundError
    | VersionConflictError
    | InvalidStateError
    | AlreadyExistsError
    | IdempotencyKeyReusedError
)

ERROR_TYPES: tuple[type[UserError], ...] = (
    ValidationError,
    NotFoundError,
    VersionConflictError,
    InvalidStateError,
    AlreadyExistsError,
    IdempotencyKeyReusedError,
)


def field_name(name: str | None) -> str | None:
    if name is None or name in _NOT_INPUTS:
        return None
    name = _FIELD_ALIASES.get(name, name)
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def user_error(error: DomainError, *, target: str | None = None) -> Problem:
    """The typed result for a domain refusal (an unknown code counts as validation).

    `target` names the input field of the thing the command acts on: the write path
    reports a missing one as field "id".
    """
    field = target if error.field == "id" and target else field_name(error.field)
    if isinstance(error, VersionConflict):
        return VersionConflictError(
            code=error.code, message=error.message, field=field, actual_version=error.actual
        )
    match error.code:
        case "NOT_FOUND":
            return NotFoundError(code=error.code, message=error.message, field=field)
        case "INVALID_STATE" | "CYCLE_CLOSED":
            return InvalidStateError(code=error.code, message=error.message, field=field)
        case "ALREADY_EXISTS" | "READING_ID_REUSED":
            return AlreadyExistsError(code=error.code, message=error.message, field=field)
        case "IDEMPOTENCY_KEY_REUSED":
            return IdempotencyKeyReusedError(code=error.code, message=error.message, field=field)
        case "VERSION_CONFLICT":
            return VersionConflictError(code=error.code, message=error.message, field=field)
        case "REASON_REQUIRED":
            return ValidationError(code=error.code, message=error.message, field=field)
        case _:
            return ValidationError(code="VALIDATION", message=error.message, field=field)
