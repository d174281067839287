"""Nested lists load in batches: the SQL statements of a read do not grow with its size."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from okrledger.infra.settings import Settings
from okrledger.services.identity import Role
from tests.e2e.counting import CountingBackend
from tests.e2e.kpi_steps import correct_reading, define_kpi, observed, record_readings
from tests.e2e.okr_steps import add_key_result, set_objective, start_cycle
from tests.e2e.read_steps import read
from tests.e2e.server import Api, ApiClient, as_caller, issuer_of

TREE = """query($cycle: UUID!) { okrTree(cycle: $cycle) {
  cycle { name }
  roots { id title rolledUpProgress pace cycle { name }
          keyResults { id title current progress objective { id } }
          children { id title rolledUpProgress keyResults { id title progress }
                     children { id keyResults { id } } } } } }"""
OBJECTIVES = """query($cycle: UUID!) { objectives(cycle: $cycle, first: 500) {
  edges { node { id title rolledUpProgress cycle { name } keyResults { id progress }
                 children { id title } } } } }"""


@pytest.fixture
async def counted_editor(
    counted: tuple[str, CountingBackend], api_settings: Settings, tenant: str
) -> AsyncIterator[tuple[Api, CountingBackend]]:
    url, backend = counted
    async with ApiClient(url, issuer_of(api_settings)) as http:
        yield as_caller(http, tenant, Role.EDITOR), backend


async def cycle_of(editor: Api, roots: int, children_each: int) -> str:
    """A cycle with `roots` objectives, each with children; every objective has a key result."""
    cycle = await start_cycle(editor)

    async def branch() -> None:
        root = await set_objective(editor, cycle["id"], title="Root")
        await add_key_result(editor, root["id"])
        for _ in range(children_each):
            child = await set_objective(editor, cycle["id"], title="Child", parentId=root["id"])
            await add_key_result(editor, child["id"])

    await asyncio.gather(*(branch() for _ in range(roots)))
    cycle_id: str = cycle["id"]
    return cycle_id


async def statements_of(editor: Api, backend: CountingBackend, query: str, cycle: str) -> int:
    backend.statements.clear()
    data = await read(editor, query, cycle=cycle)
    assert data
    return len(backend.statements)


@pytest.mark.slow
async def test_the_okr_tree_of_200_objectives_reads_in_as_many_statements_as_of_2(
    counted_editor: tuple[Api, CountingBackend],
) -> None:
    editor, backend = counted_editor
    small = await cycle_of(editor, roots=1, children_each=1)
    large = await cycle_of(editor, roots=20, children_each=9)

    few = await statements_of(editor, backend, TREE, small)
    many = await statements_of(editor, backend, TREE, large)

    assert many == few == 2


@pytest.mark.slow
async def test_a_page_of_50_objectives_with_key_results_reads_in_as_many_statements_as_of_2(
    counted_editor: tuple[Api, CountingBackend],
) -> None:
    editor, backend = counted_editor
    small = await cycle_of(editor, roots=1, children_each=1)
    large = await cycle_of(editor, roots=5, children_each=9)

    few = await statements_of(editor, backend, OBJECTIVES, small)
    many = await statements_of(editor, backend, OBJECTIVES, large)

    assert many == few == 3


READINGS = """query($id: UUID!) { kpi(id: $id) { readings(first: 500) {
  edges { node { value corrections { value reason } } } } } }"""


async def kpi_with_corrected_readings(editor: Api, corrected: int) -> str:
    kpi = await define_kpi(editor)
    batch = await record_readings(
        editor,
        kpi["id"],
        [{"value": str(n), "observedAt": observed(n + 1)} for n in range(corrected)],
    )
    for reading_id in batch["recorded"]:
        await correct_reading(editor, kpi["id"], reading_id, "0")
    kpi_id: str = kpi["id"]
    return kpi_id


async def test_the_corrections_of_a_page_of_readings_load_in_one_statement(
    counted_editor: tuple[Api, CountingBackend],
) -> None:
    editor, backend = counted_editor
    small = await kpi_with_corrected_readings(editor, 1)
    large = await kpi_with_corrected_readings(editor, 12)

    counts = []
    for kpi_id in (small, large):
        backend.statements.clear()
        await read(editor, READINGS, id=kpi_id)
        counts.append(len(backend.statements))

    assert counts == [3, 3]  # the KPI, its readings, their corrections
