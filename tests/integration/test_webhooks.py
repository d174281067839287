"""Webhooks end to end on a real PostgreSQL and real HTTP receivers on 127.0.0.1 (allowed
through the setting): registration, signatures, retries, order, pausing, replay, and
at-least-once delivery across a worker killed mid-delivery."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import os
import socket
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field, replace
from datetime import date
from ipaddress import ip_network
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from okrledger.domain.webhook import InvalidWebhook, UnsafeWebhookURL, Webhook
from okrledger.infra.bootstrap import (
    build_store,
    live_projections,
    start_runtime,
    start_webhook_delivery,
)
from okrledger.infra.db import Database
from okrledger.infra.dns import SystemResolver
from okrledger.infra.event_store import PostgresEventStore
from okrledger.infra.outbox import PUBLIC_BY_EVENT_TYPE
from okrledger.infra.rebuild import rebuild
from okrledger.infra.settings import Settings
from okrledger.infra.webhook_reads import PostgresWebhookReads
from okrledger.infra.webhook_secrets import SecretNotStaged, WebhookSecrets
from okrledger.infra.webhook_signature import signature_header
from okrledger.infra.webhook_worker import WORKER_ACTOR, DeliveryPolicy, WebhookWorker
from okrledger.projections.webhooks import WebhooksProjection
from okrledger.services import cycles, webhooks
from okrledger.services.handling import Handler
from okrledger.services.ports import CommandContext

LOOPBACK = (ip_network("127.0.0.0/8"),)
FAST = DeliveryPolicy(
    timeout_seconds=5.0,
    backoff_base_seconds=0.02,
    backoff_cap_seconds=0.1,
    poll_seconds=0.05,
    allowed_networks=LOOPBACK,
)


@dataclass
class Received:
    delivery_id: str
    signature: str
    body: bytes
    status: int

    @property
    def event(self) -> dict[str, Any]:
        parsed: dict[str, Any] = orjson.loads(self.body)
        return parsed


# Decides the status code of a request, given it and the receipts so far.
Respond = Callable[[Received, list[Received]], Awaitable[int]]


async def accept(request: Received, earlier: list[Received]) -> int:
    return 200


@dataclass
class Receiver:
    url: str
    respond: Respond = accept
    received: list[Received] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def accepted(self) -> list[Received]:
        return [r for r in self.received if 200 <= r.status < 300]

    async def endpoint(self, request: Request) -> Response:
        receipt = Received(
            request.headers.get("okrledger-delivery", ""),
            request.headers.get("okrledger-signature", ""),
            await request.body(),
            0,
        )
        earlier = list(self.received)
        receipt.status = await self.respond(receipt, earlier)
        self.received.append(receipt)
        self.arrived.set()
        return Response(status_code=receipt.status)

    async def wait_for(self, condition: Callable[[], bool]) -> None:
        async with asyncio.timeout(15):
            while not condition():
                self.arrived.clear()
                if condition():
                    return
                await self.arrived.wait()


def verify(secret: str, header: str, body: bytes) -> bool:
    """What a receiver does: recompute the HMAC over "<t>.<body>" and compare."""
    parts = [part.split("=", 1) for part in header.split(",")]
    timestamp = next(value for key, value in parts if key == "t")
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return any(
        hmac.compare_digest(expected.hexdigest(), value) for key, value in parts if key == "v1"
    )


Serve = Callable[[Any, socket.socket], AbstractAsyncContextManager[None]]


@pytest.fixture
async def receiver(serve: Serve, free_socket: socket.socket) -> AsyncIterator[Receiver]:
    host, port = free_socket.getsockname()
    found = Receiver(f"http://{host}:{port}/hooks")
    app = Starlette(routes=[Route("/hooks", found.endpoint, methods=["POST"])])
    async with serve(app, free_socket):
        yield found


@dataclass
class Kit:
    database: Database
    store: PostgresEventStore
    handler: Handler
    ports: webhooks.WebhookPorts
    reads: PostgresWebhookReads
    tenant: str

    def ctx(self, actor: str = "admin") -> CommandContext:
        return CommandContext(self.tenant, actor, str(uuid.uuid4()))

    def worker(self, policy: DeliveryPolicy = FAST) -> WebhookWorker:
        return WebhookWorker(self.database, self.handler, self.ports.resolver, policy)

    async def register(
        self, url: str, event_types: tuple[str, ...] = ("okr.cycle.*",)
    ) -> tuple[uuid.UUID, str]:
        issued = await webhooks.register_webhook(
            webhooks.RegisterWebhook(url, event_types, "test receiver"),
            self.ctx(),
            self.handler,
            self.ports,
        )
        assert issued.secret is not None
        return issued.outcome.aggregate.id, issued.secret

    async def start_cycle(self) -> int:
        """Append one event (okr.cycle.started.v1); its position."""
        cmd = cycles.StartCycle(f"c-{uuid.uuid4().hex[:8]}", date(2026, 10, 1), date(2026, 12, 31))
        return (await cycles.start_cycle(cmd, self.ctx("alice"), self.handler)).position

    async def drain(self, worker: WebhookWorker) -> int:
        """Deliver this tenant's due rows until none is left free."""
        attempts = 0
        while await worker.deliver_next(self.tenant):
            attempts += 1
        return attempts


