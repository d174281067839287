"""Random commands from concurrent clients over real HTTP, and a model of what each was told.

Every command carries its own `commandId`. A client records each attempt's answer: an
acknowledgement (the payload's version and position), a refusal (a typed UserError), or
nothing it can trust (a dropped connection, a 5xx, an unexpected GraphQL error). Clients of
one tenant share what they were acknowledged (ids, last versions) and so collide on the
same objectives and KPIs. Afterwards `check_log` holds the log, read as the owner, against
the model.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx

from okrledger.infra.audit import verify_chain
from okrledger.infra.db import set_tenant
from okrledger.infra.rebuild import rebuild
from okrledger.projections import catalog
from tests.integration.read_models import read_model_rows

ACK, REFUSED, UNKNOWN = "ack", "refused", "unknown"

# Aligning an objective under the parent it already has is acknowledged and appends nothing.
CAN_CHANGE_NOTHING = frozenset({"alignObjective"})

PAYLOAD = "__typename ... on MutationPayload { version position } ... on UserError { code }"


@dataclass(frozen=True)
class Answer:
    kind: str  # ACK, REFUSED or UNKNOWN
    version: int | None = None
    position: int | None = None
    code: str | None = None


@dataclass
class Sent:
    """One command id: what was asked, what should happen, and every answer it got."""

    tenant: str
    mutation: str
    refusal: str | None = None  # "any" or a code: a deliberately bad command
    answers: list[Answer] = field(default_factory=list)

    @property
    def acknowledged(self) -> list[Answer]:
        return [a for a in self.answers if a.kind == ACK]

    @property
    def refused(self) -> bool:
        return bool(self.answers) and all(a.kind == REFUSED for a in self.answers)


@dataclass
class Ledger:
    """Every command id any client sent, in the order first sent."""

    sent: dict[str, Sent] = field(default_factory=dict)
    acks: int = 0
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def record(self, command_id: str, answer: Answer) -> None:
        self.sent[command_id].answers.append(answer)
        if answer.kind == ACK:
            self.acks += 1
            self.changed.set()

    async def wait_for_acks(self, count: int, within: float = 60) -> None:
        async with asyncio.timeout(within):
            while self.acks < count:
                self.changed.clear()
                await self.changed.wait()

    def of_tenant(self, tenant: str) -> dict[str, Sent]:
        return {k: s for k, s in self.sent.items() if s.tenant == tenant}

    def count(self, kind: str) -> int:
        return sum(1 for s in self.sent.values() for a in s.answers if a.kind == kind)


@dataclass
class TenantModel:
    """What the clients of one tenant were acknowledged: ids and the last versions seen."""

    tenant: str
    headers: dict[str, str]
    cycle_id: str = ""
    objectives: dict[str, int] = field(default_factory=dict)
    key_results: dict[str, list[str]] = field(default_factory=dict)
    kpis: dict[str, int] = field(default_factory=dict)

    def saw(self, stream: dict[str, int], stream_id: str, version: int | None) -> None:
        stream[stream_id] = max(stream.get(stream_id, 0), version or 0)


def mutation_document(name: str) -> str:
    input_type = name[0].upper() + name[1:] + "Input"
    return f"mutation($input: {input_type}!) {{ {name}(input: $input) {{ {PAYLOAD} }} }}"


async def send_once(
    http: httpx.AsyncClient, headers: dict[str, str], name: str, payload: dict[str, Any]
) -> Answer:
    """One attempt; anything but a typed answer is UNKNOWN (the client cannot tell)."""
    try:
        response = await http.post(
            "/graphql",
            json={"query": mutation_document(name), "variables": {"input": payload}},
            headers=headers,
        )
    except httpx.TransportError as error:
        return Answer(UNKNOWN, code=type(error).__name__)
    if response.status_code != 200:
        return Answer(UNKNOWN, code=f"HTTP {response.status_code}")
    body = response.json()
    result = (body.get("data") or {}).get(name)
    if "errors" in body or result is None:
        return Answer(UNKNOWN, code="errors")
    if "code" in result:
        return Answer(REFUSED, code=result["code"])
    return Answer(ACK, result["version"], result["position"])


class Client:
    """Sends random commands for one tenant, one at a time, until told to stop.

    With `persist`, an UNKNOWN answer is retried with the same command id (as a client
    that lost its connection would) until it is acknowledged or refused.
    """

    def __init__(
        self,
        http: httpx.AsyncClient,
        model: TenantModel,
        ledger: Ledger,
        rng: random.Random,
        *,
        persist: bool = False,
    ) -> None:
        self.http = http
        self.model = model
        self.ledger = ledger
        self.rng = rng
        self.persist = persist
        self.stopping = False

    def new_id(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    async def send(
        self,
        name: str,
        payload: dict[str, Any],
        *,
        refusal: str | None = None,
        twice: bool = False,
    ) -> Answer:
        command_id = self.new_id()
        payload = {**payload, "commandId": command_id}
        self.ledger.sent[command_id] = Sent(self.model.tenant, name, refusal)
        while True:
            attempts = 2 if twice else 1
            answers = await asyncio.gather(
                *(send_once(self.http, self.model.headers, name, payload) for _ in range(attempts))
            )
            for answer in answers:
                self.ledger.record(command_id, answer)
            settled = [a for a in answers if a.kind != UNKNOWN]
            if settled or not self.persist:
                answer = settled[0] if settled else answers[0]
                break
            await asyncio.sleep(0.1)
        if answer.kind == ACK and self.rng.random() < 0.08:
            # A deliberate retry after the answer: it must answer the same and change nothing.
            self.ledger.record(
                command_id, await send_once(self.http, self.model.headers, name, payload)
            )
        return answer

    async def run(self, steps: int | None = None) -> None:
        done = 0
        while not self.stopping and (steps is None or done < steps):
            await self.step()
            done += 1

    async def step(self) -> None:
        choices: Sequence[tuple[Callable[[], Any], int]] = (
            (self.set_objective, 10),
            (self.add_key_result, 10),
            (self.revise_key_result, 8),
            (self.check_in, 20),
            (self.define_kpi, 6),
            (self.record_reading, 20),
            (self.align, 8),
            (self.stale_check_in, 5),
            (self.invalid, 6),
        )
        action = self.rng.choices([c for c, _ in choices], [w for _, w in choices])[0]
        await action()

    def objective(self) -> str | None:
        ids = sorted(self.model.objectives)
        return self.rng.choice(ids) if ids else None

    def key_result(self) -> tuple[str, str] | None:
        pairs = sorted((o, kr) for o, krs in self.model.key_results.items() for kr in krs)
        return self.rng.choice(pairs) if pairs else None

    def kpi(self) -> str | None:
        ids = sorted(self.model.kpis)
        return self.rng.choice(ids) if ids else None

    async def set_objective(self) -> None:
        objective_id = self.new_id()
        parent = self.objective() if self.rng.random() < 0.5 else None
        answer = await self.send(
            "setObjective",
            {
                "objectiveId": objective_id,
                "cycleId": self.model.cycle_id,
                "title": f"Objective {objective_id[:6]}",
                "owner": self.rng.choice(["ana", "bo", "team-growth"]),
                "parentId": parent,
            },
            twice=self.rng.random() < 0.04,
        )
        if answer.kind == ACK:
            self.model.saw(self.model.objectives, objective_id, answer.version)

    async def add_key_result(self) -> None:
        objective_id = self.objective()
        if objective_id is None:
            return await self.set_objective()
        key_result_id = self.new_id()
        answer = await self.send(
            "addKeyResult",
            {
                "objectiveId": objective_id,
                "keyResultId": key_result_id,
                "title": f"KR {key_result_id[:6]}",
                "metric": "NUMBER",
                "start": "0",
                "target": str(self.rng.randint(10, 500)),
            },
            twice=self.rng.random() < 0.04,
        )
        if answer.kind == ACK:
            self.model.saw(self.model.objectives, objective_id, answer.version)
            self.model.key_results.setdefault(objective_id, []).append(key_result_id)

    async def revise_key_result(self) -> None:
        picked = self.key_result()
        if picked is None:
            return await self.add_key_result()
        objective_id, key_result_id = picked
        answer = await self.send(
            "reviseKeyResult",
            {
                "objectiveId": objective_id,
                "keyResultId": key_result_id,
                "title": f"KR {self.new_id()[:8]}",
            },
        )
        if answer.kind == ACK:
            self.model.saw(self.model.objectives, objective_id, answer.version)

    async def check_in(self) -> None:
        picked = self.key_result()
        if picked is None:
            return await self.add_key_result()
        objective_id, key_result_id = picked
        answer = await self.send(
            "checkInKeyResult",
            {
                "objectiveId": objective_id,
                "keyResultId": key_result_id,
                "value": str(self.rng.randint(0, 600)),
                "confidence": self.rng.choice(["ON_TRACK", "AT_RISK", "OFF_TRACK"]),
                "note": f"n{self.rng.randint(0, 99)}",
            },
            twice=self.rng.random() < 0.04,
        )
        if answer.kind == ACK:
            self.model.saw(self.model.objectives, objective_id, answer.version)

    async def stale_check_in(self) -> None:
        """A check-in that names a version older than one already acknowledged."""
        picked = self.key_result()
        if picked is None:
            return await self.add_key_result()
        objective_id, key_result_id = picked
        known = self.model.objectives[objective_id]
        await self.send(
            "checkInKeyResult",
            {
                "objectiveId": objective_id,
                "keyResultId": key_result_id,
                "value": str(self.rng.randint(0, 600)),
                "confidence": "AT_RISK",
                "expectedVersion": known - 1,
            },
            refusal="VERSION_CONFLICT",
        )

    async def define_kpi(self) -> None:
        kpi_id = self.new_id()
        answer = await self.send(
            "defineKpi",
            {
                "kpiId": kpi_id,
                "name": f"KPI {kpi_id[:6]}",
                "key": f"kpi-{kpi_id[:12]}",
                "unit": "%",
                "direction": self.rng.choice(["HIGHER_IS_BETTER", "LOWER_IS_BETTER"]),
                "area": "Growth",
                "cadence": "DAILY",
            },
            twice=self.rng.random() < 0.04,
        )
        if answer.kind == ACK:
            self.model.saw(self.model.kpis, kpi_id, answer.version)

    async def record_reading(self) -> None:
        kpi_id = self.kpi()
        if kpi_id is None:
            return await self.define_kpi()
        observed = datetime.now(UTC) - timedelta(minutes=self.rng.randint(1, 60 * 24 * 30))
        answer = await self.send(
            "recordKpiReading",
            {
                "kpiId": kpi_id,
                "value": f"{self.rng.randint(0, 10_000) / 100}",
                "observedAt": observed.isoformat(),
            },
            twice=self.rng.random() < 0.04,
        )
        if answer.kind == ACK:
            self.model.saw(self.model.kpis, kpi_id, answer.version)

    async def align(self) -> None:
        objective_id, parent = self.objective(), self.objective()
        if objective_id is None:
            return await self.set_objective()
        # Onto another objective (which may be refused as a loop) or back to the root.
        answer = await self.send(
            "alignObjective",
            {"objectiveId": objective_id, "parentId": parent if parent != objective_id else None},
        )
        if answer.kind == ACK:
            self.model.saw(self.model.objectives, objective_id, answer.version)

    async def invalid(self) -> None:
        """A command that must be refused with a typed error."""
        objective_id = self.objective()
        which = self.rng.randrange(4)
        if which == 0 or objective_id is None:
            payload = {"cycleId": self.model.cycle_id, "title": "   ", "owner": "ana"}
            await self.send("setObjective", payload, refusal="any")
        elif which == 1:
            payload = {"kpiId": self.new_id(), "value": "1", "observedAt": _now()}
            await self.send("recordKpiReading", payload, refusal="any")
        elif which == 2:
            payload = {
                "objectiveId": objective_id,
                "keyResultId": self.new_id(),
                "value": "3",
                "confidence": "ON_TRACK",
            }
            await self.send("checkInKeyResult", payload, refusal="any")
        else:
            payload = {"objectiveId": objective_id, "parentId": objective_id}
            await self.send("alignObjective", payload, refusal="any")


def _now() -> str:
    return datetime.now(UTC).isoformat()


async def open_tenant(
    http: httpx.AsyncClient, model: TenantModel, ledger: Ledger, rng: random.Random
) -> None:
    """Start the tenant's cycle (every client's objectives go into it)."""
    setup = Client(http, model, ledger, rng, persist=True)
    cycle_id = setup.new_id()
    answer = await setup.send(
        "startCycle",
        {
            "cycleId": cycle_id,
            "name": f"Q-{cycle_id[:8]}",
            "startsOn": "2026-10-01",
            "endsOn": "2026-12-31",
        },
    )
    assert answer.kind == ACK, answer
    model.cycle_id = cycle_id


@dataclass(frozen=True)
class LogEntry:
    position: int
    stream_id: uuid.UUID
    version: int
    command_id: str
    event_id: uuid.UUID
    event_type: str


async def read_log(owner_dsn: str, tenant: str) -> tuple[list[LogEntry], int, bool]:
    """The tenant's log in position order, its head, and whether its hash chain verifies."""
    connection = await asyncpg.connect(owner_dsn)
    try:
        async with connection.transaction():
            await set_tenant(connection, tenant)
            rows = await connection.fetch(
                """SELECT position, stream_id, version, command_id, event_id, event_type
                   FROM events WHERE tenant_id = $1 ORDER BY position""",
                tenant,
            )
            head = await connection.fetchval(
                "SELECT position FROM tenant_heads WHERE tenant_id = $1", tenant
            )
            chain = await verify_chain(connection, tenant)
    finally:
        await connection.close()
    return [LogEntry(**dict(r)) for r in rows], int(head or 0), chain.ok


