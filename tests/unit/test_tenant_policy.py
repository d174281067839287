"""The tenant's OKR policy: soft caps warn, hard caps refuse, bounds hold, changes are events."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from eventsourcing.persistence import StoredEvent

from okrledger.domain.tenant_policy import (
    DEFAULT_POLICY,
    InvalidTenantPolicy,
    TenantPolicy,
    TooManyActiveObjectives,
)
from okrledger.domain.tenant_settings import TenantSettings
from okrledger.infra.codec import mapper


def test_an_objective_past_the_soft_key_result_cap_is_warned_about() -> None:
    policy = TenantPolicy(max_key_results=7, soft_max_key_results=4)

    assert policy.key_results_warning(4) is None
    warning = policy.key_results_warning(5)
    assert warning is not None and "5 key results" in warning and "4" in warning


def test_no_soft_key_result_cap_means_no_warning() -> None:
    assert TenantPolicy(max_key_results=10).key_results_warning(10) is None


def test_an_owner_past_the_hard_cap_on_active_objectives_is_refused() -> None:
    policy = TenantPolicy(max_active_objectives=3, soft_max_active_objectives=2)

    policy.check_active_objectives("Maya", 3)
    with pytest.raises(TooManyActiveObjectives) as refused:
        policy.check_active_objectives("Maya", 4)

    assert refused.value.code == "INVALID_STATE"
    assert "Maya" in refused.value.message and "limit is 3" in refused.value.message


def test_an_owner_past_the_soft_cap_on_active_objectives_is_warned_about() -> None:
    policy = TenantPolicy(soft_max_active_objectives=2)

    assert policy.active_objectives_warning("Maya", 2) is None
    warning = policy.active_objectives_warning("Maya", 3)
    assert warning is not None and "Maya now has 3 active objectives" in warning


def test_by_default_more_than_five_active_objectives_warn_and_none_are_refused() -> None:
    DEFAULT_POLICY.check_active_objectives("Maya", 50)
    assert DEFAULT_POLICY.active_objectives_warning("Maya", 5) is None
    assert DEFAULT_POLICY.active_objectives_warning("Maya", 6) is not None


@pytest.mark.parametrize(
    ("given", "field"),
    [
        ({"max_key_results": 5, "soft_max_key_results": 6}, "soft_max_key_results"),
        ({"soft_max_key_results": 0}, "soft_max_key_results"),
        ({"max_active_objectives": 0}, "max_active_objectives"),
        ({"max_active_objectives": 51}, "max_active_objectives"),
        (
            {"max_active_objectives": 3, "soft_max_active_objectives": 4},
            "soft_max_active_objectives",
        ),
        ({"soft_max_active_objectives": True}, "soft_max_active_objectives"),
    ],
)
def test_a_cap_outside_its_bounds_is_refused_naming_it(given: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidTenantPolicy) as refused:
        TenantPolicy(**given)

    assert refused.value.field == field


def test_configuring_caps_other_than_the_defaults_records_them_as_a_policy_change() -> None:
    policy = TenantPolicy(max_key_results=6, soft_max_key_results=4, max_active_objectives=8)

    settings = TenantSettings.configure(tenant_id="acme", policy=policy)

    assert [type(e).__name__ for e in settings.collect_events()] == [
        "TenantConfigured",
        "OKRPolicySet",
    ]
    assert settings.policy == policy


def test_configuring_the_default_caps_records_the_configuration_alone() -> None:
    settings = TenantSettings.configure(tenant_id="acme", policy=TenantPolicy(max_key_results=7))

    assert [type(e).__name__ for e in settings.collect_events()] == ["TenantConfigured"]
    assert settings.policy == TenantPolicy(max_key_results=7)


def test_a_policy_change_stored_before_the_caps_replays_with_the_default_caps() -> None:
    settings = TenantSettings.configure(tenant_id="acme", policy=DEFAULT_POLICY)
    settings.set_okr_policy(TenantPolicy(max_key_results=8, allow_percent_stretch=True))
    configured, changed = [mapper().to_stored_event(e) for e in settings.collect_events()]
    state = orjson.loads(changed.state)
    assert state.pop("class_version") == 2
    for name in ("soft_max_key_results", "max_active_objectives", "soft_max_active_objectives"):
        del state[name]
    old = StoredEvent(
        changed.originator_id, changed.originator_version, changed.topic, orjson.dumps(state)
    )

    replayed = None
    for event in map(mapper().to_domain_event, [configured, old]):
        replayed = event.mutate(replayed)  # type: ignore[attr-defined]

    assert isinstance(replayed, TenantSettings)
    assert replayed.policy == TenantPolicy(max_key_results=8, allow_percent_stretch=True)
