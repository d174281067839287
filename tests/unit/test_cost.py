"""The cost model: fields count 1, lists weigh by `first` or a default, fragments count once."""

from __future__ import annotations

import time

from graphql import parse

from okrledger.graphql.cost import CEILING, Cost, operation_cost
from okrledger.graphql.schema import schema

SCHEMA = schema._schema


def cost(query: str, variables: dict[str, object] | None = None, name: str | None = None) -> Cost:
    return operation_cost(SCHEMA, parse(query), name, variables)


def chain(levels: int) -> str:
    fragments = [
        f"fragment F{n} on Query {{ __typename ...F{n + 1} ...F{n + 1} }}" for n in range(levels)
    ]
    return "\n".join(["{ ...F0 }", *fragments, f"fragment F{levels} on Query {{ __typename }}"])


def test_every_field_counts_one_and_a_scalar_list_is_one_field() -> None:
    assert cost("{ serverVersion me { subject roles } }") == Cost(4)


def test_a_page_weighs_its_edges_by_first_given_inline_by_variable_or_by_default() -> None:
    page = "{ edges { node { id } } pageInfo { hasNextPage } }"

    assert cost(f"{{ objectives(first: 10) {page} }}").total == 1 + (1 + 10 * 2) + 2
    assert cost(f"query($n: Int!) {{ objectives(first: $n) {page} }}", {"n": 10}).total == 24
    assert cost(f"query($n: Int = 10) {{ objectives(first: $n) {page} }}").total == 24
    assert cost(f"{{ objectives {page} }}").total == 1 + (1 + 50 * 2) + 2


def test_lists_without_first_weigh_ten_items_each_level() -> None:
    query = "{ objectives(first: 1) { edges { node { children { children { id } } } } } }"

    assert cost(query).total == 1 + (1 + 1 * (1 + (1 + 10 * (1 + 10 * 1))))


def test_a_doubling_fragment_chain_costs_what_it_would_execute_and_is_counted_at_once() -> None:
    started = time.perf_counter()
    twenty, hundred = cost(chain(20)), cost(chain(100))
    took = time.perf_counter() - started

    assert twenty.total == 2**21 - 1  # every __typename of the expanded document
    assert hundred.total == CEILING
    assert took < 0.1


def test_a_fragment_spread_inside_itself_ends_the_count() -> None:
    query = "{ ...A } fragment A on Query { serverVersion ...B } fragment B on Query { ...A }"

    assert cost(query).total == 1


def test_unknown_fields_and_fragments_count_as_written() -> None:
    assert cost("{ nothing { like { this } } ...Missing }").total == 3


def test_each_mutation_field_counts_aliases_apart_and_through_fragments() -> None:
    query = """mutation {
      a: closeCycle(input: {cycleId: "x"}) { __typename }
      b: closeCycle(input: {cycleId: "y"}) { __typename }
      ...More ...More
    }
    fragment More on Mutation { c: closeCycle(input: {cycleId: "z"}) { __typename } }"""

    assert cost(query).mutation_fields == 3


def test_the_named_operation_is_the_one_costed() -> None:
    query = (
        "query Small { serverVersion } query Large { objectives(first: 500) { edges { cursor } } }"
    )

    assert cost(query, name="Small").total == 1
    assert cost(query, name="Large").total == 1 + (1 + 500)
    assert cost(query).total == 0  # no name for two operations: none runs
