"""Key results inside their objective: adding, revising, removing and checking in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from uuid import UUID, uuid4

from okrledger.domain.kpi_direction import check_same_direction
from okrledger.domain.objective import Confidence, MetricKind, Objective, value_depends_on_policy
from okrledger.domain.tenant_policy import DEFAULT_POLICY
from okrledger.services.cycles import cycle_is_closed, get_cycle
from okrledger.services.handling import Handler, Outcome
from okrledger.services.kpis import get_kpi
from okrledger.services.ports import CommandContext
from okrledger.services.tenant_settings import okr_policy


@dataclass(frozen=True)
class AddKeyResult:
    objective_id: UUID
    title: str
    metric: MetricKind
    start: Decimal | None = None
    target: Decimal | None = None
    unit: str = ""
    currency: str | None = None
    weight: Decimal = Decimal(1)
    key_result_id: UUID | None = None
    expected_version: int | None = None


@dataclass(frozen=True)
class ReviseKeyResult:
    objective_id: UUID
    key_result_id: UUID
    title: str | None = None
    start: Decimal | None = None
    target: Decimal | None = None
    unit: str | None = None
    weight: Decimal | None = None
    expected_version: int | None = None


@dataclass(frozen=True)
class RemoveKeyResult:
    objective_id: UUID
    key_result_id: UUID
    expected_version: int | None = None


@dataclass(frozen=True)
class CheckInKeyResult:
    objective_id: UUID
    key_result_id: UUID
    value: Decimal
    confidence: Confidence
    note: str = ""
    observed_at: datetime | None = None
    source: str | None = None
    run_id: str | None = None
    expected_version: int | None = None


async def add_key_result(
    cmd: AddKeyResult, context: CommandContext, handler: Handler
) -> Outcome[Objective]:
    """Add a measurable key result to an objective (at most 5 by default)."""
    key_result_id = cmd.key_result_id or uuid4()
    policy = await okr_policy(handler, context.tenant_id)

    async def decide(objective: Objective) -> None:
        cycle = await get_cycle(handler, context.tenant_id, objective.cycle_id)
        objective.add_key_result(
            key_result_id=key_result_id,
            title=cmd.title,
            metric=cmd.metric,
            start=cmd.start,
            target=cmd.target,
            unit=cmd.unit,
            currency=cmd.currency,
            weight=cmd.weight,
            cycle_closed=cycle.closed,
            policy=policy,
        )

    return await handler.update(
        context, Objective, cmd.objective_id, decide, expected_version=cmd.expected_version
    )


async def revise_key_result(
    cmd: ReviseKeyResult, context: CommandContext, handler: Handler
) -> Outcome[Objective]:
    """Change a key result's title, start, target, unit or weight; only changes are recorded.

    Once the cycle has started, a new start or target needs the context's reason.
    """
    policy = await okr_policy(handler, context.tenant_id)

    async def decide(objective: Objective) -> None:
        cycle = await get_cycle(handler, context.tenant_id, objective.cycle_id)
        objective.revise_key_result(
            key_result_id=cmd.key_result_id,
            title=cmd.title,
            start=cmd.start,
            target=cmd.target,
            unit=cmd.unit,
            weight=cmd.weight,
            cycle_closed=cycle.closed,
            cycle_started=cycle.has_started(datetime.now(UTC)),
            reason=context.reason,
            policy=policy,
        )
        await _keep_kpi_direction(handler, context.tenant_id, objective, cmd)

    return await handler.update(
        context, Objective, cmd.objective_id, decide, expected_version=cmd.expected_version
    )


async def _keep_kpi_direction(
    handler: Handler, tenant_id: str, objective: Objective, cmd: ReviseKeyResult
) -> None:
    """A key result following a KPI may not turn to want the other direction."""
    kr = objective.key_result(cmd.key_result_id)
    if kr.kpi_id is None or (cmd.start is None and cmd.target is None):
        return
    kpi = await get_kpi(handler, tenant_id, kr.kpi_id)
    field = "target" if cmd.target is not None else "start"
    check_same_direction(kr, kpi.name, kpi.direction, field=field)


async def remove_key_result(
    cmd: RemoveKeyResult, context: CommandContext, handler: Handler
) -> Outcome[Objective]:
    """Remove a key result from its objective (its history stays in the log)."""

    async def decide(objective: Objective) -> None:
        cycle = await get_cycle(handler, context.tenant_id, objective.cycle_id)
        objective.remove_key_result(cmd.key_result_id, cycle_closed=cycle.closed)

    return await handler.update(
        context, Objective, cmd.objective_id, decide, expected_version=cmd.expected_version
    )


async def check_in_key_result(
    cmd: CheckInKeyResult, context: CommandContext, handler: Handler
) -> Outcome[Objective]:
    """Record a key result's new current value with a confidence and an optional note.

    The value's provenance: when it applied (`observed_at`, now if not given), the
    integration and run that sent it, and the context's client application.
    """
    policy = (
        await okr_policy(handler, context.tenant_id)
        if value_depends_on_policy(cmd.value)
        else DEFAULT_POLICY
    )

    async def decide(objective: Objective) -> None:
        # The cycle as loaded now; the close's ObjectiveSettled in this objective's stream
        # is what keeps a check-in racing the close out (see services/cycles.close_cycle).
        closed = await cycle_is_closed(handler, context.tenant_id, objective.cycle_id)
        objective.check_in_key_result(
            key_result_id=cmd.key_result_id,
            value=cmd.value,
            confidence=cmd.confidence,
            note=cmd.note,
            observed_at=cmd.observed_at,
            source=cmd.source,
            run_id=cmd.run_id,
            client=context.client,
            now=datetime.now(UTC),
            policy=policy,
            cycle_closed=closed,
        )

    return await handler.update(
        context, Objective, cmd.objective_id, decide, expected_version=cmd.expected_version
    )
