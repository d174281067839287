"""Webhooks over GraphQL: registering, signed delivery to a real receiver, the lifecycle
mutations and their typed errors, and the delivery log."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from uuid import uuid4

import pytest

from okrledger.infra.settings import Settings
from okrledger.services.identity import Role
from tests.e2e.okr_steps import start_cycle
from tests.e2e.server import Api, ApiClient, as_caller, serving
from tests.e2e.webhook_steps import SECRET, WEBHOOK, receiving, register, verified

WEBHOOKS = "query { webhooks { id status } }"
ONE = "query($id: UUID!) { webhook(id: $id) { id status pauseReason version } }"
DELIVERIES = """query($id: UUID!, $first: Int!, $before: String) { webhook(id: $id) {
    deliveries(first: $first, before: $before) {
        edges { cursor node { id deliveryId position attempt attemptedAt statusCode succeeded } }
        pageInfo { hasNextPage endCursor } } } }"""


@pytest.fixture(scope="module")
async def api_url(api_settings: Settings) -> AsyncIterator[str]:
    """A server of this module's own, delivering webhooks and allowing loopback URLs (where
    the receivers listen); it stops with the module, so its worker races no other test's."""
    settings = api_settings.model_copy(
        update={"webhook_allowed_networks": "127.0.0.0/8", "webhook_worker": True}
    )
    async with serving(settings) as url:
        yield url


async def change(api: Api, name: str, input: dict[str, Any]) -> dict[str, Any]:
    issues_secret = name in ("registerWebhook", "rotateWebhookSecret")
    return await api.mutate(name, input, WEBHOOK + (SECRET if issues_secret else ""))


async def test_registered_webhook_receives_a_later_event_signed_with_the_returned_secret(
    admin: Api,
) -> None:
    async with receiving() as receiver:
        registered = await register(admin, receiver.url)

        cycle = await start_cycle(admin)

        await receiver.wait_for(lambda: bool(receiver.of_type("okr.cycle.started.v1")))
    (delivered,) = receiver.of_type("okr.cycle.started.v1")
    assert delivered.event["subject"] == cycle["id"]
    assert verified(registered["secret"], delivered.signature, delivered.body)
    assert not verified("whsec_not-the-secret", delivered.signature, delivered.body)


async def test_register_retried_with_the_same_command_id_shows_no_secret_and_adds_no_webhook(
    admin: Api,
) -> None:
    command_id = f"c-{uuid4().hex}"
    first = await register(admin, commandId=command_id)

    retried = await register(admin, commandId=command_id)

    assert first["secret"].startswith("whsec_")
    assert retried["secret"] is None
    assert retried["webhook"]["id"] == first["webhook"]["id"]
    listed = (await admin.post(WEBHOOKS))["data"]["webhooks"]
    assert [w["id"] for w in listed] == [first["webhook"]["id"]]


async def test_registered_webhook_is_active_with_what_was_asked(admin: Api) -> None:
    registered = await register(admin, description="  CRM sync ")

    webhook = registered["webhook"]
    assert (webhook["status"], webhook["eventTypes"], webhook["description"]) == (
        "ACTIVE",
        ["okr.cycle.*"],
        "CRM sync",
    )
    assert (registered["version"], webhook["version"], webhook["pendingDeliveries"]) == (1, 1, 0)


async def test_url_on_a_private_network_is_a_validation_error_on_url(admin: Api) -> None:
    result = await admin.mutate(
        "registerWebhook",
        {"url": "http://169.254.169.254/latest", "eventTypes": ["*"]},
        WEBHOOK,
    )

    assert (result["__typename"], result["field"]) == ("ValidationError", "url")
    assert (await admin.post(WEBHOOKS))["data"]["webhooks"] == []


# This server allows 127.0.0.0/8 (its receivers listen there): each URL below reaches
# something else, or reaches 127.0.0.1 only through a translator or relay.
UNSAFE_URLS = [
    "http://10.0.0.1/hooks",
    "http://100.64.0.1/hooks",
    "http://198.18.0.1/hooks",
    "http://0.0.0.0:8080/hooks",
    "http://255.255.255.255/hooks",
    "http://[::1]:8080/hooks",
    "http://[::]/hooks",
    "http://[fe80::1]/hooks",
    "http://[fd00::1]/hooks",
    "http://[fec0::1]/hooks",
    "http://[ff02::1]/hooks",
    "http://[::ffff:10.0.0.1]/hooks",  # IPv4-mapped
    "http://[::ffff:a9fe:a9fe]/hooks",  # IPv4-mapped 169.254.169.254, in hex
    "http://[::127.0.0.1]/hooks",  # IPv4-compatible
    "http://[::ffff:0:192.168.1.1]/hooks",  # IPv4-translated
    "http://[64:ff9b::7f00:1]/hooks",  # NAT64 of 127.0.0.1
    "http://[64:ff9b::a9fe:a9fe]/hooks",  # NAT64 of 169.254.169.254
    "http://[64:ff9b:1::c0a8:101]/hooks",  # local-use NAT64 of 192.168.1.1
    "http://[2002:7f00:1::1]/hooks",  # 6to4 of 127.0.0.1
    "http://[2002:a00:1::1]/hooks",  # 6to4 of 10.0.0.1
    "http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/hooks",  # Teredo, client 127.0.0.1
]


