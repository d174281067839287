"""What an operation must pass before it runs, and what its answer may weigh.

In order, cheapest first: the document's cost (graphql/cost.py, linear in its size) is
checked before graphql-core validates it, since some of validation's rules take time
that grows with the square of the document as executed, or worse, on documents built to
multiply (fragments spreading the next one twice); then validation, each document's
outcome kept; then the caller's budgets (graphql/rate_limits.py). After execution, an
answer heavier than the byte budget is replaced by an error. Every answer reports its
cost in `extensions.cost`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import orjson
from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document
from strawberry.types.execution import ExecutionContext
from strawberry.types.graphql import OperationType

from okrledger.graphql.context import Context
from okrledger.graphql.cost import Cost, operation_cost
from okrledger.graphql.rate_limits import Budgets

QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"
RESPONSE_TOO_LARGE = "RESPONSE_TOO_LARGE"


@dataclass(frozen=True)
class CostLimits:
    max_cost: int = 100_000
    max_response_bytes: int = 32 * 1024 * 1024
    # The length `first` takes when not given is the field's own default; these are for
    # lists without one.
    default_page: int = 50
    list_length: int = 10


class QueryTooComplex(GraphQLError):
    def __init__(self, cost: int, max_cost: int) -> None:
        super().__init__(
            f"The query costs {cost}, more than the {max_cost} allowed: ask for fewer "
            "items (first), fewer aliases or less nesting",
            extensions={"code": QUERY_TOO_COMPLEX, "cost": cost, "maxCost": max_cost},
        )


class ResponseTooLarge(GraphQLError):
    def __init__(self, size: int, max_bytes: int) -> None:
        super().__init__(
            f"The answer would be {size} bytes, more than the {max_bytes} allowed: "
            "ask for fewer items (first) or fields",
            extensions={"code": RESPONSE_TOO_LARGE, "maxBytes": max_bytes},
        )


class Admission(SchemaExtension):
    def __init__(
        self, *, limits: CostLimits, budgets: Budgets | None, validated_documents: int
    ) -> None:
        self.limits = limits
        self.budgets = budgets
        self.validate = _validator(validated_documents)
        self.cost: Cost | None = None

    async def on_validate(self) -> AsyncIterator[None]:
        context = self.execution_context
        self.cost = _cost_of(context, self.limits)
        if self.cost.total > self.limits.max_cost:
            # Set before validation: strawberry then leaves the document unvalidated.
            context.pre_execution_errors = [QueryTooComplex(self.cost.total, self.limits.max_cost)]
        else:
            context.pre_execution_errors = self.validate(
                context.schema._schema, context.graphql_document, context.validation_rules
            )
            if not context.pre_execution_errors:
                refused = await self._charge(context, self.cost)
                if refused is not None:
                    context.pre_execution_errors = [refused]
        yield

    def on_execute(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        data = getattr(result, "data", None)
        if result is None or data is None or self.limits.max_response_bytes <= 0:
            return
        size = len(orjson.dumps(data))
        if size > self.limits.max_response_bytes:
            # The result object itself is what strawberry answers with.
            result.data = None
            result.errors = [
                *(getattr(result, "errors", None) or []),
                ResponseTooLarge(size, self.limits.max_response_bytes),
            ]

    def get_results(self) -> dict[str, Any]:
        return {} if self.cost is None else {"cost": self.cost.total}

    async def _charge(self, context: ExecutionContext, cost: Cost) -> GraphQLError | None:
        caller = context.context
        principal = caller.principal if isinstance(caller, Context) else None
        if self.budgets is None or principal is None:
            return None  # anonymous callers reach nothing but refusals and the version
        operation = context.operation_type
        if operation is OperationType.MUTATION:
            return await self.budgets.charge(
                principal, mutations=cost.mutation_fields, query_cost=0
            )
        if operation is OperationType.QUERY:
            return await self.budgets.charge(principal, mutations=0, query_cost=cost.total)
        return None


def _cost_of(context: ExecutionContext, limits: CostLimits) -> Cost:
    assert context.graphql_document is not None
    variables = context.variables if isinstance(context.variables, dict) else None
    return operation_cost(
        context.schema._schema,
        context.graphql_document,
        context.operation_name,
        variables,
        default_page=limits.default_page,
        list_length=limits.list_length,
    )


@lru_cache(maxsize=8)
def _validator(maxsize: int) -> Any:
    # One outcome per document and rules (the parsed document is shared: limits.ParseOnce).
    return lru_cache(maxsize=maxsize)(validate_document)


def admission(limits: CostLimits, budgets: Budgets | None, validated_documents: int) -> Any:
    """A factory, so each request gets its own extension instance."""
    return lambda: Admission(
        limits=limits, budgets=budgets, validated_documents=validated_documents
    )
