"""Relay connections: a page of read-model items as edges with cursors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

import strawberry
from strawberry.relay import PageInfo

from okrledger.projections.pages import Page

T = TypeVar("T")
Item = TypeVar("Item")


@strawberry.type(description="An item and the cursor that names its place in the list.")
class Edge(Generic[T]):
    cursor: str = strawberry.field(description="Pass it as `after` to read on from this item.")
    node: T


@strawberry.type(description="A page of a list; follow `pageInfo.endCursor` for the next.")
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo


def connection_of(
    page: Page[Item], node: Callable[[Item], T], *, after: str | None
) -> Connection[T]:
    """Forward pagination only: a previous page exists whenever the list was entered `after`."""
    edges = [
        Edge(cursor=cursor, node=node(item))
        for item, cursor in zip(page.items, page.cursors, strict=True)
    ]
    info = PageInfo(
        has_next_page=page.has_next_page,
        has_previous_page=after is not None,
        start_cursor=page.cursors[0] if page.cursors else None,
        end_cursor=page.end_cursor,
    )
    return Connection(edges=edges, page_info=info)
