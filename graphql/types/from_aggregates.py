"""The one adapter from write-side aggregate state to GraphQL types.

Mutations answer with the aggregate they just changed; reads will come from the
projections, and only this module needs to know the aggregates' shape.
"""

from __future__ import annotations

from okrledger.domain import cycle, objective, tenant_settings
from okrledger.graphql.types.cycle import Cycle
from okrledger.graphql.types.objective import KeyResult, Objective
from okrledger.graphql.types.okr_policy import OkrPolicy


def cycle_of(state: cycle.Cycle) -> Cycle:
    return Cycle(
        id=state.id,
        name=state.name,
        starts_on=state.starts_on,
        ends_on=state.ends_on,
        closed=state.closed,
        version=state.version,
        updated_at=state.modified_on,
    )


def objective_of(state: objective.Objective) -> Objective:
    return Objective(
        id=state.id,
        cycle_id=state.cycle_id,
        title=state.title,
        description=state.description,
        owner=state.owner,
        team=state.team,
        parent_id=state.parent_id,
        status=state.status,
        score=state.score,
        retrospective=state.retrospective,
        key_results=[key_result_of(state, kr) for kr in state.key_results.values()],
        version=state.version,
        updated_at=state.modified_on,
    )


def key_result_of(owner: objective.Objective, kr: objective.KeyResult) -> KeyResult:
    return KeyResult(
        id=kr.id,
        objective_id=owner.id,
        title=kr.title,
        metric=kr.metric,
        start=kr.start,
        target=kr.target,
        current=kr.current,
        weight=kr.weight,
        unit=kr.unit,
        currency=kr.currency,
        confidence=kr.confidence,
        note=kr.note,
        kpi_id=kr.kpi_id,
    )


def okr_policy_of(state: tenant_settings.TenantSettings) -> OkrPolicy:
    return OkrPolicy(
        max_key_results=state.max_key_results,
        allow_percent_stretch=state.allow_percent_stretch,
        version=state.version,
        updated_at=state.modified_on,
    )
