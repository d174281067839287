"""The tenant's OKR policy: the caps on key results and active objectives, percent stretch."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from uuid import UUID

from okrledger.domain.objective import Objective, ObjectiveStatus
from okrledger.domain.tenant_policy import (
    DEFAULT_POLICY,
    DEFAULT_SOFT_MAX_ACTIVE_OBJECTIVES,
    TenantPolicy,
)
from okrledger.domain.tenant_settings import TenantSettings, settings_id
from okrledger.services.handling import Handler, Outcome
from okrledger.services.ports import CommandContext

# How many objectives of an owner (second argument) are active in a cycle (first) now.
ActiveObjectiveCount = Callable[[UUID, str], Awaitable[int]]


@dataclass(frozen=True)
class SetOKRPolicy:
    max_key_results: int
    allow_percent_stretch: bool = False
    soft_max_key_results: int | None = None
    max_active_objectives: int | None = None
    soft_max_active_objectives: int | None = DEFAULT_SOFT_MAX_ACTIVE_OBJECTIVES
    expected_version: int | None = None


async def set_okr_policy(
    cmd: SetOKRPolicy, context: CommandContext, handler: Handler
) -> Outcome[TenantSettings]:
    """Tune the tenant's OKR rules, within the product's bounds (InvalidTenantPolicy otherwise)."""
    policy = TenantPolicy(
        cmd.max_key_results,
        cmd.allow_percent_stretch,
        cmd.soft_max_key_results,
        cmd.max_active_objectives,
        cmd.soft_max_active_objectives,
    )
    stream_id = settings_id(context.tenant_id)
    if await handler.find(context.tenant_id, TenantSettings, stream_id) is None:
        return await handler.create(
            context,
            TenantSettings,
            lambda: TenantSettings.configure(tenant_id=context.tenant_id, policy=policy),
        )

    async def decide(settings: TenantSettings) -> None:
        settings.set_okr_policy(policy)

    return await handler.update(
        context, TenantSettings, stream_id, decide, expected_version=cmd.expected_version
    )


async def okr_settings(handler: Handler, tenant_id: str) -> TenantSettings | None:
    """The tenant's settings as last set; None while it runs on the defaults."""
    return await handler.find(tenant_id, TenantSettings, settings_id(tenant_id))


async def okr_policy(handler: Handler, tenant_id: str) -> TenantPolicy:
    settings = await okr_settings(handler, tenant_id)
    return DEFAULT_POLICY if settings is None else settings.policy


async def check_room_to_activate(
    handler: Handler, tenant_id: str, objective: Objective, active: ActiveObjectiveCount
) -> None:
    """Refuse `objective` becoming an active one of its owner (activated, restored, handed
    over) when the owner would pass the hard cap in its cycle. `active` counts the others:
    the read model does not count it for this owner yet."""
    if objective.status is not ObjectiveStatus.ACTIVE:
        return
    policy = await okr_policy(handler, tenant_id)
    if policy.max_active_objectives is None:
        return
    count = await active(objective.cycle_id, objective.owner)
    policy.check_active_objectives(objective.owner, count + 1)


async def activation_warnings(
    handler: Handler, tenant_id: str, objective: Objective, active: ActiveObjectiveCount
) -> list[str]:
    """After `objective` became an active one of its owner: a warning if the owner passed
    the soft cap (`active` now counts it)."""
    if objective.status is not ObjectiveStatus.ACTIVE:
        return []
    policy = await okr_policy(handler, tenant_id)
    if policy.soft_max_active_objectives is None:
        return []
    count = await active(objective.cycle_id, objective.owner)
    warning = policy.active_objectives_warning(objective.owner, count)
    return [] if warning is None else [warning]


async def key_result_warnings(handler: Handler, tenant_id: str, objective: Objective) -> list[str]:
    """After a key result was added: a warning if the objective passed the soft cap."""
    policy = await okr_policy(handler, tenant_id)
    warning = policy.key_results_warning(len(objective.key_results))
    return [] if warning is None else [warning]
