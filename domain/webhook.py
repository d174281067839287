"""A webhook: where a tenant wants its events POSTed, and which ones.

The signing secret is never part of an event (events are exported and kept forever);
the aggregate only counts rotations.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import urlsplit
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from okrledger.domain.errors import DomainError, InvalidValue
from okrledger.domain.event_types import matches as filter_matches

ACTIVE = "active"
PAUSED = "paused"
REMOVED = "removed"

MAX_EVENT_TYPES = 50
MAX_URL_LENGTH = 2000
# An exact public type (okr.objective.set.v1), a family (okr.objective.*) or everything (*).
_PATTERN = re.compile(r"\*|[a-z_]+(\.[a-z_]+)*(\.v[0-9]+|\.\*)")


class Webhook(Aggregate):
    """Create with `Webhook.register(...)`, which validates before anything is recorded."""

    @classmethod
    def register(
        cls, *, id: UUID, url: str, event_types: Sequence[str], description: str = ""
    ) -> Webhook:
        return cls(
            id=id,
            url=check_url_shape(url),
            event_types=check_event_types(event_types),
            description=check_description(description),
        )

    @event("WebhookRegistered")
    def __init__(self, id: UUID, url: str, event_types: list[str], description: str) -> None:
        self.url = url
        self.event_types = list(event_types)
        self.description = description
        self.status = ACTIVE
        self.pause_reason: str | None = None
        self.secret_version = 1

    def rotate_secret(self) -> None:
        self.check_not_removed()
        self._rotate_secret()

    @event("WebhookSecretRotated")
    def _rotate_secret(self) -> None:
        self.secret_version += 1

    def pause(self, reason: str) -> None:
        self.check_not_removed()
        if self.status == PAUSED:
            raise WebhookStateError("The webhook is already paused")
        self._pause(reason.strip()[:500])

    @event("WebhookPaused")
    def _pause(self, reason: str) -> None:
        self.status = PAUSED
        self.pause_reason = reason

    def resume(self) -> None:
        self.check_paused()
        self._resume()

    @event("WebhookResumed")
    def _resume(self) -> None:
        self.status = ACTIVE
        self.pause_reason = None

    def replay(self, from_position: int) -> None:
        """Resume, delivering again every matching event after `from_position`."""
        self.check_paused()
        if isinstance(from_position, bool) or not isinstance(from_position, int):
            raise InvalidWebhook("fromPosition must be a whole number", field="fromPosition")
        if from_position < 0:
            raise InvalidWebhook("fromPosition must not be negative", field="fromPosition")
        self._replay(from_position)

    @event("WebhookReplayed")
    def _replay(self, from_position: int) -> None:
        self.status = ACTIVE
        self.pause_reason = None

    def remove(self) -> None:
        self.check_not_removed()
        self._remove()

    @event("WebhookRemoved")
    def _remove(self) -> None:
        self.status = REMOVED

    def check_not_removed(self) -> None:
        if self.status == REMOVED:
            raise WebhookStateError("The webhook was removed")

    def check_paused(self) -> None:
        self.check_not_removed()
        if self.status != PAUSED:
            raise WebhookStateError("Only a paused webhook can be resumed or replayed")


def check_url_shape(url: str) -> str:
    """An absolute http(s) URL with a host and no credentials; where it points is checked
    by the service (it needs DNS)."""
    cleaned = url.strip()
    if not cleaned or len(cleaned) > MAX_URL_LENGTH:
        raise InvalidWebhook(f"url must be 1 to {MAX_URL_LENGTH} characters", field="url")
    try:
        parts = urlsplit(cleaned)
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        raise InvalidWebhook(f"url {cleaned!r} is malformed", field="url") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidWebhook("url must be an absolute http or https URL", field="url")
    if parts.username is not None or parts.password is not None:
        raise InvalidWebhook("url must not carry credentials", field="url")
    if parts.fragment:
        raise InvalidWebhook("url must not have a fragment", field="url")
    return cleaned


def check_event_types(event_types: Sequence[str]) -> list[str]:
    if isinstance(event_types, str):
        raise InvalidWebhook("eventTypes must be a list", field="eventTypes")
    cleaned = sorted({t.strip() for t in event_types})
    if not cleaned:
        raise InvalidWebhook("eventTypes must name at least one event type", field="eventTypes")
    if len(cleaned) > MAX_EVENT_TYPES:
        raise InvalidWebhook(
            f"eventTypes may name at most {MAX_EVENT_TYPES} types", field="eventTypes"
        )
    for pattern in cleaned:
        if not _PATTERN.fullmatch(pattern):
            raise InvalidWebhook(
                f"{pattern!r} is not an event type (okr.objective.set.v1), a family "
                "(okr.objective.*) or *",
                field="eventTypes",
            )
    return cleaned


def check_description(description: str) -> str:
    cleaned = description.strip()
    if len(cleaned) > 500:
        raise InvalidWebhook("description must be at most 500 characters", field="description")
    return cleaned


def matches(patterns: Sequence[str], public_type: str) -> bool:
    """True when a public event type is among those a webhook asked for."""
    return any(filter_matches(p, public_type) for p in patterns)


class WebhookError(DomainError):
    """A webhook command was refused; nothing was changed."""


class InvalidWebhook(WebhookError, InvalidValue):
    """The URL, event types or description are malformed."""


class WebhookStateError(WebhookError):
    """The command does not apply to the webhook in its current state."""

    code = "INVALID_STATE"