@pytest.mark.parametrize("url", UNSAFE_URLS)
async def test_a_url_reaching_a_non_public_address_in_any_form_is_refused_naming_the_setting(
    admin: Api, url: str
) -> None:
    result = await admin.mutate("registerWebhook", {"url": url, "eventTypes": ["*"]}, WEBHOOK)

    assert (result["__typename"], result["field"]) == ("ValidationError", "url"), result
    assert "OKRLEDGER_WEBHOOK_ALLOWED_NETWORKS" in result["message"]
    assert (await admin.post(WEBHOOKS))["data"]["webhooks"] == []


async def test_event_type_matching_nothing_is_a_validation_error_on_event_types(
    admin: Api,
) -> None:
    result = await admin.mutate(
        "registerWebhook",
        {"url": "http://127.0.0.1:9/hooks", "eventTypes": ["okr.nothing.*"]},
        WEBHOOK,
    )

    assert (result["__typename"], result["field"]) == ("ValidationError", "eventTypes")
    # The same refusal as every other type filter: the valid names and families listed.
    assert "'okr.nothing.*'" in result["message"]
    assert "okr.objective.set.v1" in result["message"] and "kpi.*" in result["message"]


async def test_rotating_the_secret_answers_a_new_one_and_a_new_version(admin: Api) -> None:
    registered = await register(admin)

    rotated = await change(admin, "rotateWebhookSecret", {"webhookId": registered["webhook"]["id"]})

    assert rotated["__typename"] == "RotateWebhookSecretPayload", rotated
    assert rotated["secret"].startswith("whsec_")
    assert rotated["secret"] != registered["secret"]
    assert rotated["version"] == 2


async def test_paused_webhook_shows_the_reason_given(admin: Api) -> None:
    webhook_id = (await register(admin))["webhook"]["id"]

    paused = await change(admin, "pauseWebhook", {"webhookId": webhook_id, "reason": "migrating"})

    assert paused["__typename"] == "PauseWebhookPayload", paused
    assert (paused["webhook"]["status"], paused["webhook"]["pauseReason"]) == (
        "PAUSED",
        "migrating",
    )


async def test_resumed_webhook_is_active_again(admin: Api) -> None:
    webhook_id = (await register(admin))["webhook"]["id"]
    await change(admin, "pauseWebhook", {"webhookId": webhook_id})

    resumed = await change(admin, "resumeWebhook", {"webhookId": webhook_id})

    assert resumed["__typename"] == "ResumeWebhookPayload", resumed
    assert (resumed["webhook"]["status"], resumed["webhook"]["pauseReason"]) == ("ACTIVE", None)


async def test_resuming_an_active_webhook_is_an_invalid_state_error(admin: Api) -> None:
    webhook_id = (await register(admin))["webhook"]["id"]

    result = await change(admin, "resumeWebhook", {"webhookId": webhook_id})

    assert result["__typename"] == "InvalidStateError", result


async def test_replaying_an_active_webhook_is_an_invalid_state_error(admin: Api) -> None:
    webhook_id = (await register(admin))["webhook"]["id"]

    result = await change(admin, "replayWebhook", {"webhookId": webhook_id, "fromPosition": 0})

    assert result["__typename"] == "InvalidStateError", result


async def test_replaying_a_paused_webhook_delivers_earlier_events_again(admin: Api) -> None:
    async with receiving() as receiver:
        registered = await register(admin, receiver.url)
        webhook_id = registered["webhook"]["id"]
        await start_cycle(admin)
        await receiver.wait_for(lambda: len(receiver.of_type("okr.cycle.started.v1")) == 1)
        await change(admin, "pauseWebhook", {"webhookId": webhook_id})

        replayed = await change(
            admin,
            "replayWebhook",
            {"webhookId": webhook_id, "fromPosition": registered["position"]},
        )

        assert replayed["__typename"] == "ReplayWebhookPayload", replayed
        assert replayed["webhook"]["status"] == "ACTIVE"
        await receiver.wait_for(lambda: len(receiver.of_type("okr.cycle.started.v1")) == 2)
    first, again = receiver.of_type("okr.cycle.started.v1")
    assert first.event["id"] == again.event["id"]


