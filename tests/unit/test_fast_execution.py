"""The fast execution path answers exactly as graphql-core's own: data, nulls and errors."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

import pytest
import strawberry

from okrledger.graphql.execution import FastExecutionContext


@strawberry.enum
class Mood(Enum):
    GOOD = "good"
    BAD = "bad"


@strawberry.type
class Leaf:
    name: str
    score: Decimal | None
    mood: Mood
    tags: list[str]

    @strawberry.field
    def shout(self) -> str:
        return self.name.upper()


@strawberry.type
class Branch:
    id: UUID
    title: str
    leaves: list[Leaf]
    best: Leaf | None
    required: str  # some branches hold None here: graphql-core's error and null bubbling

    @strawberry.field
    async def count(self) -> int:
        return len(self.leaves)


def leaf(name: str, score: str | None = "0.5") -> Leaf:
    return Leaf(
        name=name, score=None if score is None else Decimal(score), mood=Mood.GOOD, tags=["a"]
    )


BRANCHES = [
    Branch(
        id=UUID(int=1),
        title="one",
        leaves=[leaf("x"), leaf("y", None)],
        best=leaf("x"),
        required="yes",
    ),
    Branch(id=UUID(int=2), title="two", leaves=[], best=None, required=None),  # type: ignore[arg-type]
]


@strawberry.type
class Query:
    @strawberry.field
    def branches(self) -> list[Branch]:
        return BRANCHES

    @strawberry.field
    def first(self) -> Branch:
        return BRANCHES[0]

    @strawberry.field
    def broken(self) -> Branch | None:
        return BRANCHES[1]


FAST = strawberry.Schema(query=Query, execution_context_class=FastExecutionContext)
PLAIN = strawberry.Schema(query=Query)

QUERIES = {
    "aliases and __typename": "{ first { __typename t: title id again: title "
    "leaves { __typename n: name score mood tags } } }",
    "fragments and inline fragments": "{ first { ...B leaves { ... on Leaf { name } } } } "
    "fragment B on Branch { id best { ...L } } fragment L on Leaf { name mood }",
    "skip and include": "query($yes: Boolean!) { first { title @skip(if: $yes) "
    "id @include(if: $yes) leaves { name @include(if: false) mood } } }",
    "resolvers among plain fields": "{ first { title count leaves { name shout tags } } }",
    "nulls where allowed": "{ first { leaves { score } } broken { best { name } } }",
    "a null where the type forbids one": "{ broken { title required } }",
    "the null bubbles up a list": "{ branches { title required leaves { name } } }",
    "the same field selected twice is merged": "{ first { best { name } best { mood } } }",
}


@pytest.mark.parametrize("query", QUERIES.values(), ids=QUERIES.keys())
async def test_the_fast_path_answers_as_graphql_core_does(query: str) -> None:
    fast = await FAST.execute(query, variable_values={"yes": True})
    plain = await PLAIN.execute(query, variable_values={"yes": True})

    assert fast.data == plain.data
    assert _errors(fast.errors) == _errors(plain.errors)
    assert list(_keys(fast.data)) == list(_keys(plain.data))  # the same field order too


async def test_a_null_where_the_type_forbids_one_is_an_error_at_its_path() -> None:
    result = await FAST.execute("{ broken { title required } }")

    assert result.data == {"broken": None}
    assert result.errors is not None
    [error] = result.errors
    assert error.path == ["broken", "required"]


def _errors(errors: list[Any] | None) -> list[tuple[str, list[Any] | None]]:
    return [(e.message, e.path) for e in errors or []]


def _keys(value: Any, prefix: str = "") -> list[str]:
    if isinstance(value, dict):
        return [
            k for key, v in value.items() for k in [prefix + key, *_keys(v, prefix + key + ".")]
        ]
    if isinstance(value, list):
        return [k for item in value for k in _keys(item, prefix)]
    return []


@strawberry.type
class Odd:
    """Values of other types than a field's: each answered (or refused) as graphql-core does."""

    name: str
    when: datetime | None
    id: UUID | None
    mood: Mood | None
    count: int | None
    flag: bool | None


ODD_VALUES: list[dict[str, Any]] = [
    {"name": 5, "when": None, "id": None, "mood": None, "count": None, "flag": None},
    {"name": "x", "when": date(2026, 1, 2), "id": None, "mood": None, "count": 1, "flag": 1},
    {"name": "x", "when": None, "id": ValueError("no"), "mood": None, "count": 2**40, "flag": None},
    {"name": "x", "when": None, "id": "not-a-uuid", "mood": "good", "count": None, "flag": None},
    {
        "name": True,
        "when": datetime(2026, 1, 2, tzinfo=UTC),
        "id": UUID(int=3),
        "mood": Mood.BAD,
        "count": 3,
        "flag": False,
    },
]


@strawberry.type
class OddQuery:
    @strawberry.field
    def odds(self) -> list[Odd]:
        return [Odd(**values) for values in ODD_VALUES]

    @strawberry.field
    def each(self) -> list[Odd]:  # the same values twice: a type learnt is reused
        return [Odd(**values) for values in ODD_VALUES + ODD_VALUES]

    @strawberry.field
    def fine(self) -> list[Odd]:  # only values graphql-core accepts: all on the fast path
        return [Odd(**values) for values in (ODD_VALUES[0], ODD_VALUES[-1]) * 2]


ODD_FAST = strawberry.Schema(query=OddQuery, execution_context_class=FastExecutionContext)
ODD_PLAIN = strawberry.Schema(query=OddQuery)


@pytest.mark.parametrize("root", ["odds", "each", "fine"])
async def test_values_of_other_types_are_answered_as_graphql_core_does(root: str) -> None:
    query = f"{{ {root} {{ name when id mood count flag }} }}"
    fast = await ODD_FAST.execute(query)
    plain = await ODD_PLAIN.execute(query)

    assert fast.data == plain.data
    assert _errors(fast.errors) == _errors(plain.errors)
