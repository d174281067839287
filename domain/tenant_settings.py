"""A tenant's own settings, kept as an aggregate so every change is in its history."""

from __future__ import annotations

from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from okrledger.domain.tenant_policy import DEFAULT_SOFT_MAX_ACTIVE_OBJECTIVES, TenantPolicy


def settings_id(tenant_id: str) -> UUID:
    """Each tenant has exactly one settings stream, at a well-known id."""
    return uuid5(NAMESPACE_URL, f"okrledger:tenant-settings:{tenant_id}")


class TenantSettings(Aggregate):
    # The caps came after the first settings: streams (and snapshots) from before hold none,
    # so they read as the defaults, which is what applied to them.
    soft_max_key_results: int | None = None
    max_active_objectives: int | None = None
    soft_max_active_objectives: int | None = DEFAULT_SOFT_MAX_ACTIVE_OBJECTIVES

    @classmethod
    def configure(cls, *, tenant_id: str, policy: TenantPolicy) -> TenantSettings:
        settings = cls(
            id=settings_id(tenant_id),
            max_key_results=policy.max_key_results,
            allow_percent_stretch=policy.allow_percent_stretch,
        )
        settings.set_okr_policy(policy)  # the caps, when they are not the defaults
        return settings

    @event("TenantConfigured")
    def __init__(self, id: UUID, max_key_results: int, allow_percent_stretch: bool) -> None:
        self.max_key_results = max_key_results
        self.allow_percent_stretch = allow_percent_stretch

    @property
    def policy(self) -> TenantPolicy:
        return TenantPolicy(
            self.max_key_results,
            self.allow_percent_stretch,
            self.soft_max_key_results,
            self.max_active_objectives,
            self.soft_max_active_objectives,
        )

    def set_okr_policy(self, policy: TenantPolicy) -> None:
        if policy != self.policy:
            self._set_okr_policy(
                max_key_results=policy.max_key_results,
                allow_percent_stretch=policy.allow_percent_stretch,
                soft_max_key_results=policy.soft_max_key_results,
                max_active_objectives=policy.max_active_objectives,
                soft_max_active_objectives=policy.soft_max_active_objectives,
            )

    class OKRPolicySet(Aggregate.Event):
        """Version 2 adds the soft caps and the cap on active objectives."""

        max_key_results: int
        allow_percent_stretch: bool
        soft_max_key_results: int | None
        max_active_objectives: int | None
        soft_max_active_objectives: int | None

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            # What applied before the caps existed: the defaults they were introduced with.
            state.update(
                soft_max_key_results=None,
                max_active_objectives=None,
                soft_max_active_objectives=5,
            )

    @event(OKRPolicySet)
    def _set_okr_policy(
        self,
        max_key_results: int,
        allow_percent_stretch: bool,
        soft_max_key_results: int | None,
        max_active_objectives: int | None,
        soft_max_active_objectives: int | None,
    ) -> None:
        self.max_key_results = max_key_results
        self.allow_percent_stretch = allow_percent_stretch
        self.soft_max_key_results = soft_max_key_results
        self.max_active_objectives = max_active_objectives
        self.soft_max_active_objectives = soft_max_active_objectives
