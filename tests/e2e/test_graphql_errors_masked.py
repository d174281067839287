"""An unexpected failure reaches the client masked; the log keeps it with the request id."""

from __future__ import annotations

import logging

import pytest

from okrledger.services import cycles
from tests.e2e.okr_steps import CYCLE
from tests.e2e.server import Api


async def test_an_unexpected_exception_is_masked_and_logged_with_the_request_id(
    editor: Api, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(*args: object) -> None:
        raise RuntimeError("password=hunter2 at db.internal:5432")

    monkeypatch.setattr(cycles, "start_cycle", broken)
    caplog.set_level(logging.INFO, logger="okrledger.graphql")

    response = await editor.client.post(
        "/graphql",
        json={
            "query": "mutation($input: StartCycleInput!) { startCycle(input: $input) "
            f"{{ __typename {CYCLE} }} }}",
            "variables": {"input": {"name": "Q", "startsOn": "2026-10-01", "endsOn": "2026-12-31"}},
        },
        headers={**editor.headers, "x-request-id": "req-42"},
    )

    assert response.status_code == 200
    assert "hunter2" not in response.text
    assert "Traceback" not in response.text
    [error] = response.json()["errors"]
    assert error["message"] == "Unexpected error."
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR", "requestId": "req-42"}
    assert response.headers["x-request-id"] == "req-42"
    [logged] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert getattr(logged, "request_id", None) == "req-42"
    assert logged.exc_info is not None and "hunter2" in str(logged.exc_info[1])