def make_kit(database: Database, tenant: str, allowed: tuple[Any, ...] = LOOPBACK) -> Kit:
    secrets = WebhookSecrets()
    store = build_store(database, [], secrets)
    ports = webhooks.WebhookPorts(
        SystemResolver(), secrets, frozenset(PUBLIC_BY_EVENT_TYPE.values()), allowed
    )
    return Kit(database, store, Handler(store), ports, PostgresWebhookReads(database), tenant)


@pytest.fixture
def kit(database: Database, tenant: str) -> Kit:
    return make_kit(database, tenant)


async def events_of(kit: Kit, webhook_id: uuid.UUID) -> list[Any]:
    return await kit.store.read_stream(kit.tenant, webhook_id)


# --- registration -------------------------------------------------------------------------


async def test_registration_returns_the_secret_once_and_no_event_carries_it(kit: Kit) -> None:
    context = kit.ctx()
    cmd = webhooks.RegisterWebhook("http://127.0.0.1:9/hooks", ["okr.objective.*"], "crm")

    first = await webhooks.register_webhook(cmd, context, kit.handler, kit.ports)
    retried = await webhooks.register_webhook(cmd, context, kit.handler, kit.ports)

    assert first.secret is not None and first.secret.startswith("whsec_")
    assert retried.secret is None
    recorded = await events_of(kit, first.outcome.aggregate.id)
    assert [r.event_type for r in recorded] == ["WebhookRegistered"]
    assert first.secret not in recorded[0].payload


async def test_webhook_lifecycle_is_in_the_audit_history_with_its_actor(kit: Kit) -> None:
    webhook_id, _ = await kit.register("http://127.0.0.1:9/hooks")
    await webhooks.rotate_webhook_secret(
        webhooks.RotateWebhookSecret(webhook_id), kit.ctx("root"), kit.handler, kit.ports
    )
    await webhooks.pause_webhook(
        webhooks.PauseWebhook(webhook_id, "maintenance"), kit.ctx(), kit.handler
    )
    await webhooks.remove_webhook(webhooks.RemoveWebhook(webhook_id), kit.ctx(), kit.handler)

    recorded = await events_of(kit, webhook_id)

    assert [(r.event_type, r.actor) for r in recorded] == [
        ("WebhookRegistered", "admin"),
        ("WebhookSecretRotated", "root"),
        ("WebhookPaused", "admin"),
        ("WebhookRemoved", "admin"),
    ]


async def test_a_loopback_url_is_refused_unless_allowed_in_settings(
    database: Database, tenant: str
) -> None:
    strict = make_kit(database, tenant, allowed=())

    with pytest.raises(UnsafeWebhookURL):
        await strict.register("http://127.0.0.1:9/hooks")

    assert await strict.reads.webhooks(tenant) == []


class Rebinding:
    """A name whose first answer is a public address and every later one loopback, as an
    attacker's DNS would answer the registration's check and then the delivery. (The public
    address is never connected to: the delivery asks again and gets loopback.)"""

    HOST = "hooks.rebinding.test"

    def __init__(self) -> None:
        self.asked = 0

    async def resolve(self, host: str) -> list[str]:
        if host != self.HOST:
            return []
        self.asked += 1
        return ["93.184.215.14"] if self.asked == 1 else ["127.0.0.1"]


def rebinding_kit(database: Database, tenant: str) -> tuple[Kit, Rebinding]:
    kit, names = make_kit(database, tenant, allowed=()), Rebinding()
    kit.ports = replace(kit.ports, resolver=names)
    return kit, names


