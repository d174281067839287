"""docs/api.md shows every root field of the committed schema in an example that is valid."""

from __future__ import annotations

import re
from pathlib import Path

from graphql import FieldNode, OperationDefinitionNode, build_schema, parse, validate

from okrledger.graphql.sdl import SDL_PATH

API_DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"
GRAPHQL_EXAMPLE = re.compile(r"```graphql\n(.*?)```", re.DOTALL)


def examples() -> list[str]:
    return GRAPHQL_EXAMPLE.findall(API_DOC.read_text(encoding="utf-8"))


def root_fields_shown() -> set[str]:
    """`operation field` for every field an example selects at the root of an operation."""
    shown = set()
    for example in examples():
        for definition in parse(example).definitions:
            if isinstance(definition, OperationDefinitionNode):
                for selection in definition.selection_set.selections:
                    if isinstance(selection, FieldNode):
                        shown.add(f"{definition.operation.value} {selection.name.value}")
    return shown


def test_every_root_field_of_the_committed_schema_has_an_example_in_docs_api_md() -> None:
    schema = build_schema(SDL_PATH.read_text(encoding="utf-8"))
    roots = {
        "query": schema.query_type,
        "mutation": schema.mutation_type,
        "subscription": schema.subscription_type,
    }
    fields = {f"{op} {name}" for op, root in roots.items() if root for name in root.fields}

    missing = sorted(fields - root_fields_shown())

    assert not missing, f"docs/api.md has no example of: {', '.join(missing)}"


def test_every_graphql_example_in_docs_api_md_is_valid_against_the_committed_schema() -> None:
    schema = build_schema(SDL_PATH.read_text(encoding="utf-8"))
    found = examples()
    assert found, "docs/api.md has no ```graphql examples"

    invalid = {example: validate(schema, parse(example)) for example in found}

    assert not {example: errors for example, errors in invalid.items() if errors}
