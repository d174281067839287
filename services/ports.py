"""What services need from infrastructure, as small Protocols that infra implements."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.domain import Aggregate, CanMutateAggregate, Snapshot

from okrledger.domain.kpi import Reading


@dataclass(frozen=True)
class CommandContext:
    """Who issues a command, in which tenant, and why: stored as each event's metadata."""

    tenant_id: str
    actor: str
    command_id: str
    correlation_id: str | None = None
    reason: str | None = None
    # The client application named by the caller's token, recorded with measured values.
    client: str | None = None
    # What the command is (services/fingerprints.py): its id answers only this command again.
    # None (the system's own commands) binds nothing: a seen id is replayed as it is.
    fingerprint: bytes | None = None


@dataclass(frozen=True)
class Claim:
    """A unique key within a tenant (a cycle name, a KPI key, a reading id) held by a stream."""

    scope: str
    key: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Appended:
    """The outcome of a command: the stream's new version and the tenant position reached."""

    stream_id: UUID
    version: int
    position: int
    duplicate: bool = False
    # For a replay, the fingerprint the command id was first used with (None if unknown).
    fingerprint: bytes | None = None


@dataclass(frozen=True)
class Loaded:
    """A command's stream as loaded, or (`seen`) the first outcome of its command id."""

    aggregate: Aggregate | None
    seen: Appended | None = None


class EventStore(Protocol):
    async def append(
        self,
        context: CommandContext,
        events: Sequence[CanMutateAggregate[UUID]],
        *,
        claims: Sequence[Claim] = (),
        snapshot: Snapshot | None = None,
    ) -> Appended: ...

    async def load(
        self,
        tenant_id: str,
        stream_id: UUID,
        *,
        until_version: int | None = None,
        until_time: datetime | None = None,
    ) -> Aggregate | None: ...

    async def load_for_command(
        self, tenant_id: str, stream_id: UUID, command_id: str
    ) -> Loaded: ...

    async def outcome(self, tenant_id: str, command_id: str) -> Appended | None: ...

    def serialized(self, tenant_id: str, *topics: str) -> AbstractAsyncContextManager[EventStore]:
        """A store for one command on (tenant, topics): such commands run one at a time,
        across processes, each in one transaction that every load and append of the store
        joins. Raises Unavailable when the turn does not come in time; take any other lock
        (a stream's writer) before this, never inside."""
        ...

    async def head(self, tenant_id: str) -> int: ...

    async def claimed(
        self, tenant_id: str, scope: str, keys: Sequence[str]
    ) -> dict[str, Claimed]: ...


@dataclass(frozen=True)
class Claimed:
    key: str
    stream_id: UUID
    data: dict[str, Any]


@dataclass(frozen=True)
class KPILink:
    """A key result that follows a KPI."""

    objective_id: UUID
    key_result_id: UUID


class CycleObjectives(Protocol):
    """Which objectives of a cycle are still open (draft or active, archived or not)."""

    async def open_in(self, tenant_id: str, cycle_id: UUID) -> list[UUID]: ...


class KPILinks(Protocol):
    async def following(self, tenant_id: str, kpi_id: UUID) -> list[KPILink]: ...


@dataclass(frozen=True)
class LoggedReading:
    """A KPI reading as the log recorded it, with the command that recorded it."""

    position: int
    kpi_id: UUID
    command_id: str
    reading: Reading


@dataclass(frozen=True)
class ReadingPage:
    """Readings found after a position, and the position scanned up to (events of any kind)."""

    readings: list[LoggedReading]
    reached: int


class ReadingLog(Protocol):
    """The tenant's KPI readings in log order, and how far the KPI-link policy has applied them."""

    async def readings_after(self, tenant_id: str, position: int, *, limit: int) -> ReadingPage: ...

    async def position(self, tenant_id: str) -> int: ...

    async def advance(self, tenant_id: str, position: int) -> None: ...
