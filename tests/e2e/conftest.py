"""An API server per session on the test database, and callers per test tenant."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from okrledger.infra.app import create_app
from okrledger.infra.settings import Settings
from okrledger.services.identity import Role
from tests.e2e.counting import CountingBackend
from tests.e2e.server import Api, ApiClient, as_caller, issuer_of, serving


@pytest.fixture(scope="session")
def api_settings(owner_dsn: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The test server's settings: its development issuer's key in a private directory.

    It delivers no webhooks: a worker here would race the integration tests' own workers
    for their tenants' deliveries (test_graphql_webhooks.py serves its own that does).
    """
    return Settings(
        database_url=owner_dsn,
        pool_min_size=1,
        data_dir=tmp_path_factory.mktemp("api"),
        tenant_mutations_per_minute=0,
        token_mutations_per_minute=0,
        webhook_worker=False,
    )


@pytest.fixture(scope="session")
async def api_url(api_settings: Settings) -> AsyncIterator[str]:
    async with serving(api_settings) as url:
        yield url


@pytest.fixture
async def client(api_url: str, api_settings: Settings) -> AsyncIterator[ApiClient]:
    async with ApiClient(api_url, issuer_of(api_settings)) as http:
        yield http


@pytest.fixture
def editor(client: ApiClient, tenant: str) -> Api:
    return as_caller(client, tenant, Role.EDITOR)


@pytest.fixture
def admin(client: ApiClient, tenant: str) -> Api:
    return as_caller(client, tenant, Role.ADMIN)


@pytest.fixture(scope="module")
async def counted(api_settings: Settings) -> AsyncIterator[tuple[str, CountingBackend]]:
    """A server of the module's own whose reads count their statements (tests/e2e/counting.py)."""
    app = create_app(api_settings)
    async with serving(api_settings, app) as url:
        backend = CountingBackend(app.state.runtime)
        app.state.runtime = backend
        yield url, backend
        app.state.runtime = backend.runtime
