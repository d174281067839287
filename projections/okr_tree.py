"""The OKR tree: cycles, objectives and key results, one version per change.

Each objective version stores its own progress (the weighted mean of its key
results', computed with domain/progress.py) so a reader never recomputes it;
what depends on the reader's "now" (pace) or on the whole tree (roll-up) is
computed at read time in projections/okr_queries.py.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from okrledger.domain.objective import MetricKind, ObjectiveStatus
from okrledger.domain.progress import key_result_progress, weighted_progress
from okrledger.projections import versioned
from okrledger.projections.base import ApplyRun, Item, Rows, apply_in_runs
from okrledger.projections.recorded import RecordedEvent

CYCLES = "okr_cycles"
OBJECTIVES = "okr_objectives"
KEY_RESULTS = "okr_key_results"
CYCLE_KEY = ("tenant_id", "cycle_id")
OBJECTIVE_KEY = ("tenant_id", "objective_id")
KEY_RESULT_KEY = ("tenant_id", "objective_id", "key_result_id")

Apply = Callable[[Rows, RecordedEvent, Any], Awaitable[None]]


# -- cycles ------------------------------------------------------------------------


async def _cycle_started(rows: Rows, record: RecordedEvent, e: Any) -> None:
    await versioned.add(
        rows,
        CYCLES,
        record,
        {
            "tenant_id": record.tenant_id,
            "cycle_id": record.stream_id,
            "name": e.name,
            "starts_on": e.starts_on,
            "ends_on": e.ends_on,
            "closed": False,
            "version": record.version,
            "started_at": record.recorded_at,
        },
    )


async def _cycle_closed(rows: Rows, record: RecordedEvent, e: Any) -> None:
    old = await versioned.current(rows, CYCLES, _cycle_key(record))
    if old is None or versioned.already_applied(old, record):
        return
    changes = {"closed": True, "version": record.version}
    await versioned.replace(rows, CYCLES, CYCLE_KEY, record, old, changes)


async def _cycle_reopened(rows: Rows, record: RecordedEvent, e: Any) -> None:
    old = await versioned.current(rows, CYCLES, _cycle_key(record))
    if old is None or versioned.already_applied(old, record):
        return
    changes = {"closed": False, "version": record.version}
    await versioned.replace(rows, CYCLES, CYCLE_KEY, record, old, changes)


# -- objectives --------------------------------------------------------------------


async def _objective_set(rows: Rows, record: RecordedEvent, e: Any) -> None:
    await versioned.add(
        rows,
        OBJECTIVES,
        record,
        {
            "tenant_id": record.tenant_id,
            "objective_id": record.stream_id,
            "cycle_id": e.cycle_id,
            "parent_id": e.parent_id,
            "title": e.title,
            "description": e.description,
            "owner": e.owner,
            "team": e.team,
            "lifecycle": ObjectiveStatus.DRAFT.value,
            "archived": False,
            "status": ObjectiveStatus.DRAFT.value,
            "grade": None,
            "retrospective": "",
            "progress": weighted_progress(()),
            "key_result_count": 0,
            "version": record.version,
            "created_position": record.position,
            "created_at": record.recorded_at,
            "updated_at": record.recorded_at,
        },
    )


def _objective_change(
    changes: Callable[[Any], Mapping[str, Any]],
) -> Apply:
    async def apply(rows: Rows, record: RecordedEvent, e: Any) -> None:
        old = await versioned.current(rows, OBJECTIVES, _objective_key(record))
        if old is None or versioned.already_applied(old, record):
            return
        change = dict(changes(e))
        after = {**old, **change}
        change["status"] = (
            ObjectiveStatus.ARCHIVED.value if after["archived"] else str(after["lifecycle"])
        )
        change["version"] = record.version
        change["updated_at"] = record.recorded_at
        await versioned.replace(rows, OBJECTIVES, OBJECTIVE_KEY, record, old, change)

    return apply


def _revised(e: Any) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if e.title is not None:
        changes["title"] = e.title
    if e.description is not None:
        changes["description"] = e.description
    return changes


# -- key results (each change is also a new version of the objective's progress) -----


async def _key_result_added(rows: Rows, record: RecordedEvent, e: Any) -> None:
    objective = await versioned.current(rows, OBJECTIVES, _objective_key(record))
    if objective is None or versioned.already_applied(objective, record):
        return
    metric = MetricKind(e.metric.value)
    await versioned.add(
        rows,
        KEY_RESULTS,
        record,
        {
            "tenant_id": record.tenant_id,
            "objective_id": record.stream_id,
            "key_result_id": e.key_result_id,
            "cycle_id": objective["cycle_id"],
            "title": e.title,
            "metric": metric.value,
            "unit": e.unit,
            "currency": e.currency,
            "start_value": e.start,
            "target_value": e.target,
            "current_value": e.start,
            "weight": e.weight,
            "confidence": None,
            "note": "",
            "progress": key_result_progress(metric, e.start, e.target, e.start),
            "kpi_id": None,
            "last_reading_id": None,
            "last_reading_observed_at": None,
            "last_check_in_at": None,
            "last_check_in_by": None,
            "added_position": record.position,
            "added_at": record.recorded_at,
            "updated_at": record.recorded_at,
        },
    )
    await _objective_progress(rows, record, objective)


KeyResultChanges = Callable[[RecordedEvent, Any], Mapping[str, Any]]


def _key_result_change(changes: KeyResultChanges) -> Apply:
    async def apply(rows: Rows, record: RecordedEvent, e: Any) -> None:
        objective = await versioned.current(rows, OBJECTIVES, _objective_key(record))
        if objective is None or versioned.already_applied(objective, record):
            return
        key = {**_objective_key(record), "key_result_id": e.key_result_id}
        old = await versioned.current(rows, KEY_RESULTS, key)
        if old is not None:
            change = _key_result_moved(record, old, changes(record, e))
            await versioned.replace(rows, KEY_RESULTS, KEY_RESULT_KEY, record, old, change)
        await _objective_progress(rows, record, objective)

    return apply


def _key_result_moved(
    record: RecordedEvent, old: versioned.Row, changes: Mapping[str, Any]
) -> dict[str, Any]:
    change = dict(changes)
    after = {**old, **change}
    change["progress"] = key_result_progress(
        MetricKind(after["metric"]),
        after["start_value"],
        after["target_value"],
        after["current_value"],
    )
    change["updated_at"] = record.recorded_at
    return change


async def _key_result_changes(rows: Rows, items: Sequence[Item]) -> None:
    """A run of key-result changes (a day of check-ins, a page of a rebuild) as the events
    one at a time would leave it, with two reads and one write in all."""
    tenant_id = items[0][0].tenant_id
    ids = list(dict.fromkeys(record.stream_id for record, _ in items))
    found = await rows.fetch(
        f"""SELECT o.* FROM unnest($2::uuid[]) AS wanted(objective_id)
            JOIN {OBJECTIVES} o ON o.tenant_id = $1 AND o.objective_id = wanted.objective_id
                               AND o.valid_to_position IS NULL""",
        tenant_id,
        ids,
    )
    objectives = {row["objective_id"]: dict(row) for row in found}
    found = await rows.fetch(
        f"""SELECT k.* FROM unnest($2::uuid[]) AS wanted(objective_id)
            JOIN {KEY_RESULTS} k ON k.tenant_id = $1 AND k.objective_id = wanted.objective_id
                                AND k.valid_to_position IS NULL""",
        tenant_id,
        ids,
    )
    # The current key results of each objective, as the run moves them.
    key_results: dict[Any, dict[Any, versioned.Row]] = {id_: {} for id_ in ids}
    for row in found:
        key_results[row["objective_id"]][row["key_result_id"]] = dict(row)
    new_objectives = versioned.Pending(OBJECTIVES, OBJECTIVE_KEY)
    new_key_results = versioned.Pending(KEY_RESULTS, KEY_RESULT_KEY)
    for record, e in items:
        objective = objectives.get(record.stream_id)
        if objective is None or versioned.already_applied(objective, record):
            continue
        current = key_results[record.stream_id]
        old = current.get(e.key_result_id)
        if old is not None:
            changes = KEY_RESULT_CHANGES[record.event_type](record, e)
            change = _key_result_moved(record, old, changes)
            current[e.key_result_id] = new_key_results.replace(record, old, change)
        progress = {
            "progress": weighted_progress((k["progress"], k["weight"]) for k in current.values()),
            "key_result_count": len(current),
            "version": record.version,
            "updated_at": record.recorded_at,
        }
        objectives[record.stream_id] = new_objectives.replace(record, objective, progress)
    await versioned.write(rows, [new_key_results, new_objectives])


async def _key_result_removed(rows: Rows, record: RecordedEvent, e: Any) -> None:
    objective = await versioned.current(rows, OBJECTIVES, _objective_key(record))
    if objective is None or versioned.already_applied(objective, record):
        return
    key = {**_objective_key(record), "key_result_id": e.key_result_id}
    await versioned.close(rows, KEY_RESULTS, record, key)
    await _objective_progress(rows, record, objective)


def _key_result_revised(record: RecordedEvent, e: Any) -> dict[str, Any]:
    fields = {
        "title": e.title,
        "start_value": e.start,
        "target_value": e.target,
        "unit": e.unit,
        "weight": e.weight,
    }
    return {column: value for column, value in fields.items() if value is not None}


def _checked_in(record: RecordedEvent, e: Any) -> dict[str, Any]:
    return {
        "current_value": e.value,
        "confidence": e.confidence.value,
        "note": e.note,
        "last_check_in_at": record.recorded_at,
        "last_check_in_by": record.actor,
    }


def _kpi_link(kpi_id: Any) -> dict[str, Any]:
    return {"kpi_id": kpi_id, "last_reading_id": None, "last_reading_observed_at": None}


def _followed(record: RecordedEvent, e: Any) -> dict[str, Any]:
    return {
        "current_value": e.value,
        "last_reading_id": e.reading_id,
        "last_reading_observed_at": e.observed_at,
    }


async def _objective_progress(rows: Rows, record: RecordedEvent, objective: versioned.Row) -> None:
    """A new objective version with the progress of its key results as they now are.

    In the order they were added, as objective reads list them: the rounding of a
    weighted mean depends on the order, and progressExplanation adds up to it exactly.
    """
    parts = await rows.fetch(
        f"""SELECT progress, weight FROM {KEY_RESULTS}
            WHERE tenant_id = $1 AND objective_id = $2 AND valid_to_position IS NULL
            ORDER BY added_position""",
        record.tenant_id,
        record.stream_id,
    )
    changes = {
        "progress": weighted_progress((p["progress"], p["weight"]) for p in parts),
        "key_result_count": len(parts),
        "version": record.version,
        "updated_at": record.recorded_at,
    }
    await versioned.replace(rows, OBJECTIVES, OBJECTIVE_KEY, record, objective, changes)


def _cycle_key(record: RecordedEvent) -> dict[str, Any]:
    return {"tenant_id": record.tenant_id, "cycle_id": record.stream_id}


def _objective_key(record: RecordedEvent) -> dict[str, Any]:
    return {"tenant_id": record.tenant_id, "objective_id": record.stream_id}


_APPLY: dict[str, Apply] = {
    "CycleStarted": _cycle_started,
    "CycleClosed": _cycle_closed,
    "CycleReopened": _cycle_reopened,
    "ObjectiveSettled": _objective_change(lambda e: {"lifecycle": ObjectiveStatus.CLOSED.value}),
    "ObjectiveSet": _objective_set,
    "ObjectiveRevised": _objective_change(_revised),
    "ObjectiveOwnerAssigned": _objective_change(lambda e: {"owner": e.owner, "team": e.team}),
    "ObjectiveAligned": _objective_change(lambda e: {"parent_id": e.parent_id}),
    "ObjectiveActivated": _objective_change(lambda e: {"lifecycle": ObjectiveStatus.ACTIVE.value}),
    "ObjectiveGraded": _objective_change(
        lambda e: {"grade": e.score, "retrospective": e.retrospective}
    ),
    "ObjectiveClosed": _objective_change(lambda e: {"lifecycle": ObjectiveStatus.CLOSED.value}),
    "ObjectiveArchived": _objective_change(lambda e: {"archived": True}),
    "ObjectiveRestored": _objective_change(lambda e: {"archived": False}),
    "KeyResultAdded": _key_result_added,
    "KeyResultRemoved": _key_result_removed,
}

KEY_RESULT_CHANGES: dict[str, KeyResultChanges] = {
    "KeyResultRevised": _key_result_revised,
    "KeyResultCheckedIn": _checked_in,
    "KeyResultLinkedToKPI": lambda r, e: _kpi_link(e.kpi_id),
    "KeyResultUnlinkedFromKPI": lambda r, e: _kpi_link(None),
    "KeyResultValueFollowedKPI": _followed,
}
_APPLY.update({name: _key_result_change(c) for name, c in KEY_RESULT_CHANGES.items()})
# Consecutive key-result changes of any kind form one run.
_RUNS: dict[str, ApplyRun] = dict.fromkeys(KEY_RESULT_CHANGES, _key_result_changes)


class OkrTree:
    """Versioned rows of cycles, objectives and key results (see 0003_okr_tree.sql)."""

    name = "okr_tree"
    handles = frozenset(_APPLY)
    tables: tuple[str, ...] = (CYCLES, OBJECTIVES, KEY_RESULTS)
    # The tree as of a past position or time (projections/okr_queries.py); never read here.
    query_indexes: tuple[str, ...] = (
        "okr_objectives_cycle",
        "okr_objectives_cycle_time",
        "okr_key_results_cycle",
        "okr_key_results_cycle_time",
    )

    async def apply(self, rows: Rows, record: RecordedEvent, event: Any) -> None:
        await _APPLY[record.event_type](rows, record, event)

    async def apply_many(self, rows: Rows, items: Sequence[Item]) -> None:
        await apply_in_runs(rows, items, self.apply, _RUNS)
