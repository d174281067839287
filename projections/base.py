"""What a projection is: a named set of tables kept from events, in log order.

A projection's `apply` runs inline, inside the transaction that appends the
event (so a command's caller reads its own write), and in the catch-up runner
that rebuilds it from the log; both call exactly this code. A projection that
can also apply a run of events with set-based SQL (`BatchProjection`) gets the
events of an append, or a page of a rebuild, at once; the result must be the
same rows as applying them one at a time.
"""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

from okrledger.projections.recorded import RecordedEvent


class Rows(Protocol):
    """The slice of a database connection a projection may use (asyncpg's, structurally)."""

    async def execute(self, query: str, *args: Any) -> str: ...

    async def executemany(self, command: str, args: Any) -> None: ...

    async def fetch(self, query: str, *args: Any) -> Sequence[Any]: ...

    async def fetchrow(self, query: str, *args: Any) -> Any: ...

    async def fetchval(self, query: str, *args: Any) -> Any: ...


@runtime_checkable
class FreshRows(Rows, Protocol):
    """Rows into tables that only this writer fills, each event once (a rebuild's fresh
    copies): new rows can be copied in as they are, with no check for one already there."""

    async def copy_rows(
        self, table: str, columns: Sequence[str], records: Sequence[Sequence[Any]]
    ) -> None: ...


class Projection(Protocol):
    name: str
    # Event types this projection reads; others are skipped without being decoded.
    handles: frozenset[str]
    # The tables it owns: a rebuild fills fresh copies of these and swaps them in.
    tables: tuple[str, ...]

    async def apply(self, rows: Rows, record: RecordedEvent, event: Any) -> None: ...


def query_indexes(projection: Projection) -> tuple[str, ...]:
    """The indexes (by name) of the projection's tables that only readers use, never its own
    writes or reads: a rebuild can build them once, after the replay, instead of keeping them
    up to date row by row. Optional; a projection without `query_indexes` has none."""
    return tuple(getattr(projection, "query_indexes", ()))


# An event as a projection receives it: the record and its decoded domain event.
Item = tuple[RecordedEvent, Any]
ApplyOne = Callable[["Rows", RecordedEvent, Any], Awaitable[None]]
# Applies a run of consecutive events (in position order) as if one at a time.
ApplyRun = Callable[["Rows", Sequence[Item]], Awaitable[None]]


@runtime_checkable
class BatchProjection(Projection, Protocol):
    async def apply_many(self, rows: Rows, items: Sequence[Item]) -> None: ...


async def apply_in_runs(
    rows: Rows, items: Sequence[Item], one: ApplyOne, runs: Mapping[str, ApplyRun]
) -> None:
    """Apply `items` in order: consecutive events that share a run function go to it together,
    the others to `one`, one at a time."""
    for run, group in itertools.groupby(items, key=lambda item: runs.get(item[0].event_type)):
        if run is not None:
            await run(rows, list(group))
        else:
            for record, event in group:
                await one(rows, record, event)
