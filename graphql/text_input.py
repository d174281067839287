"""Text inputs carry no control characters: a NUL cannot be stored in PostgreSQL text, and
the others (escape, backspace…) only hide or forge what auditors read back.

Checked once per operation over its variables and the document's string literals, before
any resolver runs; a hit refuses the whole operation with `extensions.code` VALIDATION
and the `field` (its last name on the way in).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from graphql import DocumentNode, ExecutionResult, GraphQLError, StringValueNode, Visitor, visit
from graphql.language import ArgumentNode, ObjectFieldNode
from strawberry.extensions import SchemaExtension

# C0 controls but tab, line feed and carriage return, and DEL.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class ControlCharacter(GraphQLError):
    def __init__(self, field: str, character: str) -> None:
        super().__init__(
            f"{field} must not contain control characters (found U+{ord(character):04X})",
            extensions={"code": "VALIDATION", "field": field},
        )
        self.where = (field, character)


def in_value(value: object, name: str) -> ControlCharacter | None:
    if isinstance(value, str):
        found = CONTROL.search(value)
        return ControlCharacter(name, found.group()) if found else None
    items = (
        value.items()
        if isinstance(value, dict)
        else enumerate(value)
        if isinstance(value, list)
        else ()
    )
    for key, item in items:
        error = in_value(item, key if isinstance(key, str) else name)
        if error is not None:
            return error
    return None


class _Literals(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.names: list[str] = []
        self.found: ControlCharacter | None = None

    def enter_argument(self, node: ArgumentNode, *_: object) -> None:
        self.names.append(node.name.value)

    def leave_argument(self, node: ArgumentNode, *_: object) -> None:
        self.names.pop()

    def enter_object_field(self, node: ObjectFieldNode, *_: object) -> None:
        self.names.append(node.name.value)

    def leave_object_field(self, node: ObjectFieldNode, *_: object) -> None:
        self.names.pop()

    def enter_string_value(self, node: StringValueNode, *_: object) -> None:
        if self.found is None and self.names:
            self.found = in_value(node.value, self.names[-1])


# A document's literals are the same every time its text is sent: judged once per text.
_LITERALS_JUDGED = 512
_judged: dict[str, tuple[str, str] | None] = {}


def in_literals(query: str, document: DocumentNode) -> ControlCharacter | None:
    if query not in _judged:
        literals = _Literals()
        visit(document, literals)
        found = literals.found
        if len(_judged) >= _LITERALS_JUDGED:
            del _judged[next(iter(_judged))]
        _judged[query] = None if found is None else found.where
    where = _judged[query]
    return None if where is None else ControlCharacter(*where)


class RefuseControlCharacters(SchemaExtension):
    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        error = in_value(context.variables or {}, "input")
        if error is None and context.graphql_document is not None:
            error = in_literals(context.query or "", context.graphql_document)
        if error is not None:
            context.result = ExecutionResult(data=None, errors=[error])
        yield
