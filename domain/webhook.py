"""A webhook: where a tenant wants its events POSTed, and which ones.

The signing secret is never part of an event (events are exported and kept forever);
the aggregate only counts rotations.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network
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


Address = IPv4Address | IPv6Address
Network = IPv4Network | IPv6Network

# What a webhook may not reach, with the name a refusal gives it. The IANA special-purpose
# registries, written out: the standard library's `is_global` differs between versions.
_IPV4_REFUSED: tuple[tuple[IPv4Network, str], ...] = tuple(
    (IPv4Network(network), name)
    for network, name in (
        ("0.0.0.0/8", "'this network'"),
        ("10.0.0.0/8", "private"),
        ("100.64.0.0/10", "shared address space (carrier-grade NAT)"),
        ("127.0.0.0/8", "loopback"),
        ("169.254.0.0/16", "link-local"),
        ("172.16.0.0/12", "private"),
        ("192.0.0.0/24", "reserved for IETF protocol assignments"),
        ("192.0.2.0/24", "documentation"),
        ("192.88.99.0/24", "reserved (6to4 relay anycast)"),
        ("192.168.0.0/16", "private"),
        ("198.18.0.0/15", "benchmarking"),
        ("198.51.100.0/24", "documentation"),
        ("203.0.113.0/24", "documentation"),
        ("224.0.0.0/4", "multicast"),
        ("255.255.255.255/32", "broadcast"),
        ("240.0.0.0/4", "reserved"),
    )
)
_IPV6_REFUSED: tuple[tuple[IPv6Network, str], ...] = tuple(
    (IPv6Network(network), name)
    for network, name in (
        ("::/128", "unspecified"),
        ("::1/128", "loopback"),
        ("::/96", "IPv4-compatible (deprecated)"),
        ("::ffff:0:0/96", "IPv4-mapped"),
        ("::ffff:0:0:0/96", "IPv4-translated"),
        ("64:ff9b:1::/48", "local-use NAT64"),
        ("100::/64", "discard-only"),
        ("2001::/23", "reserved for IETF protocol assignments"),
        ("2001:db8::/32", "documentation"),
        ("3fff::/20", "documentation"),
        ("5f00::/16", "segment routing (SRv6)"),
        ("fc00::/7", "unique-local"),
        ("fe80::/10", "link-local"),
        ("fec0::/10", "site-local (deprecated)"),
        ("ff00::/8", "multicast"),
    )
)
# IPv6 forms that carry an IPv4 address, and where: a connection to one reaches (through a
# translator, a relay or the dual-stack socket) the IPv4 address it embeds.
_NAT64 = IPv6Network("64:ff9b::/96")
_NAT64_LOCAL = IPv6Network("64:ff9b:1::/48")
_COMPATIBLE = IPv6Network("::/96")
_TRANSLATED = IPv6Network("::ffff:0:0:0/96")


def embedded_ipv4(address: IPv6Address) -> list[tuple[str, IPv4Address]]:
    """Every IPv4 address an IPv6 address carries, with the form that carries it."""
    found: list[tuple[str, IPv4Address]] = []
    low32 = IPv4Address(int(address) & 0xFFFFFFFF)
    if address.ipv4_mapped is not None:
        found.append(("IPv4-mapped", address.ipv4_mapped))
    if address in _TRANSLATED:
        found.append(("IPv4-translated", low32))
    if address in _COMPATIBLE and int(address) > 1:
        found.append(("IPv4-compatible", low32))
    if address in _NAT64 or address in _NAT64_LOCAL:
        found.append(("NAT64", low32))
    if address.sixtofour is not None:
        found.append(("6to4", address.sixtofour))
    if address.teredo is not None:
        server, client = address.teredo  # client: the last 32 bits XOR 0xffffffff
        found.extend([("Teredo client", client), ("Teredo server", server)])
    return found


def destination_refusal(address: Address, allowed: Sequence[Network] = ()) -> str | None:
    """Why a webhook may not be delivered to `address` ("is loopback (127.0.0.0/8)",
    "embeds 10.0.0.1 (NAT64), which is private (10.0.0.0/8)"), or None when it may: a
    public address, or one in a network the operator allowed."""
    embedded = embedded_ipv4(address) if isinstance(address, IPv6Address) else []
    # An IPv4-mapped address is its IPv4 address on a dual-stack socket; the other forms
    # reach a translator or relay first, which is not the allowed network.
    mapped = address.ipv4_mapped if isinstance(address, IPv6Address) else None
    if _in_any(address, allowed) or (mapped is not None and _in_any(mapped, allowed)):
        return None
    for form, v4 in embedded:
        reason = _own_refusal(v4)
        if reason is not None:
            return f"embeds {v4} ({form}), which {reason}"
    return _own_refusal(address)


def _own_refusal(address: Address) -> str | None:
    table: Sequence[tuple[IPv4Network | IPv6Network, str]] = (
        _IPV4_REFUSED if isinstance(address, IPv4Address) else _IPV6_REFUSED
    )
    for network, name in table:
        if address in network:
            return f"is {name} ({network})"
    if not address.is_global or address.is_multicast:
        return "is not globally reachable"
    return None


def _in_any(address: Address, networks: Sequence[Network]) -> bool:
    return any(address.version == n.version and address in n for n in networks)


class WebhookError(DomainError):
    """A webhook command was refused; nothing was changed."""


class InvalidWebhook(WebhookError, InvalidValue):
    """The URL, event types or description are malformed."""


class UnsafeWebhookURL(InvalidWebhook):
    """The URL's host does not resolve, or reaches an address a webhook may not."""


class WebhookStateError(WebhookError):
    """The command does not apply to the webhook in its current state."""

    code = "INVALID_STATE"
