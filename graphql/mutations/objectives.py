"""Objective mutations: set, revise, assign an owner, align, and the lifecycle."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Self
from uuid import UUID

import strawberry
from strawberry.types import Info

from okrledger.domain.objective import Objective as ObjectiveState
from okrledger.graphql.context import Context
from okrledger.graphql.errors import Problem
from okrledger.graphql.mutations.common import (
    ChangeInput,
    MutationPayload,
    answer,
    command_context,
    handler,
    refuse_version_of_new,
)
from okrledger.graphql.mutations.okr_policy import active_objectives
from okrledger.graphql.permissions import READ_BACK, CanEditGoals, CanReadGoals
from okrledger.graphql.queries.okr import read_objective
from okrledger.graphql.types.objective import Objective
from okrledger.services import objectives, tenant_settings
from okrledger.services.handling import Outcome


@strawberry.input
class SetObjectiveInput(ChangeInput):
    cycle_id: UUID
    title: str
    owner: str = strawberry.field(description="A person or a team.")
    description: str = ""
    team: str | None = None
    parent_id: UUID | None = strawberry.field(
        default=None, description="Align it under this objective from the start."
    )
    objective_id: UUID | None = strawberry.field(
        default=None, description="Chosen by the server if unset."
    )


@strawberry.input
class ObjectiveChangeInput(ChangeInput):
    objective_id: UUID


@strawberry.input
class ReviseObjectiveInput(ObjectiveChangeInput):
    title: str | None = strawberry.field(default=None, description="Unchanged if unset.")
    description: str | None = strawberry.field(default=None, description="Unchanged if unset.")


@strawberry.input
class AssignObjectiveOwnerInput(ObjectiveChangeInput):
    owner: str
    team: str | None = None


@strawberry.input
class AlignObjectiveInput(ObjectiveChangeInput):
    parent_id: UUID | None = strawberry.field(
        description="The new parent; null detaches it into a root objective."
    )


@strawberry.input
class ActivateObjectiveInput(ObjectiveChangeInput):
    pass


@strawberry.input
class GradeObjectiveInput(ObjectiveChangeInput):
    score: Decimal = strawberry.field(description="0.0 to 1.0; 0.7 is a good stretch result.")
    retrospective: str = ""


@strawberry.input
class CloseObjectiveInput(ObjectiveChangeInput):
    pass


@strawberry.input
class ArchiveObjectiveInput(ObjectiveChangeInput):
    pass


@strawberry.input
class RestoreObjectiveInput(ObjectiveChangeInput):
    pass


@strawberry.interface(description="An objective or key result command succeeded.")
class ObjectivePayload(MutationPayload):
    objective_id: strawberry.Private[UUID]
    warnings: list[str] = strawberry.field(
        default_factory=list,
        description="The change was made, but passed a soft cap of the tenant's OKR policy "
        "(see okrPolicy): what to tell the user. Empty otherwise.",
    )

    @strawberry.field(
        description=READ_BACK.format("objective", "goals"), permission_classes=[CanReadGoals]
    )
    async def objective(self, info: Info[Context, None]) -> Objective | None:
        # Read back from the OKR tree the command updated, only when the caller asks.
        return await read_objective(info, self.objective_id)

    @classmethod
    async def read(cls, info: Info[Context, None], outcome: Outcome[ObjectiveState]) -> Self:
        return cls(
            objective_id=outcome.aggregate.id,
            version=outcome.version,
            position=outcome.position,
        )


@strawberry.type
class SetObjectivePayload(ObjectivePayload):
    pass


@strawberry.type
class ReviseObjectivePayload(ObjectivePayload):
    pass


@strawberry.type
class ActivePayload(ObjectivePayload):
    """A payload of a change that can make an objective an active one of its owner."""

    @classmethod
    async def read(cls, info: Info[Context, None], outcome: Outcome[ObjectiveState]) -> Self:
        payload = await super().read(info, outcome)
        payload.warnings = await tenant_settings.activation_warnings(
            handler(info),
            info.context.caller().tenant_id,
            outcome.aggregate,
            active_objectives(info),
        )
        return payload


@strawberry.type
class AssignObjectiveOwnerPayload(ActivePayload):
    pass


@strawberry.type
class AlignObjectivePayload(ObjectivePayload):
    pass


@strawberry.type
class ActivateObjectivePayload(ActivePayload):
    pass


@strawberry.type
class GradeObjectivePayload(ObjectivePayload):
    pass


@strawberry.type
class CloseObjectivePayload(ObjectivePayload):
    pass


@strawberry.type
class ArchiveObjectivePayload(ObjectivePayload):
    pass


@strawberry.type
class RestoreObjectivePayload(ActivePayload):
    pass


SetObjectiveResult = Annotated[
    SetObjectivePayload | Problem, strawberry.union("SetObjectiveResult")
]
ReviseObjectiveResult = Annotated[
    ReviseObjectivePayload | Problem, strawberry.union("ReviseObjectiveResult")
]
AssignObjectiveOwnerResult = Annotated[
    AssignObjectiveOwnerPayload | Problem, strawberry.union("AssignObjectiveOwnerResult")
]
AlignObjectiveResult = Annotated[
    AlignObjectivePayload | Problem, strawberry.union("AlignObjectiveResult")
]
ActivateObjectiveResult = Annotated[
    ActivateObjectivePayload | Problem, strawberry.union("ActivateObjectiveResult")
]
GradeObjectiveResult = Annotated[
    GradeObjectivePayload | Problem, strawberry.union("GradeObjectiveResult")
]
CloseObjectiveResult = Annotated[
    CloseObjectivePayload | Problem, strawberry.union("CloseObjectiveResult")
]
ArchiveObjectiveResult = Annotated[
    ArchiveObjectivePayload | Problem, strawberry.union("ArchiveObjectiveResult")
]
RestoreObjectiveResult = Annotated[
    RestoreObjectivePayload | Problem, strawberry.union("RestoreObjectiveResult")
]


@strawberry.type
class ObjectiveMutations:
    @strawberry.mutation(
        description="Set a new (draft) objective for a cycle, optionally aligned under a parent.",
        permission_classes=[CanEditGoals],
    )
    async def set_objective(
        self, info: Info[Context, None], input: SetObjectiveInput
    ) -> SetObjectiveResult:
        if refused := refuse_version_of_new(input, "objective"):
            return refused
        cmd = objectives.SetObjective(
            title=input.title,
            cycle_id=input.cycle_id,
            owner=input.owner,
            description=input.description,
            team=input.team,
            parent_id=input.parent_id,
            objective_id=input.objective_id,
        )
        return await answer(
            info,
            objectives.set_objective(cmd, command_context(info, input), handler(info)),
            SetObjectivePayload,
            target="objectiveId",
        )

    @strawberry.mutation(
        description="Change an objective's title or description.",
        permission_classes=[CanEditGoals],
    )
    async def revise_objective(
        self, info: Info[Context, None], input: ReviseObjectiveInput
    ) -> ReviseObjectiveResult:
        cmd = objectives.ReviseObjective(
            objective_id=input.objective_id,
            title=input.title,
            description=input.description,
            expected_version=input.expected_version,
        )
        return await answer(
            info,
            objectives.revise_objective(cmd, command_context(info, input), handler(info)),
            ReviseObjectivePayload,
            target="objectiveId",
        )

    @strawberry.mutation(
        description="Hand an objective to another owner (a person or a team).",
        permission_classes=[CanEditGoals],
    )
    async def assign_objective_owner(
        self, info: Info[Context, None], input: AssignObjectiveOwnerInput
    ) -> AssignObjectiveOwnerResult:
        cmd = objectives.AssignObjectiveOwner(
            objective_id=input.objective_id,
            owner=input.owner,
            team=input.team,
            expected_version=input.expected_version,
        )
        return await answer(
            info,
            objectives.assign_objective_owner(
                cmd, command_context(info, input), handler(info), active_objectives(info)
            ),
            AssignObjectiveOwnerPayload,
            target="objectiveId",
        )

    @strawberry.mutation(
        description="Align an objective under a parent, or detach it; never forms a loop.",
        permission_classes=[CanEditGoals],
    )
    async def align_objective(
        self, info: Info[Context, None], input: AlignObjectiveInput
    ) -> AlignObjectiveResult:
        cmd = objectives.AlignObjective(
            objective_id=input.objective_id,
            parent_id=input.parent_id,
            expected_version=input.expected_version,
        )
        return await answer(
            info,
            objectives.align_objective(cmd, command_context(info, input), handler(info)),
            AlignObjectivePayload,
            target="objectiveId",
        )

    @strawberry.mutation(
        description="Move a draft objective to active.", permission_classes=[CanEditGoals]
    )
    async def activate_objective(
        self, info: Info[Context, None], input: ActivateObjectiveInput
    ) -> ActivateObjectiveResult:
        cmd = objectives.ActivateObjective(
            objective_id=input.objective_id, expected_version=input.expected_version
        )
        return await answer(
            info,
            objectives.activate_objective(
                cmd, command_context(info, input), handler(info), active_objectives(info)
            ),
            ActivateObjectivePayload,
            target="objectiveId",
        )

    @strawberry.mutation(
        description="Grade an objective from 0.0 to 1.0, with a retrospective.",
        permission_classes=[CanEditGoals],
    )
    async def grade_objective(
        self, info: Info[Context, None], input: GradeObjectiveInput
    ) -> GradeObjectiveResult:
        cmd = objectives.GradeObjective(
            objective_id=input.objective_id,
            score=input.score,
            retrospective=input.retrospective,
            expected_version=input.expected_version,
        )
        return await answer(
            info,
            objectives.grade_objective(cmd, command_context(info, input), handler(info)),
            GradeObjectivePayload,
            target="objectiveId",
        )

    @strawberry.mutation(
        description="Close an active objective: no more check-ins or revisions, grading allowed.",
        permission_classes=[CanEditGoals],
    )
    async def close_objective(
        self, info: Info[Context, None], input: CloseObjectiveInput
    ) -> CloseObjectiveResult:
        cmd = objectives.CloseObjective(
            objective_id=input.objective_id, expected_version=input.expected_version
        )
        return await answer(
            info,
            objectives.close_objective(cmd, command_context(info, input), handler(info)),
            CloseObjectivePayload,
            target="objectiveId",
        )

    @strawberry.mutation(
        description="Archive an objective: nothing but a restore is accepted until then.",
        permission_classes=[CanEditGoals],
    )
    async def archive_objective(
        self, info: Info[Context, None], input: ArchiveObjectiveInput
    ) -> ArchiveObjectiveResult:
        cmd = objectives.ArchiveObjective(
            objective_id=input.objective_id, expected_version=input.expected_version
        )
        return await answer(
            info,
            objectives.archive_objective(cmd, command_context(info, input), handler(info)),
            ArchiveObjectivePayload,
            target="objectiveId",
        )

    @strawberry.mutation(
        description="Bring an archived objective back to the status it had.",
        permission_classes=[CanEditGoals],
    )
    async def restore_objective(
        self, info: Info[Context, None], input: RestoreObjectiveInput
    ) -> RestoreObjectiveResult:
        cmd = objectives.RestoreObjective(
            objective_id=input.objective_id, expected_version=input.expected_version
        )
        return await answer(
            info,
            objectives.restore_objective(
                cmd, command_context(info, input), handler(info), active_objectives(info)
            ),
            RestoreObjectivePayload,
            target="objectiveId",
        )
