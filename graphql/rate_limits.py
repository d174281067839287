"""Budgets per minute of each caller: mutations per tenant and per token, query cost per tenant.

Charged where the operation is known (graphql/admission.py), so HTTP and WebSocket
spend the same budget, whatever way the request was spelled. Counted by the `limits`
library on a sliding window: in the process's memory, or in Redis, where every replica
spends from one budget.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

from graphql import GraphQLError
from limits import RateLimitItem, RateLimitItemPerMinute
from limits.aio.storage import Storage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.errors import StorageError

from okrledger.services.identity import Principal

log = logging.getLogger(__name__)

RATE_LIMITED = "RATE_LIMITED"


class RateLimited(GraphQLError):
    """A top-level error: the caller's budget is spent; `retryAfter` seconds until it refills."""

    def __init__(self, what: str, retry_after: int) -> None:
        super().__init__(
            f"Too many {what}; retry in {retry_after} s",
            extensions={"code": RATE_LIMITED, "retryAfter": retry_after},
        )


@dataclass(frozen=True)
class Allowances:
    """Per minute; 0 turns that budget off."""

    tenant_mutations: int = 6000
    token_mutations: int = 1200
    tenant_query_cost: int = 0


class Budgets:
    def __init__(self, storage: Storage, allowances: Allowances) -> None:
        self.limiter = SlidingWindowCounterRateLimiter(storage)
        self.allowances = allowances
        self._items: dict[int, RateLimitItem] = {}

    async def charge(
        self, principal: Principal, *, mutations: int, query_cost: int
    ) -> RateLimited | None:
        """Spend from every budget the operation touches, or from none and say why not.

        A storage that cannot be reached (Redis down) admits the operation: the cost limit
        still holds for each request, and the API stays up.
        """
        try:
            return await self._charge(principal, mutations, query_cost)
        except StorageError as error:
            log.warning("rate-limit storage unreachable; admitting", extra={"error": str(error)})
            return None

    async def _charge(
        self, principal: Principal, mutations: int, query_cost: int
    ) -> RateLimited | None:
        tenant, token = principal.tenant_id, f"{principal.tenant_id}/{principal.subject}"
        wanted = [
            (
                self._item(self.allowances.tenant_mutations),
                ("mutations", "tenant", tenant),
                mutations,
            ),
            (self._item(self.allowances.token_mutations), ("mutations", "token", token), mutations),
            (self._item(self.allowances.tenant_query_cost), ("cost", "tenant", tenant), query_cost),
        ]
        charges = [(item, keys, n) for item, keys, n in wanted if item is not None and n > 0]
        for item, keys, n in charges:
            if n > item.amount or not await self.limiter.test(item, *keys, cost=n):
                what = "mutations" if keys[0] == "mutations" else "queries (by cost)"
                return RateLimited(what, await self._retry_after(item, keys))
        for item, keys, n in charges:
            await self.limiter.hit(item, *keys, cost=n)
        return None

    def _item(self, per_minute: int) -> RateLimitItem | None:
        if per_minute <= 0:
            return None
        item = self._items.get(per_minute)
        if item is None:
            item = self._items[per_minute] = RateLimitItemPerMinute(per_minute)
        return item

    async def _retry_after(self, item: RateLimitItem, keys: tuple[str, ...]) -> int:
        stats = await self.limiter.get_window_stats(item, *keys)
        return max(1, math.ceil(stats.reset_time - time.time()))


def retry_after_of(response: object) -> int | None:
    """The seconds to wait when an answer (its JSON shape) was refused by a budget."""
    errors = response.get("errors") if isinstance(response, dict) else None
    for error in errors or ():
        extensions = error.get("extensions") if isinstance(error, dict) else None
        if isinstance(extensions, dict) and extensions.get("code") == RATE_LIMITED:
            wait = extensions.get("retryAfter")
            return wait if isinstance(wait, int) else 1
    return None
