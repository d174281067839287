"""Cycles: the quarters or years objectives are set for, and closing (freezing) them."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date
from uuid import UUID, uuid4

from okrledger.domain.cycle import Cycle
from okrledger.domain.errors import NotFound
from okrledger.domain.objective import Objective
from okrledger.domain.values import non_blank
from okrledger.services.handling import Handler, Outcome
from okrledger.services.ports import Claim, CommandContext, CycleObjectives

CYCLE_NAME = "cycle name"
# Held while a cycle closes (and while an objective is set for it, services/objectives.py),
# so no new objective lands in a cycle between its close and the settling of its objectives.
CYCLE_MEMBERSHIP = "cycle:{cycle_id}"
# Held by alignments (services/objectives.py) and by a close, so an alignment judged against
# a parent's open cycle is not recorded after that cycle's close was acknowledged.
ALIGNMENT = "alignment"


@dataclass(frozen=True)
class StartCycle:
    name: str
    starts_on: date
    ends_on: date
    cycle_id: UUID | None = None


@dataclass(frozen=True)
class CloseCycle:
    cycle_id: UUID
    expected_version: int | None = None


@dataclass(frozen=True)
class ReopenCycle:
    """An admin's exception; the context's reason is required."""

    cycle_id: UUID
    expected_version: int | None = None


async def start_cycle(cmd: StartCycle, context: CommandContext, handler: Handler) -> Outcome[Cycle]:
    """Start a cycle; its name (e.g. "2026-Q4") is unique within the tenant."""
    name = non_blank(cmd.name, field="name", max_length=100)
    return await handler.create(
        context,
        Cycle,
        lambda: Cycle.start(
            id=cmd.cycle_id or uuid4(), name=name, starts_on=cmd.starts_on, ends_on=cmd.ends_on
        ),
        claims=[Claim(CYCLE_NAME, name.casefold())],
    )


async def close_cycle(
    cmd: CloseCycle, context: CommandContext, handler: Handler, objectives: CycleObjectives
) -> Outcome[Cycle]:
    """Close (freeze) a cycle and settle its open objectives; grading stays possible.

    Concurrency: every command on an objective judges the cycle it loaded, and the
    cycle's own stream is not part of that command's append, so a check-in that loaded
    the cycle open could still be appended after the close. What fences it is the
    objective's stream version: the close records `ObjectiveSettled` in the stream of
    every open objective before it is acknowledged, so such a check-in either commits
    before its objective is settled (before the close is acknowledged) or conflicts on
    the version, is retried on a fresh load and refused. Objectives already closed refuse
    check-ins themselves. New objectives are kept out by the cycle's membership lock.

    Retrying with the same command id settles any objective a failure left unsettled.
    """
    tenant_id = context.tenant_id
    membership = CYCLE_MEMBERSHIP.format(cycle_id=cmd.cycle_id)

    async def decide(cycle: Cycle) -> None:
        cycle.close()

    # Both turns at once, in the order set_objective and align_objective take each alone.
    # The work runs beside the turns' transaction, not in it: settling waits for each
    # objective's writer turn, and a check-in holding that turn may be waiting for the
    # tenant's head row, which an append in the turns' transaction would hold to commit.
    async with handler.serialized(tenant_id, membership, ALIGNMENT):
        outcome = await handler.update(
            context, Cycle, cmd.cycle_id, decide, expected_version=cmd.expected_version
        )
        position = outcome.position
        # A retry answers with the cycle as that close left it; settle only while the cycle
        # is still closed, never after an admin reopened it.
        still_closed = outcome.aggregate.closed and (
            not outcome.duplicate or await cycle_is_closed(handler, tenant_id, cmd.cycle_id)
        )
        if still_closed:
            for objective_id in await objectives.open_in(tenant_id, cmd.cycle_id):
                settled = await _settle(context, handler, outcome.aggregate, objective_id)
                position = max(position, settled)
    return dataclasses.replace(outcome, position=position)


async def _settle(cause: CommandContext, handler: Handler, cycle: Cycle, objective_id: UUID) -> int:
    async def decide(objective: Objective) -> None:
        objective.settle()

    # One command per objective, named after the close, so a retry of the close settles
    # each at most once; the history names the closing person and the close's reason.
    context = CommandContext(
        cause.tenant_id,
        cause.actor,
        f"{cause.command_id}:settle:{objective_id}",
        correlation_id=cause.command_id,
        reason=cause.reason or f"Cycle '{cycle.name}' closed",
        client=cause.client,
    )
    try:
        return (await handler.update(context, Objective, objective_id, decide)).position
    except NotFound:
        return 0


async def reopen_cycle(
    cmd: ReopenCycle, context: CommandContext, handler: Handler
) -> Outcome[Cycle]:
    """Reopen a closed cycle, with a reason: commands on its objectives work again.

    Objectives the close settled stay closed (their grades and the history of the close
    stay as they were); `activateObjective` brings each one back when its team needs it.
    """

    async def decide(cycle: Cycle) -> None:
        cycle.reopen(context.reason)

    return await handler.update(
        context, Cycle, cmd.cycle_id, decide, expected_version=cmd.expected_version
    )


async def get_cycle(handler: Handler, tenant_id: str, cycle_id: UUID) -> Cycle:
    cycle = await handler.find(tenant_id, Cycle, cycle_id)
    if cycle is None:
        raise NotFound(f"Cycle {cycle_id} not found", field="cycleId")
    return cycle


async def cycle_is_closed(handler: Handler, tenant_id: str, cycle_id: UUID) -> bool:
    return (await get_cycle(handler, tenant_id, cycle_id)).closed
