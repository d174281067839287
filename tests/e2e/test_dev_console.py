"""The development console, driven in a real headless Chromium from another origin.

The page is served from its own port, so the browser really applies CORS to its calls.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import BrowserContext, async_playwright, expect
from starlette.applications import Starlette

from okrledger.infra.dev_console import DEV_CONSOLE_PATH, dev_console_routes
from okrledger.infra.settings import Settings
from okrledger.services.identity import Role
from tests.e2e.okr_steps import start_cycle
from tests.e2e.server import ApiClient, as_caller, issuer_of, serving

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WAIT_MS = 15_000


@pytest.fixture(scope="module")
async def page_origin(api_settings: Settings) -> AsyncIterator[str]:
    """An origin the API allows, serving the console page (and nothing else)."""
    async with serving(api_settings, Starlette(routes=dev_console_routes())) as url:
        yield url


@pytest.fixture(scope="module")
async def refused_origin(api_settings: Settings) -> AsyncIterator[str]:
    """Another origin serving the same page, which the API does not allow."""
    async with serving(api_settings, Starlette(routes=dev_console_routes())) as url:
        yield url


@pytest.fixture(scope="module")
async def console_api(api_settings: Settings, page_origin: str) -> AsyncIterator[str]:
    """The API in development mode, allowing browser calls from `page_origin` only."""
    settings = api_settings.model_copy(update={"development": True, "cors_origins": [page_origin]})
    async with serving(settings) as url:
        yield url


@pytest.fixture(scope="module")
def chromium() -> Path:
    """Debian's Chromium: Playwright's own browser download cannot be relied on."""
    if not CHROMIUM.exists():
        pytest.skip("Chromium not installed: run make browser")
    return CHROMIUM


@pytest.fixture(scope="module")
async def browser(
    chromium: Path, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[BrowserContext]:
    async with async_playwright() as playwright:
        context = await playwright.chromium.launch_persistent_context(
            tmp_path_factory.mktemp("chromium-profile"),
            executable_path=chromium,
            headless=True,
            args=CHROMIUM_ARGS,
        )
        yield context
        await context.close()


def token(api_settings: Settings, tenant: str, *roles: Role) -> str:
    return issuer_of(api_settings).mint(tenant, "console-user", roles)


async def test_console_from_an_allowed_origin_shows_a_query_result_and_a_live_goal_event(
    browser: BrowserContext, page_origin: str, console_api: str, api_settings: Settings, tenant: str
) -> None:
    page = await browser.new_page()
    await page.goto(f"{page_origin}{DEV_CONSOLE_PATH}?api={console_api}/graphql")
    await page.fill("#token", token(api_settings, tenant, Role.EDITOR, Role.INTEGRATOR))
    await page.click("#subscribe")
    await expect(page.locator("#subscription-status")).to_have_text("subscribed", timeout=WAIT_MS)

    # when someone else starts a cycle in the tenant
    async with ApiClient(console_api, issuer_of(api_settings)) as client:
        cycle = await start_cycle(as_caller(client, tenant, Role.EDITOR), name="2026-Q4 browser")
    await page.fill("#query", "{ cycles { id name } }")
    await page.click("#run")

    # then the page shows it both from the query and from the subscription
    await expect(page.locator("#query-status")).to_have_text("HTTP 200", timeout=WAIT_MS)
    await expect(page.locator("#query-result")).to_contain_text(cycle["id"])
    await expect(page.locator("#query-result")).to_contain_text("2026-Q4 browser")
    started = page.locator('#events li[data-type="okr.cycle.started.v1"]')
    await expect(started).to_contain_text(cycle["id"], timeout=WAIT_MS)
    await expect(started).to_contain_text("2026-Q4 browser")
    await page.close()


async def test_console_from_an_origin_not_allowed_shows_the_browser_refusing_the_answer(
    browser: BrowserContext,
    refused_origin: str,
    console_api: str,
    api_settings: Settings,
    tenant: str,
) -> None:
    page = await browser.new_page()
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    await page.goto(f"{refused_origin}{DEV_CONSOLE_PATH}?api={console_api}/graphql")
    await page.fill("#token", token(api_settings, tenant, Role.VIEWER))

    await page.click("#run")

    status = page.locator("#query-status")
    await expect(status).to_contain_text("request failed", timeout=WAIT_MS)
    await expect(status).to_contain_text(f"({refused_origin}) in the API's OKRLEDGER_CORS_ORIGINS")
    await expect(page.locator("#query-result")).to_be_empty()
    assert any("blocked by CORS policy" in line for line in console), console
    await page.close()


async def test_console_from_an_origin_not_allowed_cannot_subscribe(
    browser: BrowserContext,
    refused_origin: str,
    console_api: str,
    api_settings: Settings,
    tenant: str,
) -> None:
    page = await browser.new_page()
    await page.goto(f"{refused_origin}{DEV_CONSOLE_PATH}?api={console_api}/graphql")
    await page.fill("#token", token(api_settings, tenant, Role.INTEGRATOR))

    await page.click("#subscribe")

    # the API refuses the handshake from this origin, so the socket never opens
    await expect(page.locator("#subscription-status")).to_have_text(
        "closed (1006)", timeout=WAIT_MS
    )
    await expect(page.locator("#events li")).to_have_count(0)
    await page.close()


async def test_console_is_served_in_development_mode(console_api: str) -> None:
    async with httpx.AsyncClient(base_url=console_api) as client:
        response = await client.get(DEV_CONSOLE_PATH)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "graphql-transport-ws" in response.text


async def test_console_is_not_served_outside_development_mode(client: ApiClient) -> None:
    response = await client.get(DEV_CONSOLE_PATH)

    assert response.status_code == 404
