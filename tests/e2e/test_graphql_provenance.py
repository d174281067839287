"""Provenance over HTTP: a check-in's and a KPI reading's source (who, which integration,
which run, which client) and both times, as the history and the readings show them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from okrledger.services.identity import Role
from tests.e2e.kpi_steps import define_kpi, record_reading
from tests.e2e.okr_steps import OBJECTIVE, add_key_result, set_objective
from tests.e2e.read_steps import nodes, read
from tests.e2e.server import Api, ApiClient, as_caller

LATEST = """query($id: UUID!) {
  goalHistory(streamId: $id, first: 1, order: NEWEST_FIRST) { edges { node {
    eventType actor recordedAt observedAt source runId client changes { field to } } } } }"""
READINGS = """query($id: UUID!) { kpi(id: $id) { readings { edges { node {
    readingId value observedAt recordedAt source recordedBy runId client } } } } }"""


@pytest.fixture
def auditor(client: ApiClient, tenant: str) -> Api:
    return as_caller(client, tenant, Role.AUDITOR)


@pytest.fixture
def sync_bot(client: ApiClient, tenant: str) -> Api:
    """An editor calling through a named client application."""
    token = client.issuer.mint(tenant, "sync-bot", [Role.EDITOR], client_id="crm-connector")
    return Api(client, {"Authorization": f"Bearer {token}"})


async def check_in(api: Api, objective_id: str, key_result_id: str, **extra: Any) -> Any:
    return await api.mutate(
        "checkInKeyResult",
        {
            "objectiveId": objective_id,
            "keyResultId": key_result_id,
            "value": "40",
            "confidence": "ON_TRACK",
            **extra,
        },
        OBJECTIVE,
    )


async def test_a_check_in_shows_its_source_run_client_and_both_times_in_the_history(
    sync_bot: Api, auditor: Api
) -> None:
    objective = await set_objective(sync_bot)
    key_result = await add_key_result(sync_bot, objective["id"])
    observed = (datetime.now(UTC) - timedelta(days=2)).replace(microsecond=0)

    result = await check_in(
        sync_bot,
        objective["id"],
        key_result["id"],
        observedAt=observed.isoformat(),
        source=" hubspot ",
        runId="nightly-2026-11-29",
    )

    assert result["__typename"] == "CheckInKeyResultPayload", result
    [entry] = nodes((await read(auditor, LATEST, id=objective["id"]))["goalHistory"])
    assert entry["eventType"] == "KeyResultCheckedIn"
    assert (entry["actor"], entry["client"]) == ("sync-bot", "crm-connector")
    assert (entry["source"], entry["runId"]) == ("hubspot", "nightly-2026-11-29")
    assert datetime.fromisoformat(entry["observedAt"]) == observed
    assert datetime.fromisoformat(entry["recordedAt"]) > observed + timedelta(days=1)


async def test_a_check_in_without_an_observed_time_applied_when_it_was_recorded(
    editor: Api, auditor: Api
) -> None:
    objective = await set_objective(editor)
    key_result = await add_key_result(editor, objective["id"])

    await check_in(editor, objective["id"], key_result["id"])

    [entry] = nodes((await read(auditor, LATEST, id=objective["id"]))["goalHistory"])
    observed = datetime.fromisoformat(entry["observedAt"])
    recorded = datetime.fromisoformat(entry["recordedAt"])
    # The command's clock runs just before the append stamps the recorded time.
    assert observed <= recorded
    assert (entry["source"], entry["runId"], entry["client"]) == (None, None, "okrledger-dev")


async def test_a_check_in_observed_in_the_future_is_refused_and_changes_nothing(
    editor: Api, auditor: Api
) -> None:
    objective = await set_objective(editor)
    key_result = await add_key_result(editor, objective["id"])
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()

    result = await check_in(editor, objective["id"], key_result["id"], observedAt=later)

    assert (result["__typename"], result["field"]) == ("ValidationError", "observedAt")
    [entry] = nodes((await read(auditor, LATEST, id=objective["id"]))["goalHistory"])
    assert entry["eventType"] == "KeyResultAdded"


async def test_a_kpi_reading_shows_who_recorded_it_from_which_run_and_client_and_both_times(
    sync_bot: Api, auditor: Api
) -> None:
    kpi = await define_kpi(sync_bot)
    observed = (datetime.now(UTC) - timedelta(hours=3)).replace(microsecond=0)

    recorded = await record_reading(
        sync_bot,
        kpi["id"],
        "4.2",
        observedAt=observed.isoformat(),
        source="warehouse",
        runId="etl-981",
    )

    [reading] = nodes((await read(auditor, READINGS, id=kpi["id"]))["kpi"]["readings"])
    assert reading["readingId"] == recorded["readingId"]
    assert (reading["recordedBy"], reading["client"]) == ("sync-bot", "crm-connector")
    assert (reading["source"], reading["runId"]) == ("warehouse", "etl-981")
    assert datetime.fromisoformat(reading["observedAt"]) == observed
    assert datetime.fromisoformat(reading["recordedAt"]) > observed + timedelta(hours=2)


async def test_a_reading_without_a_run_has_none(editor: Api, auditor: Api) -> None:
    kpi = await define_kpi(editor)

    await record_reading(editor, kpi["id"], "1")

    [reading] = nodes((await read(auditor, READINGS, id=kpi["id"]))["kpi"]["readings"])
    assert (reading["recordedBy"], reading["source"], reading["runId"]) == (
        "user-editor",
        None,
        None,
    )
