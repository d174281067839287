"""Reading the OKR tree: a cycle's tree (now or as of a past moment), one objective, lists.

Every function takes a `Rows` whose transaction already names the tenant; the
SQL filters on `current_tenant()` so the tenant-led indexes apply. A whole
cycle's tree is two indexed queries (the cycle with its objectives, then its
key results); roll-up and pace are computed here because pace depends on "now".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from okrledger.domain.objective import Confidence, MetricKind, ObjectiveStatus
from okrledger.domain.progress import PaceStatus, pace
from okrledger.domain.roll_up import counts_toward_parent, rolled_up_progress
from okrledger.projections.base import Rows
from okrledger.projections.collector import collector_paused
from okrledger.projections.pages import AsOf, Page, check_page_size, decode_cursor, page_of


@dataclass(frozen=True)
class CycleView:
    id: UUID
    name: str
    starts_on: date
    ends_on: date
    closed: bool
    version: int
    started_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class KeyResultView:
    id: UUID
    objective_id: UUID
    title: str
    metric: MetricKind
    unit: str
    currency: str | None
    start: Decimal
    target: Decimal
    current: Decimal
    weight: Decimal
    confidence: Confidence | None
    note: str
    progress: Decimal
    kpi_id: UUID | None
    last_reading_observed_at: datetime | None
    last_check_in_at: datetime | None
    last_check_in_by: str | None
    added_at: datetime
    updated_at: datetime
    # The KPI reading it last followed, if it follows a KPI.
    last_reading_id: UUID | None = None


@dataclass(frozen=True)
class ObjectiveSummary:
    id: UUID
    cycle_id: UUID
    parent_id: UUID | None
    title: str
    description: str
    owner: str
    team: str | None
    status: ObjectiveStatus
    grade: Decimal | None
    retrospective: str
    version: int
    # The objective's own progress: the weighted mean of its key results'.
    progress: Decimal
    key_result_count: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class ObjectiveView:
    objective: ObjectiveSummary
    # Mean of the counted children's rolled-up progress (None when none counts).
    children_progress: Decimal | None
    # Mean of the own progress (when it has key results) and the children's.
    rolled_up_progress: Decimal
    pace: PaceStatus
    child_ids: tuple[UUID, ...]
    key_results: tuple[KeyResultView, ...]
    # The children whose progress counts towards `children_progress` (not drafts or archived).
    counted_child_ids: tuple[UUID, ...] = ()

    @property
    def id(self) -> UUID:
        return self.objective.id


@dataclass(frozen=True)
class OkrTreeView:
    cycle: CycleView
    # Depth first: each root (no parent in this cycle's tree), then its children.
    objectives: tuple[ObjectiveView, ...]
    as_of: AsOf | None
    now: datetime

    def roots(self) -> tuple[ObjectiveView, ...]:
        ids = {o.id for o in self.objectives}
        return tuple(o for o in self.objectives if o.objective.parent_id not in ids)


def _valid(alias: str, as_of: AsOf | None, param: int) -> str:
    """Which version of each row to read: the current one, or the one valid at `as_of`."""
    if as_of is None:
        return f"{alias}.valid_to_position IS NULL"
    unit = "position" if as_of.position is not None else "time"
    return (
        f"{alias}.valid_from_{unit} <= ${param} AND ({alias}.valid_to_{unit} IS NULL"
        f" OR {alias}.valid_to_{unit} > ${param})"
    )


def _as_of_args(as_of: AsOf | None) -> list[Any]:
    if as_of is None:
        return []
    return [as_of.position if as_of.position is not None else as_of.time]


# The columns of each view, in its fields' order: a tree's rows (thousands of them) become
# views by position, without a lookup by name per value.
_CYCLE_COLUMNS = (
    "c.name, c.starts_on, c.ends_on, c.closed, c.version, c.started_at, c.valid_from_time"
)
_CYCLE_WIDTH = 7  # then the moment pace is judged at as of a position, then the objective
_OBJECTIVE_COLUMNS = {
    "id": "o.objective_id",
    "cycle_id": "o.cycle_id",
    "parent_id": "o.parent_id",
    "title": "o.title",
    "description": "o.description",
    "owner": "o.owner",
    "team": "o.team",
    "status": "o.status",
    "grade": "o.grade",
    "retrospective": "o.retrospective",
    "version": "o.version",
    "progress": "o.progress",
    "key_result_count": "o.key_result_count",
    "created_at": "o.created_at",
    "updated_at": "o.updated_at",
}
_KEY_RESULT_COLUMNS = {
    "id": "k.key_result_id",
    "objective_id": "k.objective_id",
    "title": "k.title",
    "metric": "k.metric",
    "unit": "k.unit",
    "currency": "k.currency",
    "start": "k.start_value",
    "target": "k.target_value",
    "current": "k.current_value",
    "weight": "k.weight",
    "confidence": "k.confidence",
    "note": "k.note",
    "progress": "k.progress",
    "kpi_id": "k.kpi_id",
    "last_reading_observed_at": "k.last_reading_observed_at",
    "last_check_in_at": "k.last_check_in_at",
    "last_check_in_by": "k.last_check_in_by",
    "added_at": "k.added_at",
    "updated_at": "k.updated_at",
    "last_reading_id": "k.last_reading_id",
}
assert tuple(_OBJECTIVE_COLUMNS) == tuple(f.name for f in fields(ObjectiveSummary))
assert tuple(_KEY_RESULT_COLUMNS) == tuple(f.name for f in fields(KeyResultView))
_STATUSES = {s.value: s for s in ObjectiveStatus}
_METRICS = {m.value: m for m in MetricKind}
_CONFIDENCES = {c.value: c for c in Confidence}


async def cycle_tree(
    rows: Rows,
    cycle_id: UUID,
    *,
    as_of: AsOf | None = None,
    now: datetime | None = None,
    include_archived: bool = False,
) -> OkrTreeView | None:
    """The cycle's OKR tree now or as of a past position/time; None if the cycle did not exist.

    Pace is judged at `now`, which defaults to the as-of moment (or the present).
    """
    # The rows (decoded while this awaits) and the views made of them all live on: the
    # collector's passes meanwhile would walk them for nothing. It resumes at the end,
    # and collects as soon as it does, so it is never put off for longer than a read.
    with collector_paused():
        return await _cycle_tree(rows, cycle_id, as_of, now, include_archived)


async def _cycle_tree(
    rows: Rows,
    cycle_id: UUID,
    as_of: AsOf | None,
    now: datetime | None,
    include_archived: bool,
) -> OkrTreeView | None:
    archived = "" if include_archived else f" AND o.status <> '{ObjectiveStatus.ARCHIVED.value}'"
    found = await rows.fetch(
        f"""SELECT {_CYCLE_COLUMNS}, {_moment(as_of)} AS as_of_time,
                   {", ".join(_OBJECTIVE_COLUMNS.values())}
            FROM okr_cycles c
            LEFT JOIN okr_objectives o
              ON o.tenant_id = c.tenant_id AND o.cycle_id = c.cycle_id
                 AND {_valid("o", as_of, 2)}{archived}
            WHERE c.tenant_id = current_tenant() AND c.cycle_id = $1 AND {_valid("c", as_of, 2)}
            ORDER BY o.created_position""",
        cycle_id,
        *_as_of_args(as_of),
    )
    if not found:
        return None
    key_results = await rows.fetch(
        f"""SELECT {", ".join(_KEY_RESULT_COLUMNS.values())} FROM okr_key_results k
            WHERE k.tenant_id = current_tenant() AND k.cycle_id = $1 AND {_valid("k", as_of, 2)}
            ORDER BY k.added_position""",
        cycle_id,
        *_as_of_args(as_of),
    )
    head = found[0]
    cycle = CycleView(cycle_id, *head[:_CYCLE_WIDTH])
    moment = now or (as_of.time if as_of else None) or head[_CYCLE_WIDTH] or datetime.now(UTC)
    summaries = [] if head[_CYCLE_WIDTH + 1] is None else [_tree_summary(r) for r in found]
    objectives = roll_up(cycle, summaries, [_tree_key_result(k) for k in key_results], moment)
    return OkrTreeView(cycle, objectives, as_of, moment)


def _tree_summary(r: Any) -> ObjectiveSummary:
    """A summary from a tree row's `_OBJECTIVE_COLUMNS` (a frozen view, filled at once)."""
    summary = object.__new__(ObjectiveSummary)
    values = summary.__dict__
    values.update(zip(_OBJECTIVE_COLUMNS, r[_CYCLE_WIDTH + 1 :], strict=True))
    status = values["status"]
    values["status"] = _STATUSES.get(status) or ObjectiveStatus(status)
    return summary


