"""An objective and the key results that measure it, as one consistency boundary.

Public methods check everything, including facts only the caller knows (is the
cycle closed, the tenant's policy, the current OKR tree), then call a private
`@event` method whose body only applies the change, so replay never re-judges
history against today's rules. A command that would change nothing records nothing.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum
from types import MappingProxyType
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from okrledger.domain.alignment import check_alignment
from okrledger.domain.errors import DomainError, InvalidValue, NotFound
from okrledger.domain.goalposts import require_reason
from okrledger.domain.provenance import observed_time, provenance_text
from okrledger.domain.tenant_policy import DEFAULT_POLICY, TenantPolicy
from okrledger.domain.values import finite_decimal, non_blank


class ObjectiveStatus(Enum):
    DRAFT = "DRAFT"
    ACTIVE = "ACTIVE"
    CLOSED = "CLOSED"
    ARCHIVED = "ARCHIVED"


class MetricKind(Enum):
    NUMBER = "NUMBER"
    PERCENT = "PERCENT"
    CURRENCY = "CURRENCY"
    BOOLEAN = "BOOLEAN"
    MILESTONE = "MILESTONE"

    @property
    def is_numeric(self) -> bool:
        return self in (MetricKind.NUMBER, MetricKind.PERCENT, MetricKind.CURRENCY)


class Confidence(Enum):
    ON_TRACK = "ON_TRACK"
    AT_RISK = "AT_RISK"
    OFF_TRACK = "OFF_TRACK"


ENUMS: tuple[type[Enum], ...] = (MetricKind, Confidence, ObjectiveStatus)

Amount = Decimal | int | str
_NO_TREE: Mapping[UUID, UUID | None] = MappingProxyType({})
_HUNDRED = Decimal(100)
_T = TypeVar("_T")


@dataclass
class KeyResult:
    """State only (never an event attribute); `current` starts at `start`."""

    id: UUID
    title: str
    metric: MetricKind
    start: Decimal
    target: Decimal
    current: Decimal
    weight: Decimal
    unit: str = ""
    currency: str | None = None
    confidence: Confidence | None = None
    note: str = ""
    kpi_id: UUID | None = None
    last_reading_id: UUID | None = None
    last_reading_observed_at: datetime | None = None


class KeyResults(MutableMapping[UUID, KeyResult]):
    """An objective's key results by id, in the order they were added.

    Not a dict, so a snapshot can store it as a list (JSON keys cannot be UUIDs).
    """

    def __init__(self, items: Iterable[KeyResult] = ()) -> None:
        self._by_id = {kr.id: kr for kr in items}

    def __getitem__(self, key: UUID) -> KeyResult:
        return self._by_id[key]

    def __setitem__(self, key: UUID, value: KeyResult) -> None:
        self._by_id[key] = value

    def __delitem__(self, key: UUID) -> None:
        del self._by_id[key]

    def __iter__(self) -> Iterator[UUID]:
        return iter(self._by_id)

    def __len__(self) -> int:
        return len(self._by_id)

    def __repr__(self) -> str:
        return f"KeyResults({list(self._by_id.values())!r})"


# Value objects held in the aggregate's state, so snapshots can store them.
VALUES: tuple[type, ...] = (KeyResult,)


class Objective(Aggregate):
    """Create with `Objective.set(...)`, which validates before anything is recorded."""

    # Whether the lifecycle was closed by the cycle's close rather than by a person; a
    # class default so snapshots taken before settling existed still load.
    settled_by_cycle = False

    @classmethod
    def set(
        cls,
        *,
        id: UUID,
        title: str,
        description: str,
        cycle_id: UUID,
        owner: str,
        team: str | None = None,
        parent_id: UUID | None = None,
        cycle_closed: bool,
        parent_of: Mapping[UUID, UUID | None] = _NO_TREE,
        archived: Collection[UUID] = frozenset(),
        in_closed_cycles: Collection[UUID] = frozenset(),
    ) -> Objective:
        """`in_closed_cycles`: which of the objectives named (the parent) are in a closed cycle."""
        if cycle_closed:
            raise CycleIsClosed(f"Cannot set objective '{title.strip()}': its cycle is closed")
        _check_parent_cycle_open(parent_id, in_closed_cycles)
        check_alignment(id, parent_id, parent_of, archived)
        return cls(
            id=id,
            title=non_blank(title, field="title", max_length=200),
            description=_text(description, field="description", max_length=5000),
            cycle_id=cycle_id,
            owner=non_blank(owner, field="owner", max_length=200),
            team=None if team is None else non_blank(team, field="team", max_length=200),
            parent_id=parent_id,
        )

    @event("ObjectiveSet")
    def __init__(
        self,
        id: UUID,
        title: str,
        description: str,
        cycle_id: UUID,
        owner: str,
        team: str | None,
        parent_id: UUID | None,
    ) -> None:
        self.title = title
        self.description = description
        self.cycle_id = cycle_id
        self.owner = owner
        self.team = team
        self.parent_id = parent_id
        self.lifecycle = ObjectiveStatus.DRAFT
        self.archived = False
        self.settled_by_cycle = False
        self.score: Decimal | None = None
        self.retrospective = ""
        self.key_results = KeyResults()

    @property
    def status(self) -> ObjectiveStatus:
        return ObjectiveStatus.ARCHIVED if self.archived else self.lifecycle

    # -- the objective itself ------------------------------------------------

    def revise(
        self, *, title: str | None = None, description: str | None = None, cycle_closed: bool
    ) -> None:
        self._check_revisable(cycle_closed)
        new_title = None if title is None else non_blank(title, field="title", max_length=200)
        new_description = (
            None
            if description is None
            else _text(description, field="description", max_length=5000)
        )
        changed_title = new_title if new_title != self.title else None
        changed_description = new_description if new_description != self.description else None
        if changed_title is not None or changed_description is not None:
            self._revise(title=changed_title, description=changed_description)

    @event("ObjectiveRevised")
    def _revise(self, title: str | None, description: str | None) -> None:
        self.title = self.title if title is None else title
        self.description = self.description if description is None else description

    def assign_owner(self, owner: str, team: str | None = None) -> None:
        self._check_not_archived()
        new_owner = non_blank(owner, field="owner", max_length=200)
        new_team = None if team is None else non_blank(team, field="team", max_length=200)
        if (new_owner, new_team) != (self.owner, self.team):
            self._assign_owner(owner=new_owner, team=new_team)

    @event("ObjectiveOwnerAssigned")
    def _assign_owner(self, owner: str, team: str | None) -> None:
        self.owner = owner
        self.team = team

    def align(
        self,
        parent_id: UUID | None,
        *,
        parent_of: Mapping[UUID, UUID | None],
        archived: Collection[UUID] = frozenset(),
        cycle_closed: bool = False,
        in_closed_cycles: Collection[UUID] = frozenset(),
    ) -> None:
        """`in_closed_cycles`: which of the parents named (new, current) are in a closed cycle.

        A closed cycle's roll-up is frozen: no child joins or leaves a parent in one.
        """
        self._check_not_archived()
        if cycle_closed:
            raise CycleIsClosed(
                f"Objective '{self.title}' belongs to a closed cycle; its alignment is frozen"
            )
        if parent_id != self.parent_id:
            _check_parent_cycle_open(parent_id, in_closed_cycles)
            _check_parent_cycle_open(self.parent_id, in_closed_cycles, leaving=True)
        check_alignment(self.id, parent_id, parent_of, archived)
        if parent_id != self.parent_id:
            self._align(parent_id=parent_id)

    @event("ObjectiveAligned")
    def _align(self, parent_id: UUID | None) -> None:
        self.parent_id = parent_id

    def activate(self, *, cycle_closed: bool = False) -> None:
        """A draft, or an objective its cycle's close settled once the cycle is reopened."""
        self._check_not_archived()
        if cycle_closed:
            raise CycleIsClosed(
                f"Objective '{self.title}' belongs to a closed cycle; it can be graded, "
                "not activated"
            )
        resumable = self.settled_by_cycle and self.lifecycle is ObjectiveStatus.CLOSED
        if self.lifecycle is not ObjectiveStatus.DRAFT and not resumable:
            raise ObjectiveNotDraft(
                f"Objective '{self.title}' is {self.lifecycle.name.lower()}; "
                "only a draft can be activated"
            )
        self._activate()

    @event("ObjectiveActivated")
    def _activate(self) -> None:
        self.lifecycle = ObjectiveStatus.ACTIVE
        self.settled_by_cycle = False

    def grade(self, score: Amount, retrospective: str = "") -> None:
        self._check_not_archived()
        if self.lifecycle is ObjectiveStatus.DRAFT:
            raise ObjectiveNotGradable(
                f"Objective '{self.title}' is still a draft; activate it before grading"
            )
        value = finite_decimal(score, field="score")
        if not Decimal(0) <= value <= Decimal(1):
            raise InvalidGrade(f"A grade is from 0.0 to 1.0, got {value}", field="score")
        note = _text(retrospective, field="retrospective", max_length=5000)
        self._grade(score=value, retrospective=note)

    @event("ObjectiveGraded")
    def _grade(self, score: Decimal, retrospective: str) -> None:
        self.score = score
        self.retrospective = retrospective

    def close(self) -> None:
        self._check_not_archived()
        if self.lifecycle is not ObjectiveStatus.ACTIVE:
            raise ObjectiveNotActive(
                f"Objective '{self.title}' is {self.lifecycle.name.lower()}; "
                "only an active objective can be closed"
            )
        self._close()

    @event("ObjectiveClosed")
    def _close(self) -> None:
        self.lifecycle = ObjectiveStatus.CLOSED

    def settle(self) -> None:
        """Its cycle closed: a draft or active objective (archived or not) closes with it.

        Records nothing for one already closed. Recorded in the objective's own stream, so a
        check-in that loaded it before conflicts on the version and is judged again.
        """
        if self.lifecycle in (ObjectiveStatus.DRAFT, ObjectiveStatus.ACTIVE):
            self._settle(cycle_id=self.cycle_id, settled_from=self.lifecycle)

    @event("ObjectiveSettled")
    def _settle(self, cycle_id: UUID, settled_from: ObjectiveStatus) -> None:
        self.lifecycle = ObjectiveStatus.CLOSED
        self.settled_by_cycle = True

    def archive(self) -> None:
        self._check_not_archived()
        self._archive()

    @event("ObjectiveArchived")
    def _archive(self) -> None:
        self.archived = True

    def restore(self) -> None:
        if not self.archived:
            raise ObjectiveNotArchived(f"Objective '{self.title}' is not archived")
        self._restore()

    @event("ObjectiveRestored")
    def _restore(self) -> None:
        self.archived = False

    # -- key results -----------------------------------------------------------

    def add_key_result(
        self,
        *,
        key_result_id: UUID,
        title: str,
        metric: MetricKind,
        start: Amount | None = None,
        target: Amount | None = None,
        unit: str = "",
        currency: str | None = None,
        weight: Amount = 1,
        cycle_closed: bool,
        policy: TenantPolicy = DEFAULT_POLICY,
    ) -> None:
        """`start`/`target` default to 0/1 for BOOLEAN and MILESTONE, and are required otherwise."""
        self._check_revisable(cycle_closed)
        if key_result_id in self.key_results:
            raise DuplicateKeyResult(
                f"Objective '{self.title}' already has a key result {key_result_id}",
                field="key_result_id",
            )
        if len(self.key_results) >= policy.max_key_results:
            raise TooManyKeyResults(
                f"Objective '{self.title}' already has {len(self.key_results)} key results; "
                f"the limit is {policy.max_key_results}"
            )
        if not metric.is_numeric:
            start = 0 if start is None else start
            target = 1 if target is None else target
        if start is None or target is None:
            raise InvalidKeyResult(
                f"A {metric.name.lower()} key result needs a start and a target value",
                field="start" if start is None else "target",
            )
        values = _KeyResultValues.checked(
            metric,
            start=finite_decimal(start, field="start"),
            target=finite_decimal(target, field="target"),
            weight=finite_decimal(weight, field="weight"),
            policy=policy,
        )
        self._add_key_result(
            key_result_id=key_result_id,
            title=non_blank(title, field="title", max_length=200),
            metric=metric,
            currency=_currency(metric, currency),
            start=values.start,
            target=values.target,
            unit=_text(unit, field="unit", max_length=20),
            weight=values.weight,
        )

    @event("KeyResultAdded")
    def _add_key_result(
        self,
        key_result_id: UUID,
        title: str,
        metric: MetricKind,
        currency: str | None,
        start: Decimal,
        target: Decimal,
        unit: str,
        weight: Decimal,
    ) -> None:
        self.key_results[key_result_id] = KeyResult(
            id=key_result_id,
            title=title,
            metric=metric,
            start=start,
            target=target,
            current=start,
            weight=weight,
            unit=unit,
            currency=currency,
        )

    def revise_key_result(
        self,
        *,
        key_result_id: UUID,
        title: str | None = None,
        start: Amount | None = None,
        target: Amount | None = None,
        unit: str | None = None,
        weight: Amount | None = None,
        cycle_closed: bool,
        cycle_started: bool = False,
        reason: str | None = None,
        policy: TenantPolicy = DEFAULT_POLICY,
    ) -> None:
        """Only the fields given and different from now are recorded; `unit=""` removes it.

        Once the cycle has started, a new start or target moves a goalpost and needs a reason.
        """
        self._check_revisable(cycle_closed)
        kr = self.key_result(key_result_id)
        new_title = kr.title if title is None else non_blank(title, field="title", max_length=200)
        new_unit = kr.unit if unit is None else _text(unit, field="unit", max_length=20)
        values = _KeyResultValues.checked(
            kr.metric,
            start=kr.start if start is None else finite_decimal(start, field="start"),
            target=kr.target if target is None else finite_decimal(target, field="target"),
            weight=kr.weight if weight is None else finite_decimal(weight, field="weight"),
            policy=policy,
        )
        title_change = _changed(kr.title, new_title)
        start_change = _changed(kr.start, values.start)
        target_change = _changed(kr.target, values.target)
        unit_change = _changed(kr.unit, new_unit)
        weight_change = _changed(kr.weight, values.weight)
        changes = (title_change, start_change, target_change, unit_change, weight_change)
        if cycle_started and (start_change is not None or target_change is not None):
            require_reason(reason, moved=f"Changing the start or target of '{kr.title}'")
        if any(change is not None for change in changes):
            self._revise_key_result(
                key_result_id=key_result_id,
                title=title_change,
                start=start_change,
                target=target_change,
                unit=unit_change,
                weight=weight_change,
            )

    @event("KeyResultRevised")
    def _revise_key_result(
        self,
        key_result_id: UUID,
        title: str | None,
        start: Decimal | None,
        target: Decimal | None,
        unit: str | None,
        weight: Decimal | None,
    ) -> None:
        kr = self.key_results[key_result_id]
        kr.title = kr.title if title is None else title
        kr.start = kr.start if start is None else start
        kr.target = kr.target if target is None else target
        kr.unit = kr.unit if unit is None else unit
        kr.weight = kr.weight if weight is None else weight

    def remove_key_result(self, key_result_id: UUID, *, cycle_closed: bool) -> None:
        self._check_revisable(cycle_closed)
        self.key_result(key_result_id)
        self._remove_key_result(key_result_id=key_result_id)

    @event("KeyResultRemoved")
    def _remove_key_result(self, key_result_id: UUID) -> None:
        del self.key_results[key_result_id]

    def check_in_key_result(
        self,
        *,
        key_result_id: UUID,
        value: Amount,
        confidence: Confidence,
        note: str = "",
        observed_at: datetime | None = None,
        source: str | None = None,
        run_id: str | None = None,
        client: str | None = None,
        now: datetime | None = None,
        policy: TenantPolicy = DEFAULT_POLICY,
        cycle_closed: bool = False,
    ) -> None:
        """`observed_at` (when the value applied) defaults to `now`; the provenance is optional."""
        self._check_revisable(cycle_closed)
        kr = self.key_result(key_result_id)
        current = finite_decimal(value, field="value")
        check_metric_value(kr.metric, current, field="value", policy=policy)
        clock = now or datetime.now(UTC)
        self._check_in_key_result(
            key_result_id=key_result_id,
            value=current,
            confidence=confidence,
            note=_text(note, field="note", max_length=2000),
            observed_at=observed_time(observed_at or clock, now=clock),
            source=provenance_text(source, field="source"),
            run_id=provenance_text(run_id, field="run_id"),
            client=provenance_text(client, field="client"),
        )

    class KeyResultCheckedIn(Aggregate.Event):
        """Version 2 adds the provenance; check-ins recorded before have none."""

        key_result_id: UUID
        value: Decimal
        confidence: Confidence
        note: str
        observed_at: datetime | None
        source: str | None
        run_id: str | None
        client: str | None

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state.update(observed_at=None, source=None, run_id=None, client=None)

    @event(KeyResultCheckedIn)
    def _check_in_key_result(
        self,
        key_result_id: UUID,
        value: Decimal,
        confidence: Confidence,
        note: str,
        observed_at: datetime | None,
        source: str | None,
        run_id: str | None,
        client: str | None,
    ) -> None:
        kr = self.key_results[key_result_id]
        kr.current = value
        kr.confidence = confidence
        kr.note = note

    # -- the KPI feedback loop ---------------------------------------------------

    def link_key_result_to_kpi(
        self, key_result_id: UUID, kpi_id: UUID, *, cycle_closed: bool = False
    ) -> None:
        self._check_revisable(cycle_closed)
        kr = self.key_result(key_result_id)
        if not kr.metric.is_numeric:
            raise KeyResultNotLinkable(
                f"Key result '{kr.title}' is {kr.metric.name.lower()}; only number, percent "
                "and currency key results can follow a KPI",
                field="key_result_id",
            )
        if kr.kpi_id != kpi_id:
            self._link_key_result_to_kpi(key_result_id=key_result_id, kpi_id=kpi_id)

    @event("KeyResultLinkedToKPI")
    def _link_key_result_to_kpi(self, key_result_id: UUID, kpi_id: UUID) -> None:
        kr = self.key_results[key_result_id]
        kr.kpi_id = kpi_id
        kr.last_reading_id = None
        kr.last_reading_observed_at = None

    def unlink_key_result_from_kpi(self, key_result_id: UUID) -> None:
        self._check_not_archived()
        kr = self.key_result(key_result_id)
        if kr.kpi_id is None:
            raise KeyResultNotLinked(f"Key result '{kr.title}' is not linked to a KPI")
        self._unlink_key_result_from_kpi(key_result_id=key_result_id)

    @event("KeyResultUnlinkedFromKPI")
    def _unlink_key_result_from_kpi(self, key_result_id: UUID) -> None:
        kr = self.key_results[key_result_id]
        kr.kpi_id = None
        kr.last_reading_id = None
        kr.last_reading_observed_at = None

    def follow_kpi_reading(
        self,
        *,
        key_result_id: UUID,
        kpi_id: UUID,
        reading_id: UUID,
        value: Amount,
        observed_at: datetime,
        cycle_closed: bool = False,
    ) -> None:
        """Set a linked key result's value from a KPI reading.

        Records nothing (rather than refusing) when the reading no longer applies:
        the objective is archived or closed, its cycle is closed, the key result follows
        another KPI (or none), or the reading was already applied or is older than the
        last one. The KPI keeps the reading either way: KPIs are continuous, cycles end.
        """
        kr = self.key_result(key_result_id)
        reading_value = finite_decimal(value, field="value")
        if observed_at.tzinfo is None or observed_at.utcoffset() is None:
            raise InvalidValue("observed_at must be timezone-aware", field="observed_at")
        observed_utc = observed_at.astimezone(UTC)
        stale = kr.last_reading_observed_at is not None and (
            observed_utc < kr.last_reading_observed_at
        )
        if (
            self.archived
            or cycle_closed
            or self.lifecycle is ObjectiveStatus.CLOSED
            or kr.kpi_id != kpi_id
            or kr.last_reading_id == reading_id
            or stale
        ):
            return
        self._follow_kpi_reading(
            key_result_id=key_result_id,
            kpi_id=kpi_id,
            reading_id=reading_id,
            value=reading_value,
            observed_at=observed_utc,
        )

    def follow_kpi_correction(
        self,
        *,
        key_result_id: UUID,
        kpi_id: UUID,
        reading_id: UUID,
        value: Amount,
        cycle_closed: bool = False,
    ) -> None:
        """A correction of the very reading a linked key result follows moves it too.

        Records nothing when the key result follows another reading (or KPI), already
        has that value, or the objective is archived or closed, or its cycle is.
        """
        kr = self.key_result(key_result_id)
        corrected = finite_decimal(value, field="value")
        if (
            self.archived
            or cycle_closed
            or self.lifecycle is ObjectiveStatus.CLOSED
            or kr.kpi_id != kpi_id
            or kr.last_reading_id != reading_id
            or kr.last_reading_observed_at is None
            or kr.current == corrected
        ):
            return
        self._follow_kpi_reading(
            key_result_id=key_result_id,
            kpi_id=kpi_id,
            reading_id=reading_id,
            value=corrected,
            observed_at=kr.last_reading_observed_at,
        )

    @event("KeyResultValueFollowedKPI")
    def _follow_kpi_reading(
        self,
        key_result_id: UUID,
        kpi_id: UUID,
        reading_id: UUID,
        value: Decimal,
        observed_at: datetime,
    ) -> None:
        kr = self.key_results[key_result_id]
        kr.current = value
        kr.last_reading_id = reading_id
        kr.last_reading_observed_at = observed_at

    # -- checks ----------------------------------------------------------------

    def _check_not_archived(self) -> None:
        if self.archived:
            raise ObjectiveIsArchived(
                f"Objective '{self.title}' is archived; restore it before changing it"
            )

    def _check_not_closed(self) -> None:
        self._check_not_archived()
        if self.lifecycle is ObjectiveStatus.CLOSED:
            hint = (
                "; it was settled when its cycle closed: activate it again to change it"
                if self.settled_by_cycle
                else ""
            )
            raise ObjectiveIsClosed(f"Objective '{self.title}' is closed{hint}")

    def _check_revisable(self, cycle_closed: bool) -> None:
        """The cycle comes first: in a closed cycle the answer is CYCLE_CLOSED, whatever the
        objective's own status, so an SPA can tell a frozen quarter from a closed goal."""
        self._check_not_archived()
        if cycle_closed:
            raise CycleIsClosed(
                f"Objective '{self.title}' belongs to a closed cycle; it can be graded, not revised"
            )
        self._check_not_closed()

    def key_result(self, key_result_id: UUID) -> KeyResult:
        try:
            return self.key_results[key_result_id]
        except KeyError:
            raise KeyResultNotFound(
                f"Objective '{self.title}' has no key result {key_result_id}",
                field="key_result_id",
            ) from None


