"""Traces sent to a real OTLP/HTTP receiver when an exporter is configured."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from okrledger.infra.settings import Settings
from okrledger.services.identity import Role
from tests.e2e.otlp_receiver import Receiver, receiving_traces
from tests.e2e.server import ApiClient, issuer_of, serving

START_CYCLE = """mutation StartCycleTraced {
    startCycle(input: {name: "Q4 traced", startsOn: "2026-10-01", endsOn: "2026-12-31"}) {
        __typename } }"""
CYCLES = "query CyclesTraced { cycles { id } }"


@pytest.fixture(scope="module")
def traced_tenant() -> str:
    return f"t-{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="module")
async def receiver(
    owner_dsn: str, tmp_path_factory: pytest.TempPathFactory, traced_tenant: str
) -> AsyncIterator[Receiver]:
    """A server with the OTLP endpoint set ran a mutation and a query as an editor, then
    stopped (exporting what it still buffered): what the receiver got."""
    async with receiving_traces() as receiver:
        settings = Settings(
            database_url=owner_dsn,
            pool_min_size=1,
            data_dir=tmp_path_factory.mktemp("traced"),
            otel_exporter_otlp_endpoint=receiver.url,
        )
        async with serving(settings) as url, ApiClient(url, issuer_of(settings)) as client:
            headers = client.bearer(traced_tenant, "ana", Role.EDITOR)
            for document in (START_CYCLE, CYCLES):
                response = await client.post("/graphql", json={"query": document}, headers=headers)
                assert "errors" not in response.json(), response.text
        yield receiver


def test_a_mutation_is_one_span_named_after_its_operation_with_the_tenant(
    receiver: Receiver, traced_tenant: str
) -> None:
    (span,) = receiver.named("mutation StartCycleTraced")
    assert span.attributes["graphql.operation.name"] == "StartCycleTraced"
    assert span.attributes["graphql.operation.type"] == "mutation"
    assert span.attributes["okrledger.tenant_id"] == traced_tenant
    assert span.parent_span_id == b""
    assert span.resource["service.name"] == "okrledger"


def test_the_append_transaction_is_a_child_span_of_the_mutation(
    receiver: Receiver, traced_tenant: str
) -> None:
    (mutation,) = receiver.named("mutation StartCycleTraced")
    writes = [s for s in receiver.children_of(mutation) if s.name == "db.write"]
    assert writes
    assert all(s.attributes["okrledger.tenant_id"] == traced_tenant for s in writes)
    assert all(s.attributes["db.system.name"] == "postgresql" for s in writes)


def test_a_query_reads_in_a_child_span_of_its_own(receiver: Receiver, traced_tenant: str) -> None:
    (query,) = receiver.named("query CyclesTraced")
    assert query.attributes["okrledger.tenant_id"] == traced_tenant
    assert [s.name for s in receiver.children_of(query)] == ["db.read"]


async def test_tracing_exporter_none_sends_nothing(
    owner_dsn: str, tmp_path: Path, tenant: str
) -> None:
    async with receiving_traces() as receiver:
        settings = Settings(
            database_url=owner_dsn,
            pool_min_size=1,
            data_dir=tmp_path,
            otel_exporter_otlp_endpoint=receiver.url,
            otel_traces_exporter="none",
        )
        async with serving(settings) as url, ApiClient(url, issuer_of(settings)) as client:
            headers = client.bearer(tenant, "ana", Role.EDITOR)
            await client.post("/graphql", json={"query": START_CYCLE}, headers=headers)

    assert receiver.spans == []


def test_without_an_exporter_the_app_never_imports_opentelemetry(tmp_path: Path) -> None:
    # A fresh interpreter: this test process has imported the SDK already.
    script = (
        "import sys\n"
        "from okrledger.infra.app import create_app\n"
        "from okrledger.infra.settings import Settings\n"
        f"create_app(Settings(data_dir={str(tmp_path)!r}))\n"
        "print(sorted(m for m in sys.modules if m.startswith('opentelemetry')))\n"
    )
    env = {"PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True
    )

    assert result.stdout.strip() == "[]"