def _tree_key_result(r: Any) -> KeyResultView:
    """A key result from a row of `_KEY_RESULT_COLUMNS` (a frozen view, filled at once)."""
    view = object.__new__(KeyResultView)
    values = view.__dict__
    values.update(zip(_KEY_RESULT_COLUMNS, r, strict=True))
    metric = values["metric"]
    values["metric"] = _METRICS.get(metric) or MetricKind(metric)
    confidence = values["confidence"]
    if confidence is not None:
        values["confidence"] = _CONFIDENCES.get(confidence) or Confidence(confidence)
    return view


def _moment(as_of: AsOf | None) -> str:
    """As of a position, pace is judged at the time that position was recorded."""
    if as_of is None or as_of.position is None:
        return "NULL::timestamptz"
    return """(SELECT e.recorded_at FROM events e
               WHERE e.tenant_id = current_tenant() AND e.position = $2)"""


async def objective_view(
    rows: Rows, objective_id: UUID, *, as_of: AsOf | None = None, now: datetime | None = None
) -> ObjectiveView | None:
    """One objective with its key results and roll-up, now or as of a past moment."""
    cycle_id = await rows.fetchval(
        """SELECT cycle_id FROM okr_objectives
           WHERE tenant_id = current_tenant() AND objective_id = $1 LIMIT 1""",
        objective_id,
    )
    if cycle_id is None:
        return None
    tree = await cycle_tree(rows, cycle_id, as_of=as_of, now=now, include_archived=True)
    if tree is None:
        return None
    return next((o for o in tree.objectives if o.id == objective_id), None)


