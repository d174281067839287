"""What every mutation shares: the idempotency and audit fields, and running a command."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, Protocol, TypeVar
from uuid import uuid4

import strawberry
from strawberry.types import Info

from okrledger.domain.errors import DomainError
from okrledger.graphql.context import Context
from okrledger.graphql.errors import Problem, ValidationError, user_error
from okrledger.services.fingerprints import command_fingerprint
from okrledger.services.handling import Handler, Outcome
from okrledger.services.ports import CommandContext

ResultT = TypeVar("ResultT")
OutcomeT = TypeVar("OutcomeT", bound=Outcome[Any], contravariant=True)
PayloadT = TypeVar("PayloadT", covariant=True)


class ReadBack(Protocol[OutcomeT, PayloadT]):
    """A payload class that reads the changed object back after the command."""

    async def read(self, info: Info[Context, None], outcome: OutcomeT, /) -> PayloadT: ...


@strawberry.input
class CommandInput:
    command_id: str | None = strawberry.field(
        default=None,
        description="Your id for this change: a retry with the same id (the same mutation with "
        "the same input) changes nothing twice and answers with the first outcome; the same id "
        "with another mutation, target or input is refused (IDEMPOTENCY_KEY_REUSED).",
    )
    reason: str | None = strawberry.field(
        default=None, description="Why, recorded with the change for the history."
    )


@strawberry.input
class ChangeInput(CommandInput):
    expected_version: int | None = strawberry.field(
        default=None,
        description="The version you last saw; a newer one means a VersionConflictError.",
    )


@strawberry.interface(description="What every successful command answers: where the change landed.")
class MutationPayload:
    version: int = strawberry.field(description="The changed object's version after the command.")
    position: int = strawberry.field(
        description="The tenant's event position reached: reads at or past it see this change."
    )


def command_context(info: Info[Context, None], given: CommandInput) -> CommandContext:
    """Tenant and actor from the verified caller, never from the input.

    The command is the mutation and its whole input (the reason and expected version
    too, not the command id): a client's command id is bound to it.
    """
    caller = info.context.caller()
    return CommandContext(
        tenant_id=caller.tenant_id,
        actor=caller.subject,
        command_id=given.command_id or str(uuid4()),
        correlation_id=info.context.request_id,
        reason=given.reason,
        client=caller.client_id,
        fingerprint=command_fingerprint(info.field_name, given) if given.command_id else None,
    )


def refuse_version_of_new(given: ChangeInput, kind: str) -> ValidationError | None:
    """A command that creates something can expect only version 0 (nothing there yet)."""
    if given.expected_version in (None, 0):
        return None
    return ValidationError(
        code="VALIDATION",
        message=f"A new {kind} has no version yet: expectedVersion can only be 0 or null",
        field="expectedVersion",
    )


def handler(info: Info[Context, None]) -> Handler:
    return info.context.handler


async def attempt(run: Awaitable[ResultT], *, target: str | None = None) -> ResultT | Problem:
    """The command's outcome, or its refusal as a typed error; `target` as in `user_error`."""
    try:
        return await run
    except DomainError as error:
        return user_error(error, target=target)


async def answer(
    info: Info[Context, None],
    run: Awaitable[Any],
    payload: ReadBack[Any, PayloadT],
    *,
    target: str | None = None,
) -> PayloadT | Problem:
    """Run the command: its payload read back after the change, or its refusal as a typed error."""
    outcome = await attempt(run, target=target)
    if isinstance(outcome, Outcome):
        return await payload.read(info, outcome)
    return outcome
