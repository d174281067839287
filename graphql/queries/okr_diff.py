"""okrTreeDiff: what changed in a cycle's OKR tree between two moments, for auditors."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import strawberry
from strawberry.types import Info

from okrledger.domain.errors import InvalidValue
from okrledger.graphql.context import Context
from okrledger.graphql.permissions import CanReadAuditLog
from okrledger.graphql.queries.common import AsOfInput, QueryRefused, moment_of, refusals
from okrledger.graphql.types.cycle import Cycle
from okrledger.graphql.types.okr_diff import OkrTreeDiff
from okrledger.projections import okr_queries
from okrledger.projections.okr_diff import TreeSnapshot, check_span, diff_trees
from okrledger.projections.pages import AsOf

FROM = strawberry.argument(name="from", description="The earlier moment, e.g. the last review.")
TO = strawberry.argument(description="The later moment; not before `from`, and of the same kind.")


def _moment(given: AsOfInput, name: str) -> AsOf:
    try:
        found = moment_of(given)
    except QueryRefused as error:
        raise QueryRefused(InvalidValue(error.message, field=name)) from None
    assert found is not None, "a required moment is given"
    return found


@strawberry.type
class OkrDiffQueries:
    @strawberry.field(
        description="What changed in a cycle's OKR tree from one moment to another: objectives "
        "and key results added, removed, re-aligned or retitled, key results redefined, and "
        "progress at both moments. Null if the cycle did not exist at `to` (or is not yours); "
        "a cycle started after `from` is diffed from an empty tree.",
        permission_classes=[CanReadAuditLog],
    )
    async def okr_tree_diff(
        self,
        info: Info[Context, None],
        cycle: UUID,
        from_: Annotated[AsOfInput, FROM],
        to: Annotated[AsOfInput, TO],
    ) -> OkrTreeDiff | None:
        start, end = _moment(from_, "from"), _moment(to, "to")
        with refusals():
            check_span(start, end)
        async with info.context.read() as rows:
            before = await okr_queries.cycle_tree(rows, cycle, as_of=start)
            after = await okr_queries.cycle_tree(rows, cycle, as_of=end)
        if after is None:
            return None
        diff = diff_trees(TreeSnapshot.of(before), TreeSnapshot.of(after))
        return OkrTreeDiff.of(Cycle.of(after.cycle), diff)