async def cycles(rows: Rows, *, as_of: AsOf | None = None) -> list[CycleView]:
    """The tenant's cycles, latest start first."""
    found = await rows.fetch(
        f"""SELECT * FROM okr_cycles c WHERE c.tenant_id = current_tenant()
              AND {_valid("c", as_of, 1)} ORDER BY c.starts_on DESC, c.name""",
        *_as_of_args(as_of),
    )
    return [
        CycleView(
            r["cycle_id"],
            r["name"],
            r["starts_on"],
            r["ends_on"],
            r["closed"],
            r["version"],
            r["started_at"],
            r["valid_from_time"],
        )
        for r in found
    ]


async def objectives(
    rows: Rows,
    *,
    cycle_id: UUID | None = None,
    owner: str | None = None,
    statuses: Sequence[ObjectiveStatus] = (),
    first: int = 50,
    after: str | None = None,
) -> Page[ObjectiveSummary]:
    """Current objectives in the order they were set, filtered, a page at a time."""
    check_page_size(first)
    since = decode_cursor("objective", after) or 0
    found = await rows.fetch(
        """SELECT o.* FROM okr_objectives o
           WHERE o.tenant_id = current_tenant() AND o.valid_to_position IS NULL
             AND o.created_position > $1
             AND ($2::uuid IS NULL OR o.cycle_id = $2)
             AND ($3::text IS NULL OR o.owner = $3)
             AND (cardinality($4::text[]) = 0 OR o.status = ANY($4::text[]))
           ORDER BY o.created_position LIMIT $5""",
        since,
        cycle_id,
        owner,
        [s.value for s in statuses],
        first + 1,
    )
    positions = {r["objective_id"]: r["created_position"] for r in found}
    return page_of([_summary(r) for r in found], first, "objective", lambda s: positions[s.id])


def _summary(r: Any) -> ObjectiveSummary:
    return ObjectiveSummary(
        r["objective_id"],
        r["cycle_id"],
        r["parent_id"],
        r["title"],
        r["description"],
        r["owner"],
        r["team"],
        ObjectiveStatus(r["status"]),
        r["grade"],
        r["retrospective"],
        r["version"],
        r["progress"],
        r["key_result_count"],
        r["created_at"],
        r["updated_at"],
    )


def _key_result(r: Any) -> KeyResultView:
    return KeyResultView(
        r["key_result_id"],
        r["objective_id"],
        r["title"],
        MetricKind(r["metric"]),
        r["unit"],
        r["currency"],
        r["start_value"],
        r["target_value"],
        r["current_value"],
        r["weight"],
        None if r["confidence"] is None else Confidence(r["confidence"]),
        r["note"],
        r["progress"],
        r["kpi_id"],
        r["last_reading_observed_at"],
        r["last_check_in_at"],
        r["last_check_in_by"],
        r["added_at"],
        r["updated_at"],
        r["last_reading_id"],
    )


