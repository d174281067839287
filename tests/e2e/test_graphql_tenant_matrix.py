"""The tenant wall, mechanically: every root query, mutation and subscription field of the
committed schema has a case here in which a caller of one tenant sends the ids of another's
objects, and sees nothing of them (null, empty, NotFoundError) and changes nothing of them.

A new root field without a case fails `test_every_root_field_has_a_tenant_wall_case`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import graphql
import pytest

from okrledger.graphql.sdl import SDL_PATH
from okrledger.infra.db import Database
from okrledger.infra.settings import Settings
from okrledger.services.identity import Role
from tests.e2e.hostile import head_of
from tests.e2e.kpi_steps import define_kpi, observed, record_reading
from tests.e2e.okr_steps import activate, add_key_result, set_objective
from tests.e2e.server import ApiClient, as_caller, issuer_of, serving
from tests.e2e.webhook_steps import register
from tests.e2e.ws_steps import events, socket, subscribe

SCHEMA = graphql.build_schema(SDL_PATH.read_text(encoding="utf-8"))


def root_fields() -> set[str]:
    roots = [SCHEMA.query_type, SCHEMA.mutation_type, SCHEMA.subscription_type]
    return {name for root in roots if root is not None for name in root.fields}


@pytest.fixture(scope="module")
async def api_url(api_settings: Settings) -> AsyncIterator[str]:
    """This module's own server, accepting loopback webhook URLs (without delivering)."""
    settings = api_settings.model_copy(update={"webhook_allowed_networks": "127.0.0.0/8"})
    async with serving(settings) as url:
        yield url


@pytest.fixture
async def client(api_url: str, api_settings: Settings) -> AsyncIterator[ApiClient]:
    async with ApiClient(api_url, issuer_of(api_settings)) as http:
        yield http


@dataclass(frozen=True)
class Theirs:
    """Another tenant's objects, by id."""

    tenant: str
    cycle: str
    objective: str
    key_result: str
    kpi: str
    reading: str
    webhook: str


@pytest.fixture
async def theirs(client: ApiClient, other_tenant: str) -> Theirs:
    owner = as_caller(client, other_tenant, Role.ADMIN)
    objective = await set_objective(owner, title="Their secret plan")
    key_result = await add_key_result(owner, objective["id"])
    await activate(owner, objective["id"])
    kpi = await define_kpi(owner, name="Their secret KPI")
    reading = await record_reading(owner, kpi["id"], "5")
    linked = await owner.mutate(
        "linkKeyResultToKpi",
        {"objectiveId": objective["id"], "keyResultId": key_result["id"], "kpiId": kpi["id"]},
        "",
    )
    assert linked["__typename"] == "LinkKeyResultToKpiPayload", linked
    webhook = await register(owner)
    policy = await owner.mutate("setOkrPolicy", {"maxKeyResults": 3}, "")
    assert policy["__typename"] == "SetOkrPolicyPayload", policy
    return Theirs(
        other_tenant, objective["cycleId"], objective["id"], key_result["id"], kpi["id"],
        reading["readingId"], webhook["webhook"]["id"],
    )  # fmt: skip


def nothing(value: Any) -> bool:
    """Null, an empty list, or a connection/page with no items."""
    if value is None or value == []:
        return True
    if isinstance(value, dict):
        return all(nothing(v) or k in ("pageInfo", "lastPosition", "hasMore") for k, v in
                   value.items() if k in ("edges", "events", "roots", "pageInfo", "lastPosition",
                                          "hasMore"))  # fmt: skip
    return False


# Each root query: a document reading the other tenant's ids ($o objective, $k key result,
# $c cycle, $p KPI, $w webhook), and what "sees nothing" means for its answer.
QUERIES: dict[str, str] = {
    "me": "{ me { tenantId } }",
    "cycles": "{ cycles { id } }",
    "objective": "query($o: UUID!) { objective(id: $o) { id } }",
    "objectives": "query($c: UUID!) { objectives(cycle: $c) { edges { cursor } } }",
    "okrTree": "query($c: UUID!) { okrTree(cycle: $c) { cycle { id } } }",
    "keyResult": "query($k: UUID!) { keyResult(id: $k) { id } }",
    "kpi": "query($p: UUID!) { kpi(id: $p) { id } }",
    "kpis": "{ kpis { edges { cursor } } }",
    "goalHistory": "query($o: UUID!) { goalHistory(streamId: $o) { edges { cursor } } }",
    "auditLog": "{ auditLog { edges { cursor } } }",
    "goalpostChanges": "query($c: UUID!) { goalpostChanges(cycle: $c) { edges { cursor } } }",
    "verifyAuditChain": "{ verifyAuditChain { checked } }",
    "okrTreeDiff": "query($c: UUID!) { okrTreeDiff(cycle: $c, from: {position: 0}, "
    "to: {position: 1000000}) { cycle { id } } }",
    "events": "{ events { events { id } } }",
    "webhooks": "{ webhooks(includeRemoved: true) { id } }",
    "webhook": "query($w: UUID!) { webhook(id: $w) { id } }",
    "serverVersion": "{ serverVersion }",
    "okrPolicy": "{ okrPolicy { maxKeyResults version } }",
}


