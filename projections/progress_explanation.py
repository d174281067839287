"""Why an objective shows the progress it shows: each key result's and child's share of it.

Nothing here computes progress anew. The figures come from the same read model
and the same roll-up rule as `objective.progress` and `rolledUpProgress`
(domain/roll_up.py), and the contributions from domain/progress.py's
`contributions`, which add up, in order, to exactly the weighted mean it rounds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from uuid import UUID

from okrledger.domain.objective import ObjectiveStatus
from okrledger.domain.progress import contributions, weight_shares
from okrledger.domain.roll_up import children_parts, excluded_because, roll_up_parts
from okrledger.domain.values import fraction, plain
from okrledger.projections import kpi_queries
from okrledger.projections.base import Rows
from okrledger.projections.kpi_queries import LoggedReadingView
from okrledger.projections.okr_queries import KeyResultView, ObjectiveView, OkrTreeView


class ValueSource(Enum):
    """What set a key result's current value."""

    START = "START"
    CHECK_IN = "CHECK_IN"
    KPI_READING = "KPI_READING"


class RollUpPartKind(Enum):
    OWN = "OWN"
    CHILDREN = "CHILDREN"


@dataclass(frozen=True)
class KeyResultContribution:
    key_result: KeyResultView
    normalised_weight: Decimal
    contribution: Decimal
    value_source: ValueSource
    # The KPI reading it last followed (as known at the moment), if it follows a KPI.
    reading: LoggedReadingView | None


@dataclass(frozen=True)
class ChildContribution:
    objective_id: UUID
    title: str
    rolled_up_progress: Decimal
    share: Decimal
    contribution: Decimal


@dataclass(frozen=True)
class ExcludedChild:
    """An aligned child left out of the roll-up, and why."""

    objective_id: UUID
    title: str
    status: ObjectiveStatus
    reason: str


@dataclass(frozen=True)
class RollUpPart:
    kind: RollUpPartKind
    progress: Decimal
    share: Decimal
    contribution: Decimal


@dataclass(frozen=True)
class ProgressExplanation:
    progress: Decimal
    total_weight: Decimal
    key_results: tuple[KeyResultContribution, ...]
    children_progress: Decimal | None
    children: tuple[ChildContribution, ...]
    excluded_children: tuple[ExcludedChild, ...]
    rolled_up_progress: Decimal
    roll_up: tuple[RollUpPart, ...]
    formula: str


async def explain(rows: Rows, tree: OkrTreeView, view: ObjectiveView) -> ProgressExplanation:
    """The explanation of one objective of `tree`, read as of the tree's moment."""
    key_results = view.key_results
    parts = [(kr.progress, kr.weight) for kr in key_results]
    krs = tuple(
        [
            KeyResultContribution(kr, share, contribution, *(await _value_source(rows, tree, kr)))
            for kr, share, contribution in zip(
                key_results,
                weight_shares(kr.weight for kr in key_results),
                contributions(parts),
                strict=True,
            )
        ]
    )
    by_id = {o.id: o for o in tree.objectives}
    counted = [by_id[c] for c in view.counted_child_ids]
    kid_parts = children_parts([c.rolled_up_progress for c in counted])
    children = tuple(
        ChildContribution(c.id, c.objective.title, c.rolled_up_progress, share, contribution)
        for c, share, contribution in zip(
            counted,
            weight_shares(w for _, w in kid_parts),
            contributions(kid_parts),
            strict=True,
        )
    )
    excluded = tuple(
        ExcludedChild(c.id, c.objective.title, c.objective.status, reason)
        for c in (by_id[k] for k in view.child_ids if k not in view.counted_child_ids)
        if (reason := excluded_because(c.objective.status)) is not None
    )
    own = roll_up_parts(
        view.objective.progress, bool(view.objective.key_result_count), view.children_progress
    )
    kinds = ([RollUpPartKind.OWN] if view.objective.key_result_count else []) + (
        [RollUpPartKind.CHILDREN] if view.children_progress is not None else []
    )
    roll_up = tuple(
        RollUpPart(kind, progress, share, contribution)
        for kind, (progress, _), share, contribution in zip(
            kinds, own, weight_shares(w for _, w in own), contributions(own), strict=True
        )
    )
    return ProgressExplanation(
        progress=view.objective.progress,
        total_weight=sum((kr.weight for kr in key_results), Decimal(0)),
        key_results=krs,
        children_progress=view.children_progress,
        children=children,
        excluded_children=excluded,
        rolled_up_progress=view.rolled_up_progress,
        roll_up=roll_up,
        formula=_formula(krs, children, excluded, roll_up, view),
    )


async def _value_source(
    rows: Rows, tree: OkrTreeView, kr: KeyResultView
) -> tuple[ValueSource, LoggedReadingView | None]:
    reading = None
    if kr.kpi_id is not None and kr.last_reading_id is not None:
        reading = await kpi_queries.logged_reading(
            rows, kr.kpi_id, kr.last_reading_id, as_known_at=tree.as_of
        )
    checked_in = kr.last_check_in_at
    if reading is not None and (checked_in is None or checked_in < reading.recorded_at):
        return ValueSource.KPI_READING, reading
    return (ValueSource.START if checked_in is None else ValueSource.CHECK_IN), reading


def _formula(
    krs: Sequence[KeyResultContribution],
    children: Sequence[ChildContribution],
    excluded: Sequence[ExcludedChild],
    roll_up: Sequence[RollUpPart],
    view: ObjectiveView,
) -> str:
    """The arithmetic spelled out, for a person to check."""
    if krs:
        terms = " + ".join(f"{_n(k.key_result.weight)} * {_f(k.key_result.progress)}" for k in krs)
        weights = " + ".join(_n(k.key_result.weight) for k in krs)
        own = f"progress = ({terms}) / ({weights}) = {_f(view.objective.progress)}"
    else:
        own = f"progress = {_f(view.objective.progress)} (no key results)"
    lines = [own]
    if children:
        mean = " + ".join(_f(c.rolled_up_progress) for c in children)
        lines.append(
            f"childrenProgress = ({mean}) / {len(children)} = {_f(view.children_progress)}"
        )
    if excluded:
        left_out = ", ".join(f"'{c.title}' ({c.status.value.lower()})" for c in excluded)
        lines.append(f"not counted: {left_out}")
    if len(roll_up) > 1:
        lines.append(
            f"rolledUpProgress = ({_f(roll_up[0].progress)} + {_f(roll_up[1].progress)}) / 2"
            f" = {_f(view.rolled_up_progress)}"
        )
    else:
        lines.append(f"rolledUpProgress = {_f(view.rolled_up_progress)}")
    return "; ".join(lines)


def _n(value: Decimal | None) -> str:
    return "none" if value is None else plain(value)


def _f(value: Decimal | None) -> str:
    """A fraction as the figures beside the formula show it (4 places, domain/values.py)."""
    return "none" if value is None else plain(fraction(value))
