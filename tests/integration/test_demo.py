"""The demo tenant: a living quarter of OKRs, seeded once however often it is asked for."""

from __future__ import annotations

from datetime import date

import pytest

from okrledger.domain.kpi import KPI
from okrledger.domain.objective import Objective, ObjectiveStatus
from okrledger.infra.db import Database
from okrledger.infra.demo import DAYS_OF_HISTORY, current_quarter, seed_demo
from okrledger.infra.event_store import PostgresEventStore
from okrledger.infra.kpi_links import PostgresKPILinks
from okrledger.infra.projector import InlineProjections
from okrledger.projections import catalog
from okrledger.services.handling import Handler
from okrledger.services.kpi_links import KPILinkPolicy

TODAY = date(2026, 11, 23)


@pytest.fixture
def live_store(database: Database) -> PostgresEventStore:
    return PostgresEventStore(database, hooks=[InlineProjections(catalog.projections())])


async def test_the_demo_seeds_an_aligned_tree_and_kpis_once(
    live_store: PostgresEventStore, database: Database, tenant: str
) -> None:
    store = live_store
    handler = Handler(store)
    policy = KPILinkPolicy(handler, PostgresKPILinks(database))

    report = await seed_demo(handler, tenant, today=TODAY, follow=policy)
    head = await store.head(tenant)
    again = await seed_demo(handler, tenant, today=TODAY, follow=policy)

    assert again == report
    assert await store.head(tenant) == head, "a second seeding appends nothing"
    tree = {
        slug: await handler.get(tenant, Objective, oid)
        for slug, oid in report.objective_ids.items()
    }
    company = report.objective_ids["company"]
    assert {slug for slug, o in tree.items() if o.parent_id == company} == {
        "marketing",
        "sales",
        "support",
    }
    assert all(o.status is ObjectiveStatus.ACTIVE for o in tree.values())
    assert all(3 <= len(o.key_results) <= 5 for o in tree.values())
    history = await store.read_stream(tenant, report.objective_ids["marketing"])
    revised = [e for e in history if e.event_type == "KeyResultRevised"]
    assert [e.reason for e in revised] == ["Partner network adds five easy links"]
    assert sum(e.event_type == "KeyResultCheckedIn" for e in history) == 3


async def test_demo_kpis_have_a_year_of_readings_and_drive_their_key_results(
    live_store: PostgresEventStore, database: Database, tenant: str
) -> None:
    handler = Handler(live_store)
    policy = KPILinkPolicy(handler, PostgresKPILinks(database))

    report = await seed_demo(handler, tenant, today=TODAY, follow=policy)

    assert set(report.kpi_ids) >= {"conversion-rate", "cac", "nps", "bounce-rate", "aov"}
    nps = await handler.get(tenant, KPI, report.kpi_ids["nps"])
    assert nps.readings == DAYS_OF_HISTORY
    assert nps.health is not None
    support = await handler.get(tenant, Objective, report.objective_ids["support"])
    followers = [kr for kr in support.key_results.values() if kr.kpi_id == nps.id]
    assert [kr.current for kr in followers] == [nps.latest_value]


def test_the_demo_cycle_is_the_current_quarter() -> None:
    assert current_quarter(date(2026, 11, 23)) == ("2026-Q4", date(2026, 10, 1), date(2026, 12, 31))
    assert current_quarter(date(2027, 2, 28)) == ("2027-Q1", date(2027, 1, 1), date(2027, 3, 31))
    assert current_quarter(date(2027, 6, 30)) == ("2027-Q2", date(2027, 4, 1), date(2027, 6, 30))
