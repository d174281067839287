"""Only admins manage webhooks: every webhook mutation and read, for every role."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import pytest

from okrledger.services.identity import Role
from tests.e2e.server import Api, ApiClient, as_caller

# Each mutation with an input of the right shape (its ids need not exist).
MUTATIONS: dict[str, dict[str, Any]] = {
    "registerWebhook": {"url": "http://127.0.0.1:9/hooks", "eventTypes": ["okr.cycle.*"]},
    "rotateWebhookSecret": {"webhookId": str(uuid4())},
    "pauseWebhook": {"webhookId": str(uuid4())},
    "resumeWebhook": {"webhookId": str(uuid4())},
    "replayWebhook": {"webhookId": str(uuid4()), "fromPosition": 0},
    "removeWebhook": {"webhookId": str(uuid4())},
}
READS = {
    "webhooks": "{ webhooks { id } }",
    "webhook": f'{{ webhook(id: "{uuid4()}") {{ id }} }}',
}


async def run(api: Api, name: str) -> dict[str, Any]:
    input_type = name[0].upper() + name[1:] + "Input"
    return await api.post(
        f"mutation($input: {input_type}!) {{ {name}(input: $input) {{ __typename }} }}",
        {"input": MUTATIONS[name]},
    )


def refused_with(body: dict[str, Any], code: str, field: str) -> bool:
    """Refused with one error; `data` null (or the field null, for the nullable `webhook`)."""
    errors = [(e["extensions"]["code"], e["path"]) for e in body.get("errors", [])]
    nothing = body["data"] is None or body["data"] == {field: None}
    return nothing and errors == [(code, [field])]


@pytest.mark.parametrize(
    ("name", "role"),
    [
        pytest.param(name, role, id=f"{name}-{role.value}")
        for name in MUTATIONS
        for role in Role
        if role != Role.ADMIN
    ],
)
async def test_only_admins_may_run_webhook_mutations(
    client: ApiClient, tenant: str, name: str, role: Role
) -> None:
    body = await run(as_caller(client, tenant, role), name)

    assert refused_with(body, "FORBIDDEN", name), body


@pytest.mark.parametrize("name", list(MUTATIONS))
async def test_admins_may_run_every_webhook_mutation(admin: Api, name: str) -> None:
    body = await run(admin, name)

    assert "errors" not in body, body
    assert body["data"][name]["__typename"]


@pytest.mark.parametrize(
    ("name", "role"),
    [
        pytest.param(name, role, id=f"{name}-{role.value}")
        for name in READS
        for role in Role
        if role != Role.ADMIN
    ],
)
async def test_only_admins_may_read_webhooks(
    client: ApiClient, tenant: str, name: str, role: Role
) -> None:
    body = await as_caller(client, tenant, role).post(READS[name])

    assert refused_with(body, "FORBIDDEN", name), body


@pytest.mark.parametrize("name", list(READS))
async def test_admins_may_read_webhooks(admin: Api, name: str) -> None:
    body = await admin.post(READS[name])

    assert body["data"] == {name: [] if name == "webhooks" else None}


@pytest.mark.parametrize("name", [*MUTATIONS, *READS])
async def test_webhooks_without_a_token_are_unauthenticated(client: ApiClient, name: str) -> None:
    anonymous = Api(client, {})
    body = await (run(anonymous, name) if name in MUTATIONS else anonymous.post(READS[name]))

    assert refused_with(body, "UNAUTHENTICATED", name), body
