"""Hostile requests over real HTTP, one case each: limits, floods, odd numbers, dates and text.

Every refusal is typed (a `UserError` naming the field, or a top-level error with
`extensions.code`) and leaves the tenant's log head where it was.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest

from okrledger.infra.db import Database
from tests.e2e.hostile import assert_answered_safely, head_of
from tests.e2e.kpi_steps import define_kpi, observed, record_reading
from tests.e2e.okr_steps import activate, add_key_result, set_objective, start_cycle
from tests.e2e.server import Api


@pytest.fixture
async def world(editor: Api) -> dict[str, str]:
    """Ids of a cycle, an active objective with a key result, a KPI and one of its readings."""
    cycle = await start_cycle(editor)
    objective = await set_objective(editor, cycle["id"])
    key_result = await add_key_result(editor, objective["id"])
    await activate(editor, objective["id"])
    kpi = await define_kpi(editor)
    reading = await record_reading(editor, kpi["id"], "5")
    return {
        "cycle": cycle["id"],
        "objective": objective["id"],
        "keyResult": key_result["id"],
        "kpi": kpi["id"],
        "reading": reading["readingId"],
    }


@pytest.fixture
async def unchanged(database: Database, tenant: str, world: dict[str, str]) -> AsyncIterator[None]:
    """The test's requests must all be refused: the log head is the same after them."""
    before = await head_of(database, tenant)
    yield
    assert await head_of(database, tenant) == before


class Raw(str):
    """A JSON number sent as written (`1e309`, `-0`), which Python's json cannot produce."""


def encoded(body: Any) -> bytes:
    raws: list[Raw] = []

    def mark(value: Any) -> Any:
        if isinstance(value, Raw):
            raws.append(value)
            return f"@raw{len(raws) - 1}@"
        if isinstance(value, dict):
            return {key: mark(item) for key, item in value.items()}
        if isinstance(value, list):
            return [mark(item) for item in value]
        return value

    text = json.dumps(mark(body))
    for index, raw in enumerate(raws):
        text = text.replace(f'"@raw{index}@"', str(raw))
    return text.encode()


async def post(api: Api, body: Any) -> dict[str, Any]:
    response = await api.client.post(
        "/graphql",
        content=encoded(body),
        headers={**api.headers, "content-type": "application/json"},
    )
    return assert_answered_safely(response)


async def mutate(api: Api, name: str, given: dict[str, Any]) -> dict[str, Any]:
    """The mutation's result, or the body when GraphQL refused the request itself."""
    input_type = name[0].upper() + name[1:] + "Input"
    body = await post(
        api,
        {
            "query": f"mutation($input: {input_type}!) {{ {name}(input: $input) {{ __typename "
            "... on UserError { code message field } "
            "... on KpiReadingsRefusedError { refusals { index code field } } } }",
            "variables": {"input": given},
        },
    )
    if body.get("errors"):
        return body
    result: dict[str, Any] = body["data"][name]
    return result


def refused_naming(result: dict[str, Any], field: str) -> bool:
    """A typed refusal that names `field`: a ValidationError, or a variable coercion error."""
    if "errors" in result:
        [error] = result["errors"]
        path = re.search(r"invalid value at ([\w.\[\]]+):", error["message"])
        return (
            error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
            and path is not None
            and path.group(1).rsplit(".", 1)[-1] == field
        )
    if result["__typename"] == "KpiReadingsRefusedError":  # a batch names each bad reading
        [refusal] = result["refusals"]
        return refusal["code"] == "VALIDATION" and refusal["field"] == field
    return result["__typename"] == "ValidationError" and result["field"] == field


# --- Limits and floods ---------------------------------------------------------------------


async def test_a_query_nested_past_the_depth_limit_is_refused_with_a_code(admin: Api) -> None:
    nested = "children { " * 12 + "id" + " }" * 12

    body = await post(admin, {"query": f"{{ objectives {{ edges {{ node {{ {nested} }} }} }} }}"})

    [error] = body["errors"]
    assert "exceeds maximum operation depth" in error["message"]
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert body.get("data") is None


async def test_a_query_with_too_many_aliases_is_refused_with_a_code(admin: Api) -> None:
    aliases = " ".join(f"a{i}: serverVersion" for i in range(31))

    body = await post(admin, {"query": f"{{ {aliases} }}"})

    [error] = body["errors"]
    assert "aliases" in error["message"]
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


