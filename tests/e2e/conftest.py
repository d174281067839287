"""An API server per session on the test database, and callers per test tenant."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from okrledger.infra.settings import Settings
from okrledger.services.identity import Role
from tests.e2e.server import Api, as_caller, serving


@pytest.fixture(scope="session")
async def api_url(owner_dsn: str) -> AsyncIterator[str]:
    async with serving(Settings(database_url=owner_dsn, pool_min_size=1)) as url:
        yield url


@pytest.fixture
async def client(api_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=api_url, timeout=30) as http:
        yield http


@pytest.fixture
def editor(client: httpx.AsyncClient, tenant: str) -> Api:
    return as_caller(client, tenant, Role.EDITOR)


@pytest.fixture
def admin(client: httpx.AsyncClient, tenant: str) -> Api:
    return as_caller(client, tenant, Role.ADMIN)
