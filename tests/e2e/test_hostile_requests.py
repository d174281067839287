"""Hostile requests at the transport, over real HTTP and WebSocket: malformed bodies, ill-typed
members, media types, over-long and ill-formed text, out-of-range cursors, huge headers and
messages. Each is refused with its status, a JSON body and a documented code, and a refused
write leaves the tenant's log head where it was.
"""

from __future__ import annotations

import asyncio
import base64
import json
import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from okrledger.infra.db import Database
from okrledger.services.identity import Role
from tests.e2e.hostile import head_of, leaks_in
from tests.e2e.okr_steps import set_objective, start_cycle
from tests.e2e.served import ServedProcess
from tests.e2e.server import Api, ApiClient
from tests.e2e.ws_steps import acknowledged
from tests.e2e.ws_steps import socket as ws_socket

START_CYCLE = (
    "mutation($input: StartCycleInput!) { startCycle(input: $input) { __typename "
    "... on UserError { code message field } } }"
)
GRAPHQL_RESPONSE = "application/graphql-response+json"


@pytest.fixture
async def unchanged(database: Database, tenant: str) -> AsyncIterator[None]:
    """Every request of the test is refused: the tenant's log head does not move."""
    before = await head_of(database, tenant)
    yield
    assert await head_of(database, tenant) == before


def cycle_input(**given: Any) -> dict[str, Any]:
    return {"name": "Q-hostile", "startsOn": "2027-01-01", "endsOn": "2027-03-31", **given}


def start_cycle_body(**given: Any) -> dict[str, Any]:
    return {"query": START_CYCLE, "variables": {"input": cycle_input(**given)}}


async def post_raw(
    api: Api, content: bytes, headers: dict[str, str] | None = None
) -> httpx.Response:
    return await api.client.post(
        "/graphql",
        content=content,
        headers={**api.headers, "content-type": "application/json", **(headers or {})},
    )