async def test_removed_webhook_leaves_the_list_but_stays_readable(admin: Api) -> None:
    webhook_id = (await register(admin))["webhook"]["id"]

    removed = await change(admin, "removeWebhook", {"webhookId": webhook_id})

    assert removed["__typename"] == "RemoveWebhookPayload", removed
    assert (await admin.post(WEBHOOKS))["data"]["webhooks"] == []
    every = await admin.post("query { webhooks(includeRemoved: true) { id status } }")
    assert every["data"]["webhooks"] == [{"id": webhook_id, "status": "REMOVED"}]
    assert (await admin.post(ONE, {"id": webhook_id}))["data"]["webhook"]["status"] == "REMOVED"


async def test_pausing_a_removed_webhook_is_an_invalid_state_error(admin: Api) -> None:
    webhook_id = (await register(admin))["webhook"]["id"]
    await change(admin, "removeWebhook", {"webhookId": webhook_id})

    result = await change(admin, "pauseWebhook", {"webhookId": webhook_id})

    assert result["__typename"] == "InvalidStateError", result


async def test_stale_expected_version_is_a_version_conflict(admin: Api) -> None:
    webhook_id = (await register(admin))["webhook"]["id"]
    await change(admin, "pauseWebhook", {"webhookId": webhook_id})

    result = await change(admin, "resumeWebhook", {"webhookId": webhook_id, "expectedVersion": 1})

    assert result["__typename"] == "VersionConflictError", result
    assert (await admin.post(ONE, {"id": webhook_id}))["data"]["webhook"]["status"] == "PAUSED"


LIFECYCLE = {
    "rotateWebhookSecret": {},
    "pauseWebhook": {},
    "resumeWebhook": {},
    "replayWebhook": {"fromPosition": 0},
    "removeWebhook": {},
}


@pytest.mark.parametrize("name", list(LIFECYCLE))
async def test_unknown_webhook_is_not_found_on_webhook_id(admin: Api, name: str) -> None:
    result = await change(admin, name, {"webhookId": str(uuid4()), **LIFECYCLE[name]})

    assert (result["__typename"], result["field"]) == ("NotFoundError", "webhookId")


@pytest.mark.parametrize("name", list(LIFECYCLE))
async def test_another_tenants_webhook_is_not_found_and_unchanged(
    client: ApiClient, admin: Api, other_tenant: str, name: str
) -> None:
    theirs = as_caller(client, other_tenant, Role.ADMIN)
    webhook_id = (await register(theirs))["webhook"]["id"]

    result = await change(admin, name, {"webhookId": webhook_id, **LIFECYCLE[name]})

    assert (result["__typename"], result["field"]) == ("NotFoundError", "webhookId")
    assert (await theirs.post(ONE, {"id": webhook_id}))["data"]["webhook"]["version"] == 1


async def test_another_tenants_webhook_cannot_be_read(
    client: ApiClient, admin: Api, other_tenant: str
) -> None:
    theirs = as_caller(client, other_tenant, Role.ADMIN)
    webhook_id = (await register(theirs))["webhook"]["id"]

    assert (await admin.post(ONE, {"id": webhook_id}))["data"]["webhook"] is None
    assert (await admin.post(WEBHOOKS))["data"]["webhooks"] == []


async def test_delivery_attempts_are_listed_newest_first_a_page_at_a_time(admin: Api) -> None:
    async with receiving() as receiver:
        webhook_id = (await register(admin, receiver.url))["webhook"]["id"]
        await start_cycle(admin)
        await start_cycle(admin)
        await receiver.wait_for(lambda: len(receiver.received) == 2)

    first = await admin.post(DELIVERIES, {"id": webhook_id, "first": 1})
    page = first["data"]["webhook"]["deliveries"]
    rest = await admin.post(
        DELIVERIES, {"id": webhook_id, "first": 5, "before": page["pageInfo"]["endCursor"]}
    )

    older = rest["data"]["webhook"]["deliveries"]
    newest, oldest = page["edges"][0]["node"], older["edges"][0]["node"]
    assert (page["pageInfo"]["hasNextPage"], older["pageInfo"]["hasNextPage"]) == (True, False)
    assert [len(page["edges"]), len(older["edges"])] == [1, 1]
    assert newest["position"] > oldest["position"]
    assert all(n["succeeded"] and n["statusCode"] == 204 for n in (newest, oldest))


async def test_a_malformed_deliveries_cursor_is_refused(admin: Api) -> None:
    webhook_id = (await register(admin))["webhook"]["id"]

    body = await admin.post(DELIVERIES, {"id": webhook_id, "first": 1, "before": "yesterday"})

    assert [e["extensions"]["code"] for e in body["errors"]] == ["VALIDATION"]
