"""The GraphQL-over-HTTP rules a request meets before GraphQL reads it, one rule a test."""

from __future__ import annotations

import pytest

from okrledger.graphql.http_request import MAX_NESTING, BadRequest, decoded, request_data
from okrledger.graphql.media_types import GRAPHQL_RESPONSE, JSON, negotiated


def test_a_body_is_utf_8_json_and_no_other_encoding_is_guessed() -> None:
    assert decoded(b'{"query": "{ a }"}') == {"query": "{ a }"}
    with pytest.raises(BadRequest, match="UTF-8"):
        decoded('{"query": "{ a }"}'.encode("utf-16"))


@pytest.mark.parametrize(
    "raw",
    [b"", b"{", b"[" * 1000 + b"]" * 1000, b"1" * 5000],
    ids=["empty", "cut", "deep", "digits"],
)
def test_what_json_cannot_decode_is_a_bad_request_not_an_exception(raw: bytes) -> None:
    with pytest.raises(BadRequest) as refused:
        decoded(raw)

    assert refused.value.status == 400


def test_a_body_nested_deeper_than_any_input_needs_is_a_bad_request() -> None:
    nested = "[" * (MAX_NESTING + 1) + "]" * (MAX_NESTING + 1)

    with pytest.raises(BadRequest, match="nested"):
        decoded(nested)
    assert decoded("[" * MAX_NESTING + "]" * MAX_NESTING) is not None


@pytest.mark.parametrize("body", [None, 42, "x", True], ids=["null", "number", "string", "true"])
def test_a_body_that_is_not_an_object_is_a_bad_request_naming_what_it_is(body: object) -> None:
    with pytest.raises(BadRequest, match="must be a JSON object"):
        request_data(body)


def test_a_batch_is_refused_because_batching_is_off() -> None:
    with pytest.raises(BadRequest, match="Batching is not enabled"):
        request_data([{"query": "{ a }"}])


@pytest.mark.parametrize(
    ("member", "value"),
    [("query", 5), ("operationName", 5), ("operationName", []), ("variables", "{}"),
     ("extensions", [1])],
)  # fmt: skip
def test_an_ill_typed_member_is_a_bad_request_naming_it(member: str, value: object) -> None:
    with pytest.raises(BadRequest, match=f"`{member}` must be"):
        request_data({"query": "{ a }", member: value})


def test_a_request_without_a_query_is_a_bad_request() -> None:
    with pytest.raises(BadRequest, match="No GraphQL query"):
        request_data({"variables": {}})


def test_null_members_are_the_same_as_absent_ones() -> None:
    data = request_data(
        {"query": "{ a }", "operationName": None, "variables": None, "extensions": None}
    )

    assert (data.query, data.operation_name, data.variables) == ("{ a }", None, None)


@pytest.mark.parametrize(
    ("accept", "chosen"),
    [
        (None, JSON),
        ("", JSON),
        ("*/*", JSON),
        ("application/*", JSON),
        ("application/json", JSON),
        (GRAPHQL_RESPONSE, GRAPHQL_RESPONSE),
        (f"{GRAPHQL_RESPONSE}, application/json", GRAPHQL_RESPONSE),
        (f"application/json, {GRAPHQL_RESPONSE}", JSON),
        (f"application/json;q=0.9, {GRAPHQL_RESPONSE}", GRAPHQL_RESPONSE),
        (f"*/*, {GRAPHQL_RESPONSE};q=0.5", JSON),
        (f"*/*;q=0.8, {GRAPHQL_RESPONSE}", GRAPHQL_RESPONSE),
        (f"{GRAPHQL_RESPONSE};q=0, application/json", JSON),
        ("text/html", None),
        ("application/json;q=0", None),
        ("application/json;q=nan", None),
    ],
)
def test_the_media_type_is_the_acceptable_one_of_highest_quality(
    accept: str | None, chosen: str | None
) -> None:
    assert negotiated(accept) == chosen
