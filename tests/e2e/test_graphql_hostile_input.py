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


BATCH_REFUSALS = {
    "recordKpiReadings": "... on KpiReadingsRefusedError { refusals { index code field } }"
}


async def mutate(api: Api, name: str, given: dict[str, Any]) -> dict[str, Any]:
    """The mutation's result, or the body when GraphQL refused the request itself."""
    input_type = name[0].upper() + name[1:] + "Input"
    body = await post(
        api,
        {
            "query": f"mutation($input: {input_type}!) {{ {name}(input: $input) {{ __typename "
            f"... on UserError {{ code message field }} {BATCH_REFUSALS.get(name, '')} }} }}",
            "variables": {"input": given},
        },
    )
    if body.get("errors"):
        return body
    result: dict[str, Any] = body["data"][name]
    return result


def refused_naming(result: dict[str, Any], field: str) -> bool:
    """A typed refusal that names `field`: a ValidationError, or a top-level error (a variable
    that does not coerce, or text refused before any resolver) that names it."""
    if "errors" in result:
        [error] = result["errors"]
        extensions = error["extensions"]
        if extensions["code"] == "VALIDATION":
            return bool(extensions.get("field") == field)
        path = re.search(r"invalid value at ([\w.\[\]]+):", error["message"])
        return (
            extensions["code"] == "GRAPHQL_VALIDATION_FAILED"
            and path is not None
            and path.group(1).rsplit(".", 1)[-1] == field
        )
    if result["__typename"] == "KpiReadingsRefusedError":  # a batch names each bad reading
        [refusal] = result["refusals"]
        return bool(refusal["code"] == "VALIDATION" and refusal["field"] == field)
    return bool(result["__typename"] == "ValidationError" and result["field"] == field)


# --- Limits and floods ---------------------------------------------------------------------


async def test_a_query_nested_past_the_depth_limit_is_refused_with_a_code(admin: Api) -> None:
    # Through `parent`, one object a level, so the depth and not the cost is what refuses it.
    nested = "parent { " * 12 + "id" + " }" * 12

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


# --- Dates and times -----------------------------------------------------------------------

HOSTILE_DATES = ["9999-12-31", "10000-01-01", "1969-12-31", "0001-01-01", "", "2026-02-30"]
HOSTILE_MOMENTS = [
    "9999-12-31T23:59:59+00:00", "9999-12-31T23:59:59-12:00", "+10000-01-01T00:00:00Z",
    "1969-12-31T23:59:59Z", "0001-01-01T00:00:00+14:00", "", "2026-13-01T00:00:00Z",
]  # fmt: skip


@pytest.mark.parametrize("value", HOSTILE_DATES)
@pytest.mark.parametrize("field", ["startsOn", "endsOn"])
async def test_a_cycle_date_far_in_the_future_or_before_1970_is_refused_naming_the_field(
    editor: Api, unchanged: None, field: str, value: str
) -> None:
    given = {"name": "Q", "startsOn": "2026-10-01", "endsOn": "2026-12-31", field: value}

    result = await mutate(editor, "startCycle", given)

    assert refused_naming(result, field), result


@pytest.mark.parametrize("value", HOSTILE_MOMENTS)
@pytest.mark.parametrize("batch", [False, True], ids=["one", "batch"])
async def test_a_reading_observed_far_in_the_future_or_before_1970_is_refused(
    editor: Api, world: dict[str, str], unchanged: None, value: str, batch: bool
) -> None:
    reading = {"value": "1", "observedAt": value}

    if batch:
        result = await mutate(
            editor, "recordKpiReadings", {"kpiId": world["kpi"], "readings": [reading]}
        )
    else:
        result = await mutate(editor, "recordKpiReading", {"kpiId": world["kpi"], **reading})

    assert refused_naming(result, "observedAt"), result


def moment_reads(world: dict[str, str]) -> list[tuple[str, str]]:
    """Every read that takes a moment, as (document with $t, argument name)."""
    kpi, cycle, objective = world["kpi"], world["cycle"], world["objective"]
    return [
        ("query($t: DateTime!) { cycles(asOf: {time: $t}) { id } }", "time"),
        (f'query($t: DateTime!) {{ objective(id: "{objective}", asOf: {{time: $t}}) {{ id }} }}',
         "time"),
        (f'query($t: DateTime!) {{ okrTree(cycle: "{cycle}", asOf: {{time: $t}}) '
         "{ cycle { id } } }", "time"),
        (f'query($t: DateTime!) {{ kpi(id: "{kpi}", asOf: {{time: $t}}) {{ id }} }}', "time"),
        ("query($t: DateTime!) { auditLog(filter: {from: $t}) { edges { cursor } } }", "from"),
        ("query($t: DateTime!) { auditLog(filter: {to: $t}) { edges { cursor } } }", "to"),
        (f'query($t: DateTime!) {{ kpi(id: "{kpi}") {{ readings(from: $t) '
         "{ edges { cursor } } } }", "from"),
        (f'query($t: DateTime!) {{ kpi(id: "{kpi}") {{ history(from: $t, '
         'to: "2026-12-31T00:00:00Z", bucket: DAY, aggregate: AVG) { value } } }', "from"),
    ]  # fmt: skip


@pytest.mark.parametrize("value", HOSTILE_MOMENTS)
@pytest.mark.parametrize("index", range(8))
async def test_a_read_at_a_moment_far_in_the_future_or_before_1970_is_a_typed_error(
    admin: Api, world: dict[str, str], value: str, index: int
) -> None:
    query, _ = moment_reads(world)[index]

    body = await post(admin, {"query": query, "variables": {"t": value}})

    [error] = body["errors"]
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED", body
    assert "cannot represent a DateTime" in error["message"], body


