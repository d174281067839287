"""The committed SDL is the schema the code builds (`make schema` rewrites it)."""

from __future__ import annotations

from graphql import GraphQLUnionType, build_schema, get_named_type

from okrledger.graphql.sdl import SDL_PATH, current_sdl


def test_committed_schema_graphql_matches_the_code() -> None:
    assert SDL_PATH.read_text(encoding="utf-8") == current_sdl(), (
        "graphql/schema.graphql is stale: run `make schema` and commit it"
    )


def test_every_mutation_result_offers_every_user_error() -> None:
    schema = build_schema(current_sdl())
    assert schema.mutation_type is not None
    errors = {
        "ValidationError",
        "NotFoundError",
        "VersionConflictError",
        "InvalidStateError",
        "AlreadyExistsError",
    }

    for name, field in schema.mutation_type.fields.items():
        result = get_named_type(field.type)
        assert isinstance(result, GraphQLUnionType), name
        assert errors <= {member.name for member in result.types}, name
