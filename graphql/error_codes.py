"""Every top-level error names its kind in `extensions.code`, not only the ones we raise.

graphql-core reports a document it cannot parse, one that breaks the schema, and variables
that do not coerce (a malformed UUID, Decimal or date) with a message alone; clients should
branch on a code, not on English, so these get GRAPHQL_PARSE_FAILED or
GRAPHQL_VALIDATION_FAILED. Errors that already carry a code keep it.
"""

from __future__ import annotations

from collections.abc import Iterator

from graphql import GraphQLError, GraphQLSyntaxError
from strawberry.extensions import SchemaExtension

PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"


def code_of(error: GraphQLError) -> str:
    return PARSE_FAILED if isinstance(error, GraphQLSyntaxError) else VALIDATION_FAILED


class CodeDocumentErrors(SchemaExtension):
    """Adds a code to the errors GraphQL itself reports about the document or its variables."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        for error in getattr(result, "errors", None) or []:
            if error.path is None and not (error.extensions or {}).get("code"):
                error.extensions = {**(error.extensions or {}), "code": code_of(error)}
