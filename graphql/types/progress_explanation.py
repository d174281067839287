"""An objective's progress explained: the formula and every key result's and child's share."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Protocol, Self, TypeVar
from uuid import UUID

import strawberry

from okrledger.domain.values import fraction, fractions_adding_up
from okrledger.projections.kpi_queries import LoggedReadingView
from okrledger.projections.progress_explanation import (
    ChildContribution,
    ExcludedChild,
    KeyResultContribution,
    ProgressExplanation,
    RollUpPart,
    RollUpPartKind,
    ValueSource,
)

if TYPE_CHECKING:
    # Named lazily: the objective types register the enum, with its description; a name
    # resolved here, while they are still importing, would make a second, bare one.
    from okrledger.domain.objective import ObjectiveStatus

strawberry.enum(ValueSource, description="What set a key result's current value.")
strawberry.enum(
    RollUpPartKind,
    name="ProgressRollUpPartKind",
    description="OWN: the objective's own progress; CHILDREN: its children's mean.",
)


@strawberry.type(description="The KPI reading a linked key result took its current value from.")
class ProgressKpiReading:
    kpi_id: UUID
    kpi_name: str
    reading_id: UUID
    value: Decimal = strawberry.field(description="As known at the moment read (corrections too).")
    observed_at: datetime = strawberry.field(description="When the value applied.")
    recorded_at: datetime
    position: int = strawberry.field(description="The tenant log position of the reading.")

    @classmethod
    def of(cls, view: LoggedReadingView) -> Self:
        return cls(
            kpi_id=view.kpi_id,
            kpi_name=view.kpi_name,
            reading_id=view.reading_id,
            value=view.value,
            observed_at=view.observed_at,
            recorded_at=view.recorded_at,
            position=view.position,
        )


class _Contributing(Protocol):
    @property
    def contribution(self) -> Decimal: ...


_Part = TypeVar("_Part", bound=_Contributing)


def _shown(parts: Sequence[_Part]) -> list[tuple[_Part, Decimal]]:
    """Each part with its contribution shown as a fraction (4 places): rounded so that they
    still add up, in order, to the sum shown to 4 places (domain/values.py)."""
    return list(zip(parts, fractions_adding_up([p.contribution for p in parts]), strict=True))


@strawberry.type(description="What one key result adds to its objective's progress.")
class KeyResultContributionEntry:
    key_result_id: UUID
    title: str
    start: Decimal
    target: Decimal
    current: Decimal
    weight: Decimal
    normalised_weight: Decimal = strawberry.field(description="Its weight over all weights.")
    progress: Decimal = strawberry.field(description="From start to target, 0 to 1.")
    contribution: Decimal = strawberry.field(
        description="normalisedWeight * progress, apportioned so that the contributions, "
        "added in order, equal the objective's progress (both to 4 places) to the last digit."
    )
    value_source: ValueSource
    kpi_reading: ProgressKpiReading | None = strawberry.field(
        description="For a key result following a KPI: the reading it last followed."
    )

    @classmethod
    def of(cls, entry: KeyResultContribution, contribution: Decimal) -> Self:
        kr = entry.key_result
        return cls(
            key_result_id=kr.id,
            title=kr.title,
            start=kr.start,
            target=kr.target,
            current=kr.current,
            weight=kr.weight,
            normalised_weight=fraction(entry.normalised_weight),
            progress=fraction(kr.progress),
            contribution=contribution,
            value_source=entry.value_source,
            kpi_reading=None if entry.reading is None else ProgressKpiReading.of(entry.reading),
        )


@strawberry.type(description="What one aligned child adds to its parent's childrenProgress.")
class ChildContributionEntry:
    objective_id: UUID
    title: str
    rolled_up_progress: Decimal
    share: Decimal = strawberry.field(description="1 / the number of counted children.")
    contribution: Decimal = strawberry.field(description="They add up to childrenProgress.")

    @classmethod
    def of(cls, entry: ChildContribution, contribution: Decimal) -> Self:
        return cls(
            objective_id=entry.objective_id,
            title=entry.title,
            rolled_up_progress=fraction(entry.rolled_up_progress),
            share=fraction(entry.share),
            contribution=contribution,
        )


@strawberry.type(description="An aligned child that does not count towards the roll-up, and why.")
class ExcludedChildEntry:
    objective_id: UUID
    title: str
    status: Annotated[ObjectiveStatus, strawberry.lazy("okrledger.graphql.types.objective")] = (
        strawberry.field(description="DRAFT or ARCHIVED.")
    )
    reason: str = strawberry.field(description="Why it is left out, for a person to read.")

    @classmethod
    def of(cls, entry: ExcludedChild) -> Self:
        return cls(
            objective_id=entry.objective_id,
            title=entry.title,
            status=entry.status,
            reason=entry.reason,
        )


@strawberry.type(description="One of the (at most two) parts of rolledUpProgress.")
class ProgressRollUpPart:
    kind: RollUpPartKind
    progress: Decimal
    share: Decimal
    contribution: Decimal = strawberry.field(description="They add up to rolledUpProgress.")

    @classmethod
    def of(cls, part: RollUpPart, contribution: Decimal) -> Self:
        return cls(
            kind=part.kind,
            progress=fraction(part.progress),
            share=fraction(part.share),
            contribution=contribution,
        )


@strawberry.type(
    name="ProgressExplanation",
    description="How an objective's progress and rolled-up progress come about, "
    "from the same figures as `progress` and `rolledUpProgress`.",
)
class ProgressExplanationView:
    formula: str = strawberry.field(description="The arithmetic, spelled out.")
    progress: Decimal = strawberry.field(description="Equals the objective's progress.")
    total_weight: Decimal
    key_results: list[KeyResultContributionEntry] = strawberry.field(
        description="In the order they were added; contributions add up to progress."
    )
    children_progress: Decimal | None
    children: list[ChildContributionEntry] = strawberry.field(
        description="The children in this cycle that count (active or closed); contributions "
        "add up to childrenProgress."
    )
    excluded_children: list[ExcludedChildEntry] = strawberry.field(
        description="The children in this cycle left out of childrenProgress: drafts (not "
        "committed to yet) and archived ones."
    )
    rolled_up_progress: Decimal
    roll_up: list[ProgressRollUpPart] = strawberry.field(
        description="Own progress (with key results) and children's (with children), "
        "equally weighted; contributions add up to rolledUpProgress."
    )

    @classmethod
    def of(cls, explanation: ProgressExplanation) -> Self:
        return cls(
            formula=explanation.formula,
            progress=fraction(explanation.progress),
            total_weight=explanation.total_weight,
            key_results=[
                KeyResultContributionEntry.of(k, shown)
                for k, shown in _shown(explanation.key_results)
            ],
            children_progress=None
            if explanation.children_progress is None
            else fraction(explanation.children_progress),
            children=[
                ChildContributionEntry.of(c, shown) for c, shown in _shown(explanation.children)
            ],
            excluded_children=[ExcludedChildEntry.of(c) for c in explanation.excluded_children],
            rolled_up_progress=fraction(explanation.rolled_up_progress),
            roll_up=[ProgressRollUpPart.of(p, shown) for p, shown in _shown(explanation.roll_up)],
        )
