"""The Webhook aggregate: what a registration accepts, and the lifecycle's rules."""

from __future__ import annotations

import uuid

import pytest

from okrledger.domain.webhook import (
    ACTIVE,
    PAUSED,
    InvalidWebhook,
    Webhook,
    WebhookStateError,
    matches,
)


def a_webhook(**overrides: object) -> Webhook:
    fields: dict[str, object] = {
        "id": uuid.uuid4(),
        "url": "https://example.com/hooks",
        "event_types": ["okr.objective.*"],
        "description": "crm",
    }
    fields.update(overrides)
    return Webhook.register(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/x",
        "example.com/hooks",
        "https://user:pw@example.com/hooks",
        "https://example.com/hooks#frag",
        "https://example.com:99999/hooks",
        "",
    ],
)
def test_a_url_that_is_not_a_plain_http_url_is_refused(url: str) -> None:
    with pytest.raises(InvalidWebhook):
        a_webhook(url=url)


@pytest.mark.parametrize("types", [[], ["okr.objective"], ["OKR.*"], ["okr.*.set.v1"], "*"])
def test_event_types_must_be_types_families_or_everything(types: object) -> None:
    with pytest.raises(InvalidWebhook):
        a_webhook(event_types=types)


def test_event_types_are_kept_sorted_without_duplicates() -> None:
    webhook = a_webhook(event_types=["okr.objective.set.v1", "*", "okr.objective.set.v1"])

    assert webhook.event_types == ["*", "okr.objective.set.v1"]


def test_patterns_match_exact_types_families_and_everything() -> None:
    assert matches(["okr.objective.*"], "okr.objective.set.v1")
    assert matches(["okr.cycle.started.v1"], "okr.cycle.started.v1")
    assert matches(["*"], "webhook.paused.v1")
    assert not matches(["okr.objective.*"], "okr.objectives.set.v1")
    assert not matches(["okr.cycle.started.v1"], "okr.cycle.closed.v1")


def test_no_event_of_a_webhook_carries_a_secret() -> None:
    webhook = a_webhook()
    webhook.rotate_secret()

    fields = {name for event in webhook.collect_events() for name in vars(event)}

    assert not any("secret" in name for name in fields)
    assert webhook.secret_version == 2


def test_pausing_twice_is_refused() -> None:
    webhook = a_webhook()
    webhook.pause("maintenance")

    with pytest.raises(WebhookStateError):
        webhook.pause("again")
    assert (webhook.status, webhook.pause_reason) == (PAUSED, "maintenance")


def test_only_a_paused_webhook_can_be_resumed_or_replayed() -> None:
    webhook = a_webhook()

    with pytest.raises(WebhookStateError):
        webhook.resume()
    with pytest.raises(WebhookStateError):
        webhook.replay(0)


def test_replaying_resumes_the_webhook() -> None:
    webhook = a_webhook()
    webhook.pause("")

    webhook.replay(41)

    assert webhook.status == ACTIVE


def test_a_negative_replay_position_is_refused() -> None:
    webhook = a_webhook()
    webhook.pause("")

    with pytest.raises(InvalidWebhook):
        webhook.replay(-1)


def test_a_removed_webhook_accepts_no_more_commands() -> None:
    webhook = a_webhook()
    webhook.remove()

    for command in (webhook.rotate_secret, lambda: webhook.pause("x"), webhook.remove):
        with pytest.raises(WebhookStateError):
            command()
