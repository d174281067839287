"""Where rate-limit budgets are counted: this process's memory, or Redis shared by replicas.

The budgets themselves are charged in the GraphQL layer (graphql/rate_limits.py), where
the operation is known; this module only opens their storage.
"""

from __future__ import annotations

from limits.aio.storage import MemoryStorage, RedisStorage, Storage

REDIS_SCHEMES = ("redis", "rediss", "redis+unix")


class UnknownRateLimitStorage(ValueError):
    def __init__(self, uri: str) -> None:
        super().__init__(f"rate-limit storage {uri!r}: use memory:// or redis://host:port/db")


def scheme_of(uri: str) -> str:
    scheme, separator, _ = uri.partition("://")
    if not separator or scheme not in ("memory", *REDIS_SCHEMES):
        raise UnknownRateLimitStorage(uri)
    return scheme


def rate_limit_storage(uri: str) -> Storage:
    """memory:// or redis://host:port/db (through redis-py; its errors raised as the
    `limits` library's StorageError)."""
    if scheme_of(uri) == "memory":
        return MemoryStorage()
    return RedisStorage(f"async+{uri}", implementation="redispy", wrap_exceptions=True)
