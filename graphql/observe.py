"""Reports each GraphQL operation (name, type, tenant, errors) to whoever watches: the
metrics and the traces of infra. This module knows nothing of either."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass
from typing import Protocol

from strawberry.extensions import SchemaExtension

from okrledger.graphql.context import Context


@dataclass
class Operation:
    """Filled in as the operation runs; complete when the observer's block exits."""

    name: str | None = None
    type: str = "unknown"
    tenant_id: str | None = None
    request_id: str | None = None
    errors: int = 0


class OperationObserver(Protocol):
    def observe(self) -> AbstractContextManager[Operation]:
        """Entered before the document is parsed, exited once the result is known."""


class ObserveOperations(SchemaExtension):
    def __init__(self, *, observers: Sequence[OperationObserver]) -> None:
        self.observers = observers

    def on_operation(self) -> Iterator[None]:
        with ExitStack() as stack:
            operations = [stack.enter_context(o.observe()) for o in self.observers]
            try:
                yield
            finally:
                for operation in operations:
                    self._describe(operation)

    def _describe(self, operation: Operation) -> None:
        execution = self.execution_context
        operation.name = execution.operation_name
        if execution.graphql_document is not None:
            try:
                operation.type = execution.operation_type.value
            except RuntimeError:
                operation.type = "unknown"
        context = execution.context
        if isinstance(context, Context):
            operation.request_id = context.request_id
            if context.principal is not None:
                operation.tenant_id = context.principal.tenant_id
        result = execution.result
        errors = execution.pre_execution_errors or (result.errors if result else None) or []
        operation.errors = len(errors)


def observe_operations(
    observers: Sequence[OperationObserver],
) -> Callable[[], SchemaExtension]:
    """A factory, so each request gets its own extension instance."""
    chosen = tuple(observers)
    return lambda: ObserveOperations(observers=chosen)
