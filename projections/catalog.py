"""Every projection the application runs, in the order they must run.

The composition root (inline hook) and the rebuild command both take their
list from `projections()`, so the two can never disagree. Each bounded context
contributes its own read models and the describers of its events; the change
log comes last because describers read the other read models as they were
just before each event.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from okrledger.projections.base import Projection
from okrledger.projections.change_log import ChangeLog, Describer, RunDescriber
from okrledger.projections.kpi_changes import KPI_DESCRIBERS
from okrledger.projections.kpi_history import KPIHistory
from okrledger.projections.kpi_links import KPILinksProjection
from okrledger.projections.okr_changes import DESCRIBERS as OKR_DESCRIBERS
from okrledger.projections.okr_changes import RUN_DESCRIBERS as OKR_RUN_DESCRIBERS
from okrledger.projections.okr_tree import OkrTree
from okrledger.projections.webhook_changes import DESCRIBERS as WEBHOOK_DESCRIBERS
from okrledger.projections.webhooks import WebhooksProjection


@dataclass(frozen=True)
class ReadModels:
    """What one bounded context adds: its projections and how its events read in the history."""

    projections: Sequence[Projection] = ()
    describers: Mapping[str, Describer] = field(default_factory=dict)
    # Optional: describe a run of these events with one read (same entries as `describers`).
    run_describers: Mapping[str, RunDescriber] = field(default_factory=dict)


def okr_read_models() -> ReadModels:
    return ReadModels(
        projections=(OkrTree(),), describers=OKR_DESCRIBERS, run_describers=OKR_RUN_DESCRIBERS
    )


def kpi_read_models() -> ReadModels:
    return ReadModels(projections=(KPILinksProjection(), KPIHistory()), describers=KPI_DESCRIBERS)


def webhook_read_models() -> ReadModels:
    return ReadModels(projections=(WebhooksProjection(),), describers=WEBHOOK_DESCRIBERS)


# Add a context here to have it run inline and be rebuilt.
CONTEXTS: tuple[Callable[[], ReadModels], ...] = (
    okr_read_models,
    kpi_read_models,
    webhook_read_models,
)


def projections(contexts: Sequence[Callable[[], ReadModels]] = CONTEXTS) -> list[Projection]:
    parts = [context() for context in contexts]
    describers: dict[str, Describer] = {}
    run_describers: dict[str, RunDescriber] = {}
    for part in parts:
        overlap = describers.keys() & part.describers.keys()
        if overlap:
            raise ValueError(f"events described twice: {sorted(overlap)}")
        describers.update(part.describers)
        run_describers.update(part.run_describers)
    found: list[Projection] = [p for part in parts for p in part.projections]
    return [*found, ChangeLog(describers, run_describers)]
