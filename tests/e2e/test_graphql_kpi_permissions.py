"""The role matrix for KPI commands, readings, `events` and `goalEvents`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import uuid4

import pytest

from okrledger.services.identity import Role
from tests.e2e.kpi_steps import define_kpi, kpi_input, observed, record_reading
from tests.e2e.server import Api, ApiClient, as_caller
from tests.e2e.ws_steps import acknowledged, receive, socket, subscribe

KPI_EDITORS = {Role.ADMIN, Role.EDITOR}
READING_RECORDERS = {Role.ADMIN, Role.EDITOR, Role.INTEGRATOR}
EVENT_READERS = {Role.ADMIN, Role.AUDITOR, Role.INTEGRATOR}


def any_id() -> str:
    return str(uuid4())


def link() -> dict[str, Any]:
    return {"objectiveId": any_id(), "keyResultId": any_id(), "kpiId": any_id()}


# Each mutation with an input of the right shape (its ids need not exist) and who may run it.
MUTATIONS: dict[str, tuple[dict[str, Any], set[Role]]] = {
    "defineKpi": (kpi_input(), KPI_EDITORS),
    "reviseKpi": ({"kpiId": any_id(), "name": "N"}, KPI_EDITORS),
    "setKpiTarget": ({"kpiId": any_id(), "target": "1"}, KPI_EDITORS),
    "setKpiBands": ({"kpiId": any_id(), "bands": None}, KPI_EDITORS),
    "retireKpi": ({"kpiId": any_id()}, KPI_EDITORS),
    "linkKeyResultToKpi": (link(), KPI_EDITORS),
    "unlinkKeyResultFromKpi": ({"objectiveId": any_id(), "keyResultId": any_id()}, KPI_EDITORS),
    "recordKpiReading": (
        {"kpiId": any_id(), "value": "1", "observedAt": observed()},
        READING_RECORDERS,
    ),
    "recordKpiReadings": (
        {"kpiId": any_id(), "readings": [{"value": "1", "observedAt": observed()}]},
        READING_RECORDERS,
    ),
    # A KPI owner's act: integrators feed readings in, they do not rewrite them.
    "correctKpiReading": (
        {"kpiId": any_id(), "readingId": any_id(), "value": "1", "reason": "typo"},
        KPI_EDITORS,
    ),
}


async def run(api: Api, name: str) -> dict[str, Any]:
    given, _ = MUTATIONS[name]
    input_type = name[0].upper() + name[1:] + "Input"
    return await api.post(
        f"mutation($input: {input_type}!) {{ {name}(input: $input) {{ __typename }} }}",
        {"input": {**given, "key": f"k-{uuid4().hex[:8]}"} if name == "defineKpi" else given},
    )


def refused_with(body: dict[str, Any], code: str, field: str) -> bool:
    errors = [(e["extensions"]["code"], e["path"]) for e in body.get("errors", [])]
    return body["data"] is None and errors == [(code, [field])]


@pytest.mark.parametrize(
    ("name", "role", "allowed"),
    [
        pytest.param(name, role, role in allowed, id=f"{name}-{role.value}")
        for name, (_, allowed) in MUTATIONS.items()
        for role in Role
    ],
)
async def test_each_role_may_run_exactly_the_kpi_mutations_the_matrix_gives_it(
    client: ApiClient, tenant: str, name: str, role: Role, allowed: bool
) -> None:
    body = await run(as_caller(client, tenant, role), name)

    if allowed:
        assert "errors" not in body, body
        assert body["data"][name]["__typename"]
    else:
        assert refused_with(body, "FORBIDDEN", name), body


@pytest.mark.parametrize("name", list(MUTATIONS))
async def test_a_kpi_mutation_without_a_token_is_unauthenticated(
    client: ApiClient, name: str
) -> None:
    body = await run(Api(client, {}), name)

    assert refused_with(body, "UNAUTHENTICATED", name), body


@pytest.mark.parametrize(
    ("role", "allowed"),
    [pytest.param(role, role in EVENT_READERS, id=role.value) for role in Role],
)
async def test_each_role_may_read_events_exactly_as_the_matrix_says(
    client: ApiClient, tenant: str, role: Role, allowed: bool
) -> None:
    body = await as_caller(client, tenant, role).post("{ events { lastPosition } }")

    if allowed:
        assert body["data"]["events"] == {"lastPosition": 0}
    else:
        assert refused_with(body, "FORBIDDEN", "events"), body


async def test_events_without_a_token_is_unauthenticated(client: ApiClient) -> None:
    body = await Api(client, {}).post("{ events { lastPosition } }")

    assert refused_with(body, "UNAUTHENTICATED", "events"), body


@pytest.mark.parametrize("role", list(Role), ids=[role.value for role in Role])
async def test_every_role_may_subscribe_to_goal_events(
    api_url: str, client: ApiClient, tenant: str, role: Role
) -> None:
    editor = as_caller(client, tenant, Role.EDITOR)
    await editor.mutate("defineKpi", kpi_input(), "")

    async with socket(api_url, client.bearer(tenant, "someone", role)) as connection:
        await acknowledged(connection)
        await subscribe(connection)
        answer = await receive(connection)

    assert answer["type"] == "next"
    assert answer["payload"]["data"]["goalEvents"]["type"] == "kpi.defined.v1"


# What each reading command answers, with the KPI read back through its payload.
READ_BACK: dict[str, tuple[Callable[[str], dict[str, Any]], str]] = {
    "recordKpiReading": (
        lambda kpi_id: {"kpiId": kpi_id, "value": "41.5", "observedAt": observed()},
        "... on RecordKpiReadingPayload { recorded kpi { name readingCount } }",
    ),
    "recordKpiReadings": (
        lambda kpi_id: {"kpiId": kpi_id, "readings": [{"value": "41.5", "observedAt": observed()}]},
        "... on RecordKpiReadingsPayload { recorded kpi { name readingCount } }",
    ),
}


async def reading_count(api: Api, kpi_id: str) -> int:
    body = await api.post("query($id: UUID!) { kpi(id: $id) { readingCount } }", {"id": kpi_id})
    count: int = body["data"]["kpi"]["readingCount"]
    return count


@pytest.mark.parametrize("name", list(READ_BACK))
async def test_an_integrator_records_a_reading_but_its_payload_does_not_read_the_kpi(
    client: ApiClient, tenant: str, name: str
) -> None:
    editor = as_caller(client, tenant, Role.EDITOR)
    kpi = await define_kpi(editor)
    given, selection = READ_BACK[name]
    input_type = name[0].upper() + name[1:] + "Input"

    body = await as_caller(client, tenant, Role.INTEGRATOR).post(
        f"mutation($input: {input_type}!) {{ {name}(input: $input) {{ {selection} }} }}",
        {"input": given(kpi["id"])},
    )

    [error] = body["errors"]
    assert (error["extensions"]["code"], error["path"]) == ("FORBIDDEN", [name, "kpi"])
    assert body["data"][name]["kpi"] is None
    assert body["data"][name]["recorded"]  # True, or the list of ids recorded
    assert await reading_count(editor, kpi["id"]) == 1


@pytest.mark.parametrize("name", list(READ_BACK))
async def test_an_editor_reads_the_kpi_back_through_the_same_payload(
    client: ApiClient, tenant: str, name: str
) -> None:
    editor = as_caller(client, tenant, Role.EDITOR)
    kpi = await define_kpi(editor)
    given, selection = READ_BACK[name]
    input_type = name[0].upper() + name[1:] + "Input"

    body = await editor.post(
        f"mutation($input: {input_type}!) {{ {name}(input: $input) {{ {selection} }} }}",
        {"input": given(kpi["id"])},
    )

    assert "errors" not in body, body
    assert body["data"][name]["kpi"] == {"name": kpi["name"], "readingCount": 1}


async def test_an_integrator_may_not_correct_a_reading_and_the_reading_is_unchanged(
    client: ApiClient, tenant: str
) -> None:
    editor = as_caller(client, tenant, Role.EDITOR)
    integrator = as_caller(client, tenant, Role.INTEGRATOR)
    kpi = await define_kpi(editor)
    recorded = await record_reading(editor, kpi["id"], "40")

    body = await integrator.post(
        "mutation($input: CorrectKpiReadingInput!) { correctKpiReading(input: $input) "
        "{ __typename } }",
        {"input": {"kpiId": kpi["id"], "readingId": recorded["readingId"], "value": "4",
                   "reason": "typo"}},
    )  # fmt: skip

    assert refused_with(body, "FORBIDDEN", "correctKpiReading"), body
    latest = await editor.post(
        "query($id: UUID!) { kpi(id: $id) { latestReading { value } } }", {"id": kpi["id"]}
    )
    assert latest["data"]["kpi"]["latestReading"]["value"] == "40"
