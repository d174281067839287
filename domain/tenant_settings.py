"""A tenant's own settings, kept as an aggregate so every change is in its history."""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from okrledger.domain.tenant_policy import TenantPolicy


def settings_id(tenant_id: str) -> UUID:
    """Each tenant has exactly one settings stream, at a well-known id."""
    return uuid5(NAMESPACE_URL, f"okrledger:tenant-settings:{tenant_id}")


class TenantSettings(Aggregate):
    @classmethod
    def configure(cls, *, tenant_id: str, policy: TenantPolicy) -> TenantSettings:
        return cls(
            id=settings_id(tenant_id),
            max_key_results=policy.max_key_results,
            allow_percent_stretch=policy.allow_percent_stretch,
        )

    @event("TenantConfigured")
    def __init__(self, id: UUID, max_key_results: int, allow_percent_stretch: bool) -> None:
        self.max_key_results = max_key_results
        self.allow_percent_stretch = allow_percent_stretch

    @property
    def policy(self) -> TenantPolicy:
        return TenantPolicy(self.max_key_results, self.allow_percent_stretch)

    def set_okr_policy(self, policy: TenantPolicy) -> None:
        if policy != self.policy:
            self._set_okr_policy(policy.max_key_results, policy.allow_percent_stretch)

    @event("OKRPolicySet")
    def _set_okr_policy(self, max_key_results: int, allow_percent_stretch: bool) -> None:
        self.max_key_results = max_key_results
        self.allow_percent_stretch = allow_percent_stretch
