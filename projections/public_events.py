"""The public event contract: what integrators receive, stable whatever the code is called.

Each domain event class maps to a versioned public type (`okr.objective.set.v1`). The map is
keyed by the class itself, so renaming a class or module changes no public name, and a
stored event of a renamed class still decodes (eventsourcing's topic register) to the same
class. Bodies are clean JSON: camelCase keys, Decimals as strings in plain notation
(domain/values.py `plain`: "1200000", never "1.20E+6"), times ISO-8601 UTC.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

from okrledger.domain.cycle import Cycle
from okrledger.domain.event_types import check_type_filter, expand
from okrledger.domain.kpi import KPI
from okrledger.domain.objective import Objective
from okrledger.domain.tenant_settings import TenantSettings
from okrledger.domain.values import plain
from okrledger.domain.webhook import Webhook
from okrledger.projections.recorded import RecordedEvent

# Event classes are made by eventsourcing's @event at runtime; mypy cannot see them.
_cycle: Any = Cycle
_objective: Any = Objective
_settings: Any = TenantSettings
_kpi: Any = KPI
_webhook: Any = Webhook

PUBLIC_TYPES: dict[type[Any], str] = {
    _cycle.CycleStarted: "okr.cycle.started.v1",
    _cycle.CycleClosed: "okr.cycle.closed.v1",
    _cycle.CycleReopened: "okr.cycle.reopened.v1",
    _objective.ObjectiveSet: "okr.objective.set.v1",
    _objective.ObjectiveRevised: "okr.objective.revised.v1",
    _objective.ObjectiveOwnerAssigned: "okr.objective.owner_assigned.v1",
    _objective.ObjectiveAligned: "okr.objective.aligned.v1",
    _objective.ObjectiveActivated: "okr.objective.activated.v1",
    _objective.ObjectiveGraded: "okr.objective.graded.v1",
    _objective.ObjectiveClosed: "okr.objective.closed.v1",
    _objective.ObjectiveSettled: "okr.objective.settled.v1",
    _objective.ObjectiveArchived: "okr.objective.archived.v1",
    _objective.ObjectiveRestored: "okr.objective.restored.v1",
    _objective.KeyResultAdded: "okr.key_result.added.v1",
    _objective.KeyResultRevised: "okr.key_result.revised.v1",
    _objective.KeyResultRemoved: "okr.key_result.removed.v1",
    _objective.KeyResultCheckedIn: "okr.key_result.checked_in.v1",
    _objective.KeyResultLinkedToKPI: "okr.key_result.linked_to_kpi.v1",
    _objective.KeyResultUnlinkedFromKPI: "okr.key_result.unlinked_from_kpi.v1",
    _objective.KeyResultValueFollowedKPI: "okr.key_result.followed_kpi.v1",
    _kpi.KPIDefined: "kpi.defined.v1",
    _kpi.KPIRevised: "kpi.revised.v1",
    _kpi.KPITargetSet: "kpi.target.set.v1",
    _kpi.KPIBandsSet: "kpi.bands.set.v1",
    _kpi.KPIRetired: "kpi.retired.v1",
    _kpi.KPIReadingRecorded: "kpi.reading.recorded.v1",
    _kpi.KPIReadingsRecorded: "kpi.readings.recorded.v1",
    _kpi.KPIReadingCorrected: "kpi.reading.corrected.v1",
    _kpi.KPIHealthChanged: "kpi.health.changed.v1",
    _settings.TenantConfigured: "tenant.configured.v1",
    _settings.OKRPolicySet: "tenant.okr_policy.set.v1",
    _webhook.WebhookRegistered: "webhook.registered.v1",
    _webhook.WebhookSecretRotated: "webhook.secret_rotated.v1",
    _webhook.WebhookPaused: "webhook.paused.v1",
    _webhook.WebhookResumed: "webhook.resumed.v1",
    _webhook.WebhookReplayed: "webhook.replayed.v1",
    _webhook.WebhookRemoved: "webhook.removed.v1",
}

# A public type carrying the same facts as another in another shape: a type filter asking
# for the other one is answered with it too, so a consumer who followed readings before
# batches had their own type does not lose the batches.
ALSO_ANSWERS: dict[str, str] = {"kpi.readings.recorded.v1": "kpi.reading.recorded.v1"}


def filter_names(public: str) -> tuple[str, ...]:
    """The names under which a type filter (webhook, `events`, `goalEvents`) asks for
    events of public type `public`."""
    other = ALSO_ANSWERS.get(public)
    return (public,) if other is None else (public, other)


PUBLIC_NAMES = frozenset(PUBLIC_TYPES.values())
# By the event name the change history records (`ObjectiveSet`).
PUBLIC_BY_NAME: dict[str, str] = {kind.__name__: name for kind, name in PUBLIC_TYPES.items()}


def asked_types(given: Sequence[str] | None, *, field: str) -> frozenset[str] | None:
    """The public types a reader's type filter asks for (None: no filter, every type).

    Names and families are checked by the one parser every filter uses
    (domain/event_types.py): an unknown one is refused, listing the valid ones.
    """
    if not given:
        return None
    return expand(check_type_filter(given, PUBLIC_NAMES, field=field), PUBLIC_NAMES)


def event_names(public: Collection[str]) -> list[str]:
    """The event names the change history records (`ObjectiveSet`) for these public types,
    with the events a filter for them also answers (batches of readings for readings)."""
    return sorted(
        kind.__name__
        for kind, name in PUBLIC_TYPES.items()
        if any(asked in public for asked in filter_names(name))
    )


_ENVELOPE = frozenset({"originator_id", "originator_version", "timestamp", "originator_topic"})


class UnknownPublicEvent(LookupError):
    """An event with no public name: every domain event must have one (a test checks)."""


def public_type(event: Any) -> str:
    try:
        return PUBLIC_TYPES[type(event)]
    except KeyError:
        raise UnknownPublicEvent(f"{type(event).__qualname__} has no public type") from None


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def to_json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        # Stored payloads keep the text they were written with ("1.20E+6" from before
        # inputs were normalised): the hash chain is over those bytes, so the canonical
        # text is made here, on the way out, for every consumer alike.
        return plain(value)
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.name
    if isinstance(value, dict):
        return {camel(str(k)): to_json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json_value(v) for v in value]
    return value


def body(event: Any) -> dict[str, Any]:
    """The event's own fields, without the envelope (id, version, time live in the CloudEvent)."""
    fields = {
        camel(name): to_json_value(value)
        for name, value in vars(event).items()
        if name not in _ENVELOPE
    }
    if isinstance(event, _kpi.KPIReadingsRecorded):
        # A batch stores its readings' values already as text, as they were written.
        fields["readings"] = [
            {**row, "value": plain(Decimal(row["value"]))} for row in fields["readings"]
        ]
    return fields


def cloud_event(record: RecordedEvent, event: Any) -> dict[str, Any]:
    """The event as a CloudEvents 1.0 JSON object (structured mode)."""
    return {
        "specversion": "1.0",
        "id": str(record.event_id),
        "source": f"/tenants/{record.tenant_id}",
        "type": public_type(event),
        "subject": str(record.stream_id),
        "time": to_json_value(record.recorded_at),
        "datacontenttype": "application/json",
        "position": record.position,
        "streamversion": record.version,
        "data": body(event),
    }
