"""Objectives: setting, revising, aligning and the lifecycle from draft to graded."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from uuid import UUID, uuid4

from okrledger.domain.objective import Objective
from okrledger.services.cycles import (
    ALIGNMENT,
    CYCLE_MEMBERSHIP,
    cycle_is_closed,
    get_cycle,
)
from okrledger.services.handling import Handler, Outcome
from okrledger.services.ports import CommandContext
from okrledger.services.tenant_settings import ActiveObjectiveCount, check_room_to_activate

# Alignment checks read the tree and then write; one at a time per tenant (ALIGNMENT) keeps
# two concurrent alignments (A under B, B under A) from both passing and forming a loop.
MAX_TREE_DEPTH = 1000


@dataclass(frozen=True)
class SetObjective:
    title: str
    cycle_id: UUID
    owner: str
    description: str = ""
    team: str | None = None
    parent_id: UUID | None = None
    objective_id: UUID | None = None


@dataclass(frozen=True)
class ReviseObjective:
    objective_id: UUID
    title: str | None = None
    description: str | None = None
    expected_version: int | None = None


@dataclass(frozen=True)
class AssignObjectiveOwner:
    objective_id: UUID
    owner: str
    team: str | None = None
    expected_version: int | None = None


@dataclass(frozen=True)
class AlignObjective:
    objective_id: UUID
    parent_id: UUID | None
    expected_version: int | None = None


@dataclass(frozen=True)
class ActivateObjective:
    objective_id: UUID
    expected_version: int | None = None


@dataclass(frozen=True)
class GradeObjective:
    objective_id: UUID
    score: Decimal
    retrospective: str = ""
    expected_version: int | None = None


@dataclass(frozen=True)
class CloseObjective:
    objective_id: UUID
    expected_version: int | None = None


@dataclass(frozen=True)
class ArchiveObjective:
    objective_id: UUID
    expected_version: int | None = None


@dataclass(frozen=True)
class RestoreObjective:
    objective_id: UUID
    expected_version: int | None = None


async def set_objective(
    cmd: SetObjective, context: CommandContext, handler: Handler
) -> Outcome[Objective]:
    """Set a new (draft) objective for a cycle, optionally aligned under a parent objective.

    Under the cycle's membership lock, which a close holds too: a new objective is either
    recorded before the close and settled by it, or judged after it and refused.
    """
    objective_id = cmd.objective_id or uuid4()
    membership = CYCLE_MEMBERSHIP.format(cycle_id=cmd.cycle_id)
    async with handler.serialized(context.tenant_id, membership) as within:
        cycle = await get_cycle(within, context.tenant_id, cmd.cycle_id)
        parent_of, archived = await tree_above(within, context.tenant_id, cmd.parent_id)
        frozen = await in_closed_cycles(within, context.tenant_id, [cmd.parent_id])
        return await within.create(
            context,
            Objective,
            lambda: Objective.set(
                id=objective_id,
                title=cmd.title,
                description=cmd.description,
                cycle_id=cycle.id,
                owner=cmd.owner,
                team=cmd.team,
                parent_id=cmd.parent_id,
                cycle_closed=cycle.closed,
                parent_of=parent_of,
                archived=archived,
                in_closed_cycles=frozen,
            ),
        )


async def revise_objective(
    cmd: ReviseObjective, context: CommandContext, handler: Handler
) -> Outcome[Objective]:
    """Change an objective's title or description; only what changed is recorded."""

    async def decide(objective: Objective) -> None:
        cycle = await get_cycle(handler, context.tenant_id, objective.cycle_id)
        objective.revise(title=cmd.title, description=cmd.description, cycle_closed=cycle.closed)

    return await handler.update(
        context, Objective, cmd.objective_id, decide, expected_version=cmd.expected_version
    )


async def assign_objective_owner(
    cmd: AssignObjectiveOwner,
    context: CommandContext,
    handler: Handler,
    active: ActiveObjectiveCount | None = None,
) -> Outcome[Objective]:
    """Hand an objective to another owner (a person or a team); with `active`, an active one
    only within the new owner's cap on active objectives in its cycle."""

    async def decide(objective: Objective) -> None:
        before = objective.owner
        objective.assign_owner(cmd.owner, cmd.team)
        if active is not None and objective.owner != before:
            await check_room_to_activate(handler, context.tenant_id, objective, active)

    return await handler.update(
        context, Objective, cmd.objective_id, decide, expected_version=cmd.expected_version
    )


