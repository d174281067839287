"""Small reads over the API for the query tests."""

from __future__ import annotations

from typing import Any

from tests.e2e.okr_steps import OBJECTIVE
from tests.e2e.server import Api

CHANGE = (
    "position eventType actor recordedAt reason summary changes { field from to goalpostMoved }"
)


async def read(api: Api, query: str, **variables: Any) -> dict[str, Any]:
    """The `data` of a query that must succeed."""
    body = await api.post(query, variables)
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


async def refused(api: Api, query: str, **variables: Any) -> dict[str, Any]:
    """The one error of a query that must fail."""
    body = await api.post(query, variables)
    assert body.get("errors"), body
    [error] = body["errors"]
    found: dict[str, Any] = error
    return found


async def revise_target(
    api: Api, objective_id: str, key_result_id: str, target: str, reason: str | None = None
) -> dict[str, Any]:
    result = await api.mutate(
        "reviseKeyResult",
        {
            "objectiveId": objective_id,
            "keyResultId": key_result_id,
            "target": target,
            "reason": reason,
        },
        OBJECTIVE,
    )
    assert result["__typename"] == "ReviseKeyResultPayload", result
    return result


async def check_in(api: Api, objective_id: str, key_result_id: str, value: str) -> dict[str, Any]:
    result = await api.mutate(
        "checkInKeyResult",
        {
            "objectiveId": objective_id,
            "keyResultId": key_result_id,
            "value": value,
            "confidence": "ON_TRACK",
        },
        OBJECTIVE,
    )
    assert result["__typename"] == "CheckInKeyResultPayload", result
    return result


def nodes(connection: dict[str, Any]) -> list[dict[str, Any]]:
    return [edge["node"] for edge in connection["edges"]]