def roll_up(
    cycle: CycleView,
    summaries: Sequence[ObjectiveSummary],
    key_results: Sequence[KeyResultView],
    now: datetime,
) -> tuple[ObjectiveView, ...]:
    """Objectives depth first, each with its children's and its rolled-up progress.

    A parent's rolled-up progress is the mean of its own progress (when it has key
    results) and the mean of its children's rolled-up progress (when it has any);
    children in other cycles are not part of this cycle's tree.
    """
    by_id = {s.id: s for s in summaries}
    children: dict[UUID | None, list[UUID]] = {}
    for s in summaries:
        parent = s.parent_id if s.parent_id in by_id else None
        children.setdefault(parent, []).append(s.id)
    krs: dict[UUID, list[KeyResultView]] = {}
    for kr in key_results:
        krs.setdefault(kr.objective_id, []).append(kr)

    order: list[UUID] = []
    stack = list(reversed(children.get(None, [])))
    while stack:
        current = stack.pop()
        order.append(current)
        stack.extend(reversed(children.get(current, [])))

    rolled: dict[UUID, Decimal] = {}
    views: dict[UUID, ObjectiveView] = {}
    # Pace depends on the progress alone once the cycle and the moment are fixed.
    paces: dict[Decimal, PaceStatus] = {}
    no_key_results: tuple[KeyResultView, ...] = ()
    for objective_id in reversed(order):  # children before their parents
        s = by_id[objective_id]
        kids = children.get(objective_id, [])
        # Drafts and archived goals are shown, but do not count towards their parent.
        counted = [k for k in kids if counts_toward_parent(by_id[k].status)]
        kids_progress, progress = rolled_up_progress(
            s.progress, bool(s.key_result_count), [rolled[k] for k in counted]
        )
        rolled[objective_id] = progress
        judged = paces.get(progress)
        if judged is None:
            judged = paces[progress] = pace(progress, cycle.starts_on, cycle.ends_on, now)
        own = krs.get(objective_id)
        views[objective_id] = ObjectiveView(
            s,
            kids_progress,
            progress,
            judged,
            tuple(kids),
            no_key_results if own is None else tuple(own),
            tuple(counted),
        )
    return tuple(views[o] for o in order)


async def active_objective_count(rows: Rows, cycle_id: UUID, owner: str) -> int:
    """How many of `owner`'s objectives in the cycle are active now (the policy's cap)."""
    found: int = await rows.fetchval(
        """SELECT count(*) FROM okr_objectives
           WHERE tenant_id = current_tenant() AND owner = $2 AND cycle_id = $1
             AND status = $3 AND valid_to_position IS NULL""",
        cycle_id,
        owner,
        ObjectiveStatus.ACTIVE.value,
    )
    return found


async def cycles_by_id(rows: Rows, cycle_ids: Sequence[UUID]) -> dict[UUID, CycleView]:
    """The current cycles among `cycle_ids` (unknown ids are left out)."""
    found = await rows.fetch(
        """SELECT * FROM okr_cycles c WHERE c.tenant_id = current_tenant()
              AND c.cycle_id = ANY($1::uuid[]) AND c.valid_to_position IS NULL""",
        list(cycle_ids),
    )
    return {
        r["cycle_id"]: CycleView(
            r["cycle_id"],
            r["name"],
            r["starts_on"],
            r["ends_on"],
            r["closed"],
            r["version"],
            r["started_at"],
            r["valid_from_time"],
        )
        for r in found
    }


async def cycles_of_objectives(rows: Rows, objective_ids: Sequence[UUID]) -> dict[UUID, UUID]:
    """The cycle of each known objective among `objective_ids`."""
    found = await rows.fetch(
        """SELECT DISTINCT objective_id, cycle_id FROM okr_objectives
           WHERE tenant_id = current_tenant() AND objective_id = ANY($1::uuid[])""",
        list(objective_ids),
    )
    return {r["objective_id"]: r["cycle_id"] for r in found}


async def objective_of_key_result(rows: Rows, key_result_id: UUID) -> UUID | None:
    """The objective a current key result belongs to, if it exists."""
    found: UUID | None = await rows.fetchval(
        """SELECT objective_id FROM okr_key_results
           WHERE tenant_id = current_tenant() AND key_result_id = $1
             AND valid_to_position IS NULL LIMIT 1""",
        key_result_id,
    )
    return found
