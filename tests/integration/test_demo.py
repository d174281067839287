"""The demo tenant: a living quarter of OKRs, seeded once however often it is asked for."""

from __future__ import annotations

from datetime import date

from okrledger.domain.objective import Objective, ObjectiveStatus
from okrledger.infra.demo import current_quarter, seed_demo
from okrledger.infra.event_store import PostgresEventStore
from okrledger.services.handling import Handler


async def test_the_demo_seeds_an_aligned_tree_once(store: PostgresEventStore, tenant: str) -> None:
    handler = Handler(store)

    report = await seed_demo(handler, tenant, today=date(2026, 11, 23))
    head = await store.head(tenant)
    again = await seed_demo(handler, tenant, today=date(2026, 11, 23))

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


def test_the_demo_cycle_is_the_current_quarter() -> None:
    assert current_quarter(date(2026, 11, 23)) == ("2026-Q4", date(2026, 10, 1), date(2026, 12, 31))
    assert current_quarter(date(2027, 2, 28)) == ("2027-Q1", date(2027, 1, 1), date(2027, 3, 31))
    assert current_quarter(date(2027, 6, 30)) == ("2027-Q2", date(2027, 4, 1), date(2027, 6, 30))
