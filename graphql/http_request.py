"""What a GraphQL-over-HTTP request must look like before GraphQL reads it.

A body is UTF-8 JSON, one object (a batch, a JSON array, is refused: batching is off), its
`query` and `operationName` strings or null, its `variables` and `extensions` objects or
null, and nested no deeper than any input of the schema needs. Anything else is a
`BadRequest`: HTTP 400 with `extensions.code` BAD_REQUEST, before any GraphQL work.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from strawberry.http import GraphQLRequestData

# Our deepest input (a batch of readings in an input object in variables) is 4 levels below
# the body; a few times that leaves room, and bounds what walks a value recursively later.
MAX_NESTING = 32


class BadRequest(Exception):
    """The request is not a GraphQL-over-HTTP request; `status` is the HTTP status to answer."""

    def __init__(self, reason: str, status: int = 400) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


def decoded(raw: bytes | str, what: str = "request body") -> object:
    """JSON from UTF-8 text (no other encoding is guessed), or a BadRequest saying why not."""
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError:
        raise BadRequest(f"The {what} is not valid UTF-8") from None
    try:
        value = json.loads(text)
    except RecursionError:
        raise BadRequest(f"The {what} is nested too deeply") from None
    except ValueError as error:  # not JSON, or an integer of more digits than Python parses
        raise BadRequest(f"Unable to parse the {what} as JSON: {error}") from None
    # Only a text with that many brackets can nest that deep: most bodies skip the walk.
    if text.count("[") + text.count("{") > MAX_NESTING and nesting_of(value) > MAX_NESTING:
        raise BadRequest(f"The {what} is nested more than {MAX_NESTING} levels deep")
    return value


def nesting_of(value: object) -> int:
    """How many arrays and objects deep `value` goes, walked a level at a time (no recursion)."""
    deepest = 0
    level = [value] if isinstance(value, dict | list) else []
    while level:
        deepest += 1
        if deepest > MAX_NESTING:
            break
        below: list[dict[str, object] | list[object]] = []
        for item in level:
            children = item.values() if isinstance(item, dict) else item
            below.extend(child for child in children if isinstance(child, dict | list))
        level = below
    return deepest


def request_data(data: object, what: str = "request body") -> GraphQLRequestData:
    """The operation a decoded body (or GET's parameters) asks for, its members' types checked."""
    if isinstance(data, list):
        raise BadRequest("Batching is not enabled: send one operation as a JSON object")
    if not isinstance(data, Mapping):
        raise BadRequest(f"The {what} must be a JSON object, not {json_kind(data)}")
    query, operation_name = data.get("query"), data.get("operationName")
    variables, extensions = data.get("variables"), data.get("extensions")
    for name, value, kind, expected in (
        ("query", query, str, "a string"),
        ("operationName", operation_name, str, "a string"),
        ("variables", variables, dict, "an object"),
        ("extensions", extensions, dict, "an object"),
    ):
        if value is not None and not isinstance(value, kind):
            raise BadRequest(f"`{name}` must be {expected} or null, not {json_kind(value)}")
    if not query:
        raise BadRequest("No GraphQL query found in the request: `query` is missing or empty")
    return GraphQLRequestData(
        query=query, variables=variables, operation_name=operation_name, extensions=extensions
    )


def json_kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"
