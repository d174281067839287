"""Thousands of generated queries and mutations, valid and invalid, from the committed schema.

hypothesis-graphql builds operations from `graphql/schema.graphql` (POSITIVE: they pass
schema validation; NEGATIVE: each breaks it once), with hostile scalars (NaN, infinities,
1e309, year 9999, NUL, RTL, malformed ids) and ids of the tenant's own objects, and they go
over real HTTP with a real editor or admin token. Every answer is below 500, leaks no
internals and carries only typed errors; a request that ran no command leaves the tenant's
log head where it was. Queries are also sent rewritten into named fragments, each spread
once or more (chains of multiplying fragments are in test_graphql_cost.py). Derandomized,
so CI replays the same operations every run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

import graphql
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import Mode, mutations, nodes, queries

from okrledger.graphql.sdl import SDL_PATH
from okrledger.infra.db import Database
from okrledger.services.identity import Role
from tests.e2e.hostile import assert_answered_safely, head_of, succeeded
from tests.e2e.server import ApiClient

SCHEMA = SDL_PATH.read_text(encoding="utf-8")

# Ids the seeded tenant really has, so generated operations reach past "not found".
CYCLE_ID = UUID("c0000000-0000-4000-8000-000000000001")
OBJECTIVE_ID = UUID("0b000000-0000-4000-8000-000000000002")
KEY_RESULT_ID = UUID("4e000000-0000-4000-8000-000000000003")
KPI_ID = UUID("4b000000-0000-4000-8000-000000000004")
KNOWN_IDS = [CYCLE_ID, OBJECTIVE_ID, KEY_RESULT_ID, KPI_ID]

HOSTILE_DECIMALS = [
    "NaN", "-NaN", "sNaN", "Infinity", "-Infinity", "inf", "1e309", "-1e309", "-0", "-0.0",
    "1e999999999", "-1e-999999999", "9" * 400, "0." + "0" * 400 + "1", "", " ", "abc",
    "1,5", "0x10", "1_000", "\u0661", "1e", "+1",
]  # fmt: skip
HOSTILE_TIMES = [
    "9999-12-31T23:59:59+00:00", "9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00+00:00",
    "0001-01-01T00:00:00+14:00", "1969-12-31T23:59:59Z", "1900-01-01T00:00:00Z",
    "2026-10-01T12:00:00", "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z", "", "now",
    "+10000-01-01T00:00:00Z", "2026-10-01T12:00:00+25:00", "2026-10-01\u0000",
]  # fmt: skip
HOSTILE_DATES = [
    "9999-12-31", "0001-01-01", "1969-12-31", "1900-02-29", "2026-02-30", "10000-01-01",
    "", "2026-W40", "2026-10-01T00:00:00Z", "\u0662\u0660\u0662\u0666-10-01",
]  # fmt: skip
HOSTILE_IDS = ["", "not-a-uuid", "00000000-0000-0000-0000-000000000000", "\u0000", "-1"]


def _strings(values: list[str]) -> st.SearchStrategy[graphql.ValueNode]:
    return st.sampled_from(values).map(nodes.String)


SCALARS: dict[str, st.SearchStrategy[graphql.ValueNode]] = {
    "UUID": st.one_of(
        st.sampled_from(KNOWN_IDS).map(nodes.String),
        st.uuids().map(nodes.String),
        _strings(HOSTILE_IDS),
    ),
    "Decimal": st.one_of(
        st.decimals(allow_nan=False, allow_infinity=False, places=4).map(nodes.String),
        st.integers(-(10**6), 10**6).map(nodes.Int),
        st.floats(allow_nan=False, allow_infinity=False).map(nodes.Float),
        _strings(HOSTILE_DECIMALS),
    ),
    "DateTime": st.one_of(
        st.datetimes(timezones=st.just(UTC)).map(datetime.isoformat).map(nodes.String),
        _strings(HOSTILE_TIMES),
    ),
    "Date": st.one_of(
        st.dates().map(date.isoformat).map(nodes.String),
        _strings(HOSTILE_DATES),
    ),
    "JSON": st.just(nodes.String("{}")),
}


def with_typenames(document: graphql.DocumentNode) -> str:
    """The document with `__typename` on every root field that selects, so the test can tell
    a payload (the command ran) from a typed refusal."""
    typename = graphql.FieldNode(name=graphql.NameNode(value="__typename"))
    definitions = []
    for definition in document.definitions:
        if isinstance(definition, graphql.OperationDefinitionNode):
            selections = tuple(
                replace(
                    selection,
                    selection_set=graphql.SelectionSetNode(
                        selections=(*selection.selection_set.selections, typename)
                    ),
                )
                if isinstance(selection, graphql.FieldNode) and selection.selection_set
                else selection
                for selection in definition.selection_set.selections
            )
            definition = replace(
                definition, selection_set=graphql.SelectionSetNode(selections=selections)
            )
        definitions.append(definition)
    return graphql.print_ast(graphql.DocumentNode(definitions=tuple(definitions)))


Generator = Callable[..., st.SearchStrategy[str]]
PARSED = graphql.build_schema(SCHEMA)
assert PARSED.mutation_type is not None
MUTATION_FIELDS = sorted(PARSED.mutation_type.fields)


def operations(generate: Generator, mode: Mode, **options: Any) -> st.SearchStrategy[str]:
    return generate(PARSED, custom_scalars=SCALARS, print_ast=with_typenames, mode=mode, **options)


def fragmented(document: graphql.DocumentNode, spreads: int) -> str:
    """The same operations with every selection of an object moved into a named fragment,
    spread `spreads` times where the selection was (spreads of one fragment merge)."""
    fragments: list[graphql.FragmentDefinitionNode] = []

    def rewrite(
        selection_set: graphql.SelectionSetNode, parent: graphql.GraphQLNamedType
    ) -> graphql.SelectionSetNode:
        rewritten: list[graphql.SelectionNode] = []
        for selection in selection_set.selections:
            if isinstance(selection, graphql.FieldNode) and selection.selection_set:
                assert isinstance(parent, graphql.GraphQLObjectType | graphql.GraphQLInterfaceType)
                inner = graphql.get_named_type(parent.fields[selection.name.value].type)
                name = graphql.NameNode(value=f"F{len(fragments)}")
                fragments.append(
                    graphql.FragmentDefinitionNode(
                        name=name,
                        type_condition=graphql.NamedTypeNode(
                            name=graphql.NameNode(value=inner.name)
                        ),
                        selection_set=rewrite(selection.selection_set, inner),
                    )
                )
                spread = graphql.FragmentSpreadNode(name=name)
                selection = replace(
                    selection,
                    selection_set=graphql.SelectionSetNode(selections=(spread,) * spreads),
                )
            elif isinstance(selection, graphql.InlineFragmentNode):
                condition = selection.type_condition
                inner = parent if condition is None else PARSED.get_type(condition.name.value)
                assert inner is not None
                selection = replace(
                    selection, selection_set=rewrite(selection.selection_set, inner)
                )
            rewritten.append(selection)
        return graphql.SelectionSetNode(selections=tuple(rewritten))

    definitions: list[graphql.DefinitionNode] = []
    for definition in document.definitions:
        if isinstance(definition, graphql.OperationDefinitionNode):
            root = PARSED.get_root_type(definition.operation)
            assert root is not None
            definition = replace(definition, selection_set=rewrite(definition.selection_set, root))
        definitions.append(definition)
    return graphql.print_ast(graphql.DocumentNode(definitions=(*definitions, *fragments)))


def fragment_heavy_queries() -> st.SearchStrategy[str]:
    return st.integers(1, 3).flatmap(
        lambda spreads: queries(
            PARSED,
            custom_scalars=SCALARS,
            print_ast=lambda document: fragmented(document, spreads),
            mode=Mode.POSITIVE,
        )
    )


def single_mutations(mode: Mode) -> st.SearchStrategy[str]:
    """One root field each: mutations run in order, and a later field that is refused (and
    non-null) nulls the whole `data`, hiding whether an earlier one ran."""
    return st.sampled_from(MUTATION_FIELDS).flatmap(
        lambda name: operations(mutations, mode, fields=[name])
    )


def budget(examples: int) -> settings:
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        # Shrinking replays requests for minutes; the failing operation is printed as found.
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
        ],
    )


async def seed(client: ApiClient, tenant: str) -> None:
    """A cycle with an active objective and a key result, and a KPI with a reading."""
    headers = client.bearer(tenant, "seeder", Role.EDITOR)
    steps: list[tuple[str, str, dict[str, Any]]] = [
        ("startCycle", "StartCycleInput", {
            "cycleId": str(CYCLE_ID), "name": "2026-Q4",
            "startsOn": "2026-10-01", "endsOn": "2026-12-31",
        }),
        ("setObjective", "SetObjectiveInput", {
            "objectiveId": str(OBJECTIVE_ID), "cycleId": str(CYCLE_ID),
            "title": "Delight customers", "owner": "ana",
        }),
        ("addKeyResult", "AddKeyResultInput", {
            "objectiveId": str(OBJECTIVE_ID), "keyResultId": str(KEY_RESULT_ID),
            "title": "Raise NPS", "metric": "NUMBER", "start": "31", "target": "45",
        }),
        ("activateObjective", "ActivateObjectiveInput", {"objectiveId": str(OBJECTIVE_ID)}),
        ("defineKpi", "DefineKpiInput", {
            "kpiId": str(KPI_ID), "name": "Conversion", "key": "conversion", "unit": "%",
            "direction": "HIGHER_IS_BETTER", "area": "Growth", "cadence": "DAILY",
        }),
        ("recordKpiReading", "RecordKpiReadingInput", {
            "kpiId": str(KPI_ID), "value": "3.5", "observedAt": "2026-10-02T09:00:00Z",
        }),
    ]  # fmt: skip
    for name, input_type, values in steps:
        response = await client.post(
            "/graphql",
            json={
                "query": f"mutation($i: {input_type}!) {{ {name}(input: $i) {{ __typename }} }}",
                "variables": {"i": values},
            },
            headers=headers,
        )
        assert response.json()["data"][name]["__typename"].endswith("Payload"), response.text


@pytest.fixture
async def seeded(client: ApiClient, tenant: str) -> str:
    await seed(client, tenant)
    return tenant


async def send(
    client: ApiClient, database: Database, tenant: str, role: Role, document: str
) -> dict[str, Any]:
    before = await head_of(database, tenant)

    response = await client.post(
        "/graphql", json={"query": document}, headers=client.bearer(tenant, "fuzzer", role)
    )

    body = assert_answered_safely(response)
    after = await head_of(database, tenant)
    if not succeeded(body):
        assert after == before, (document, body)
    return body


@budget(450)
@given(document=single_mutations(Mode.POSITIVE))
async def test_valid_generated_mutations_as_an_editor_answer_safely(
    client: ApiClient, database: Database, seeded: str, document: str
) -> None:
    await send(client, database, seeded, Role.EDITOR, document)


@budget(350)
@given(document=single_mutations(Mode.POSITIVE))
async def test_valid_generated_mutations_as_an_admin_answer_safely(
    client: ApiClient, database: Database, seeded: str, document: str
) -> None:
    await send(client, database, seeded, Role.ADMIN, document)


@budget(400)
@given(document=single_mutations(Mode.NEGATIVE))
async def test_invalid_generated_mutations_are_refused_and_change_nothing(
    client: ApiClient, database: Database, seeded: str, document: str
) -> None:
    body = await send(client, database, seeded, Role.ADMIN, document)

    assert body.get("errors"), (document, body)


@budget(450)
@given(document=operations(queries, Mode.POSITIVE))
async def test_valid_generated_queries_answer_safely_and_change_nothing(
    client: ApiClient, database: Database, seeded: str, document: str
) -> None:
    before = await head_of(database, seeded)

    await send(client, database, seeded, Role.ADMIN, document)

    assert await head_of(database, seeded) == before


@budget(400)
@given(document=operations(queries, Mode.NEGATIVE))
async def test_invalid_generated_queries_are_refused_with_typed_errors(
    client: ApiClient, database: Database, seeded: str, document: str
) -> None:
    body = await send(client, database, seeded, Role.EDITOR, document)

    assert body.get("errors"), (document, body)


@budget(40)
@given(document=fragment_heavy_queries())
async def test_generated_queries_spread_through_fragments_answer_safely(
    client: ApiClient, database: Database, seeded: str, document: str
) -> None:
    before = await head_of(database, seeded)

    await send(client, database, seeded, Role.ADMIN, document)

    assert await head_of(database, seeded) == before