def _check_parent_cycle_open(
    parent_id: UUID | None, in_closed_cycles: Collection[UUID], *, leaving: bool = False
) -> None:
    if parent_id is not None and parent_id in in_closed_cycles:
        moving = "leave" if leaving else "join"
        raise CycleIsClosed(
            f"Parent objective {parent_id} belongs to a closed cycle; a child cannot {moving} "
            "it, as that would change a closed cycle's roll-up",
            field="parent_id",
        )


def _text(text: str, *, field: str, max_length: int) -> str:
    """Trimmed text that may be empty."""
    cleaned = text.strip()
    if len(cleaned) > max_length:
        raise InvalidValue(f"{field} must be at most {max_length} characters", field=field)
    return cleaned


def _changed(old: _T, new: _T) -> _T | None:
    return None if new == old else new


@dataclass(frozen=True)
class _KeyResultValues:
    start: Decimal
    target: Decimal
    weight: Decimal

    @classmethod
    def checked(
        cls,
        metric: MetricKind,
        *,
        start: Decimal,
        target: Decimal,
        weight: Decimal,
        policy: TenantPolicy,
    ) -> _KeyResultValues:
        check_metric_value(metric, start, field="start", policy=policy)
        check_metric_value(metric, target, field="target", policy=policy)
        if start == target:
            raise InvalidKeyResult(
                f"Start and target are both {start}; a key result must measure a change",
                field="target",
            )
        if weight <= 0:
            raise InvalidKeyResult(f"weight must be above 0, got {weight}", field="weight")
        return cls(start=start, target=target, weight=weight)


