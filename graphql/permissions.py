"""Who may do what, enforced per field with strawberry permission classes.

The role matrix (admin holds every capability, see `Principal.has`):

| capability          | admin | editor | viewer | auditor | integrator |
|---------------------|:-----:|:------:|:------:|:-------:|:----------:|
| read goals and KPIs |   x   |   x    |   x    |    x    |            |
| read full history   |   x   |        |        |    x    |            |
| read the audit log  |   x   |        |        |    x    |            |
| goal commands       |   x   |   x    |        |         |            |
| KPI commands        |   x   |   x    |        |         |            |
| record KPI readings |   x   |   x    |        |         |     x      |
| read events         |   x   |        |        |    x    |     x      |
| subscribe           |   x   |   x    |   x    |    x    |     x      |
| tenant settings     |   x   |        |        |         |            |
| manage webhooks     |   x   |        |        |         |            |
| reopen closed cycles|   x   |        |        |         |            |

Correcting a KPI reading is a KPI command (editor, admin): integrators feed readings in.

A mutation's payload reads under the same rule as the queries: a payload field that reads
an object back (`kpi`, `objective`, `cycle`, `webhook`) carries the permission of the query
that reads that object, so an integrator's `recordKpiReading` records the reading and
answers FORBIDDEN on its `kpi` field (nullable for that reason).

No verified caller is UNAUTHENTICATED; a caller without the capability is FORBIDDEN.
Both are top-level errors carrying `extensions.code`.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import Any, ClassVar

from graphql import GraphQLErrorExtensions
from strawberry.permission import BasePermission
from strawberry.types import Info

from okrledger.graphql.context import Context, Unauthenticated
from okrledger.services.identity import Role


class Capability(Enum):
    READ_GOALS = "read goals and KPIs"
    READ_HISTORY = "read full history"
    READ_AUDIT_LOG = "read the audit log"
    EDIT_GOALS = "goal commands"
    EDIT_KPIS = "KPI commands"
    RECORD_KPI_READINGS = "record KPI readings"
    READ_EVENTS = "read events"
    SUBSCRIBE = "subscribe"
    CHANGE_SETTINGS = "tenant settings"
    MANAGE_WEBHOOKS = "manage webhooks"
    REOPEN_CYCLES = "reopen closed cycles"


ROLE_MATRIX: Mapping[Capability, frozenset[Role]] = {
    Capability.READ_GOALS: frozenset({Role.EDITOR, Role.VIEWER, Role.AUDITOR}),
    Capability.READ_HISTORY: frozenset({Role.AUDITOR}),
    Capability.READ_AUDIT_LOG: frozenset({Role.AUDITOR}),
    Capability.EDIT_GOALS: frozenset({Role.EDITOR}),
    Capability.EDIT_KPIS: frozenset({Role.EDITOR}),
    Capability.RECORD_KPI_READINGS: frozenset({Role.EDITOR, Role.INTEGRATOR}),
    Capability.READ_EVENTS: frozenset({Role.AUDITOR, Role.INTEGRATOR}),
    Capability.SUBSCRIBE: frozenset(set(Role)),
    Capability.CHANGE_SETTINGS: frozenset({Role.ADMIN}),
    # Registering, reading and replaying webhooks: their URLs and delivery logs are
    # integration secrets, and a webhook exports the tenant's events.
    Capability.MANAGE_WEBHOOKS: frozenset({Role.ADMIN}),
    # A closed cycle is frozen for everyone else: reopening it is an exception.
    Capability.REOPEN_CYCLES: frozenset({Role.ADMIN}),
}


# The description of a payload field that reads the changed object back.
READ_BACK = (
    "The {0} as the command left it, read only when asked; null, with a FORBIDDEN error, "
    "when your roles may not read {1}."
)


class _Requires(BasePermission):
    capability: ClassVar[Capability]
    error_extensions: GraphQLErrorExtensions | None = {"code": "FORBIDDEN"}

    def __init__(self) -> None:
        self.message = f"Forbidden: your roles do not allow {self.capability.value}"

    def has_permission(self, source: Any, info: Info[Context, None], **kwargs: Any) -> bool:
        principal = info.context.principal
        if principal is None:
            raise Unauthenticated()
        return principal.has(*ROLE_MATRIX[self.capability])


class CanReadGoals(_Requires):
    capability = Capability.READ_GOALS


class CanReadHistory(_Requires):
    capability = Capability.READ_HISTORY


class CanReadAuditLog(_Requires):
    capability = Capability.READ_AUDIT_LOG


class CanEditGoals(_Requires):
    capability = Capability.EDIT_GOALS


class CanEditKpis(_Requires):
    capability = Capability.EDIT_KPIS


class CanRecordKpiReadings(_Requires):
    capability = Capability.RECORD_KPI_READINGS


class CanReadEvents(_Requires):
    capability = Capability.READ_EVENTS


class CanSubscribe(_Requires):
    capability = Capability.SUBSCRIBE


class CanChangeSettings(_Requires):
    capability = Capability.CHANGE_SETTINGS


class CanManageWebhooks(_Requires):
    capability = Capability.MANAGE_WEBHOOKS


class CanReopenCycles(_Requires):
    capability = Capability.REOPEN_CYCLES