def refused_as_bad_request(response: httpx.Response, status: int = 400) -> str:
    """The status, a JSON body with one BAD_REQUEST error and no data; its message."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers.get("x-request-id")
    assert not leaks_in(response.text), response.text
    body = response.json()
    assert "data" not in body, body
    [error] = body["errors"]
    assert error["extensions"] == {"code": "BAD_REQUEST"}, body
    message: str = error["message"]
    return message


def only_error(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body = response.json()
    [error] = body["errors"]
    assert body["data"] is None, body
    result: dict[str, Any] = error
    return result


# --- Bodies that are not a GraphQL request -------------------------------------------------

NOT_AN_OPERATION = {
    "null": b"null",
    "number": b"42",
    "string": b'"x"',
    "true": b"true",
    "array (a batch)": b"[]",
    "empty": b"",
    "not json": b'{"query": "{ serverVersion }"',
    "invalid utf-8": b'{"query": "{ serverVersion }", "operationName": "\xff\xfe"}',
    "utf-16": '{"query": "{ serverVersion }"}'.encode("utf-16"),
    "1,000-deep array": b"[" * 1000 + b"]" * 1000,
    "40-deep variables": b'{"query": "{ serverVersion }", "variables": {"a": '
    + b"[" * 40
    + b"]" * 40
    + b"}}",
    "400-digit number": b"1" * 400,
    "5,000-digit number": b'{"query": "{ serverVersion }", "variables": {"a": '
    + b"1" * 5000
    + b"}}",
    "lone surrogate": b'"\\ud800"',
}


@pytest.mark.parametrize("content", NOT_AN_OPERATION.values(), ids=NOT_AN_OPERATION.keys())
async def test_a_body_that_is_not_one_json_object_is_a_400_bad_request(
    editor: Api, content: bytes
) -> None:
    response = await post_raw(editor, content)

    refused_as_bad_request(response)


ILL_TYPED = {
    "query number": ({"query": 5}, "query"),
    "query object": ({"query": {"a": 1}}, "query"),
    "query missing": ({"query": None}, "query"),
    "operationName number": ({"operationName": 5}, "operationName"),
    "operationName object": ({"operationName": {}}, "operationName"),
    "operationName boolean": ({"operationName": True}, "operationName"),
    "operationName array": ({"operationName": ["a"]}, "operationName"),
    "variables string": ({"variables": "{}"}, "variables"),
    "variables array": ({"variables": []}, "variables"),
    "extensions number": ({"extensions": 1}, "extensions"),
    "extensions array": ({"extensions": [1]}, "extensions"),
}


@pytest.mark.parametrize(("members", "named"), ILL_TYPED.values(), ids=ILL_TYPED.keys())
async def test_an_ill_typed_request_member_is_a_400_naming_it_and_runs_nothing(
    editor: Api, unchanged: None, members: dict[str, Any], named: str
) -> None:
    body = {**start_cycle_body(), **members}

    response = await post_raw(editor, json.dumps(body).encode())

    assert f"`{named}`" in refused_as_bad_request(response)


async def test_a_get_with_variables_that_are_not_json_is_a_400(editor: Api) -> None:
    response = await editor.client.get(
        "/graphql",
        params={"query": "query($a: Int) { serverVersion }", "variables": "{nope"},
        headers=editor.headers,
    )

    refused_as_bad_request(response)


# --- The GraphQL-over-HTTP rules -----------------------------------------------------------


async def test_a_mutation_over_get_is_405_with_the_allowed_methods(
    editor: Api, unchanged: None
) -> None:
    response = await editor.client.get(
        "/graphql",
        params={"query": 'mutation { startCycle(input: {name: "Q", startsOn: "2027-01-01", '
                'endsOn: "2027-03-31"}) { __typename } }'},
        headers=editor.headers,
    )  # fmt: skip

    refused_as_bad_request(response, 405)
    assert response.headers["allow"] == "GET, POST"


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_a_subscription_over_http_is_a_400_pointing_to_the_websocket(
    editor: Api, method: str
) -> None:
    query = "subscription { goalEvents { id } }"

    if method == "GET":
        response = await editor.client.get(
            "/graphql", params={"query": query}, headers=editor.headers
        )
    else:
        response = await post_raw(editor, json.dumps({"query": query}).encode())

    assert "WebSocket" in refused_as_bad_request(response)


async def test_a_method_other_than_get_and_post_is_405(editor: Api) -> None:
    response = await editor.client.put(
        "/graphql", json={"query": "{ serverVersion }"}, headers=editor.headers
    )

    refused_as_bad_request(response, 405)


async def test_a_body_in_another_media_type_is_415(editor: Api, unchanged: None) -> None:
    response = await post_raw(
        editor, json.dumps(start_cycle_body()).encode(), {"content-type": "text/plain"}
    )

    refused_as_bad_request(response, 415)


async def test_a_client_accepting_neither_json_type_gets_406(editor: Api) -> None:
    response = await post_raw(
        editor, b'{"query": "{ serverVersion }"}', {"accept": "text/html, image/png"}
    )

    refused_as_bad_request(response, 406)


@pytest.mark.parametrize(
    ("accept", "media_type"),
    [
        (None, "application/json"),
        ("*/*", "application/json"),
        ("application/json", "application/json"),
        (GRAPHQL_RESPONSE, GRAPHQL_RESPONSE),
        (f"application/json;q=0.9, {GRAPHQL_RESPONSE}", GRAPHQL_RESPONSE),
        (f"{GRAPHQL_RESPONSE};q=0.5, application/json", "application/json"),
        (f"{GRAPHQL_RESPONSE}, application/json", GRAPHQL_RESPONSE),
    ],
)
async def test_the_answer_is_in_the_media_type_the_accept_header_prefers(
    editor: Api, accept: str | None, media_type: str
) -> None:
    headers = {"accept": accept} if accept else {}
    editor.client.headers.pop("accept", None)  # httpx sends */* unless told otherwise

    response = await post_raw(editor, b'{"query": "{ serverVersion }"}', headers)

    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == media_type
    assert response.json()["data"]["serverVersion"]


REQUEST_ERRORS = {
    "does not parse": ({"query": "{ serverVersion "}, "GRAPHQL_PARSE_FAILED"),
    "does not validate": ({"query": "{ noSuchField }"}, "GRAPHQL_VALIDATION_FAILED"),
    "variables do not coerce": (
        {"query": "query($id: UUID!) { objective(id: $id) { id } }", "variables": {"id": 5}},
        "GRAPHQL_VALIDATION_FAILED",
    ),
    "refused text": (start_cycle_body(name="Q\u0000"), "VALIDATION"),
}


@pytest.mark.parametrize(("body", "code"), REQUEST_ERRORS.values(), ids=REQUEST_ERRORS.keys())
async def test_a_request_error_is_400_without_data_in_the_graphql_response_type(
    editor: Api, unchanged: None, body: dict[str, Any], code: str
) -> None:
    response = await post_raw(editor, json.dumps(body).encode(), {"accept": GRAPHQL_RESPONSE})

    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == f"{GRAPHQL_RESPONSE}; charset=utf-8"
    answer = response.json()
    assert "data" not in answer
    assert answer["errors"][0]["extensions"]["code"] == code


@pytest.mark.parametrize(("body", "code"), REQUEST_ERRORS.values(), ids=REQUEST_ERRORS.keys())
async def test_a_request_error_stays_200_with_null_data_in_application_json(
    editor: Api, unchanged: None, body: dict[str, Any], code: str
) -> None:
    response = await post_raw(editor, json.dumps(body).encode(), {"accept": "application/json"})

    assert only_error(response)["extensions"]["code"] == code


async def test_a_field_error_is_an_execution_result_with_200_in_either_type(
    client: ApiClient,
) -> None:
    for accept in (GRAPHQL_RESPONSE, "application/json"):
        response = await client.post(
            "/graphql", json={"query": "{ me { subject } }"}, headers={"accept": accept}
        )

        assert response.status_code == 200
        body = response.json()
        assert body["data"] is None
        assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


# --- Refusals before GraphQL carry the request id ------------------------------------------


async def test_a_401_carries_the_request_id_given_or_a_fresh_one(client: ApiClient) -> None:
    given = await client.post(
        "/graphql",
        json={"query": "{ serverVersion }"},
        headers={"authorization": "Bearer nonsense", "x-request-id": "trace-401"},
    )
    fresh = await client.post(
        "/graphql", json={"query": "{ serverVersion }"}, headers={"authorization": "Bearer x"}
    )

    assert (given.status_code, fresh.status_code) == (401, 401)
    assert given.headers["x-request-id"] == "trace-401"
    assert len(fresh.headers["x-request-id"]) == 32
    assert fresh.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_413_carries_the_request_id(editor: Api, unchanged: None) -> None:
    body = start_cycle_body(name="x" * 1_100_000)

    response = await post_raw(editor, json.dumps(body).encode(), {"x-request-id": "big-1"})

    assert response.status_code == 413
    assert response.headers["x-request-id"] == "big-1"
    assert response.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"


# --- Text: caps and lone surrogates --------------------------------------------------------


async def mutate(api: Api, body: dict[str, Any]) -> dict[str, Any]:
    response = await post_raw(api, json.dumps(body).encode())
    assert response.status_code == 200, response.text
    assert not leaks_in(response.text), response.text
    answer: dict[str, Any] = response.json()
    return answer


def refusal(answer: dict[str, Any]) -> tuple[str, str | None, str]:
    """(code, field, message) of a top-level error or of a typed UserError."""
    if answer.get("errors"):
        [error] = answer["errors"]
        return error["extensions"]["code"], error["extensions"].get("field"), error["message"]
    [result] = answer["data"].values()
    assert result["__typename"] == "ValidationError", result
    return result["code"], result["field"], result["message"]


OVER_CAPS = {
    "900,000-character reason": ({"reason": "r" * 900_000}, "reason", "10000"),
    "2,001-character reason": ({"reason": "r" * 2001}, "reason", "2000"),
    "2,800-character commandId": ({"commandId": "c" * 2800}, "commandId", "200"),
    "101-character cycle name": ({"name": "n" * 101}, "name", "100"),
    "lone surrogate in the name": ({"name": "Q\ud800"}, "name", "lone surrogate"),
    "lone low surrogate in the reason": ({"reason": "why \udc00"}, "reason", "lone surrogate"),
}


@pytest.mark.parametrize(("given", "field", "said"), OVER_CAPS.values(), ids=OVER_CAPS.keys())
async def test_text_over_its_cap_or_with_a_lone_surrogate_is_validation_naming_the_field(
    editor: Api, unchanged: None, given: dict[str, Any], field: str, said: str
) -> None:
    answer = await mutate(editor, start_cycle_body(**given))

    code, named, message = refusal(answer)
    assert (code, named) == ("VALIDATION", field), answer
    assert said in message


async def test_a_title_with_a_lone_surrogate_is_refused_and_not_masked(
    editor: Api, database: Database, tenant: str
) -> None:
    objective = await set_objective(editor)
    before = await head_of(database, tenant)

    answer = await mutate(
        editor,
        {
            "query": "mutation($input: ReviseObjectiveInput!) { reviseObjective(input: $input) "
            "{ __typename ... on UserError { code field } } }",
            "variables": {"input": {"objectiveId": objective["id"], "title": "T \ud83d!"}},
        },
    )

    assert refusal(answer)[:2] == ("VALIDATION", "title")
    assert await head_of(database, tenant) == before


async def test_a_lone_surrogate_written_in_the_document_does_not_parse(
    editor: Api, unchanged: None
) -> None:
    query = (
        'mutation { startCycle(input: {name: "Q\\ud800", startsOn: "2027-01-01", '
        'endsOn: "2027-03-31"}) { __typename } }'
    )

    answer = await mutate(editor, {"query": query})

    assert refusal(answer)[0] == "GRAPHQL_PARSE_FAILED"


async def test_a_reason_at_its_cap_is_kept_whole(editor: Api) -> None:
    cycle = await start_cycle(editor)
    reason = "because " * 250  # 2,000 characters

    answer = await mutate(
        editor,
        {
            "query": "mutation($input: CloseCycleInput!) { closeCycle(input: $input) "
            "{ __typename } }",
            "variables": {"input": {"cycleId": cycle["id"], "reason": reason}},
        },
    )

    assert answer["data"]["closeCycle"]["__typename"] == "CloseCyclePayload", answer


# --- Cursors and positions -----------------------------------------------------------------


def cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


BAD_CURSORS = {
    "above int64": cursor("change:" + "9" * 30),
    "2**63": cursor(f"change:{2**63}"),
    "negative": cursor("change:-1"),
    "2,800 characters": cursor("change:1") * 200,
}


@pytest.mark.parametrize("after", BAD_CURSORS.values(), ids=BAD_CURSORS.keys())
async def test_a_cursor_out_of_range_is_validation_naming_after(
    client: ApiClient, tenant: str, after: str
) -> None:
    auditor = client.bearer(tenant, "auditor", Role.AUDITOR)

    response = await client.post(
        "/graphql",
        json={"query": "query($a: String) { auditLog(after: $a) { edges { cursor } } }",
              "variables": {"a": after}},
        headers=auditor,
    )  # fmt: skip

    error = only_error(response)
    assert error["extensions"] == {"code": "VALIDATION", "field": "after"}, error


@pytest.mark.parametrize(
    ("arguments", "field"),
    [("first: -1", "first"), ("first: 0", "first"), ("first: 1001", "first"),
     ("afterPosition: -1", "afterPosition"), ('types: ["no.such.v1"]', "types")],
)  # fmt: skip
async def test_a_bad_argument_of_the_event_log_is_validation_naming_it(
    client: ApiClient, tenant: str, arguments: str, field: str
) -> None:
    integrator = client.bearer(tenant, "integrator", Role.INTEGRATOR)

    response = await client.post(
        "/graphql", json={"query": f"{{ events({arguments}) {{ lastPosition }} }}"},
        headers=integrator,
    )  # fmt: skip

    assert only_error(response)["extensions"] == {"code": "VALIDATION", "field": field}


BEYOND_32_BITS = {
    "as-of position written in": ("{ cycles(asOf: {position: 99999999999}) { id } }", None,
                                  "position"),
    "as-of position in a variable": ("query($a: AsOfInput) { cycles(asOf: $a) { id } }",
                                     {"a": {"position": 2**40}}, "position"),
    "events after": ("{ events(afterPosition: 3000000000) { lastPosition } }", None,
                     "afterPosition"),
    "events first": ("query($f: Int!) { events(first: $f) { lastPosition } }", {"f": -(2**33)},
                     "f"),
}  # fmt: skip


@pytest.mark.parametrize(
    ("query", "variables", "field"), BEYOND_32_BITS.values(), ids=BEYOND_32_BITS.keys()
)
async def test_a_position_or_size_beyond_32_bits_is_validation_naming_the_field(
    client: ApiClient, tenant: str, query: str, variables: dict[str, Any] | None, field: str
) -> None:
    admin = client.bearer(tenant, "admin", Role.ADMIN)

    response = await client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=admin
    )

    assert only_error(response)["extensions"] == {"code": "VALIDATION", "field": field}


async def test_a_negative_as_of_position_is_validation_naming_as_of(
    client: ApiClient, tenant: str
) -> None:
    viewer = client.bearer(tenant, "viewer", Role.VIEWER)

    response = await client.post(
        "/graphql", json={"query": "{ cycles(asOf: {position: -1}) { id } }"}, headers=viewer
    )

    assert only_error(response)["extensions"] == {"code": "VALIDATION", "field": "asOf"}


# --- Headers -------------------------------------------------------------------------------


def send_huge_header(url: str, size: int) -> tuple[int, bytes]:
    """Stream a request whose Authorization header is `size` bytes; (bytes sent, answer)."""
    host, port = url.removeprefix("http://").split(":")
    sent = 0
    with socket.create_connection((host, int(port)), timeout=30) as connection:
        connection.sendall(
            b"POST /graphql HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\n"
            b"Authorization: Bearer "
        )
        chunk = b"a" * 65536
        try:
            while sent < size:
                connection.sendall(chunk)
                sent += len(chunk)
            connection.sendall(b"\r\ncontent-length: 2\r\n\r\n{}")
        except OSError:
            pass  # the server closed the connection: what we want
        answer = b""
        try:
            while part := connection.recv(4096):
                answer += part
        except OSError:
            pass
    return sent, answer


def refused_with_431(answer: bytes) -> None:
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 431 "), answer[:300]
    assert json.loads(body)["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


async def test_a_header_over_16_kb_is_refused_with_431_and_the_server_keeps_serving(
    client: ApiClient, api_url: str
) -> None:
    _, answer = await asyncio.to_thread(send_huge_header, api_url, 20_000)
    after = await client.post("/graphql", json={"query": "{ serverVersion }"})

    refused_with_431(answer)
    assert after.status_code == 200


@pytest.mark.slow
async def test_okrledger_serve_refuses_a_50_mb_header_before_reading_it(
    owner_dsn: str, tmp_path: Path
) -> None:
    served = ServedProcess(tmp_path / "data", owner_dsn)
    served.start()
    try:
        await served.wait_ready()
        began = time.monotonic()
        sent, answer = await asyncio.to_thread(send_huge_header, served.url, 50_000_000)
        took = time.monotonic() - began
        async with httpx.AsyncClient() as http:
            after = await http.get(f"{served.url}/healthz")
    finally:
        served.stop()

    refused_with_431(answer)
    assert sent < 5_000_000, f"{sent} bytes were taken before the refusal ({took:.1f} s)"
    assert after.status_code == 200


# --- WebSocket -----------------------------------------------------------------------------


async def closed_with(connection: ClientConnection) -> tuple[int | None, str]:
    """Reads until the server closes the socket (any answer before that is ignored)."""
    try:
        while True:
            await asyncio.wait_for(connection.recv(), 15)
    except ConnectionClosed:
        return connection.close_code, connection.close_reason or ""


async def subscribe_message(connection: ClientConnection, payload: object) -> None:
    await connection.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))


async def test_a_websocket_message_over_the_body_limit_closes_the_socket_with_4413(
    api_url: str, client: ApiClient, tenant: str, unchanged: None
) -> None:
    async with ws_socket(api_url, client.bearer(tenant, "ed", Role.EDITOR)) as connection:
        await acknowledged(connection)
        await subscribe_message(connection, start_cycle_body(name="x" * 1_100_000))

        code, reason = await closed_with(connection)

    assert code == 4413
    assert "at most 1000000 bytes" in reason


WS_INVALID = {
    "not json": "{nope",
    "a number": "42",
    "1,000-deep array": "[" * 1000 + "]" * 1000,
}


@pytest.mark.parametrize("message", WS_INVALID.values(), ids=WS_INVALID.keys())
async def test_a_websocket_message_that_is_not_a_json_object_closes_with_4400(
    api_url: str, client: ApiClient, tenant: str, message: str
) -> None:
    async with ws_socket(api_url, client.bearer(tenant, "ed", Role.EDITOR)) as connection:
        await acknowledged(connection)
        await connection.send(message)

        code, _ = await closed_with(connection)

    assert code == 4400


WS_ILL_TYPED = {
    "payload number": 7,
    "query number": {"query": 5},
    "operationName number": {"query": "{ serverVersion }", "operationName": 5},
    "variables string": {"query": "{ serverVersion }", "variables": "{}"},
}


@pytest.mark.parametrize("payload", WS_ILL_TYPED.values(), ids=WS_ILL_TYPED.keys())
async def test_an_ill_typed_subscribe_payload_closes_with_4400_naming_it(
    api_url: str, client: ApiClient, tenant: str, payload: object
) -> None:
    async with ws_socket(api_url, client.bearer(tenant, "ed", Role.EDITOR)) as connection:
        await acknowledged(connection)
        await subscribe_message(connection, payload)

        code, reason = await closed_with(connection)

    assert code == 4400
    assert "must be" in reason


@pytest.mark.parametrize(("given", "field", "said"), OVER_CAPS.values(), ids=OVER_CAPS.keys())
async def test_text_refused_over_http_is_refused_alike_over_the_websocket(
    api_url: str,
    client: ApiClient,
    tenant: str,
    unchanged: None,
    given: dict[str, Any],
    field: str,
    said: str,
) -> None:
    async with ws_socket(api_url, client.bearer(tenant, "ed", Role.EDITOR)) as connection:
        await acknowledged(connection)
        await subscribe_message(connection, start_cycle_body(**given))
        answer = json.loads(await asyncio.wait_for(connection.recv(), 15))

    assert answer["type"] == "next", answer
    code, named, message = refusal(answer["payload"])
    assert (code, named) == ("VALIDATION", field)
    assert said in message