def _currency(metric: MetricKind, code: str | None) -> str | None:
    if metric is not MetricKind.CURRENCY:
        if code is not None:
            raise InvalidKeyResult(
                f"Only currency key results take a currency code, not {metric.name.lower()}",
                field="currency",
            )
        return None
    cleaned = (code or "").strip().upper()
    if len(cleaned) != 3 or not cleaned.isascii() or not cleaned.isalpha():
        raise InvalidKeyResult(
            f"A currency key result needs an ISO 4217 code such as 'EUR', got {code!r}",
            field="currency",
        )
    return cleaned


def value_depends_on_policy(value: Decimal) -> bool:
    """Whether `check_metric_value` could judge `value` differently under another tenant
    policy (only a percentage above 100 can): other values need no policy loaded. Not a
    number is refused whatever the policy, but only later, so it is not compared here."""
    return value.is_nan() or value > _HUNDRED


def check_metric_value(
    metric: MetricKind, value: Decimal, *, field: str, policy: TenantPolicy
) -> None:
    if not metric.is_numeric and value not in (Decimal(0), Decimal(1)):
        kind = "yes/no" if metric is MetricKind.BOOLEAN else "milestone"
        raise InvalidKeyResult(
            f"{field} of a {kind} key result must be 0 (not done) or 1 (done), got {value}",
            field=field,
        )
    if metric is MetricKind.PERCENT:
        if value < 0:
            raise InvalidKeyResult(f"{field} is a percentage and cannot be negative", field=field)
        if value > _HUNDRED and not policy.allow_percent_stretch:
            raise InvalidKeyResult(
                f"{field} is a percentage and must be at most 100, got {value}", field=field
            )