# --- Text ----------------------------------------------------------------------------------


def text_inputs(world: dict[str, str], text: str) -> list[tuple[str, dict[str, Any], str]]:
    """Every input that takes text, with `text` in it: (mutation, input, field)."""
    objective, kpi = world["objective"], world["kpi"]
    kr = {"objectiveId": objective, "keyResultId": world["keyResult"]}
    cycle = {"name": "Q", "startsOn": "2027-01-01", "endsOn": "2027-03-31"}
    new_objective = {"cycleId": world["cycle"], "title": "T", "owner": "ana"}
    new_kr = {
        "objectiveId": objective,
        "title": "K",
        "metric": "NUMBER",
        "start": "0",
        "target": "1",
    }
    new_kpi = {
        "name": "N",
        "key": "k-2",
        "unit": "%",
        "direction": "HIGHER_IS_BETTER",
        "area": "A",
        "cadence": "DAILY",
    }
    reading = {"kpiId": kpi, "value": "1", "observedAt": observed()}
    return [
        ("startCycle", {**cycle, "name": text}, "name"),
        ("setObjective", {**new_objective, "title": text}, "title"),
        ("setObjective", {**new_objective, "owner": text}, "owner"),
        ("setObjective", {**new_objective, "description": text}, "description"),
        ("setObjective", {**new_objective, "team": text}, "team"),
        ("reviseObjective", {"objectiveId": objective, "title": text}, "title"),
        ("reviseObjective", {"objectiveId": objective, "description": text}, "description"),
        ("assignObjectiveOwner", {"objectiveId": objective, "owner": text}, "owner"),
        ("addKeyResult", {**new_kr, "title": text}, "title"),
        ("addKeyResult", {**new_kr, "unit": text}, "unit"),
        ("reviseKeyResult", {**kr, "title": text}, "title"),
        ("checkInKeyResult", {**kr, "value": "2", "confidence": "ON_TRACK", "note": text},
         "note"),
        ("defineKpi", {**new_kpi, "name": text}, "name"),
        ("defineKpi", {**new_kpi, "key": text}, "key"),
        ("defineKpi", {**new_kpi, "area": text}, "area"),
        ("defineKpi", {**new_kpi, "unit": text}, "unit"),
        ("reviseKpi", {"kpiId": kpi, "name": text}, "name"),
        ("recordKpiReading", {**reading, "source": text}, "source"),
        ("correctKpiReading", {"kpiId": kpi, "readingId": world["reading"], "value": "6",
                               "reason": text}, "reason"),
        ("reviseObjective", {"objectiveId": objective, "title": "T2", "reason": text}, "reason"),
        ("reviseObjective", {"objectiveId": objective, "title": "T2", "commandId": text},
         "commandId"),
    ]  # fmt: skip


TEXT_FIELDS = [f"{name}.{field}" for name, _, field in text_inputs(WORLD, "")]
NUL_TEXTS = {"nul": "ab\u0000cd", "escape": "ab\u001bcd", "only-nul": "\u0000"}


@pytest.mark.parametrize("text", NUL_TEXTS.values(), ids=NUL_TEXTS.keys())
@pytest.mark.parametrize("index", range(len(TEXT_FIELDS)), ids=TEXT_FIELDS)
async def test_text_with_a_nul_or_control_character_is_refused_naming_the_field(
    editor: Api, world: dict[str, str], unchanged: None, text: str, index: int
) -> None:
    name, given, field = text_inputs(world, text)[index]

    result = await mutate(editor, name, given)

    assert refused_naming(result, field), result


REQUIRED_TEXT = [i for i, f in enumerate(TEXT_FIELDS) if f.rsplit(".", 1)[1] in
                 {"name", "title", "owner", "key", "area", "reason"}
                 and not f.startswith("reviseObjective.reason")]  # fmt: skip


@pytest.mark.parametrize("text", ["", "   ", "\u200b"], ids=["empty", "blank", "zero-width"])
@pytest.mark.parametrize("index", REQUIRED_TEXT, ids=[TEXT_FIELDS[i] for i in REQUIRED_TEXT])
async def test_an_empty_required_text_is_refused_naming_the_field(
    editor: Api, world: dict[str, str], unchanged: None, text: str, index: int
) -> None:
    name, given, field = text_inputs(world, text)[index]

    result = await mutate(editor, name, given)

    assert refused_naming(result, field), result


async def test_right_to_left_text_and_emoji_are_kept_exactly(editor: Api) -> None:
    title = "\u05e9\u05dc\u05d5\u05dd \u0645\u0631\u062d\u0628\u0627 \U0001f680\U0001f1fa\U0001f1f8"

    objective = await set_objective(editor, title=title, owner="\u0639\u0644\u064a")

    assert (objective["title"], objective["owner"]) == (title, "\u0639\u0644\u064a")


@pytest.mark.parametrize("zero", ["-0", "-0.000", Raw("-0.0")], ids=["text", "places", "number"])
async def test_negative_zero_is_checked_in_as_zero(
    editor: Api, world: dict[str, str], zero: Any
) -> None:
    given = {"objectiveId": world["objective"], "keyResultId": world["keyResult"],
             "value": zero, "confidence": "ON_TRACK"}  # fmt: skip

    await mutate(editor, "checkInKeyResult", given)
    body = await post(
        editor,
        {"query": "query($k: UUID!) { keyResult(id: $k) { current } }",
         "variables": {"k": world["keyResult"]}},
    )  # fmt: skip

    assert body["data"]["keyResult"]["current"] == "0"
