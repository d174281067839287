"""The tenant's OKR policy: how many key results an objective may have, percent stretch."""

from __future__ import annotations

from dataclasses import dataclass

from okrledger.domain.tenant_policy import DEFAULT_POLICY, TenantPolicy
from okrledger.domain.tenant_settings import TenantSettings, settings_id
from okrledger.services.handling import Handler, Outcome
from okrledger.services.ports import CommandContext


@dataclass(frozen=True)
class SetOKRPolicy:
    max_key_results: int
    allow_percent_stretch: bool = False
    expected_version: int | None = None


async def set_okr_policy(
    cmd: SetOKRPolicy, context: CommandContext, handler: Handler
) -> Outcome[TenantSettings]:
    """Tune the tenant's OKR rules (at most 10 key results per objective, whatever is asked)."""
    policy = TenantPolicy(cmd.max_key_results, cmd.allow_percent_stretch)
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


async def okr_policy(handler: Handler, tenant_id: str) -> TenantPolicy:
    settings = await handler.find(tenant_id, TenantSettings, settings_id(tenant_id))
    return DEFAULT_POLICY if settings is None else settings.policy
