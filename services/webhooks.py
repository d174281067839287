"""Webhooks: registering where a tenant's events are POSTed, and the webhook's lifecycle.

Admin only (the GraphQL permissions enforce it). A new or rotated signing secret is
returned once, by the command that made it, and stored in the same transaction as the
command's event, never in the event itself.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from ipaddress import ip_address
from typing import Protocol
from urllib.parse import urlsplit
from uuid import UUID, uuid4

from okrledger.domain.errors import InvalidValue, NotFound
from okrledger.domain.event_types import check_type_filter
from okrledger.domain.webhook import (
    Address,
    InvalidWebhook,
    Network,
    UnsafeWebhookURL,
    Webhook,
    check_event_types,
    check_url_shape,
    destination_refusal,
)
from okrledger.services.handling import Handler, Outcome
from okrledger.services.ports import CommandContext


class Resolver(Protocol):
    async def resolve(self, host: str) -> Sequence[str]:
        """Every address `host` resolves to (an IP literal resolves to itself); empty if none."""
        ...


class SecretStaging(Protocol):
    def staged(self, command_id: str, webhook_id: UUID, secret: str) -> AbstractContextManager[str]:
        """Within the block, the append of command `command_id` recording a registration
        or rotation of `webhook_id` also stores a secret, in the same transaction: `secret`,
        or the one a concurrent retry of the same command staged first (the block is given
        the one that will be stored)."""
        ...


@dataclass(frozen=True)
class WebhookPorts:
    resolver: Resolver
    secrets: SecretStaging
    known_event_types: frozenset[str]
    # Destinations allowed although not public (loopback, private...): from ALLOW_SETTING.
    allowed_networks: tuple[Network, ...] = ()


@dataclass(frozen=True)
class RegisterWebhook:
    url: str
    event_types: Sequence[str]
    description: str = ""
    webhook_id: UUID | None = None


@dataclass(frozen=True)
class RotateWebhookSecret:
    webhook_id: UUID
    expected_version: int | None = None


@dataclass(frozen=True)
class PauseWebhook:
    webhook_id: UUID
    reason: str = ""
    expected_version: int | None = None


@dataclass(frozen=True)
class ResumeWebhook:
    webhook_id: UUID
    expected_version: int | None = None


@dataclass(frozen=True)
class ReplayWebhook:
    webhook_id: UUID
    from_position: int
    expected_version: int | None = None


@dataclass(frozen=True)
class RemoveWebhook:
    webhook_id: UUID
    expected_version: int | None = None


@dataclass(frozen=True)
class SecretIssued:
    """The outcome, and the new secret: None when the command id was seen before."""

    outcome: Outcome[Webhook]
    secret: str | None


async def register_webhook(
    cmd: RegisterWebhook, context: CommandContext, handler: Handler, ports: WebhookPorts
) -> SecretIssued:
    """Register a webhook for the tenant's events after now; returns its signing secret once."""
    url = check_url_shape(cmd.url)
    await check_destination(url, ports.resolver, ports.allowed_networks)
    event_types = check_event_types(cmd.event_types)
    # The same names and families, refused the same way, as every other type filter.
    try:
        check_type_filter(event_types, ports.known_event_types, field="eventTypes")
    except InvalidValue as refused:
        raise InvalidWebhook(refused.message, field="eventTypes") from None
    webhook_id = cmd.webhook_id or uuid4()
    secret = new_secret()
    with ports.secrets.staged(context.command_id, webhook_id, secret) as secret:
        outcome = await handler.create(
            context,
            Webhook,
            lambda: Webhook.register(
                id=webhook_id, url=url, event_types=event_types, description=cmd.description
            ),
        )
    return SecretIssued(outcome, None if outcome.duplicate else secret)


