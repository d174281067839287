"""Text inputs carry no control characters and no lone surrogates, and have a length cap.

A NUL cannot be stored in PostgreSQL text, and the other controls (escape, backspace…) only
hide or forge what auditors read back. A lone surrogate (half of a UTF-16 pair, which JSON's
`\\ud800` escape can smuggle in) is no character at all: UTF-8 cannot encode it, so it could
be neither stored nor sent back.

Lengths: the domain caps the texts it keeps (a title, a note, a reason; see docs/api.md).
What is only transport is capped here: `commandId` (an idempotency key, stored with every
event), the `actor`, `types` and `eventTypes` filters, cursors, and, for every other text,
`MAX_TEXT` characters, so no text input anywhere is longer, whichever check would otherwise
read it.

Checked once per operation over its variables and the document's string literals, before
any resolver runs; a hit refuses the whole operation with `extensions.code` VALIDATION and
the `field` (its last name on the way in).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from graphql import DocumentNode, ExecutionResult, GraphQLError, StringValueNode, Visitor, visit
from graphql.language import ArgumentNode, ObjectFieldNode
from strawberry.extensions import SchemaExtension

# C0 controls but tab, line feed and carriage return, DEL, and lone surrogates (a Python
# string holds a surrogate only unpaired: JSON's escaped pairs decode to one character).
REFUSED = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")

# Longer than any text the domain keeps (descriptions and retrospectives: 5,000).
MAX_TEXT = 10_000
# Texts that are transport, not domain: capped here, by input name.
TRANSPORT_CAPS = {
    "commandId": 200,
    "actor": 200,
    "types": 200,
    "eventTypes": 200,
    "after": 200,  # cursors: ours are a few dozen characters
    "before": 200,
}


class RefusedText(GraphQLError):
    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field} {problem}", extensions={"code": "VALIDATION", "field": field})
        self.where = (field, problem)


def refusal_of(text: str, name: str) -> RefusedText | None:
    cap = TRANSPORT_CAPS.get(name, MAX_TEXT)
    if len(text) > cap:
        return RefusedText(name, f"must be at most {cap} characters (got {len(text)})")
    found = REFUSED.search(text)
    if found is None:
        return None
    code_point = ord(found.group())
    kind = "lone surrogates" if 0xD800 <= code_point <= 0xDFFF else "control characters"
    return RefusedText(name, f"must not contain {kind} (found U+{code_point:04X})")


def in_value(value: object, name: str) -> RefusedText | None:
    if isinstance(value, str):
        return refusal_of(value, name)
    items = (
        value.items()
        if isinstance(value, dict)
        else enumerate(value)
        if isinstance(value, list)
        else ()
    )
    for key, item in items:
        if isinstance(key, str):
            key_error = refusal_of(key, name) if REFUSED.search(key) else None
            if key_error is not None:
                return key_error
        error = in_value(item, key if isinstance(key, str) else name)
        if error is not None:
            return error
    return None


class _Literals(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.names: list[str] = []
        self.found: RefusedText | None = None

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


def in_literals(query: str, document: DocumentNode) -> RefusedText | None:
    if query not in _judged:
        literals = _Literals()
        visit(document, literals)
        found = literals.found
        if len(_judged) >= _LITERALS_JUDGED:
            del _judged[next(iter(_judged))]
        _judged[query] = None if found is None else found.where
    where = _judged[query]
    return None if where is None else RefusedText(*where)


class RefuseControlCharacters(SchemaExtension):
    """Refuses control characters, lone surrogates and over-long text (the name is historic)."""

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        error = in_value(context.variables or {}, "input")
        if error is None and context.graphql_document is not None:
            error = in_literals(context.query or "", context.graphql_document)
        if error is not None:
            context.result = ExecutionResult(data=None, errors=[error])
        yield
