"""What a hostile request may get back: no crash, no internals, typed errors, no changed log."""

from __future__ import annotations

import re
from typing import Any

import httpx

from okrledger.infra.db import Database

# Traces, driver and SQL fragments, file paths: none of them is ever for the client.
LEAKS = re.compile(
    r"Traceback|asyncpg|psycopg|File \"|\.py\"|\bSELECT |\bINSERT INTO|\bUPDATE \w+ SET"
    r"|site-packages|okrledger\.(?:infra|services|domain)|Exception\b"
)


def leaks_in(text: str) -> list[str]:
    return LEAKS.findall(text)


async def head_of(database: Database, tenant: str) -> int:
    """The tenant's log position: it moves with every appended event, and with nothing else."""
    async with database.transaction(tenant, readonly=True) as connection:
        position = await connection.fetchval("SELECT position FROM tenant_heads")
    return int(position or 0)


def untyped_errors(body: dict[str, Any]) -> list[dict[str, Any]]:
    """Top-level errors without an `extensions.code`."""
    return [
        error
        for error in body.get("errors") or []
        if not isinstance((error.get("extensions") or {}).get("code"), str)
    ]


def masked_errors(body: dict[str, Any]) -> list[dict[str, Any]]:
    """Errors the server did not expect: a bug, even masked."""
    return [
        error
        for error in body.get("errors") or []
        if (error.get("extensions") or {}).get("code") == "INTERNAL_SERVER_ERROR"
    ]


def succeeded(body: dict[str, Any]) -> bool:
    """Some root field answered with a payload (the command ran), not a typed refusal."""
    data = body.get("data") or {}
    return any(
        isinstance(value, dict) and str(value.get("__typename", "")).endswith("Payload")
        for value in data.values()
    )


def assert_answered_safely(response: httpx.Response) -> dict[str, Any]:
    """No 5xx, no internals, JSON with typed errors; the decoded body."""
    assert response.status_code < 500, response.text
    assert not leaks_in(response.text), response.text
    body: dict[str, Any] = response.json()
    assert not untyped_errors(body), body
    assert not masked_errors(body), body
    return body
