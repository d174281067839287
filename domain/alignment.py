"""The OKR tree's invariant: an alignment never forms a cycle and never targets an archived goal."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from uuid import UUID

from okrledger.domain.errors import DomainError, NotFound


def check_alignment(
    child_id: UUID,
    parent_id: UUID | None,
    parent_of: Mapping[UUID, UUID | None],
    archived: Collection[UUID] = frozenset(),
) -> None:
    """Refuse aligning `child_id` under `parent_id` in the tree `parent_of`.

    `parent_of` maps every objective of the tenant to its current parent (or None);
    an id missing from it does not exist in this tenant. `None` as the parent
    (detaching the child) is always allowed.
    """
    if parent_id is None:
        return
    if parent_id == child_id:
        raise SelfAlignment("An objective cannot be aligned under itself", field="parent_id")
    if parent_id not in parent_of:
        raise ParentObjectiveNotFound(
            f"Parent objective {parent_id} does not exist", field="parent_id"
        )
    if parent_id in archived:
        raise ParentObjectiveArchived(
            f"Parent objective {parent_id} is archived; restore it or choose another parent",
            field="parent_id",
        )
    ancestor: UUID | None = parent_id
    seen: set[UUID] = set()
    while ancestor is not None and ancestor not in seen:
        if ancestor == child_id:
            raise AlignmentCycle(
                f"Aligning {child_id} under {parent_id} would form a cycle: "
                f"{parent_id} is already aligned (directly or indirectly) under {child_id}",
                field="parent_id",
            )
        seen.add(ancestor)
        ancestor = parent_of.get(ancestor)


class AlignmentError(DomainError):
    """An alignment was refused; the OKR tree is unchanged."""


class SelfAlignment(AlignmentError):
    """An objective was proposed as its own parent."""


class AlignmentCycle(AlignmentError):
    """The proposed parent already sits below the child in the tree."""

    code = "INVALID_STATE"


class ParentObjectiveArchived(AlignmentError):
    """Archived objectives take no new children."""

    code = "INVALID_STATE"


class ParentObjectiveNotFound(AlignmentError, NotFound):
    """The proposed parent is not an objective of this tenant."""

    code = "NOT_FOUND"
