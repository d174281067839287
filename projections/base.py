"""What a projection is: a named set of tables kept from events, one event at a time.

A projection's `apply` runs inline, inside the transaction that appends the
event (so a command's caller reads its own write), and in the catch-up runner
that rebuilds it from the log; both call exactly this code.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from okrledger.projections.recorded import RecordedEvent


class Rows(Protocol):
    """The slice of a database connection a projection may use (asyncpg's, structurally)."""

    async def execute(self, query: str, *args: Any) -> str: ...

    async def executemany(self, command: str, args: Any) -> None: ...

    async def fetch(self, query: str, *args: Any) -> Sequence[Any]: ...

    async def fetchrow(self, query: str, *args: Any) -> Any: ...

    async def fetchval(self, query: str, *args: Any) -> Any: ...


class Projection(Protocol):
    name: str
    # Event types this projection reads; others are skipped without being decoded.
    handles: frozenset[str]
    # The tables it owns: a rebuild fills fresh copies of these and swaps them in.
    tables: tuple[str, ...]

    async def apply(self, rows: Rows, record: RecordedEvent, event: Any) -> None: ...
