"""A goal event as integrators receive it: a CloudEvents 1.0 envelope around a JSON body."""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime
from typing import Any, ClassVar

import strawberry
from strawberry.scalars import JSON

from okrledger.projections.public_events import PUBLIC_TYPES

PUBLIC_TYPE_NAMES = frozenset(PUBLIC_TYPES.values())

# The newest events' views, by (source, id): as many as a tenant tail keeps, and more.
_VIEWS = 4096
_views: OrderedDict[tuple[str, str], CloudEvent] = OrderedDict()


@strawberry.type(description="One event of the tenant's log, as a CloudEvents 1.0 envelope.")
class CloudEvent:
    id: str = strawberry.field(description="Unique per event; deduplicate on it.")
    source: str = strawberry.field(description='The tenant: "/tenants/<id>".')
    type: str = strawberry.field(description='The public, versioned type: "kpi.defined.v1".')
    subject: str = strawberry.field(description="The id of the objective, KPI, cycle… it is about.")
    time: datetime = strawberry.field(description="When it was recorded.")
    position: int = strawberry.field(
        description="Its place in the tenant's log: resume after the last one you handled."
    )
    stream_version: int = strawberry.field(description="The subject's version after this event.")
    specversion: str
    datacontenttype: str
    data: JSON = strawberry.field(
        description="The event's body: camelCase keys, decimals as strings, ISO-8601 UTC times."
    )

    # One object per event, shared by every subscriber of the tenant in this process
    # (graphql/execution.py executes a document's selection on it once).
    shared_by_subscribers: ClassVar[bool] = True

    @classmethod
    def of(cls, event: dict[str, Any]) -> CloudEvent:
        key = (event["source"], event["id"])
        known = _views.get(key)
        if known is None:
            known = _views[key] = cls._made(event)
            if len(_views) > _VIEWS:
                _views.popitem(last=False)
        return known

    @classmethod
    def _made(cls, event: dict[str, Any]) -> CloudEvent:
        return cls(
            id=event["id"],
            source=event["source"],
            type=event["type"],
            subject=event["subject"],
            time=datetime.fromisoformat(event["time"]),
            position=event["position"],
            stream_version=event["streamversion"],
            specversion=event["specversion"],
            datacontenttype=event["datacontenttype"],
            data=event["data"],
        )
