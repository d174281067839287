"""Per-tenant and per-token limits on GraphQL mutations: 429 with Retry-After past them.

Token buckets held in the process: with `serve --workers N` each worker enforces the
limits on its own share of the traffic. Queries and subscriptions are never limited here.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import orjson
from graphql import GraphQLError, OperationDefinitionNode, OperationType, parse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from okrledger.services.identity import Principal

# A bucket untouched for this long is full again and can be forgotten.
_IDLE_SECONDS = 300.0


@dataclass
class TokenBucket:
    """`rate` tokens per second, holding at most `burst`."""

    rate: float
    burst: float
    tokens: float = field(init=False)
    updated: float = field(init=False)

    def __post_init__(self) -> None:
        self.tokens = self.burst
        self.updated = 0.0

    def take(self, now: float) -> float:
        """0 when a token was taken, else the seconds until one is available."""
        if self.updated:
            self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate


class MutationLimits:
    def __init__(
        self,
        per_tenant_per_minute: int,
        per_token_per_minute: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.per_tenant = per_tenant_per_minute
        self.per_token = per_token_per_minute
        self.clock = clock
        self._buckets: dict[tuple[str, str], TokenBucket] = {}
        self._swept = clock()

    def wait_needed(self, principal: Principal) -> float:
        """0 when the mutation may run, else the seconds to wait (nothing is spent then)."""
        now = self.clock()
        self._sweep(now)
        keys = [
            (("tenant", principal.tenant_id), self.per_tenant),
            (("token", f"{principal.tenant_id}/{principal.subject}"), self.per_token),
        ]
        buckets = [self._bucket(key, per_minute) for key, per_minute in keys if per_minute > 0]
        waits = [bucket.take(now) for bucket in buckets]
        if any(waits):
            for bucket, wait in zip(buckets, waits, strict=True):
                if not wait:  # give back what a refused request took
                    bucket.tokens = min(bucket.burst, bucket.tokens + 1)
        return max(waits, default=0.0)

    def _bucket(self, key: tuple[str, str], per_minute: int) -> TokenBucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = TokenBucket(per_minute / 60, max(1.0, per_minute / 6))
        return bucket

    def _sweep(self, now: float) -> None:
        if now - self._swept < _IDLE_SECONDS:
            return
        self._swept = now
        for key in [k for k, b in self._buckets.items() if now - b.updated > _IDLE_SECONDS]:
            del self._buckets[key]


def is_mutation(body: bytes) -> bool:
    """True when the GraphQL request would run a mutation (unparsable requests are not)."""
    if b"mutation" not in body:  # a mutation must say so: queries skip the parse entirely
        return False
    try:
        request = orjson.loads(body)
        document = parse(request["query"])
    except (orjson.JSONDecodeError, KeyError, TypeError, GraphQLError):
        return False
    wanted = request.get("operationName")
    return any(
        isinstance(definition, OperationDefinitionNode)
        and definition.operation is OperationType.MUTATION
        and (wanted is None or (definition.name is not None and definition.name.value == wanted))
        for definition in document.definitions
    )


class RateLimitMiddleware:
    """Pure ASGI: must run after authentication, which puts the caller on `scope["user"]`."""

    def __init__(self, app: ASGIApp, limits: MutationLimits, path: str = "/graphql") -> None:
        self.app = app
        self.limits = limits
        self.path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        principal = getattr(scope.get("user"), "principal", None)
        if (
            scope["type"] != "http"
            or scope["method"] != "POST"
            or scope["path"] != self.path
            or not isinstance(principal, Principal)
        ):
            await self.app(scope, receive, send)
            return
        messages, body = await _read_body(receive)
        if is_mutation(body):
            wait = self.limits.wait_needed(principal)
            if wait:
                await _too_many(send, wait)
                return
        replay = iter(messages)

        async def replayed() -> Message:
            return next(replay, None) or await receive()

        await self.app(scope, replayed, send)


async def _read_body(receive: Receive) -> tuple[list[Message], bytes]:
    messages: list[Message] = []
    chunks: list[bytes] = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return messages, b"".join(chunks)


async def _too_many(send: Send, wait: float) -> None:
    seconds = max(1, math.ceil(wait))
    body = orjson.dumps(
        {
            "errors": [
                {
                    "message": f"Too many changes; retry in {seconds} s",
                    "extensions": {"code": "RATE_LIMITED", "retryAfter": seconds},
                }
            ]
        }
    )
    await send(
        {
            "type": "http.response.start",
            "status": 429,
            "headers": [
                (b"content-type", b"application/json"),
                (b"retry-after", str(seconds).encode()),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
