"""The read port for integrators: a tenant's log as public events, paged or followed live."""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection, Sequence
from typing import Any, Protocol


class SubscriberTooSlow(Exception):
    """A live subscriber fell too far behind; it should resume from `position`."""

    def __init__(self, position: int, lag: int) -> None:
        super().__init__(
            f"subscriber fell {lag} events behind; resubscribe with afterPosition {position}"
        )
        self.position = position
        self.lag = lag


class EventLog(Protocol):
    async def page(
        self, tenant_id: str, after_position: int, types: Collection[str] | None, limit: int
    ) -> Sequence[dict[str, Any]]:
        """Up to `limit` CloudEvents after `after_position`, in position order."""
        ...

    def follow(
        self, tenant_id: str, after_position: int, types: Collection[str] | None
    ) -> AsyncIterator[dict[str, Any]]:
        """Every CloudEvent after `after_position`, then live ones, with no gap or duplicate."""
        ...