async def rotate_webhook_secret(
    cmd: RotateWebhookSecret, context: CommandContext, handler: Handler, ports: WebhookPorts
) -> SecretIssued:
    """A new signing secret, returned once; the old one keeps signing for a grace period."""
    secret = new_secret()

    async def decide(webhook: Webhook) -> None:
        webhook.rotate_secret()

    with ports.secrets.staged(context.command_id, cmd.webhook_id, secret) as secret:
        outcome = await _update(context, handler, cmd.webhook_id, decide, cmd.expected_version)
    return SecretIssued(outcome, None if outcome.duplicate else secret)


async def pause_webhook(
    cmd: PauseWebhook, context: CommandContext, handler: Handler
) -> Outcome[Webhook]:
    """Stop delivering; events keep being queued and are delivered on resume."""

    async def decide(webhook: Webhook) -> None:
        webhook.pause(cmd.reason)

    return await _update(context, handler, cmd.webhook_id, decide, cmd.expected_version)


async def resume_webhook(
    cmd: ResumeWebhook, context: CommandContext, handler: Handler
) -> Outcome[Webhook]:
    """Deliver again, starting with the oldest event queued while paused."""

    async def decide(webhook: Webhook) -> None:
        webhook.resume()

    return await _update(context, handler, cmd.webhook_id, decide, cmd.expected_version)


async def replay_webhook(
    cmd: ReplayWebhook, context: CommandContext, handler: Handler
) -> Outcome[Webhook]:
    """Resume a paused webhook and deliver again every matching event after `from_position`."""

    async def decide(webhook: Webhook) -> None:
        webhook.replay(cmd.from_position)

    return await _update(context, handler, cmd.webhook_id, decide, cmd.expected_version)


async def remove_webhook(
    cmd: RemoveWebhook, context: CommandContext, handler: Handler
) -> Outcome[Webhook]:
    """Stop for good: pending deliveries and the secret are dropped; the history stays."""

    async def decide(webhook: Webhook) -> None:
        webhook.remove()

    return await _update(context, handler, cmd.webhook_id, decide, cmd.expected_version)


async def get_webhook(handler: Handler, tenant_id: str, webhook_id: UUID) -> Webhook:
    webhook = await handler.find(tenant_id, Webhook, webhook_id)
    if webhook is None:
        raise NotFound(f"Webhook {webhook_id} not found", field="webhookId")
    return webhook


async def _update(
    context: CommandContext,
    handler: Handler,
    webhook_id: UUID,
    decide: Callable[[Webhook], Awaitable[None]],
    expected_version: int | None,
) -> Outcome[Webhook]:
    return await handler.update(
        context, Webhook, webhook_id, decide, expected_version=expected_version
    )


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


# The setting that lets webhooks reach a non-public network (named in every refusal).
ALLOW_SETTING = "OKRLEDGER_WEBHOOK_ALLOWED_NETWORKS"


async def check_destination(
    url: str, resolver: Resolver, allowed: Sequence[Network]
) -> list[Address]:
    """Every address the URL's host resolves to, refused unless each may be reached
    (server-side request forgery: a webhook must not reach the server's own networks).
    The delivery connects only to addresses checked here, so a name that resolves
    elsewhere a moment later (DNS rebinding) gains nothing."""
    host = urlsplit(url).hostname or ""
    return await check_host(host, resolver, allowed)


async def check_host(host: str, resolver: Resolver, allowed: Sequence[Network]) -> list[Address]:
    texts = await resolver.resolve(host)
    if not texts:
        raise UnsafeWebhookURL(f"the host {host!r} does not resolve", field="url")
    addresses = [ip_address(text.split("%", 1)[0]) for text in texts]
    for address in addresses:
        reason = destination_refusal(address, allowed)
        if reason is not None:
            where = (
                f"the address {address}"
                if host == str(address)
                else f"the host {host!r} resolves to {address}, which"
            )
            raise UnsafeWebhookURL(
                f"{where} {reason}: webhooks reach public addresses only,"
                f" or a network listed in {ALLOW_SETTING}",
                field="url",
            )
    return addresses
