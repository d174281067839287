"""Live goal events: replay after a position, then follow the log as it grows.

The feed reads the log itself and only wakes on notifications, so the hand-over from
replay to live has no gap and no duplicate; a subscriber that falls too far behind is
ended with SUBSCRIBER_TOO_SLOW and the position to resume after (writers never wait).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry
from strawberry.exceptions import StrawberryGraphQLError
from strawberry.types import Info

from okrledger.graphql.context import Context
from okrledger.graphql.permissions import CanSubscribe
from okrledger.graphql.queries.events import checked_position, checked_types
from okrledger.graphql.types.event import CloudEvent
from okrledger.projections.event_log import SubscriberTooSlow


class SubscriptionEnded(StrawberryGraphQLError):
    def __init__(self, slow: SubscriberTooSlow) -> None:
        super().__init__(
            f"Subscription ended: {slow}",
            extensions={"code": "SUBSCRIBER_TOO_SLOW", "resumeAfterPosition": slow.position},
        )


@strawberry.type(description="Live streams of the tenant's events.")
class Subscription:
    @strawberry.subscription(
        description="Every event after `afterPosition` (replayed from the log), then live ones, "
        "in position order with no gap or duplicate. Resume with the last position you handled.",
        permission_classes=[CanSubscribe],
    )
    async def goal_events(
        self,
        info: Info[Context, None],
        after_position: int = 0,
        types: list[str] | None = None,
    ) -> AsyncGenerator[CloudEvent, None]:
        tenant_id = info.context.caller().tenant_id
        stream = info.context.events.follow(
            tenant_id, checked_position(after_position), checked_types(types)
        )
        try:
            async for event in stream:
                yield CloudEvent.of(event)
        except SubscriberTooSlow as slow:
            raise SubscriptionEnded(slow) from None
        finally:
            # Close the feed now (it holds a wake-up slot), not whenever it is collected.
            close = getattr(stream, "aclose", None)
            if close is not None:
                await close()
