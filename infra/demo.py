"""`okrledger demo`: a realistic tenant, so GraphiQL shows a living tree straight away.

Every id and command id is derived from the tenant and the step, so seeding twice
changes nothing: the second run's commands are recognised as repeats.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from uuid import NAMESPACE_URL, UUID, uuid5

from okrledger.domain.kpi import Cadence
from okrledger.domain.kpi_health import Direction
from okrledger.domain.objective import Confidence, MetricKind
from okrledger.services import cycles, key_results, kpi_links, kpis, objectives
from okrledger.services.handling import Handler
from okrledger.services.kpis import FollowReadings
from okrledger.services.ports import CommandContext


def current_quarter(today: date) -> tuple[str, date, date]:
    first_month = 3 * ((today.month - 1) // 3) + 1
    starts = date(today.year, first_month, 1)
    ends = date(today.year + 1, 1, 1) if first_month == 10 else date(today.year, first_month + 3, 1)
    return f"{today.year}-Q{(first_month + 2) // 3}", starts, date.fromordinal(ends.toordinal() - 1)


@dataclass(frozen=True)
class KeyResultPlan:
    slug: str
    title: str
    metric: MetricKind
    start: str
    target: str
    unit: str = ""
    currency: str | None = None
    check_ins: tuple[tuple[str, Confidence, str], ...] = ()


@dataclass(frozen=True)
class ObjectivePlan:
    slug: str
    title: str
    owner: str
    team: str | None
    description: str
    key_results: tuple[KeyResultPlan, ...]


ON, RISK, OFF = Confidence.ON_TRACK, Confidence.AT_RISK, Confidence.OFF_TRACK

COMPANY = ObjectivePlan(
    "company",
    "Grow revenue sustainably",
    "Leadership team",
    None,
    "Grow while keeping customers happy and acquisition efficient.",
    (
        KeyResultPlan(
            "arr",
            "Grow annual recurring revenue from 4.2M to 5.0M",
            MetricKind.CURRENCY,
            "4200000",
            "5000000",
            currency="EUR",
            check_ins=(("4450000", ON, "Two enterprise renewals closed early"),),
        ),
        KeyResultPlan(
            "churn",
            "Reduce monthly churn from 2.4% to 1.5%",
            MetricKind.PERCENT,
            "2.4",
            "1.5",
            check_ins=(("2.1", RISK, "Onboarding fixes ship next month"),),
        ),
        KeyResultPlan(
            "cac",
            "Lower customer acquisition cost from 1,200 to 950",
            MetricKind.CURRENCY,
            "1200",
            "950",
            currency="EUR",
        ),
    ),
)

ALIGNED = (
    ObjectivePlan(
        "marketing",
        "Boost company website's SEO performance",
        "Maya",
        "Marketing",
        "More qualified visitors from organic search.",
        (
            KeyResultPlan(
                "blog",
                "Double monthly blog output from 4 to 8",
                MetricKind.NUMBER,
                "4",
                "8",
                "posts/month",
                check_ins=(("5", ON, "Guest writers onboarded"), ("6", ON, "Two more posts")),
            ),
            KeyResultPlan(
                "backlinks",
                "Gain 15 backlinks in the next six months",
                MetricKind.NUMBER,
                "0",
                "15",
                "backlinks",
                check_ins=(("3", RISK, "Outreach replies are slow"),),
            ),
            KeyResultPlan(
                "bounce", "Cut the bounce rate from 58% to 45%", MetricKind.PERCENT, "58", "45"
            ),
        ),
    ),
    ObjectivePlan(
        "sales",
        "Win the mid-market",
        "Sam",
        "Sales",
        "Repeatable wins with 200-1,000 employee companies.",
        (
            KeyResultPlan(
                "deals",
                "Close 12 new mid-market deals",
                MetricKind.NUMBER,
                "0",
                "12",
                "deals",
                check_ins=(("4", ON, "Strong October"),),
            ),
            KeyResultPlan(
                "conversion",
                "Raise trial-to-paid conversion from 3% to 4.5%",
                MetricKind.PERCENT,
                "3",
                "4.5",
                check_ins=(("3.4", RISK, "Pricing page test inconclusive"),),
            ),
            KeyResultPlan(
                "aov",
                "Grow average order value from 18,000 to 24,000",
                MetricKind.CURRENCY,
                "18000",
                "24000",
                currency="EUR",
            ),
            KeyResultPlan(
                "playbook", "Publish the mid-market sales playbook", MetricKind.MILESTONE, "0", "1"
            ),
        ),
    ),
    ObjectivePlan(
        "support",
        "Give customers an excellent experience",
        "Sofia",
        "Support",
        "Fast, friendly answers that solve the problem the first time.",
        (
            KeyResultPlan(
                "nps",
                "Raise NPS from 31 to 45",
                MetricKind.NUMBER,
                "31",
                "45",
                check_ins=(("36", ON, "Callback programme is working"),),
            ),
            KeyResultPlan(
                "response",
                "Cut first response time from 8 to 2 hours",
                MetricKind.NUMBER,
                "8",
                "2",
                "hours",
                check_ins=(("6.5", OFF, "Two agents out sick"), ("5", RISK, "Back to full staff")),
            ),
            KeyResultPlan("csat", "Keep CSAT at or above 90%", MetricKind.PERCENT, "84", "90"),
        ),
    ),
)


@dataclass(frozen=True)
class KPIPlan:
    key: str
    name: str
    unit: str
    direction: Direction
    area: str
    year_ago: str
    now: str
    target: str
    green: str
    yellow: str
    places: int = 1
    followed_by: str | None = None  # "objective:key result" slugs


UP, DOWN = Direction.HIGHER_IS_BETTER, Direction.LOWER_IS_BETTER

KPIS = (
    KPIPlan(
        "conversion-rate",
        "Conversion rate",
        "%",
        UP,
        "sales",
        "2.6",
        "3.5",
        "4.5",
        "4",
        "3",
        2,
        "sales:conversion",
    ),
    KPIPlan(
        "cac",
        "Customer acquisition cost",
        "EUR",
        DOWN,
        "marketing",
        "1350",
        "1180",
        "950",
        "1000",
        "1200",
        0,
    ),
    KPIPlan(
        "nps",
        "Net Promoter Score",
        "",
        UP,
        "support",
        "24",
        "35",
        "45",
        "40",
        "30",
        0,
        "support:nps",
    ),
    KPIPlan(
        "bounce-rate",
        "Bounce rate",
        "%",
        DOWN,
        "marketing",
        "63",
        "55",
        "45",
        "48",
        "56",
        1,
        "marketing:bounce",
    ),
    KPIPlan(
        "aov",
        "Average order value",
        "EUR",
        UP,
        "sales",
        "16500",
        "19200",
        "24000",
        "22000",
        "18000",
        0,
    ),
    KPIPlan(
        "support-response-time",
        "Support first response time",
        "hours",
        DOWN,
        "support",
        "11",
        "6",
        "2",
        "3",
        "6",
        1,
        "support:response",
    ),
)

DAYS_OF_HISTORY = 365


@dataclass(frozen=True)
class DemoReport:
    tenant_id: str
    cycle_id: UUID
    objective_ids: dict[str, UUID]
    kpi_ids: dict[str, UUID]


class _Seeder:
    def __init__(self, handler: Handler, tenant_id: str) -> None:
        self.handler = handler
        self.tenant_id = tenant_id

    def id(self, step: str) -> UUID:
        return uuid5(NAMESPACE_URL, f"okrledger-demo:{self.tenant_id}:{step}")

    def context(self, step: str, actor: str, reason: str | None = None) -> CommandContext:
        return CommandContext(self.tenant_id, actor, f"demo:{self.id(step)}", reason=reason)


async def seed_demo(
    handler: Handler,
    tenant_id: str,
    today: date | None = None,
    *,
    follow: FollowReadings | None = None,
) -> DemoReport:
    """Seed (or leave as it is) the demo tenant's quarter: a company objective with aligned
    marketing, sales and support objectives, key results, check-ins and revisions, and six
    KPIs with a year of daily readings, four of them driving key results (`follow`)."""
    seed = _Seeder(handler, tenant_id)
    day = today or datetime.now(UTC).date()
    name, starts, ends = current_quarter(day)
    cycle = await cycles.start_cycle(
        cycles.StartCycle(name, starts, ends, cycle_id=seed.id("cycle")),
        seed.context("cycle", "demo-admin"),
        handler,
    )
    ids: dict[str, UUID] = {}
    for plan in (COMPANY, *ALIGNED):
        parent = ids.get("company")
        ids[plan.slug] = await _objective(seed, cycle.aggregate.id, plan, parent)
    await objectives.revise_objective(
        objectives.ReviseObjective(
            ids["sales"], title="Win the mid-market with a repeatable motion"
        ),
        seed.context("revise-sales", "Sam", reason="Leadership asked for repeatability"),
        handler,
    )
    await key_results.revise_key_result(
        key_results.ReviseKeyResult(
            ids["marketing"], seed.id("marketing:backlinks"), target=Decimal(20)
        ),
        seed.context("revise-backlinks", "Maya", reason="Partner network adds five easy links"),
        handler,
    )
    kpi_ids = {plan.key: await _kpi(seed, plan, ids, day, follow) for plan in KPIS}
    return DemoReport(tenant_id, cycle.aggregate.id, ids, kpi_ids)


async def _kpi(
    seed: _Seeder,
    plan: KPIPlan,
    objective_ids: dict[str, UUID],
    today: date,
    follow: FollowReadings | None,
) -> UUID:
    kpi_id = seed.id(f"kpi:{plan.key}")
    await kpis.define_kpi(
        kpis.DefineKPI(
            plan.name,
            plan.key,
            plan.unit,
            plan.direction,
            plan.area,
            Cadence.DAILY,
            Decimal(plan.target),
            kpis.BandsInput(Decimal(plan.green), Decimal(plan.yellow)),
            kpi_id,
        ),
        seed.context(f"kpi:{plan.key}:define", "demo-admin"),
        seed.handler,
    )
    if plan.followed_by:
        objective = plan.followed_by.split(":")[0]
        await kpi_links.link_key_result_to_kpi(
            kpi_links.LinkKeyResultToKPI(
                objective_ids[objective], seed.id(plan.followed_by), kpi_id
            ),
            seed.context(f"kpi:{plan.key}:link", "demo-admin"),
            seed.handler,
        )
    readings = [
        kpis.ReadingInput(value, observed_at, "demo", seed.id(f"kpi:{plan.key}:reading:{n}"))
        for n, (observed_at, value) in enumerate(_year_of_readings(plan, today))
    ]
    await kpis.record_kpi_readings(
        kpis.RecordKPIReadings(kpi_id, readings),
        seed.context(f"kpi:{plan.key}:readings", "warehouse-sync"),
        seed.handler,
        follow=follow,
    )
    return kpi_id


def _year_of_readings(plan: KPIPlan, today: date) -> list[tuple[datetime, Decimal]]:
    """A daily series drifting from last year's level to today's, with a weekly rhythm."""
    noise = random.Random(plan.key)
    start, end = float(plan.year_ago), float(plan.now)
    series = []
    for n in range(DAYS_OF_HISTORY):
        day = today - timedelta(days=DAYS_OF_HISTORY - n)
        trend = start + (end - start) * n / (DAYS_OF_HISTORY - 1)
        wobble = 0.03 * abs(trend) * (math.sin(n * 2 * math.pi / 7) + noise.uniform(-1, 1))
        value = Decimal(str(round(trend + wobble, plan.places)))
        series.append((datetime.combine(day, time(9), tzinfo=UTC), value))
    return series


async def _objective(
    seed: _Seeder, cycle_id: UUID, plan: ObjectivePlan, parent: UUID | None
) -> UUID:
    objective_id = seed.id(plan.slug)
    await objectives.set_objective(
        objectives.SetObjective(
            plan.title, cycle_id, plan.owner, plan.description, plan.team, parent, objective_id
        ),
        seed.context(f"{plan.slug}:set", plan.owner),
        seed.handler,
    )
    for kr in plan.key_results:
        step = f"{plan.slug}:{kr.slug}"
        await key_results.add_key_result(
            key_results.AddKeyResult(
                objective_id,
                kr.title,
                kr.metric,
                Decimal(kr.start),
                Decimal(kr.target),
                kr.unit,
                kr.currency,
                key_result_id=seed.id(step),
            ),
            seed.context(f"{step}:add", plan.owner),
            seed.handler,
        )
    await objectives.activate_objective(
        objectives.ActivateObjective(objective_id),
        seed.context(f"{plan.slug}:activate", plan.owner),
        seed.handler,
    )
    for kr in plan.key_results:
        step = f"{plan.slug}:{kr.slug}"
        for number, (value, confidence, note) in enumerate(kr.check_ins):
            await key_results.check_in_key_result(
                key_results.CheckInKeyResult(
                    objective_id, seed.id(step), Decimal(value), confidence, note
                ),
                seed.context(f"{step}:check-in:{number}", plan.owner),
                seed.handler,
            )
    return objective_id
