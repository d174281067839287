"""The endpoint's HTTP behaviour: GraphiQL only in development, CORS for configured origins."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from okrledger.infra.settings import Settings
from tests.e2e.server import serving

SPA = "https://app.example.com"


async def test_graphiql_is_served_in_development_mode(owner_dsn: str, tmp_path: Path) -> None:
    settings = Settings(
        database_url=owner_dsn, pool_min_size=1, development=True, data_dir=tmp_path
    )
    async with serving(settings) as url, httpx.AsyncClient(base_url=url) as client:
        response = await client.get("/graphql", headers={"accept": "text/html"})

    assert response.status_code == 200
    assert "graphiql" in response.text.lower()


async def test_graphiql_is_not_served_outside_development(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", headers={"accept": "text/html"})

    assert "graphiql" not in response.text.lower()
    assert response.status_code == 404


async def test_a_configured_spa_origin_passes_the_cors_preflight(
    owner_dsn: str, tmp_path: Path
) -> None:
    settings = Settings(
        database_url=owner_dsn, pool_min_size=1, cors_origins=[SPA], data_dir=tmp_path
    )
    async with serving(settings) as url, httpx.AsyncClient(base_url=url) as client:
        allowed = await client.options(
            "/graphql",
            headers={
                "origin": SPA,
                "access-control-request-method": "POST",
                "access-control-request-headers": "authorization,content-type",
            },
        )
        other = await client.options(
            "/graphql",
            headers={"origin": "https://evil.example", "access-control-request-method": "POST"},
        )

    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == SPA
    assert other.status_code == 400
    assert "access-control-allow-origin" not in other.headers


def test_cors_origins_are_read_comma_separated_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OKRLEDGER_CORS_ORIGINS", f"{SPA}, http://localhost:5173")

    assert Settings().cors_origins == [SPA, "http://localhost:5173"]
