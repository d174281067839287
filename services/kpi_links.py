"""The feedback loop: key results linked to a KPI follow its readings.

The policy runs right after readings are appended (record_kpi_readings calls
it) and again from `catch_up_kpi_links`, which re-applies every reading after
the last position it stored, so a process that dies between the reading's
append and the objective's loses nothing. Both are safe to repeat: the policy
only offers a key result a reading observed in its objective's cycle, while
that cycle is open (a closed cycle is frozen; the KPI keeps the reading), and
strictly after the last one it followed, under a command id made from the
reading, and the objective ignores a reading it already holds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from itertools import groupby
from uuid import UUID

from okrledger.domain.errors import NotFound
from okrledger.domain.kpi import KPI, KPIIsRetired, Reading
from okrledger.domain.kpi_direction import check_same_direction
from okrledger.domain.objective import KeyResult, Objective
from okrledger.domain.progress import cycle_bounds
from okrledger.services.cycles import cycle_is_closed, get_cycle
from okrledger.services.handling import Handler, Outcome
from okrledger.services.kpis import get_kpi
from okrledger.services.ports import CommandContext, KPILink, KPILinks, ReadingLog

POLICY_ACTOR = "kpi-link-policy"


@dataclass(frozen=True)
class LinkKeyResultToKPI:
    objective_id: UUID
    key_result_id: UUID
    kpi_id: UUID
    expected_version: int | None = None


@dataclass(frozen=True)
class UnlinkKeyResultFromKPI:
    objective_id: UUID
    key_result_id: UUID
    expected_version: int | None = None


async def link_key_result_to_kpi(
    cmd: LinkKeyResultToKPI, context: CommandContext, handler: Handler
) -> Outcome[Objective]:
    """Make a numeric key result follow a KPI of the same tenant that is not retired and
    wants the same direction (DirectionMismatch otherwise).

    When the KPI's latest reading was observed in the objective's cycle, the key
    result takes its value in the same change.
    """
    kpi = await get_kpi(handler, context.tenant_id, cmd.kpi_id)
    if kpi.retired:
        raise KPIIsRetired(f"KPI '{kpi.name}' is retired and cannot be linked", field="kpi_id")

    async def decide(objective: Objective) -> None:
        closed = await cycle_is_closed(handler, context.tenant_id, objective.cycle_id)
        objective.link_key_result_to_kpi(cmd.key_result_id, cmd.kpi_id, cycle_closed=closed)
        # Judged after the link's own checks; a refusal here appends nothing of it.
        check_same_direction(objective.key_result(cmd.key_result_id), kpi.name, kpi.direction)
        latest = _latest(kpi)
        if latest is not None:
            await _follow(
                handler, context.tenant_id, objective, cmd.key_result_id, kpi.id, [latest]
            )

    return await handler.update(
        context, Objective, cmd.objective_id, decide, expected_version=cmd.expected_version
    )


async def unlink_key_result_from_kpi(
    cmd: UnlinkKeyResultFromKPI, context: CommandContext, handler: Handler
) -> Outcome[Objective]:
    """Stop a key result following its KPI; it keeps its current value."""

    async def decide(objective: Objective) -> None:
        objective.unlink_key_result_from_kpi(cmd.key_result_id)

    return await handler.update(
        context, Objective, cmd.objective_id, decide, expected_version=cmd.expected_version
    )


class KPILinkPolicy:
    """Moves every key result linked to a KPI to the KPI's newest reading in its cycle."""

    def __init__(self, handler: Handler, links: KPILinks) -> None:
        self.handler = handler
        self.links = links

    async def __call__(
        self, context: CommandContext, kpi_id: UUID, readings: Sequence[Reading]
    ) -> None:
        """`context` is the command that recorded the readings: each move names it."""
        for link in await self.links.following(context.tenant_id, kpi_id):
            await self._follow_link(context, kpi_id, link, readings)

    async def corrected(
        self, context: CommandContext, kpi_id: UUID, reading_id: UUID, value: Decimal
    ) -> None:
        """A reading was corrected: key results following exactly that reading take the value."""
        for link in await self.links.following(context.tenant_id, kpi_id):

            async def decide(objective: Objective, link: KPILink = link) -> None:
                objective.follow_kpi_correction(
                    key_result_id=link.key_result_id,
                    kpi_id=kpi_id,
                    reading_id=reading_id,
                    value=value,
                    cycle_closed=await cycle_is_closed(
                        self.handler, context.tenant_id, objective.cycle_id
                    ),
                )

            follow = CommandContext(
                context.tenant_id,
                POLICY_ACTOR,
                f"kpi-link:{link.objective_id}:{link.key_result_id}:{context.command_id}",
                correlation_id=context.command_id,
                reason=f"KPI reading {reading_id} corrected",
            )
            try:
                await self.handler.update(follow, Objective, link.objective_id, decide)
            except NotFound:
                continue

    async def _follow_link(
        self, cause: CommandContext, kpi_id: UUID, link: KPILink, readings: Sequence[Reading]
    ) -> None:
        chosen = await self._preview(cause, kpi_id, link, readings)
        if chosen is None:
            return

        async def decide(objective: Objective) -> None:
            # Judged again on the fresh objective: a newer reading may have got there first.
            await _follow(
                self.handler, cause.tenant_id, objective, link.key_result_id, kpi_id, [chosen]
            )

        # The command id names the reading, so a replay of the same reading is a no-op.
        context = CommandContext(
            cause.tenant_id,
            POLICY_ACTOR,
            f"kpi-link:{link.objective_id}:{link.key_result_id}:{chosen.reading_id}",
            correlation_id=cause.command_id,
            reason=f"KPI reading {chosen.reading_id}",
        )
        try:
            await self.handler.update(context, Objective, link.objective_id, decide)
        except NotFound:  # the objective or key result is gone; the link went with it
            return

    async def _preview(
        self, cause: CommandContext, kpi_id: UUID, link: KPILink, readings: Sequence[Reading]
    ) -> Reading | None:
        objective = await self.handler.find(cause.tenant_id, Objective, link.objective_id)
        if objective is None:
            return None
        return await _choose(
            self.handler, cause.tenant_id, objective, link.key_result_id, kpi_id, readings
        )