def problems_with(log: Sequence[LogEntry], head: int, sent: dict[str, Sent]) -> list[str]:
    """Every way the log disagrees with the model; empty when it holds.

    Positions run 1..head without a hole or a repeat. An acknowledged command's events
    exist exactly once: one run of consecutive versions of one stream, ending at the
    version and position it was acknowledged with (every acknowledgement alike). A refused
    command left nothing; one whose answer never arrived left its events once or not at all.
    """
    found: list[str] = []
    positions = [e.position for e in log]
    if positions != list(range(1, head + 1)):
        found.append(f"positions are not 1..{head}: {len(positions)} events")
    by_command: dict[str, list[LogEntry]] = {}
    for entry in log:
        by_command.setdefault(entry.command_id, []).append(entry)
    for command_id, command in sent.items():
        events = by_command.get(command_id, [])
        acks = {(a.version, a.position) for a in command.acknowledged}
        if command.refusal and acks:
            found.append(f"{command.mutation} {command_id} should have been refused: {acks}")
        if command.refusal not in (None, "any") and command.refused:
            codes = {a.code for a in command.answers}
            if codes != {command.refusal}:
                found.append(f"{command.mutation} {command_id} refused with {codes}")
        if not events and acks and command.mutation in CAN_CHANGE_NOTHING:
            continue
        if command.refused or (not acks and not events):
            if events:
                found.append(f"refused {command.mutation} {command_id} left {len(events)} events")
            continue
        streams = {e.stream_id for e in events}
        versions = [e.version for e in events]
        if (
            not events
            or len(streams) != 1
            or versions != list(range(versions[0], versions[-1] + 1))
        ):
            found.append(f"{command.mutation} {command_id}: events {versions} in {len(streams)}")
            continue
        if len(acks) > 1:
            found.append(f"{command.mutation} {command_id} acknowledged differently: {acks}")
        if acks and acks != {(versions[-1], events[-1].position)}:
            landed = (versions[-1], events[-1].position)
            found.append(f"{command.mutation} {command_id} acknowledged {acks}, landed {landed}")
    return found


READ_MODEL_TABLES = {t: f"{t}::text" for p in catalog.projections() for t in p.tables}


async def read_models_and_rebuild(
    owner_dsn: str, tenant: str
) -> tuple[dict[str, list[tuple[Any, ...]]], dict[str, list[tuple[Any, ...]]]]:
    """Every read-model row of the tenant as kept inline, then as rebuilt from its events."""
    inline = await read_model_rows(owner_dsn, tenant, READ_MODEL_TABLES)
    await rebuild(owner_dsn, catalog.projections(), tenant_id=tenant)
    return inline, await read_model_rows(owner_dsn, tenant, READ_MODEL_TABLES)
