"""Every top-level error names its kind in `extensions.code`, not only the ones we raise.

graphql-core reports a document it cannot parse, one that breaks the schema, and variables
that do not coerce (a malformed UUID, Decimal or date) with a message alone; clients should
branch on a code, not on English, so these get GRAPHQL_PARSE_FAILED or
GRAPHQL_VALIDATION_FAILED. Errors that already carry a code keep it.

An integer outside GraphQL's 32 bits (a position, a page size) is an out-of-range value like
any other a read refuses: VALIDATION, with `extensions.field` naming the argument or input
field, whether written in the document or sent as a variable. A variable that does not
coerce also names its field.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from graphql import DocumentNode, GraphQLError, GraphQLSyntaxError, Node, Visitor, visit
from graphql.language import ArgumentNode, ObjectFieldNode
from strawberry.extensions import SchemaExtension

PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"


OUT_OF_RANGE = "cannot represent non 32-bit signed integer value"
_VARIABLE = re.compile(r"^Variable '\$(\w+)' has invalid value(?: at ([^:]+))?:")


def code_of(error: GraphQLError) -> str:
    if isinstance(error, GraphQLSyntaxError):
        return PARSE_FAILED
    return "VALIDATION" if OUT_OF_RANGE in error.message else VALIDATION_FAILED


def field_of(error: GraphQLError, document: DocumentNode | None) -> str | None:
    """The input a value error is about: the last name of a variable's path, or the argument
    or input field a literal is written in."""
    variable = _VARIABLE.match(error.message)
    if variable is not None:
        names = [n for n in re.split(r"[.\[\]]", variable.group(2) or "") if n and not n.isdigit()]
        return names[-1] if names else variable.group(1)
    if document is None or not error.nodes or OUT_OF_RANGE not in error.message:
        return None
    finder = _EnclosingName(error.nodes[0])
    visit(document, finder)
    return finder.found


class _EnclosingName(Visitor):
    def __init__(self, target: Node) -> None:
        super().__init__()
        self.target = target
        self.names: list[str] = []
        self.found: str | None = None

    def enter(self, node: Node, *_: object) -> None:
        if isinstance(node, ArgumentNode | ObjectFieldNode):
            self.names.append(node.name.value)
        if node is self.target and self.names and self.found is None:
            self.found = self.names[-1]

    def leave(self, node: Node, *_: object) -> None:
        if isinstance(node, ArgumentNode | ObjectFieldNode):
            self.names.pop()


class CodeDocumentErrors(SchemaExtension):
    """Adds a code to the errors GraphQL itself reports about the document or its variables."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        for error in getattr(result, "errors", None) or []:
            if error.path is None and not (error.extensions or {}).get("code"):
                extensions = {**(error.extensions or {}), "code": code_of(error)}
                field = field_of(error, self.execution_context.graphql_document)
                if field is not None:
                    extensions["field"] = field
                error.extensions = extensions