def mutations(t: Theirs) -> dict[str, tuple[dict[str, Any], bool]]:
    """Each mutation with the other tenant's ids, and whether it must be NotFoundError (else
    it creates something of the caller's own, under the same id, in the caller's tenant)."""
    o, k, p, w = t.objective, t.key_result, t.kpi, t.webhook
    kr = {"objectiveId": o, "keyResultId": k}
    return {
        "startCycle": ({"cycleId": t.cycle, "name": "Q", "startsOn": "2026-10-01",
                        "endsOn": "2026-12-31"}, False),
        "closeCycle": ({"cycleId": t.cycle}, True),
        "reopenCycle": ({"cycleId": t.cycle, "reason": "Reopened by mistake"}, True),
        "setObjective": ({"cycleId": t.cycle, "title": "T", "owner": "me"}, True),
        "reviseObjective": ({"objectiveId": o, "title": "Mine now"}, True),
        "assignObjectiveOwner": ({"objectiveId": o, "owner": "me"}, True),
        "alignObjective": ({"objectiveId": o, "parentId": None}, True),
        "activateObjective": ({"objectiveId": o}, True),
        "gradeObjective": ({"objectiveId": o, "score": "0.5"}, True),
        "closeObjective": ({"objectiveId": o}, True),
        "archiveObjective": ({"objectiveId": o}, True),
        "restoreObjective": ({"objectiveId": o}, True),
        "addKeyResult": ({"objectiveId": o, "title": "K", "metric": "BOOLEAN"}, True),
        "reviseKeyResult": ({**kr, "title": "Mine"}, True),
        "removeKeyResult": (kr, True),
        "checkInKeyResult": ({**kr, "value": "40", "confidence": "ON_TRACK"}, True),
        "setOkrPolicy": ({"maxKeyResults": 2}, False),
        "defineKpi": ({"kpiId": p, "name": "N", "key": "their-key", "unit": "%",
                       "direction": "HIGHER_IS_BETTER", "area": "A", "cadence": "DAILY"}, False),
        "reviseKpi": ({"kpiId": p, "name": "Mine"}, True),
        "setKpiTarget": ({"kpiId": p, "target": "1"}, True),
        "setKpiBands": ({"kpiId": p, "bands": None}, True),
        "retireKpi": ({"kpiId": p}, True),
        "recordKpiReading": ({"kpiId": p, "value": "1", "observedAt": observed()}, True),
        "recordKpiReadings": ({"kpiId": p, "readings": [{"value": "1",
                                                         "observedAt": observed()}]}, True),
        "correctKpiReading": ({"kpiId": p, "readingId": t.reading, "value": "6",
                               "reason": "mine"}, True),
        "linkKeyResultToKpi": ({**kr, "kpiId": p}, True),
        "unlinkKeyResultFromKpi": (kr, True),
        "registerWebhook": ({"webhookId": w, "url": "http://127.0.0.1:9/mine",
                             "eventTypes": ["*"]}, False),
        "rotateWebhookSecret": ({"webhookId": w}, True),
        "pauseWebhook": ({"webhookId": w}, True),
        "resumeWebhook": ({"webhookId": w}, True),
        "replayWebhook": ({"webhookId": w, "fromPosition": 0}, True),
        "removeWebhook": ({"webhookId": w}, True),
    }  # fmt: skip


MUTATION_NAMES = sorted(SCHEMA.mutation_type.fields) if SCHEMA.mutation_type else []
SUBSCRIPTIONS = {"goalEvents"}


def test_every_root_field_has_a_tenant_wall_case() -> None:
    covered = set(QUERIES) | set(MUTATION_NAMES) | SUBSCRIPTIONS
    placeholder = Theirs(*("x",) * 7)

    assert set(mutations(placeholder)) == set(MUTATION_NAMES)
    assert covered == root_fields()


@pytest.mark.parametrize("name", sorted(QUERIES))
async def test_a_query_with_another_tenants_ids_sees_nothing_of_them(
    client: ApiClient, tenant: str, theirs: Theirs, name: str
) -> None:
    mine = as_caller(client, tenant, Role.ADMIN)
    ids = {"o": theirs.objective, "k": theirs.key_result, "c": theirs.cycle,
           "p": theirs.kpi, "w": theirs.webhook}  # fmt: skip
    document = QUERIES[name]
    wanted = {key: value for key, value in ids.items() if f"${key}" in document}

    body = await mine.post(document, wanted)

    assert "errors" not in body, body
    answer = body["data"][name]
    assert theirs.tenant not in str(body)
    if name == "me":
        assert answer == {"tenantId": tenant}
    elif name == "verifyAuditChain":
        assert answer == {"checked": 0}
    elif name == "okrPolicy":  # its own (the defaults), not theirs
        assert answer == {"maxKeyResults": 5, "version": 0}
    elif name != "serverVersion":
        assert nothing(answer), answer


@pytest.mark.parametrize("name", MUTATION_NAMES)
async def test_a_mutation_with_another_tenants_ids_changes_nothing_of_theirs(
    client: ApiClient, database: Database, tenant: str, theirs: Theirs, name: str
) -> None:
    given, not_found = mutations(theirs)[name]
    before = await head_of(database, theirs.tenant)

    result = await as_caller(client, tenant, Role.ADMIN).mutate(name, given, "")

    assert await head_of(database, theirs.tenant) == before
    if not_found:
        assert result["__typename"] == "NotFoundError", result
        assert "secret" not in result["message"]


async def test_a_subscriber_replays_none_of_another_tenants_events(
    api_url: str, client: ApiClient, tenant: str, theirs: Theirs
) -> None:
    mine = as_caller(client, tenant, Role.EDITOR)

    async with socket(api_url, client.bearer(tenant, "me", Role.VIEWER)) as connection:
        await connection.recv()  # connection_ack
        await subscribe(connection, after=0)
        await set_objective(mine)  # the first events of this tenant
        [first] = await events(connection, 1)

    assert first["source"] == f"/tenants/{tenant}"
    assert first["position"] == 1
