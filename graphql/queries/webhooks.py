"""Reading the tenant's webhooks (admins)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import strawberry
from strawberry.types import Info

from okrledger.graphql.context import Context
from okrledger.graphql.permissions import CanManageWebhooks
from okrledger.graphql.types.webhook import Webhook


@strawberry.type
class WebhookQueries:
    @strawberry.field(
        description="The tenant's webhooks, oldest first.",
        permission_classes=[CanManageWebhooks],
    )
    async def webhooks(
        self,
        info: Info[Context, None],
        include_removed: Annotated[
            bool, strawberry.argument(description="List removed webhooks too.")
        ] = False,
    ) -> list[Webhook]:
        found = await info.context.webhook_reads.webhooks(
            info.context.caller().tenant_id, include_removed=include_removed
        )
        return [Webhook.of(view) for view in found]

    @strawberry.field(
        description="One webhook (removed ones too); null if your tenant has no such one.",
        permission_classes=[CanManageWebhooks],
    )
    async def webhook(self, info: Info[Context, None], id: UUID) -> Webhook | None:
        view = await info.context.webhook_reads.webhook(info.context.caller().tenant_id, id)
        return None if view is None else Webhook.of(view)
