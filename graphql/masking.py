"""Unexpected errors reach clients as "Unexpected error." with a request id, never a trace.

Expected failures are not masked: typed `UserError` results, permission errors
(UNAUTHENTICATED, FORBIDDEN), a request the server cannot take in time (UNAVAILABLE,
graphql/unavailable.py) and anything GraphQL itself reports about the document or its
variables. Everything else raised in a resolver is logged here with its
stack trace and the request id, and masked by `MaskUnexpectedErrors`.
"""

from __future__ import annotations

import logging

from graphql import GraphQLError
from strawberry.extensions import MaskErrors
from strawberry.schema import Schema
from strawberry.types import ExecutionContext

from okrledger.graphql.unavailable import coded, unavailable_in

log = logging.getLogger("okrledger.graphql")

MASKED_MESSAGE = "Unexpected error."


def is_unexpected(error: GraphQLError) -> bool:
    """Raised by resolver code (it has a path) and not a deliberate GraphQL error."""
    original = error.original_error
    return (
        error.path is not None
        and original is not None
        and not isinstance(original, GraphQLError)
        and unavailable_in(error) is None
    )


def request_id_of(execution_context: ExecutionContext | None) -> str | None:
    context = None if execution_context is None else execution_context.context
    return getattr(context, "request_id", None)


class ObservedSchema(Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        request_id = request_id_of(execution_context)
        for error in errors:
            if is_unexpected(error):
                log.error(
                    "unexpected error in %s",
                    ".".join(str(part) for part in error.path or ()),
                    exc_info=error.original_error,
                    extra={"request_id": request_id},
                )
            elif unavailable_in(error) is not None:
                log.warning(
                    "request not taken: %s", error.message, extra={"request_id": request_id}
                )
            else:
                log.info("request refused: %s", error.message, extra={"request_id": request_id})


class MaskUnexpectedErrors(MaskErrors):
    def __init__(self) -> None:
        super().__init__(should_mask_error=is_unexpected, error_message=MASKED_MESSAGE)

    def _process_result(self, result: object) -> None:
        # strawberry asks `isinstance` of a runtime-checkable Protocol here, which costs
        # more than the rest of a subscription event's masking: ask for the errors alone.
        errors = getattr(result, "errors", None)
        if errors:
            result.errors = self._process_errors(errors)  # type: ignore[attr-defined]

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        processed = super()._process_errors(errors)
        for error in processed:
            unavailable = unavailable_in(error)
            if unavailable is not None:
                coded(error, unavailable)
        return processed

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        masked = super().anonymise_error(error)
        masked.extensions = {
            "code": "INTERNAL_SERVER_ERROR",
            "requestId": request_id_of(self.execution_context),
        }
        return masked