async def test_a_name_that_rebinds_to_loopback_after_registration_gets_no_delivery(
    database: Database, tenant: str, receiver: Receiver
) -> None:
    kit, names = rebinding_kit(database, tenant)
    port = receiver.url.rsplit(":", 1)[1].split("/")[0]
    webhook_id, _ = await kit.register(f"http://{names.HOST}:{port}/hooks")
    await kit.start_cycle()

    await kit.drain(kit.worker(replace(FAST, allowed_networks=())))

    assert receiver.received == []
    [attempt] = await kit.reads.deliveries(kit.tenant, webhook_id)
    assert attempt.succeeded is False and attempt.status_code is None
    assert attempt.error is not None
    assert attempt.error.startswith(f"refused: the host '{names.HOST}' resolves to 127.0.0.1")
    assert "OKRLEDGER_WEBHOOK_ALLOWED_NETWORKS" in attempt.error
    assert names.asked == 2  # the registration's check, then the connection's


async def test_a_delivery_connects_to_the_address_its_check_resolved(
    database: Database, tenant: str, receiver: Receiver
) -> None:
    # The name exists only for the test's resolver: reaching the receiver proves the
    # connection went to the checked address rather than resolving the name again.
    kit, names = rebinding_kit(database, tenant)
    port = receiver.url.rsplit(":", 1)[1].split("/")[0]
    await kit.register(f"http://{names.HOST}:{port}/hooks")
    await kit.start_cycle()

    await kit.drain(kit.worker(FAST))  # FAST allows 127.0.0.0/8

    assert [r.status for r in receiver.received] == [200]


async def test_an_event_type_that_matches_nothing_is_refused(kit: Kit) -> None:
    with pytest.raises(InvalidWebhook):
        await kit.register("http://127.0.0.1:9/hooks", ("okr.nothing.*",))


async def test_registered_webhooks_are_listed_with_their_subscription(kit: Kit) -> None:
    webhook_id, _ = await kit.register("http://127.0.0.1:9/hooks", ("okr.cycle.started.v1",))

    listed = await kit.reads.webhooks(kit.tenant)

    assert [(w.webhook_id, w.url, w.event_types, w.status) for w in listed] == [
        (webhook_id, "http://127.0.0.1:9/hooks", ["okr.cycle.started.v1"], "active")
    ]


async def test_another_tenant_sees_no_webhook_of_this_one(
    kit: Kit, database: Database, other_tenant: str
) -> None:
    await kit.register("http://127.0.0.1:9/hooks")
    await kit.start_cycle()

    other = make_kit(database, other_tenant)

    assert await other.reads.webhooks(other_tenant) == []
    async with database.transaction(other_tenant) as connection:
        for table in ("webhooks", "webhook_secrets", "webhook_outbox"):
            assert await connection.fetchval(f"SELECT count(*) FROM {table}") == 0, table


# --- delivery -----------------------------------------------------------------------------


async def test_a_delivery_is_a_cloud_event_signed_over_timestamp_and_body(
    kit: Kit, receiver: Receiver
) -> None:
    _, secret = await kit.register(receiver.url)
    position = await kit.start_cycle()

    await kit.drain(kit.worker())

    [got] = receiver.received
    assert verify(secret, got.signature, got.body)
    assert not verify("whsec_wrong", got.signature, got.body)
    assert got.event["type"] == "okr.cycle.started.v1"
    assert got.event["position"] == position
    assert uuid.UUID(got.delivery_id)


async def test_events_before_the_registration_and_of_other_types_are_not_sent(
    kit: Kit, receiver: Receiver
) -> None:
    await kit.start_cycle()
    await kit.register(receiver.url, ("okr.objective.*",))
    await kit.start_cycle()

    assert await kit.drain(kit.worker()) == 0
    assert receiver.received == []


async def test_after_500s_the_same_delivery_is_retried_until_accepted(
    kit: Kit, receiver: Receiver
) -> None:
    async def fail_twice(request: Received, earlier: list[Received]) -> int:
        return 500 if len(earlier) < 2 else 204

    receiver.respond = fail_twice
    webhook_id, _ = await kit.register(receiver.url)
    await kit.start_cycle()
    worker = kit.worker()

    async with asyncio.timeout(10):
        while len(receiver.accepted) < 1:
            await kit.drain(worker)
            await asyncio.sleep(0.02)

    assert [r.status for r in receiver.received] == [500, 500, 204]
    assert len({r.delivery_id for r in receiver.received}) == 1
    attempts = await kit.reads.deliveries(kit.tenant, webhook_id)
    assert [(a.attempt, a.status_code, a.succeeded) for a in attempts] == [
        (3, 204, True),
        (2, 500, False),
        (1, 500, False),
    ]


