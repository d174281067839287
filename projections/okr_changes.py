"""How OKR events read in the goal change history: a sentence and the fields that changed.

A describer reads the OKR tree as it was just before the event (its versioned
rows as of the previous position) to name things by title and to give the
"from" of each change; that works inline and in a rebuild alike, as long as
the OKR tree projection runs before the change log (see projections/catalog.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

import orjson

from okrledger.domain.progress import cycle_bounds
from okrledger.domain.tenant_policy import DEFAULT_POLICY
from okrledger.domain.values import plain
from okrledger.projections import versioned
from okrledger.projections.base import Item, Rows
from okrledger.projections.change_log import (
    Describer,
    Description,
    FieldChange,
    Provenance,
    RunDescriber,
)
from okrledger.projections.okr_tree import CYCLES, KEY_RESULT_CHANGES, KEY_RESULTS, OBJECTIVES
from okrledger.projections.recorded import RecordedEvent

Row = versioned.Row


def show(value: Any) -> str | None:
    """A value as the history shows it (Decimals in their canonical text, enums by name)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, Decimal):
        return plain(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    return str(value)


def change(field: str, before: Any, after: Any, *, goalpost_moved: bool = False) -> FieldChange:
    return FieldChange(field, show(before), show(after), goalpost_moved)


async def _before(rows: Rows, table: str, record: RecordedEvent, **key: Any) -> Row | None:
    return await versioned.as_of(
        rows, table, {"tenant_id": record.tenant_id, **key}, record.position - 1
    )


async def _objective(rows: Rows, record: RecordedEvent) -> Row:
    found = await _before(rows, OBJECTIVES, record, objective_id=record.stream_id)
    return found or {"title": str(record.stream_id)}


async def _title_of(rows: Rows, record: RecordedEvent, objective_id: UUID | None) -> str:
    if objective_id is None:
        return ""
    found = await _before(rows, OBJECTIVES, record, objective_id=objective_id)
    return str(found["title"]) if found else str(objective_id)


# -- cycles ------------------------------------------------------------------------


async def cycle_started(rows: Rows, record: RecordedEvent, e: Any) -> Description:
    return Description(
        f"Cycle '{e.name}' started, running from {e.starts_on} to {e.ends_on}",
        [
            change("name", None, e.name),
            change("startsOn", None, e.starts_on),
            change("endsOn", None, e.ends_on),
        ],
    )


async def cycle_closed(rows: Rows, record: RecordedEvent, e: Any) -> Description:
    cycle = await _before(rows, CYCLES, record, cycle_id=record.stream_id)
    name = cycle["name"] if cycle else str(record.stream_id)
    return Description(f"Cycle '{name}' closed", [change("closed", False, True)])


async def cycle_reopened(rows: Rows, record: RecordedEvent, e: Any) -> Description:
    cycle = await _before(rows, CYCLES, record, cycle_id=record.stream_id)
    name = cycle["name"] if cycle else str(record.stream_id)
    # The reason is the entry's own (required, from the admin who reopened it).
    return Description(
        f"Cycle '{name}' reopened after its close, as an exception",
        [change("closed", True, False)],
    )


async def objective_settled(rows: Rows, record: RecordedEvent, e: Any) -> Description:
    old = await _objective(rows, record)
    cycle = await _before(rows, CYCLES, record, cycle_id=e.cycle_id)
    name = cycle["name"] if cycle else str(e.cycle_id)
    summary = f"Objective '{old['title']}' closed with its cycle '{name}'"
    if old.get("status") == "ARCHIVED":
        return Description(summary + " (it stays archived)", [])
    return Description(summary, [change("status", e.settled_from, "CLOSED")])


# -- objectives --------------------------------------------------------------------


async def objective_set(rows: Rows, record: RecordedEvent, e: Any) -> Description:
    cycle = await _before(rows, CYCLES, record, cycle_id=e.cycle_id)
    cycle_name = cycle["name"] if cycle else str(e.cycle_id)
    summary = f"Objective '{e.title}' set for cycle '{cycle_name}', owned by {e.owner}"
    if e.parent_id is not None:
        summary += f", aligned under '{await _title_of(rows, record, e.parent_id)}'"
    changes = [
        change("title", None, e.title),
        change("description", None, e.description or None),
        change("owner", None, e.owner),
        change("team", None, e.team),
        change("cycleId", None, e.cycle_id),
        change("parentId", None, e.parent_id),
        change("status", None, "DRAFT"),
    ]
    return Description(summary, [c for c in changes if c.after is not None])


async def objective_revised(rows: Rows, record: RecordedEvent, e: Any) -> Description:
    old = await _objective(rows, record)
    parts, changes = [], []
    if e.title is not None:
        parts.append(f"Title of objective '{old['title']}' changed to '{e.title}'")
        changes.append(change("title", old.get("title"), e.title))
    if e.description is not None:
        parts.append(f"Description of '{e.title or old['title']}' changed")
        changes.append(change("description", old.get("description"), e.description))
    return Description("; ".join(parts), changes)


async def objective_owner_assigned(rows: Rows, record: RecordedEvent, e: Any) -> Description:
    old = await _objective(rows, record)
    owner = e.owner if e.team is None else f"{e.owner} ({e.team})"
    summary = f"Owner of '{old['title']}' changed from {old.get('owner')} to {owner}"
    changes = [change("owner", old.get("owner"), e.owner)]
    if old.get("team") != e.team:
        changes.append(change("team", old.get("team"), e.team))
    return Description(summary, changes)


async def objective_aligned(rows: Rows, record: RecordedEvent, e: Any) -> Description:
    old = await _objective(rows, record)
    before = old.get("parent_id")
    if e.parent_id is None:
        summary = f"'{old['title']}' detached from '{await _title_of(rows, record, before)}'"
    else:
        summary = f"'{old['title']}' aligned under '{await _title_of(rows, record, e.parent_id)}'"
    return Description(summary, [change("parentId", before, e.parent_id)])


def _status_change(verb: str, status: str | None = None) -> Describer:
    async def describe(rows: Rows, record: RecordedEvent, e: Any) -> Description:
        old = await _objective(rows, record)
        before = old.get("status")
        after = status or (old.get("lifecycle") if before == "ARCHIVED" else None)
        return Description(f"Objective '{old['title']}' {verb}", [change("status", before, after)])

    return describe


async def objective_graded(rows: Rows, record: RecordedEvent, e: Any) -> Description:
    old = await _objective(rows, record)
    changes = [change("grade", old.get("grade"), e.score)]
    if e.retrospective != old.get("retrospective", ""):
        changes.append(change("retrospective", old.get("retrospective"), e.retrospective))
    return Description(f"Objective '{old['title']}' graded {show(e.score)}", changes)


# -- key results -------------------------------------------------------------------


async def _key_result(rows: Rows, record: RecordedEvent, key_result_id: UUID) -> Row:
    found = await _before(
        rows, KEY_RESULTS, record, objective_id=record.stream_id, key_result_id=key_result_id
    )
    return found or {"title": str(key_result_id)}


async def key_result_added(rows: Rows, record: RecordedEvent, e: Any) -> Description:
    objective = await _objective(rows, record)
    unit = f" {e.unit}" if e.unit else ""
    summary = (
        f"Key result '{e.title}' added to '{objective['title']}': "
        f"from {show(e.start)} to {show(e.target)}{unit}"
    )
    changes = [
        change("title", None, e.title),
        change("metric", None, e.metric),
        change("start", None, e.start),
        change("target", None, e.target),
        change("unit", None, e.unit or None),
        change("currency", None, e.currency),
        change("weight", None, e.weight),
    ]
    return Description(summary, [c for c in changes if c.after is not None])


_REVISABLE = (
    ("title", "title", "Title"),
    ("start", "start_value", "Start"),
    ("target", "target_value", "Target"),
    ("unit", "unit", "Unit"),
    ("weight", "weight", "Weight"),
)


async def key_result_revised(rows: Rows, record: RecordedEvent, e: Any) -> Description:
    old = await _key_result(rows, record, e.key_result_id)
    moved = await _cycle_has_started(rows, record)
    parts, changes = [], []
    for field, column, label in _REVISABLE:
        after = getattr(e, field)
        if after is None:
            continue
        before = old.get(column)
        goalpost = moved and field in ("start", "target")
        changes.append(change(field, before, after, goalpost_moved=goalpost))
        if field == "title":
            parts.append(f"Key result '{before}' renamed to '{after}'")
        else:
            parts.append(
                f"{label} of '{old['title']}' changed from {show(before)} to {show(after)}"
            )
    return Description("; ".join(parts), changes)


async def _cycle_has_started(rows: Rows, record: RecordedEvent) -> bool:
    objective = await _before(rows, OBJECTIVES, record, objective_id=record.stream_id)
    if objective is None:
        return False
    cycle = await _before(rows, CYCLES, record, cycle_id=objective["cycle_id"])
    if cycle is None:
        return False
    return bool(cycle_bounds(cycle["starts_on"], cycle["ends_on"])[0] <= record.recorded_at)


async def key_result_removed(rows: Rows, record: RecordedEvent, e: Any) -> Description:
    objective = await _objective(rows, record)
    old = await _key_result(rows, record, e.key_result_id)
    return Description(
        f"Key result '{old['title']}' removed from '{objective['title']}'",
        [change("title", old.get("title"), None)],
    )


def checked_in(old: Row, record: RecordedEvent, e: Any) -> Description:
    level = e.confidence.value
    value, was = show(e.value), show(old.get("current_value"))
    confidence = level.replace("_", " ").lower()
    summary = f"'{old['title']}' checked in at {value} (was {was}), {confidence}"
    changes = [FieldChange("current", was, value)]
    if old.get("confidence") != level:
        changes.append(change("confidence", old.get("confidence"), e.confidence))
    if e.note and e.note != old.get("note"):
        changes.append(change("note", old.get("note") or None, e.note))
    # Check-ins recorded before provenance existed applied when they were recorded.
    provenance = Provenance(e.observed_at or record.recorded_at, e.source, e.run_id, e.client)
    return Description(summary, changes, provenance)


def linked(old: Row, record: RecordedEvent, e: Any) -> Description:
    return Description(
        f"'{old['title']}' now follows KPI {e.kpi_id}",
        [change("kpiId", old.get("kpi_id"), e.kpi_id)],
    )


def unlinked(old: Row, record: RecordedEvent, e: Any) -> Description:
    return Description(
        f"'{old['title']}' no longer follows KPI {old.get('kpi_id')}",
        [change("kpiId", old.get("kpi_id"), None)],
    )


def followed_kpi(old: Row, record: RecordedEvent, e: Any) -> Description:
    return Description(
        f"'{old['title']}' moved from {show(old.get('current_value'))} to {show(e.value)} "
        f"by reading {e.reading_id} of KPI {e.kpi_id} observed at {e.observed_at.isoformat()}",
        [change("current", old.get("current_value"), e.value)],
        Provenance(observed_at=e.observed_at),
    )


# Key-result moves described from the key result as it was just before the event alone.
_MOVES: dict[str, Callable[[Row, RecordedEvent, Any], Description]] = {
    "KeyResultCheckedIn": checked_in,
    "KeyResultLinkedToKPI": linked,
    "KeyResultUnlinkedFromKPI": unlinked,
    "KeyResultValueFollowedKPI": followed_kpi,
}


def _move(describe: Callable[[Row, RecordedEvent, Any], Description]) -> Describer:
    async def one(rows: Rows, record: RecordedEvent, e: Any) -> Description:
        return describe(await _key_result(rows, record, e.key_result_id), record, e)

    return one


# Each key result as of the position before its event, for a whole run in one read.
_KEY_RESULTS_BEFORE = f"""
SELECT w.ord, k.* FROM unnest($2::uuid[], $3::uuid[], $4::bigint[]) WITH ORDINALITY
    AS w(objective_id, key_result_id, before, ord)
JOIN LATERAL (SELECT * FROM {KEY_RESULTS} v
              WHERE v.tenant_id = $1 AND v.objective_id = w.objective_id
                AND v.key_result_id = w.key_result_id AND v.valid_from_position <= w.before
              ORDER BY v.valid_from_position DESC LIMIT 1) AS k
  ON k.valid_to_position IS NULL OR k.valid_to_position > w.before
"""


async def key_result_moves(rows: Rows, items: Sequence[Item]) -> list[Description]:
    """What `_move` describes, for a run of consecutive key-result moves.

    Each key result is read once, as of the position before its first move in the run;
    the run's later moves see it as the OKR tree's versions do, each move's changes applied
    in turn (nothing else changes a key result between the moves of one run).
    """
    first: dict[tuple[UUID, UUID], int] = {}
    for record, e in items:
        first.setdefault((record.stream_id, e.key_result_id), record.position)
    keys = list(first)
    found = await rows.fetch(
        _KEY_RESULTS_BEFORE,
        items[0][0].tenant_id,
        [objective_id for objective_id, _ in keys],
        [key_result_id for _, key_result_id in keys],
        [position - 1 for position in first.values()],
    )
    current = {keys[row["ord"] - 1]: dict(row) for row in found}
    descriptions = []
    for record, e in items:
        old = current.get((record.stream_id, e.key_result_id))
        if old is None:
            descriptions.append(
                _MOVES[record.event_type]({"title": str(e.key_result_id)}, record, e)
            )
            continue
        descriptions.append(_MOVES[record.event_type](old, record, e))
        for column, value in KEY_RESULT_CHANGES[record.event_type](record, e).items():
            old[column] = _as_stored(value)
    return descriptions


def _as_stored(value: Any) -> Any:
    """A value as the OKR tree's row reads it back (numeric has no negative zero)."""
    if isinstance(value, Decimal) and value.is_zero():
        return value.copy_abs()
    return value


# -- tenant settings ---------------------------------------------------------------


async def okr_policy_set(rows: Rows, record: RecordedEvent, e: Any) -> Description:
    before = await _previous_policy(rows, record)
    stretch = "allowed" if e.allow_percent_stretch else "not allowed"
    summary = (
        f"OKR policy set: at most {e.max_key_results} key results per objective, "
        f"percentages above 100 {stretch}"
    )
    after = {
        "maxKeyResults": show(e.max_key_results),
        "allowPercentStretch": show(e.allow_percent_stretch),
    }
    # The caps (OKRPolicySet v2): entries from before them compare with their defaults, so
    # a history rebuilt from a stream that never set them reads as it always did.
    caps = {
        field: show(getattr(e, name, default)) for field, (name, default) in _POLICY_CAPS.items()
    }
    set_caps = {f: v for f, v in caps.items() if before.get(f, _CAP_DEFAULTS[f]) != v}
    if set_caps:
        summary += "; " + ", ".join(
            f"{field} {value or 'none'}" for field, value in set_caps.items()
        )
    changes = [
        FieldChange(field, before.get(field), value)
        for field, value in after.items()
        if before.get(field) != value
    ] + [FieldChange(f, before.get(f, _CAP_DEFAULTS[f]), v) for f, v in set_caps.items()]
    return Description(summary, changes)


_POLICY_CAPS = {
    "softMaxKeyResults": ("soft_max_key_results", DEFAULT_POLICY.soft_max_key_results),
    "maxActiveObjectives": ("max_active_objectives", DEFAULT_POLICY.max_active_objectives),
    "softMaxActiveObjectives": (
        "soft_max_active_objectives",
        DEFAULT_POLICY.soft_max_active_objectives,
    ),
}
_CAP_DEFAULTS = {field: show(default) for field, (_, default) in _POLICY_CAPS.items()}


async def _previous_policy(rows: Rows, record: RecordedEvent) -> Mapping[str, str | None]:
    """The policy before this event, from the settings stream's previous history entry."""
    entry = await rows.fetchval(
        """SELECT changes::text FROM change_log
           WHERE tenant_id = $1 AND stream_id = $2 AND position < $3
           ORDER BY position DESC LIMIT 1""",
        record.tenant_id,
        record.stream_id,
        record.position,
    )
    if entry is None:
        return {}
    return {c["field"]: c["to"] for c in orjson.loads(entry)}


DESCRIBERS: dict[str, Describer] = {
    "CycleStarted": cycle_started,
    "CycleClosed": cycle_closed,
    "CycleReopened": cycle_reopened,
    "ObjectiveSettled": objective_settled,
    "ObjectiveSet": objective_set,
    "ObjectiveRevised": objective_revised,
    "ObjectiveOwnerAssigned": objective_owner_assigned,
    "ObjectiveAligned": objective_aligned,
    "ObjectiveActivated": _status_change("activated", "ACTIVE"),
    "ObjectiveGraded": objective_graded,
    "ObjectiveClosed": _status_change("closed", "CLOSED"),
    "ObjectiveArchived": _status_change("archived", "ARCHIVED"),
    "ObjectiveRestored": _status_change("restored"),
    "KeyResultAdded": key_result_added,
    "KeyResultRevised": key_result_revised,
    "KeyResultRemoved": key_result_removed,
    **{event_type: _move(describe) for event_type, describe in _MOVES.items()},
    "TenantConfigured": okr_policy_set,
    "OKRPolicySet": okr_policy_set,
}

RUN_DESCRIBERS: dict[str, RunDescriber] = dict.fromkeys(_MOVES, key_result_moves)