async def align_objective(
    cmd: AlignObjective, context: CommandContext, handler: Handler
) -> Outcome[Objective]:
    """Align an objective under a parent (or detach it with no parent); never forms a loop."""

    async def decide(within: Handler, objective: Objective) -> None:
        tenant_id = context.tenant_id
        parent_of, archived = await tree_above(within, tenant_id, cmd.parent_id)
        objective.align(
            cmd.parent_id,
            parent_of=parent_of,
            archived=archived,
            cycle_closed=await cycle_is_closed(within, tenant_id, objective.cycle_id),
            in_closed_cycles=await in_closed_cycles(
                within, tenant_id, [cmd.parent_id, objective.parent_id]
            ),
        )

    return await handler.update_serialized(
        ALIGNMENT,
        context,
        Objective,
        cmd.objective_id,
        decide,
        expected_version=cmd.expected_version,
    )


async def activate_objective(
    cmd: ActivateObjective,
    context: CommandContext,
    handler: Handler,
    active: ActiveObjectiveCount | None = None,
) -> Outcome[Objective]:
    """Move a draft objective to active (or one its cycle's close settled, once reopened);
    with `active`, within the tenant's cap on active objectives per owner and cycle
    (TooManyActiveObjectives past it)."""

    async def decide(objective: Objective) -> None:
        closed = await cycle_is_closed(handler, context.tenant_id, objective.cycle_id)
        objective.activate(cycle_closed=closed)
        if active is not None:  # judged after the lifecycle's own checks; a refusal appends none
            await check_room_to_activate(handler, context.tenant_id, objective, active)

    return await handler.update(
        context, Objective, cmd.objective_id, decide, expected_version=cmd.expected_version
    )


async def grade_objective(
    cmd: GradeObjective, context: CommandContext, handler: Handler
) -> Outcome[Objective]:
    """Grade an objective from 0.0 to 1.0 (0.7 is a good stretch result), with a retrospective."""

    async def decide(objective: Objective) -> None:
        objective.grade(cmd.score, cmd.retrospective)

    return await handler.update(
        context, Objective, cmd.objective_id, decide, expected_version=cmd.expected_version
    )


async def close_objective(
    cmd: CloseObjective, context: CommandContext, handler: Handler
) -> Outcome[Objective]:
    """Close an active objective: no more check-ins or revisions, grading still allowed."""

    async def decide(objective: Objective) -> None:
        objective.close()

    return await handler.update(
        context, Objective, cmd.objective_id, decide, expected_version=cmd.expected_version
    )


async def archive_objective(
    cmd: ArchiveObjective, context: CommandContext, handler: Handler
) -> Outcome[Objective]:
    """Archive an objective: nothing but a restore is accepted until then."""

    async def decide(objective: Objective) -> None:
        objective.archive()

    return await handler.update(
        context, Objective, cmd.objective_id, decide, expected_version=cmd.expected_version
    )


async def restore_objective(
    cmd: RestoreObjective,
    context: CommandContext,
    handler: Handler,
    active: ActiveObjectiveCount | None = None,
) -> Outcome[Objective]:
    """Bring an archived objective back to the status it had; with `active`, an active one
    only within its owner's cap on active objectives in its cycle."""

    async def decide(objective: Objective) -> None:
        objective.restore()
        if active is not None:
            await check_room_to_activate(handler, context.tenant_id, objective, active)

    return await handler.update(
        context, Objective, cmd.objective_id, decide, expected_version=cmd.expected_version
    )


async def in_closed_cycles(
    handler: Handler, tenant_id: str, objective_ids: Sequence[UUID | None]
) -> set[UUID]:
    """Which of these objectives belong to a closed cycle (unknown ones are left out)."""
    found: set[UUID] = set()
    for objective_id in {i for i in objective_ids if i is not None}:
        objective = await handler.find(tenant_id, Objective, objective_id)
        if objective is not None and await cycle_is_closed(handler, tenant_id, objective.cycle_id):
            found.add(objective_id)
    return found


async def tree_above(
    handler: Handler, tenant_id: str, parent_id: UUID | None
) -> tuple[dict[UUID, UUID | None], set[UUID]]:
    """The chain of objectives from `parent_id` up to its root, and which of them are archived.

    That chain is all an alignment check needs: a loop forms exactly when the
    child is among its new parent's ancestors.
    """
    parent_of: dict[UUID, UUID | None] = {}
    archived: set[UUID] = set()
    current = parent_id
    while current is not None and current not in parent_of and len(parent_of) < MAX_TREE_DEPTH:
        objective = await handler.find(tenant_id, Objective, current)
        if objective is None:
            break
        parent_of[current] = objective.parent_id
        if objective.archived:
            archived.add(current)
        current = objective.parent_id
    return parent_of, archived