async def test_a_later_event_never_overtakes_an_earlier_undelivered_one(
    kit: Kit, receiver: Receiver
) -> None:
    # Every third event is refused on its first attempt, while 8 lanes deliver at once.
    async def flaky(request: Received, earlier: list[Received]) -> int:
        first_try = all(r.delivery_id != request.delivery_id for r in earlier)
        return 503 if first_try and request.event["position"] % 3 == 0 else 200

    receiver.respond = flaky
    await kit.register(receiver.url)
    positions = [await kit.start_cycle() for _ in range(20)]
    worker = kit.worker()
    worker.start()
    try:
        await receiver.wait_for(lambda: len(receiver.accepted) == len(positions))
    finally:
        await worker.stop()

    assert [r.event["position"] for r in receiver.accepted] == positions


async def test_two_workers_share_the_outbox_and_deliver_each_event_once_in_order(
    kit: Kit, receiver: Receiver
) -> None:
    await kit.register(receiver.url)
    positions = [await kit.start_cycle() for _ in range(30)]
    workers = [kit.worker(), kit.worker()]
    for worker in workers:
        worker.start()
    try:
        await receiver.wait_for(lambda: len(receiver.accepted) == len(positions))
        await asyncio.sleep(0.2)  # room for a duplicate to show up, if there were one
    finally:
        for worker in workers:
            await worker.stop()

    assert [r.event["position"] for r in receiver.received] == positions


async def test_repeated_failures_pause_the_webhook_and_keep_its_events(
    kit: Kit, receiver: Receiver
) -> None:
    async def down(request: Received, earlier: list[Received]) -> int:
        return 502

    receiver.respond = down
    webhook_id, _ = await kit.register(receiver.url)
    positions = [await kit.start_cycle() for _ in range(3)]
    worker = kit.worker(replace(FAST, max_failures=3))

    async with asyncio.timeout(10):
        while (await kit.reads.webhook(kit.tenant, webhook_id)).status != "paused":  # type: ignore[union-attr]
            await kit.drain(worker)
            await asyncio.sleep(0.02)

    paused = await kit.reads.webhook(kit.tenant, webhook_id)
    assert paused is not None and paused.pending_deliveries == len(positions)
    assert len(receiver.received) == 3
    assert (await events_of(kit, webhook_id))[-1].actor == WORKER_ACTOR


async def test_a_resumed_webhook_receives_what_was_queued_while_paused(
    kit: Kit, receiver: Receiver
) -> None:
    webhook_id, _ = await kit.register(receiver.url)
    await webhooks.pause_webhook(webhooks.PauseWebhook(webhook_id), kit.ctx(), kit.handler)
    positions = [await kit.start_cycle() for _ in range(3)]
    worker = kit.worker()
    assert await kit.drain(worker) == 0

    await webhooks.resume_webhook(webhooks.ResumeWebhook(webhook_id), kit.ctx(), kit.handler)
    await kit.drain(worker)

    assert [r.event["position"] for r in receiver.accepted] == positions


async def test_a_paused_webhook_replayed_from_a_position_gets_the_events_after_it_again(
    kit: Kit, receiver: Receiver
) -> None:
    webhook_id, _ = await kit.register(receiver.url)
    positions = [await kit.start_cycle() for _ in range(3)]
    worker = kit.worker()
    await kit.drain(worker)
    await webhooks.pause_webhook(webhooks.PauseWebhook(webhook_id), kit.ctx(), kit.handler)

    await webhooks.replay_webhook(
        webhooks.ReplayWebhook(webhook_id, from_position=positions[0]), kit.ctx(), kit.handler
    )
    await kit.drain(worker)

    sent = [r.event["position"] for r in receiver.accepted]
    assert sent == [*positions, *positions[1:]]
    assert receiver.accepted[1].event["id"] == receiver.accepted[3].event["id"]
    assert receiver.accepted[1].delivery_id != receiver.accepted[3].delivery_id


async def test_after_a_rotation_deliveries_carry_both_signatures_for_the_grace_period(
    kit: Kit, receiver: Receiver
) -> None:
    webhook_id, old = await kit.register(receiver.url)
    rotated = await webhooks.rotate_webhook_secret(
        webhooks.RotateWebhookSecret(webhook_id), kit.ctx(), kit.handler, kit.ports
    )
    await kit.start_cycle()

    await kit.drain(kit.worker())

    [got] = receiver.received
    assert rotated.secret is not None and rotated.secret != old
    assert verify(rotated.secret, got.signature, got.body)
    assert verify(old, got.signature, got.body)


