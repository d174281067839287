"""The GraphQL schema: root Query, Mutation and Subscription composed from the features."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from importlib.metadata import version

import strawberry

from okrledger.graphql.errors import ERROR_TYPES
from okrledger.graphql.execution import FastExecutionContext
from okrledger.graphql.limits import Limits, schema_extensions
from okrledger.graphql.masking import ObservedSchema
from okrledger.graphql.mutations.cycles import CycleMutations
from okrledger.graphql.mutations.key_results import KeyResultMutations
from okrledger.graphql.mutations.kpi_links import KpiLinkMutations
from okrledger.graphql.mutations.kpi_readings import KpiReadingMutations
from okrledger.graphql.mutations.kpis import KpiMutations
from okrledger.graphql.mutations.objectives import ObjectiveMutations
from okrledger.graphql.mutations.okr_policy import OkrPolicyMutations
from okrledger.graphql.mutations.webhooks import WebhookMutations
from okrledger.graphql.observe import OperationObserver, observe_operations
from okrledger.graphql.queries.audit import AuditQueries
from okrledger.graphql.queries.events import EventQueries
from okrledger.graphql.queries.history import HistoryQueries
from okrledger.graphql.queries.kpi import KpiQueries
from okrledger.graphql.queries.me import MeQueries
from okrledger.graphql.queries.okr import OkrQueries
from okrledger.graphql.queries.okr_diff import OkrDiffQueries
from okrledger.graphql.queries.webhooks import WebhookQueries
from okrledger.graphql.rate_limits import Budgets
from okrledger.graphql.scalars import SCALAR_OVERRIDES
from okrledger.graphql.subscriptions import Subscription


@strawberry.type(description="Read access to the tenant's OKRs, KPIs and their history.")
class Query(
    MeQueries,
    OkrQueries,
    KpiQueries,
    HistoryQueries,
    AuditQueries,
    EventQueries,
    WebhookQueries,
    OkrDiffQueries,
):
    @strawberry.field(description="The version of the okrledger server answering.")
    def server_version(self) -> str:
        return _installed_version()


@strawberry.type(description="One mutation per command; expected refusals are typed results.")
class Mutation(
    CycleMutations,
    ObjectiveMutations,
    KeyResultMutations,
    OkrPolicyMutations,
    KpiMutations,
    KpiReadingMutations,
    KpiLinkMutations,
    WebhookMutations,
):
    pass


@cache
def _installed_version() -> str:
    # Reading the installed metadata scans every distribution on the path: once is enough.
    return version("okrledger")


def build_schema(
    limits: Limits | None = None,
    observers: Sequence[OperationObserver] = (),
    budgets: Budgets | None = None,
) -> strawberry.Schema:
    """The schema with the production limits and error masking installed; `observers`
    (metrics, traces) see every operation, validation included; `budgets` are charged
    per caller (none: no rate limit)."""
    extensions = schema_extensions(limits or Limits(), budgets)
    if observers:
        extensions.insert(0, observe_operations(observers))
    return ObservedSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=ERROR_TYPES,
        extensions=extensions,
        execution_context_class=FastExecutionContext,
        scalar_overrides=SCALAR_OVERRIDES,
    )


schema = build_schema()
