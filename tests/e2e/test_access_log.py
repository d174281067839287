"""The access log: one JSON line per GraphQL request, with what an operator greps for."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import orjson
import pytest

from okrledger.infra.logging import JsonFormatter
from okrledger.services.identity import Role
from tests.e2e.server import ApiClient


def logged(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    """The access log's lines, as the server writes them to stderr."""
    formatter = JsonFormatter()
    return [
        orjson.loads(formatter.format(record))
        for record in caplog.records
        if record.name == "okrledger.access"
    ]


@pytest.fixture(autouse=True)
def access_log(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="okrledger.access")


async def test_a_request_is_logged_once_with_its_id_tenant_operation_duration_and_status(
    client: ApiClient, tenant: str, caplog: pytest.LogCaptureFixture
) -> None:
    request_id = f"req-{uuid.uuid4().hex[:12]}"
    headers = {**client.bearer(tenant, "ana", Role.VIEWER), "X-Request-ID": request_id}

    response = await client.post(
        "/graphql", json={"query": "query WhoAmI { me { subject } }"}, headers=headers
    )

    assert response.status_code == 200
    [line] = [entry for entry in logged(caplog) if entry["request_id"] == request_id]
    assert line["message"] == "graphql request"
    assert line["tenant"] == tenant
    assert (line["operation"], line["operation_type"]) == ("WhoAmI", "query")
    assert (line["method"], line["status"], line["errors"]) == ("POST", 200, 0)
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] > 0


async def test_an_operation_answered_with_errors_is_logged_with_their_count(
    client: ApiClient, tenant: str, caplog: pytest.LogCaptureFixture
) -> None:
    request_id = f"req-{uuid.uuid4().hex[:12]}"
    headers = {**client.bearer(tenant, "ana", Role.VIEWER), "X-Request-ID": request_id}

    await client.post("/graphql", json={"query": "query Broken { noSuchField }"}, headers=headers)

    [line] = [entry for entry in logged(caplog) if entry["request_id"] == request_id]
    assert (line["operation"], line["errors"]) == ("Broken", 1)


async def test_a_request_refused_for_its_token_is_logged_with_status_401(
    client: ApiClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.clear()

    response = await client.post(
        "/graphql", json={"query": "{ me { subject } }"}, headers={"Authorization": "Bearer x"}
    )

    assert response.status_code == 401
    [line] = logged(caplog)
    assert (line["status"], line["tenant"], line["operation"]) == (401, None, None)


async def test_other_paths_are_not_in_the_access_log(
    client: ApiClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.clear()

    assert (await client.get("/healthz")).status_code == 200

    assert logged(caplog) == []


async def test_a_body_too_large_is_logged_with_status_413(
    client: ApiClient, tenant: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.clear()
    huge = "#" + "x" * 2_000_000 + "\n{ me { subject } }"

    response = await client.post(
        "/graphql", json={"query": huge}, headers=client.bearer(tenant, "ana", Role.VIEWER)
    )

    assert response.status_code == 413
    [line] = logged(caplog)
    assert (line["status"], line["operation"]) == (413, None)