async def catch_up_kpi_links(
    tenant_id: str, policy: KPILinkPolicy, log: ReadingLog, *, batch: int = 1000
) -> int:
    """Re-apply the readings recorded after the stored position; returns how many were seen."""
    position = await log.position(tenant_id)
    seen = 0
    while True:
        page = await log.readings_after(tenant_id, position, limit=batch)
        if page.reached == position:
            return seen
        for (kpi_id, command_id), group in groupby(
            page.readings, key=lambda r: (r.kpi_id, r.command_id)
        ):
            readings = [logged.reading for logged in group]
            # The cause is the command that recorded the readings, as on the live path.
            await policy(CommandContext(tenant_id, POLICY_ACTOR, command_id), kpi_id, readings)
            seen += len(readings)
        position = page.reached
        await log.advance(tenant_id, position)


async def _choose(
    handler: Handler,
    tenant_id: str,
    objective: Objective,
    key_result_id: UUID,
    kpi_id: UUID,
    readings: Sequence[Reading],
) -> Reading | None:
    kr = objective.key_results.get(key_result_id)
    if kr is None or kr.kpi_id != kpi_id:
        return None
    cycle = await get_cycle(handler, tenant_id, objective.cycle_id)
    if cycle.closed:  # a closed cycle's key results are frozen; the KPI keeps its readings
        return None
    return reading_to_follow(kr, kpi_id, cycle_bounds(cycle.starts_on, cycle.ends_on), readings)


def reading_to_follow(
    kr: KeyResult,
    kpi_id: UUID,
    cycle: tuple[datetime, datetime],
    readings: Sequence[Reading],
) -> Reading | None:
    """The newest reading observed in the cycle and after the last one the key result followed."""
    if kr.kpi_id != kpi_id:
        return None
    start, end = cycle
    last = kr.last_reading_observed_at
    candidates = [
        r
        for r in readings
        if start <= r.observed_at < end and (last is None or r.observed_at > last)
    ]
    # max() keeps the first of equals: the earlier reading wins a tie, as in the KPI.
    return max(candidates, key=lambda r: r.observed_at, default=None)


async def _follow(
    handler: Handler,
    tenant_id: str,
    objective: Objective,
    key_result_id: UUID,
    kpi_id: UUID,
    readings: Sequence[Reading],
) -> Reading | None:
    chosen = await _choose(handler, tenant_id, objective, key_result_id, kpi_id, readings)
    if chosen is not None:
        objective.follow_kpi_reading(
            key_result_id=key_result_id,
            kpi_id=kpi_id,
            reading_id=chosen.reading_id,
            value=chosen.value,
            observed_at=chosen.observed_at,
        )
    return chosen


def _latest(kpi: KPI) -> Reading | None:
    if kpi.latest_reading_id is None or kpi.latest_observed_at is None:
        return None
    assert kpi.latest_value is not None
    return Reading(kpi.latest_reading_id, kpi.latest_value, kpi.latest_observed_at)
