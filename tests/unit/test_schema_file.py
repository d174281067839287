"""The committed SDL is the schema the code builds (`make schema` rewrites it)."""

from __future__ import annotations

from okrledger.graphql.sdl import SDL_PATH, current_sdl


def test_committed_schema_graphql_matches_the_code() -> None:
    assert SDL_PATH.read_text(encoding="utf-8") == current_sdl(), (
        "graphql/schema.graphql is stale: run `make schema` and commit it"
    )


def test_every_mutation_result_offers_every_user_error() -> None:
    sdl = current_sdl()
    unions = [line for line in sdl.splitlines() if line.startswith("union ")]

    assert len(unions) == 16
    for union in unions:
        for error in ("ValidationError", "NotFoundError", "VersionConflictError"):
            assert error in union
        assert "InvalidStateError" in union and "AlreadyExistsError" in union