class ObjectiveError(DomainError):
    """A command on an objective or its key results was refused; nothing was changed."""


class InvalidKeyResult(ObjectiveError, InvalidValue):
    """A key result's values break a rule of its metric kind."""


class KeyResultNotLinkable(InvalidKeyResult):
    """Only numeric key results (number, percent, currency) can follow a KPI."""


class InvalidGrade(ObjectiveError, InvalidValue):
    """A grade outside 0.0-1.0."""


class KeyResultNotFound(ObjectiveError, NotFound):
    """The objective has no key result with that id."""

    code = "NOT_FOUND"


class ObjectiveStateError(ObjectiveError):
    """The command is not allowed in the objective's current state."""

    code = "INVALID_STATE"


class ObjectiveIsArchived(ObjectiveStateError):
    """Archived objectives take no change but a restore."""


class ObjectiveIsClosed(ObjectiveStateError):
    """Closed objectives take no revisions or check-ins, only grades."""


class CycleIsClosed(ObjectiveStateError):
    """The objective's cycle is closed: grade it, don't revise it."""

    code = "CYCLE_CLOSED"


class ObjectiveNotDraft(ObjectiveStateError):
    """Only drafts can be activated."""


class ObjectiveNotActive(ObjectiveStateError):
    """Only active objectives can be closed."""


class ObjectiveNotGradable(ObjectiveStateError):
    """Drafts cannot be graded."""


class ObjectiveNotArchived(ObjectiveStateError):
    """Only archived objectives can be restored."""


class TooManyKeyResults(ObjectiveStateError):
    """The objective already has as many key results as the tenant allows."""


class DuplicateKeyResult(ObjectiveStateError):
    """A key result with that id already exists on the objective."""


class KeyResultNotLinked(ObjectiveStateError):
    """The key result is not linked to a KPI."""
