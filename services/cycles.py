"""Cycles: the quarters or years objectives are set for."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import UUID, uuid4

from okrledger.domain.cycle import Cycle
from okrledger.domain.errors import NotFound
from okrledger.domain.values import non_blank
from okrledger.services.handling import Handler, Outcome
from okrledger.services.ports import Claim, CommandContext

CYCLE_NAME = "cycle name"


@dataclass(frozen=True)
class StartCycle:
    name: str
    starts_on: date
    ends_on: date
    cycle_id: UUID | None = None


@dataclass(frozen=True)
class CloseCycle:
    cycle_id: UUID
    expected_version: int | None = None


async def start_cycle(cmd: StartCycle, context: CommandContext, handler: Handler) -> Outcome[Cycle]:
    """Start a cycle; its name (e.g. "2026-Q4") is unique within the tenant."""
    name = non_blank(cmd.name, field="name", max_length=100)
    return await handler.create(
        context,
        Cycle,
        lambda: Cycle.start(
            id=cmd.cycle_id or uuid4(), name=name, starts_on=cmd.starts_on, ends_on=cmd.ends_on
        ),
        claims=[Claim(CYCLE_NAME, name.casefold())],
    )


async def close_cycle(cmd: CloseCycle, context: CommandContext, handler: Handler) -> Outcome[Cycle]:
    """Close a cycle: its objectives can still be graded, no longer revised."""

    async def decide(cycle: Cycle) -> None:
        cycle.close()

    return await handler.update(
        context, Cycle, cmd.cycle_id, decide, expected_version=cmd.expected_version
    )


async def get_cycle(handler: Handler, tenant_id: str, cycle_id: UUID) -> Cycle:
    cycle = await handler.find(tenant_id, Cycle, cycle_id)
    if cycle is None:
        raise NotFound(f"Cycle {cycle_id} not found", field="cycleId")
    return cycle
