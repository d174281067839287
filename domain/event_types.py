"""Type filters: which events a reader asks for, by public type name or family.

One parser for every filter (auditLog's `eventTypes`, the event log's and goalEvents'
`types`, webhook subscriptions), so a name that works in one works in all, and a name
that matches nothing is refused, naming what would have matched, instead of silently
answering an empty page.

A filter item is a public type (`okr.objective.set.v1`), a family (`okr.objective.*`,
`kpi.*`: every type under that prefix) or `*` (every type).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence

from okrledger.domain.errors import InvalidValue

EVERYTHING = "*"


def families(known: Iterable[str]) -> list[str]:
    """The families a reader can name: each prefix of a public type above its action
    (`okr.*`, `okr.objective.*`, `kpi.*`, `kpi.reading.*`), and `*`."""
    found = set()
    for name in known:
        parts = name.split(".")
        for length in range(1, len(parts) - 1):
            found.add(".".join(parts[:length]) + ".*")
    return [*sorted(found), EVERYTHING]


def matches(item: str, public_type: str) -> bool:
    """True when filter item `item` asks for events of `public_type`."""
    if item in (EVERYTHING, public_type):
        return True
    return item.endswith(".*") and public_type.startswith(item[:-1])


def check_type_filter(
    given: Sequence[str], known: Collection[str], *, field: str
) -> tuple[str, ...]:
    """The filter's items, trimmed and de-duplicated in order; any item that matches no
    known type is refused (`InvalidValue` on `field`) with the valid names and families."""
    if isinstance(given, str):
        raise InvalidValue(f"{field} must be a list of event types", field=field)
    items = tuple(dict.fromkeys(item.strip() for item in given))
    unknown = [item for item in items if not any(matches(item, name) for name in known)]
    if unknown:
        raise InvalidValue(
            f"Unknown event type{'s' if len(unknown) > 1 else ''} in {field}: "
            f"{', '.join(repr(item) for item in unknown)}. Valid types: "
            f"{', '.join(sorted(known))}. Valid families: {', '.join(families(known))}",
            field=field,
        )
    return items


def expand(items: Iterable[str], known: Collection[str]) -> frozenset[str]:
    """The known public types a checked filter asks for."""
    wanted = tuple(items)
    return frozenset(name for name in known if any(matches(item, name) for item in wanted))