async def test_a_ten_megabyte_body_is_refused_with_413(admin: Api, unchanged: None) -> None:
    padding = "x" * 10_000_000

    response = await admin.client.post(
        "/graphql",
        json={"query": "mutation { setOkrPolicy(input: {maxKeyResults: 3}) { __typename } }",
              "variables": {"padding": padding}},
        headers=admin.headers,
    )  # fmt: skip

    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"


async def test_a_batch_of_many_operations_in_one_post_is_refused_whole(
    admin: Api, unchanged: None
) -> None:
    one = {"query": "mutation { setOkrPolicy(input: {maxKeyResults: 3}) { __typename } }"}

    response = await admin.client.post("/graphql", json=[one] * 2000, headers=admin.headers)

    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert "Batching" in error["message"]


async def test_a_body_that_is_not_json_is_refused_with_a_json_error(admin: Api) -> None:
    response = await admin.client.post(
        "/graphql",
        content=b'{"query": "{ serverVersion }"',
        headers={**admin.headers, "content-type": "application/json"},
    )

    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "BAD_REQUEST"


async def test_a_document_that_does_not_parse_is_refused_with_a_code(admin: Api) -> None:
    body = await post(admin, {"query": "{ serverVersion "})

    [error] = body["errors"]
    assert error["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"


async def test_a_malformed_id_variable_is_refused_with_a_code(admin: Api) -> None:
    body = await post(
        admin, {"query": "query($id: UUID!) { objective(id: $id) { id } }", "variables": {"id": ""}}
    )

    [error] = body["errors"]
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "UUID" in error["message"]


# --- Numbers -------------------------------------------------------------------------------

HOSTILE_NUMBERS: list[Any] = [
    "NaN", "-NaN", "sNaN", "Infinity", "-Infinity", "1e999999999", "-1e999999999", "", "abc",
    Raw("1e309"), Raw("-1e309"), Raw("NaN"), Raw("Infinity"),
]  # fmt: skip
WORLD = dict.fromkeys(["cycle", "objective", "keyResult", "kpi", "reading"], "")


def numeric_inputs(world: dict[str, str], value: Any) -> list[tuple[str, dict[str, Any], str]]:
    """Every input that takes a value, with `value` in it: (mutation, input, field)."""
    kr = {"objectiveId": world["objective"], "keyResultId": world["keyResult"]}
    new_kr = {"objectiveId": world["objective"], "title": "K", "metric": "NUMBER"}
    return [
        ("checkInKeyResult", {**kr, "value": value, "confidence": "ON_TRACK"}, "value"),
        ("addKeyResult", {**new_kr, "start": value, "target": "10"}, "start"),
        ("addKeyResult", {**new_kr, "start": "0", "target": value}, "target"),
        ("addKeyResult", {**new_kr, "start": "0", "target": "10", "weight": value}, "weight"),
        ("reviseKeyResult", {**kr, "target": value}, "target"),
        ("gradeObjective", {"objectiveId": world["objective"], "score": value}, "score"),
        ("setKpiTarget", {"kpiId": world["kpi"], "target": value}, "target"),
        ("setKpiBands", {"kpiId": world["kpi"], "bands": {"green": value, "yellow": "1"}}, "green"),
        ("recordKpiReading", {"kpiId": world["kpi"], "value": value, "observedAt": observed()},
         "value"),
        ("recordKpiReadings", {"kpiId": world["kpi"],
                               "readings": [{"value": value, "observedAt": observed()}]}, "value"),
        ("correctKpiReading", {"kpiId": world["kpi"], "readingId": world["reading"],
                               "value": value, "reason": "typo"}, "value"),
    ]  # fmt: skip


def number_cases() -> list[Any]:
    cases = []
    for value in HOSTILE_NUMBERS:
        for index, (name, _, field) in enumerate(numeric_inputs(WORLD, value)):
            cases.append(pytest.param(value, index, id=f"{name}.{field}={value!r}"))
    return cases


@pytest.mark.parametrize(("value", "index"), number_cases())
async def test_a_number_that_is_not_finite_is_a_validation_error_naming_the_field(
    editor: Api, world: dict[str, str], unchanged: None, value: Any, index: int
) -> None:
    name, given, field = numeric_inputs(world, value)[index]

    result = await mutate(editor, name, given)

    assert refused_naming(result, field), result
