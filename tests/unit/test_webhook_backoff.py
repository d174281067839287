"""Retry delays: exponential, capped, jittered."""

from __future__ import annotations

from okrledger.infra.webhook_worker import DeliveryPolicy, backoff_seconds

POLICY = DeliveryPolicy(backoff_base_seconds=5, backoff_cap_seconds=3600)


def test_the_delay_doubles_with_each_failure_within_its_jitter() -> None:
    for failures, step in [(1, 5), (2, 10), (3, 20), (6, 160)]:
        delays = [backoff_seconds(failures, POLICY) for _ in range(200)]
        assert all(step / 2 <= d <= step for d in delays)
        assert len(set(delays)) > 1


def test_the_delay_is_capped() -> None:
    assert all(1800 <= backoff_seconds(60, POLICY) <= 3600 for _ in range(200))