async def test_a_removed_webhook_gets_nothing_more_and_its_secret_is_gone(
    kit: Kit, receiver: Receiver
) -> None:
    webhook_id, _ = await kit.register(receiver.url)
    await kit.start_cycle()
    await webhooks.remove_webhook(webhooks.RemoveWebhook(webhook_id), kit.ctx(), kit.handler)
    await kit.start_cycle()

    assert await kit.drain(kit.worker()) == 0
    assert receiver.received == []
    async with kit.database.transaction(kit.tenant) as connection:
        assert await connection.fetchval("SELECT count(*) FROM webhook_secrets") == 0


async def test_no_acknowledged_event_is_missing_after_a_worker_is_killed_mid_delivery(
    kit: Kit, receiver: Receiver, owner_dsn: str
) -> None:
    # The first delivery hangs at the receiver; the worker process holding it is killed.
    release = asyncio.Event()
    hung: list[Received] = []

    async def hang_first(request: Received, earlier: list[Received]) -> int:
        if not hung:
            hung.append(request)
            receiver.arrived.set()
            await release.wait()
            return 500  # too late: nobody is waiting for this answer any more
        return 200

    receiver.respond = hang_first
    await kit.register(receiver.url)
    positions = [await kit.start_cycle() for _ in range(5)]
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "okrledger.infra.webhook_process",
        env={
            **os.environ,
            "DATABASE_URL": owner_dsn,
            "OKRLEDGER_WEBHOOK_ALLOWED_NETWORKS": "127.0.0.0/8",
            "OKRLEDGER_WEBHOOK_CONCURRENCY": "1",
        },
    )
    try:
        async with asyncio.timeout(30):
            await receiver.arrived.wait()
    finally:
        process.kill()
        await process.wait()

    worker = kit.worker()
    worker.start()
    try:
        await receiver.wait_for(lambda: len(receiver.accepted) == len(positions))
    finally:
        await worker.stop()
        release.set()

    assert [r.event["position"] for r in receiver.accepted] == positions
    assert hung[0].delivery_id == receiver.accepted[0].delivery_id


async def test_the_runtime_delivers_webhooks_once_delivery_is_started(
    owner_dsn: str, tenant: str, receiver: Receiver
) -> None:
    settings = Settings(
        database_url=owner_dsn, webhook_allowed_networks="127.0.0.0/8", pool_min_size=1
    )
    runtime = await start_runtime(settings, background=False)
    try:
        await start_webhook_delivery(runtime)
        context = CommandContext(tenant, "admin", str(uuid.uuid4()))
        issued = await webhooks.register_webhook(
            webhooks.RegisterWebhook(receiver.url, ["*"]),
            context,
            runtime.handler,
            runtime.webhooks,
        )
        cmd = cycles.StartCycle("2026-Q4", date(2026, 10, 1), date(2026, 12, 31))
        await cycles.start_cycle(cmd, CommandContext(tenant, "alice", "c1"), runtime.handler)

        await receiver.wait_for(lambda: len(receiver.accepted) == 1)
    finally:
        await runtime.close()

    assert issued.secret is not None
    assert verify(issued.secret, receiver.accepted[0].signature, receiver.accepted[0].body)
    assert receiver.accepted[0].event["type"] == "okr.cycle.started.v1"


DOC = Path(__file__).resolve().parents[2] / "docs" / "webhooks.md"


@dataclass
class DocReceiver:
    url: str
    secret: str


@pytest.fixture
async def doc_receiver() -> AsyncIterator[DocReceiver]:
    """The receiver script of docs/webhooks.md, run as written, on a free port."""
    text = DOC.read_text()
    script = text.split("```python\n", 1)[1].split("```", 1)[0]
    assert len([line for line in script.splitlines() if line.strip()]) <= 14
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    found = DocReceiver(f"http://127.0.0.1:{port}/", "whsec_" + uuid.uuid4().hex)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        script,
        env={**os.environ, "PORT": str(port), "OKRLEDGER_WEBHOOK_SECRET": found.secret},
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        async with asyncio.timeout(10):
            while True:
                try:
                    _, writer = await asyncio.open_connection("127.0.0.1", port)
                except OSError:
                    await asyncio.sleep(0.05)
                    continue
                writer.close()
                break
        yield found
    finally:
        process.kill()
        await process.wait()


