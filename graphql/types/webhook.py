"""A webhook as admins see it, with its delivery attempts newest first."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated, Self
from uuid import UUID

import strawberry
from strawberry.relay import PageInfo
from strawberry.types import Info

from okrledger.domain.errors import InvalidValue
from okrledger.domain.webhook import ACTIVE, PAUSED, REMOVED
from okrledger.graphql.context import Context
from okrledger.graphql.queries.common import QueryRefused
from okrledger.graphql.types.pages import Connection, Edge
from okrledger.projections.webhooks import DeliveryAttempt, WebhookView

MAX_DELIVERIES_PAGE = 100


@strawberry.enum(description="Whether a webhook is being delivered to.")
class WebhookStatus(Enum):
    ACTIVE = ACTIVE
    PAUSED = PAUSED
    REMOVED = REMOVED


@strawberry.type(description="One POST to the receiver, or one refused before it was sent.")
class WebhookDelivery:
    id: UUID = strawberry.field(description="This attempt.")
    delivery_id: UUID = strawberry.field(
        description="The delivery (one event to one webhook): its Okrledger-Delivery header, "
        "the same on every attempt."
    )
    position: int = strawberry.field(description="The event's position in the tenant's log.")
    event_id: UUID
    attempt: int = strawberry.field(description="1 for the first try, then counting retries.")
    attempted_at: datetime
    duration_ms: int
    status_code: int | None = strawberry.field(
        description="The receiver's HTTP status; null when no answer came."
    )
    succeeded: bool
    error: str | None = strawberry.field(description="Why it failed, when it did.")
    next_attempt_at: datetime | None = strawberry.field(
        description="When it is retried; null when it succeeded or will not be."
    )

    @classmethod
    def of(cls, attempt: DeliveryAttempt) -> Self:
        return cls(
            id=attempt.attempt_id,
            delivery_id=attempt.delivery_id,
            position=attempt.position,
            event_id=attempt.event_id,
            attempt=attempt.attempt,
            attempted_at=attempt.attempted_at,
            duration_ms=attempt.duration_ms,
            status_code=attempt.status_code,
            succeeded=attempt.succeeded,
            error=attempt.error,
            next_attempt_at=attempt.next_attempt_at,
        )


def cursor_of(attempt: DeliveryAttempt) -> str:
    return attempt.attempted_at.isoformat()


def before_of(cursor: str | None) -> datetime | None:
    if cursor is None:
        return None
    try:
        moment = datetime.fromisoformat(cursor)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise QueryRefused(InvalidValue(f"{cursor!r} is not a cursor", field="before"))
    return moment


@strawberry.type(description="Where the tenant's events are POSTed, signed, and which ones.")
class Webhook:
    id: UUID
    url: str
    event_types: list[str] = strawberry.field(
        description='Public event types, families ("okr.objective.*") or "*".'
    )
    description: str
    status: WebhookStatus
    pause_reason: str | None = strawberry.field(
        description="Why it was paused (by an admin, or after failing too long)."
    )
    registered_at: datetime
    changed_at: datetime
    version: int = strawberry.field(description="Send it back as expectedVersion.")
    pending_deliveries: int = strawberry.field(
        description="Events queued for it and not yet delivered."
    )

    @strawberry.field(
        description="Its delivery attempts, newest first; pass `pageInfo.endCursor` as "
        "`before` for older ones."
    )
    async def deliveries(
        self,
        info: Info[Context, None],
        first: Annotated[
            int, strawberry.argument(description=f"At most {MAX_DELIVERIES_PAGE}.")
        ] = 20,
        before: Annotated[
            str | None, strawberry.argument(description="A cursor from an earlier page.")
        ] = None,
    ) -> Connection[WebhookDelivery]:
        limit = max(1, min(first, MAX_DELIVERIES_PAGE))
        found = await info.context.webhook_reads.deliveries(
            info.context.caller().tenant_id, self.id, limit=limit + 1, before=before_of(before)
        )
        page = found[:limit]
        edges = [Edge(cursor=cursor_of(a), node=WebhookDelivery.of(a)) for a in page]
        return Connection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=len(found) > limit,
                has_previous_page=before is not None,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else None,
            ),
        )

    @classmethod
    def of(cls, view: WebhookView) -> Self:
        return cls(
            id=view.webhook_id,
            url=view.url,
            event_types=list(view.event_types),
            description=view.description,
            status=WebhookStatus(view.status),
            pause_reason=view.pause_reason,
            registered_at=view.registered_at,
            changed_at=view.changed_at,
            version=view.version,
            pending_deliveries=view.pending_deliveries,
        )
