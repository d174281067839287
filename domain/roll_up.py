"""How progress rolls up the alignment tree: which children count, and how the parts combine.

An objective's rolled-up progress is the mean of its own progress (when it has key
results) and its children's progress (when any child counts), equally weighted; the
children's progress is the mean of their rolled-up progress, each child once. Only
goals someone has committed to count: a draft is not yet one, an archived one no longer
is. They stay visible in the tree, and an explanation names them as left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from okrledger.domain.objective import ObjectiveStatus
from okrledger.domain.progress import weighted_progress

ONE = Decimal(1)

_LEFT_OUT = {
    ObjectiveStatus.DRAFT: "a draft is not committed to yet; it counts once activated",
    ObjectiveStatus.ARCHIVED: "an archived objective no longer counts",
}


def excluded_because(status: ObjectiveStatus) -> str | None:
    """Why a child with this status is left out of its parent's roll-up; None if it counts."""
    return _LEFT_OUT.get(status)


def counts_toward_parent(status: ObjectiveStatus) -> bool:
    return status not in _LEFT_OUT


def children_parts(rolled_up: Sequence[Decimal]) -> list[tuple[Decimal, Decimal]]:
    """The `(progress, weight)` pairs of the children that count: each child counts once."""
    return [(progress, ONE) for progress in rolled_up]


def roll_up_parts(
    own_progress: Decimal, has_key_results: bool, children_progress: Decimal | None
) -> list[tuple[Decimal, Decimal]]:
    """Its own progress (when it has key results) and its children's, equally weighted."""
    parts = [(own_progress, ONE)] if has_key_results else []
    if children_progress is not None:
        parts.append((children_progress, ONE))
    return parts


def rolled_up_progress(
    own_progress: Decimal, has_key_results: bool, counted_children: Sequence[Decimal]
) -> tuple[Decimal | None, Decimal]:
    """`(children_progress, rolled_up_progress)` of one objective.

    `counted_children` is the rolled-up progress of the children that count; the
    children's progress is None when none does.
    """
    children = weighted_progress(children_parts(counted_children)) if counted_children else None
    parts = roll_up_parts(own_progress, has_key_results, children)
    return children, weighted_progress(parts) if parts else own_progress