async def test_the_documented_receiver_accepts_a_signed_delivery(
    kit: Kit, doc_receiver: DocReceiver
) -> None:
    webhook_id, _ = await kit.register(doc_receiver.url)
    async with kit.database.transaction(kit.tenant) as connection:
        await connection.execute(
            "UPDATE webhook_secrets SET secret = $1 WHERE webhook_id = $2",
            doc_receiver.secret,
            webhook_id,
        )
    await kit.start_cycle()

    await kit.drain(kit.worker())

    [attempt] = await kit.reads.deliveries(kit.tenant, webhook_id)
    assert (attempt.status_code, attempt.succeeded) == (204, True)


async def test_the_documented_receiver_refuses_a_forged_signature(
    doc_receiver: DocReceiver,
) -> None:
    body = b'{"type":"okr.objective.set.v1"}'
    forged = signature_header(["whsec_guess"], int(time.time()), body)

    async with httpx.AsyncClient() as client:
        response = await client.post(
            doc_receiver.url, content=body, headers={"Okrledger-Signature": forged}
        )

    assert response.status_code == 401


async def test_a_rebuilt_webhooks_table_equals_the_inline_one(kit: Kit, owner_dsn: str) -> None:
    paused, _ = await kit.register("http://127.0.0.1:9/a")
    await kit.register("http://127.0.0.1:9/b", ("okr.objective.*", "webhook.*"))
    await webhooks.pause_webhook(webhooks.PauseWebhook(paused, "later"), kit.ctx(), kit.handler)
    inline = await kit.reads.webhooks(kit.tenant)

    await rebuild(owner_dsn, [WebhooksProjection()], tenant_id=kit.tenant)

    assert await kit.reads.webhooks(kit.tenant) == inline
    assert [w.status for w in inline] == ["paused", "active"]


async def test_pausing_while_a_delivery_is_in_flight_does_not_wait_for_the_receiver(
    kit: Kit, receiver: Receiver
) -> None:
    release = asyncio.Event()

    async def slow(request: Received, earlier: list[Received]) -> int:
        receiver.arrived.set()
        await release.wait()
        return 200

    receiver.respond = slow
    webhook_id, _ = await kit.register(receiver.url)
    await kit.start_cycle()
    await kit.start_cycle()
    delivering = asyncio.create_task(kit.worker().deliver_next(kit.tenant))
    try:
        await receiver.arrived.wait()
        async with asyncio.timeout(2):
            await webhooks.pause_webhook(webhooks.PauseWebhook(webhook_id), kit.ctx(), kit.handler)
            await kit.start_cycle()
    finally:
        release.set()
        await delivering

    assert await kit.drain(kit.worker()) == 0
    paused = await kit.reads.webhook(kit.tenant, webhook_id)
    assert paused is not None and paused.pending_deliveries == 2  # one of three delivered


async def test_a_registration_appended_without_its_secret_is_refused(kit: Kit) -> None:
    webhook = Webhook.register(id=uuid.uuid4(), url="http://127.0.0.1:9/x", event_types=["*"])

    with pytest.raises(SecretNotStaged):
        await kit.store.append(kit.ctx(), webhook.collect_events())

    assert await kit.reads.webhooks(kit.tenant) == []


async def test_the_change_history_tells_who_registered_and_paused_a_webhook(
    database: Database, tenant: str
) -> None:
    secrets = WebhookSecrets()
    kit = make_kit(database, tenant)
    kit.store = build_store(database, live_projections(), secrets)
    kit.handler = Handler(kit.store)
    kit.ports = replace(kit.ports, secrets=secrets)
    webhook_id, secret = await kit.register("http://127.0.0.1:9/hooks")
    await webhooks.pause_webhook(
        webhooks.PauseWebhook(webhook_id, "receiver moves"), kit.ctx("bob"), kit.handler
    )

    async with database.transaction(tenant) as connection:
        rows = await connection.fetch(
            "SELECT actor, summary, changes::text AS changes FROM change_log ORDER BY position"
        )

    assert [(r["actor"], r["summary"]) for r in rows] == [
        ("admin", "Webhook registered for http://127.0.0.1:9/hooks (okr.cycle.*)"),
        ("bob", "Webhook for http://127.0.0.1:9/hooks paused: receiver moves"),
    ]
    assert all(secret not in r["changes"] for r in rows)
